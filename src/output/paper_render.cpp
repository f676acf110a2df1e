// The report's renderers (wattprint/paper_report.h). The report is first
// laid out once as blocks (headings, paragraphs, tables, plots); each
// format then writes the same blocks, so Markdown, HTML and LaTeX always
// hold the same figures.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "output/paper_internal.h"

namespace wattprint {

namespace {

using paper::Sig3;

struct Block {
  enum Kind { kHeading, kParagraph, kStatement, kTable, kPlot, kList } kind;
  std::string text;                            // heading, paragraph, statement, caption
  std::vector<std::string> header;             // table
  std::vector<std::vector<std::string>> rows;  // table rows; list items in rows[i][0]
  std::vector<bool> numeric;                   // table: right-aligned columns
  const paper::Plot* plot = nullptr;
};

Block Heading(std::string t) { return {Block::kHeading, std::move(t), {}, {}, {}, nullptr}; }
Block Para(std::string t) { return {Block::kParagraph, std::move(t), {}, {}, {}, nullptr}; }
Block List(std::vector<std::string> items) {
  Block b{Block::kList, "", {}, {}, {}, nullptr};
  for (auto& i : items) b.rows.push_back({std::move(i)});
  return b;
}
Block Table(std::string caption, std::vector<std::string> header, std::vector<bool> numeric) {
  return {Block::kTable, std::move(caption), std::move(header), {}, std::move(numeric), nullptr};
}

const std::string kDash = "\u2013";

std::string Scaled(double v, const paper::Unit& u) { return Sig3(v * u.per); }
std::string RangeCell(const Ranged& r, const paper::Unit& u) {
  return r.exact() ? "" : Scaled(r.low, u) + kDash + Scaled(r.high, u);
}
std::string In(const std::string& what, const paper::Unit& u) { return what + " (" + u.name + ")"; }

template <typename T, typename F>
double MaxOf(const std::vector<T>& items, F&& f) {
  double m = 0;
  for (const T& i : items) m = std::max(m, f(i));
  return m;
}

Block RunsTable(const Report& rep) {
  const paper::Unit e = paper::EnergyUnit(MaxOf(rep.runs, [](const ReportRun& r) { return r.kwh.value; }));
  const paper::Unit m = paper::MassUnit(MaxOf(rep.runs, [](const ReportRun& r) { return r.co2e_kg.value; }));
  Block t = Table("One row per run (energy with the PUE applied, CO2e operational).",
                  {"Run", "Start (UTC)", "Duration", "Scope", In("Energy", e), "Range", In("CO2e", m), "Range",
                   "g CO2e/kWh", "Place", "Node", "Input"},
                  {false, false, true, false, true, true, true, true, true, false, false, false});
  for (const ReportRun& r : rep.runs) {
    std::string place = r.intensity_default ? "world average" : (r.zone.empty() ? r.country_name : r.zone);
    std::string node = r.node.empty() ? r.host : r.node;
    if (!r.job_id.empty()) node += " (job " + r.job_id + ")";
    t.rows.push_back({r.label.empty() ? r.id : r.label, r.start_iso, paper::Duration(r.duration_s), r.scope,
                      Scaled(r.kwh.value, e), RangeCell(r.kwh, e), Scaled(r.co2e_kg.value, m),
                      RangeCell(r.co2e_kg, m), Sig3(r.g_per_kwh), place, node, r.origin});
  }
  return t;
}

Block JobsTable(const Report& rep) {
  const paper::Unit e = paper::EnergyUnit(MaxOf(rep.jobs, [](const ReportJob& j) { return j.kwh.value; }));
  const paper::Unit m = paper::MassUnit(MaxOf(rep.jobs, [](const ReportJob& j) { return j.co2e_kg.value; }));
  Block t = Table("The runs of each Slurm job, joined across its nodes.",
                  {"Cluster", "Job", "Account", "Partition", "Nodes", "Runs", "Longest step", In("Energy", e),
                   In("CO2e", m), "Range"},
                  {false, false, false, false, false, true, true, true, true, true});
  for (const ReportJob& j : rep.jobs) {
    std::string nodes;
    for (const auto& n : j.nodes) nodes += (nodes.empty() ? "" : ", ") + n;
    t.rows.push_back({j.cluster, j.job_id, j.account, j.partition, nodes, std::to_string(j.runs),
                      paper::Duration(j.duration_s), Scaled(j.kwh.value, e), Scaled(j.co2e_kg.value, m),
                      RangeCell(j.co2e_kg, m)});
  }
  return t;
}

Block DevicesTable(const Report& rep) {
  const paper::Unit e = paper::EnergyUnit(MaxOf(rep.kinds, [](const ReportKind& k) { return k.kwh.value; }));
  Block t = Table("Energy per device kind over all runs, before the PUE.",
                  {"Device", "Method", In("Energy", e), "Range", "Share", "Counted"},
                  {false, false, true, true, true, false});
  double counted = 0;
  for (const ReportKind& k : rep.kinds) counted += k.counted ? k.kwh.value : 0;
  for (const ReportKind& k : rep.kinds) {
    const std::string share = k.counted && counted > 0 ? Sig3(100 * k.kwh.value / counted) + " %" : "";
    t.rows.push_back({paper::KindName(k.kind), paper::MethodPhrase(k.method, k.model), Scaled(k.kwh.value, e),
                      RangeCell(k.kwh, e), share, k.counted ? "yes" : "no: includes the CPU"});
  }
  return t;
}

// The embodied items summed over the runs, by device and table row; the
// sources are numbered in a list under the table, which they would
// otherwise drown.
struct EmbodiedSum {
  std::string device, factor, source, licence;
  double count = 0, manufacture_kg = 0, lifetime_years = 0, kg = 0;
  int runs = 0;
};

std::vector<EmbodiedSum> SumEmbodiedItems(const Report& rep) {
  std::vector<EmbodiedSum> out;
  for (const ReportRun& r : rep.runs) {
    if (!r.embodied) continue;
    for (const EmbodiedItemRecord& it : r.embodied->items) {
      auto same = [&](const EmbodiedSum& s) { return s.device == it.device && s.factor == it.factor; };
      auto found = std::find_if(out.begin(), out.end(), same);
      if (found == out.end()) {
        out.push_back({it.device, it.factor, it.source, it.licence, it.count, it.manufacture_kg, it.lifetime_years, 0, 0});
        found = out.end() - 1;
      }
      found->kg += it.kg;
      ++found->runs;
    }
  }
  return out;
}

std::vector<Block> EmbodiedBlocks(const Report& rep) {
  const std::vector<EmbodiedSum> items = SumEmbodiedItems(rep);
  const paper::Unit m = paper::MassUnit(MaxOf(items, [](const EmbodiedSum& s) { return s.kg; }));
  Block t = Table("Embodied (manufacturing) emissions, amortised linearly: count x manufacturing x (run time / "
                  "lifetime) x the run's share of the device, summed over the runs.",
                  {"Device", "Table row", "Runs", "Count", "Manufacturing (kg CO2e)", "Lifetime (years)",
                   In("Amortised", m) + "", "Source"},
                  {false, false, true, true, true, true, true, false});
  std::vector<std::string> sources;
  for (const EmbodiedSum& s : items) {
    const std::string cited = s.source + " Licence: " + s.licence + ".";
    auto at = std::find(sources.begin(), sources.end(), cited);
    if (at == sources.end()) sources.push_back(cited), at = sources.end() - 1;
    const std::string count = Sig3(s.count) + (s.device == "dram" ? " GB" : "");
    t.rows.push_back({s.device, s.factor, std::to_string(s.runs), count, Sig3(s.manufacture_kg),
                      Sig3(s.lifetime_years), Scaled(s.kg, m), fmt::format("[{}]", at - sources.begin() + 1)});
  }
  for (size_t i = 0; i < sources.size(); ++i) sources[i] = fmt::format("[{}] {}", i + 1, sources[i]);
  return {t, List(sources)};
}

Block PlacesTable(const std::string& caption, const std::vector<ReportPlace>& places) {
  const paper::Unit m = paper::MassUnit(MaxOf(places, [](const ReportPlace& p) { return p.co2e_kg; }));
  Block t = Table(caption, {"Place", "Name", "g CO2e/kWh", In("CO2e", m), "Change"}, {false, false, true, true, true});
  for (const ReportPlace& p : places)
    t.rows.push_back({p.name, p.label, Sig3(p.g_per_kwh), Scaled(p.co2e_kg, m), Sig3(100 * p.change) + " %"});
  return t;
}

std::vector<std::string> Provenance(const Report& rep) {
  std::vector<std::string> items;
  std::map<std::string, std::string> sources;
  for (const ReportRun& r : rep.runs)
    sources.emplace(r.intensity_source, r.resolution.empty() ? "" : " (location: " + r.resolution + ")");
  for (const auto& [src, how] : sources) items.push_back("Intensity: " + src + how + ".");
  for (const auto& n : rep.intensity_notes) items.push_back("Intensity spread, " + n + ".");
  for (const ReportKind& k : rep.kinds)
    items.push_back(paper::KindName(k.kind) + ": " + paper::MethodPhrase(k.method, k.model) + ".");
  if (rep.any_unknown_method)
    items.push_back("Runs read from emissions.csv carry CodeCarbon's columns only: their method and bounds "
                    "are not known, and their intensity is the row's emissions over its energy.");
  for (const auto& n : rep.embodied_not_counted) items.push_back("Embodied, not counted: " + n + ".");
  return items;
}

std::vector<Block> Layout(const Report& rep, const std::vector<paper::Plot>& plots) {
  std::vector<Block> b;
  b.push_back(Heading("Statement for the paper"));
  b.push_back({Block::kStatement, rep.statement, {}, {}, {}, nullptr});
  b.push_back(Heading("How each figure was obtained"));
  b.push_back(List(Provenance(rep)));
  b.push_back(Heading("Runs"));
  b.push_back(RunsTable(rep));
  if (!rep.jobs.empty()) b.push_back(JobsTable(rep));
  b.push_back(Heading("Devices"));
  b.push_back(DevicesTable(rep));
  b.push_back(Heading("Plots"));
  for (const paper::Plot& p : plots) b.push_back({Block::kPlot, p.caption, {}, {}, {}, &p});
  b.push_back(Heading("Had these runs been elsewhere"));
  b.push_back(Para(fmt::format("The same {} in the cleanest grid zones and cloud regions (latest Electricity Maps "
                               "yearly average of each), against {} here:",
                               paper::Energy(rep.kwh.value), paper::Mass(rep.co2e_kg.value) + " CO2e")));
  b.push_back(PlacesTable("Grid zones.", rep.zones));
  b.push_back(PlacesTable("Cloud regions.", rep.cloud_regions));
  b.push_back(Heading("Everyday equivalents"));
  std::vector<std::string> eq;
  for (const Equivalent& e : rep.equivalents) {
    // A household's week is a fraction: a percentage reads better.
    const std::string amount = e.key == "household_week" ? Sig3(100 * e.amount) + " %" : Sig3(e.amount);
    eq.push_back(amount + " " + e.unit + " [" + e.source + "]");
  }
  b.push_back(List(eq));
  if (rep.embodied_kg) {
    b.push_back(Heading("Embodied emissions"));
    b.push_back(Para(fmt::format("{} CO2e from manufacturing the hardware, over {} run(s), reported apart from the "
                                 "operational {} CO2e.",
                                 paper::Mass(*rep.embodied_kg), rep.embodied_runs, paper::Mass(rep.co2e_kg.value))));
    for (Block& e : EmbodiedBlocks(rep)) b.push_back(std::move(e));
  }
  return b;
}

// --- Markdown ---------------------------------------------------------------

std::string MdCell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string Markdown(const Report& rep, const std::vector<Block>& blocks, const std::string& plot_dir) {
  std::string out = "# " + rep.options.title + "\n\n";
  if (!rep.options.generated.empty()) out += "Generated " + rep.options.generated + " by wattprint.\n\n";
  for (const Block& b : blocks) {
    switch (b.kind) {
      case Block::kHeading: out += "## " + b.text + "\n\n"; break;
      case Block::kParagraph: out += b.text + "\n\n"; break;
      case Block::kStatement: out += "> " + b.text + "\n\n"; break;
      case Block::kList:
        for (const auto& r : b.rows) out += "- " + r[0] + "\n";
        out += "\n";
        break;
      case Block::kTable: {
        out += b.text + "\n\n|";
        for (const auto& h : b.header) out += " " + MdCell(h) + " |";
        out += "\n|";
        for (size_t i = 0; i < b.header.size(); ++i) out += b.numeric[i] ? " ---: |" : " --- |";
        out += "\n";
        for (const auto& row : b.rows) {
          out += "|";
          for (const auto& c : row) out += " " + MdCell(c) + " |";
          out += "\n";
        }
        out += "\n";
        break;
      }
      case Block::kPlot:
        if (plot_dir.empty()) out += "*" + b.text + "* (plot written only with --output)\n\n";
        else out += "![" + b.text + "](" + plot_dir + "/" + b.plot->stem + ".svg)\n\n";
        break;
    }
  }
  return out;
}

// --- HTML -------------------------------------------------------------------

std::string Html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

constexpr const char* kCss = R"(body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#111;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #999;padding-bottom:.2em;margin-top:1.8em}
blockquote.statement{border-left:4px solid #333;background:#f3f3f3;margin:1em 0;padding:.8em 1em}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.85em}caption{text-align:left;font-style:italic;padding:.3em 0}
th,td{border-bottom:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}th{border-bottom:2px solid #333}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}figure{margin:1em 0 2em}figcaption{font-style:italic;font-size:.9em}
figure svg{max-width:100%;height:auto}@media print{body{margin:0;max-width:none}figure,table{break-inside:avoid}})";

std::string HtmlDoc(const Report& rep, const std::vector<Block>& blocks) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
                    Html(rep.options.title) + "</title>\n<style>\n" + kCss + "\n</style>\n</head>\n<body>\n<h1>" +
                    Html(rep.options.title) + "</h1>\n";
  if (!rep.options.generated.empty()) out += "<p>Generated " + Html(rep.options.generated) + " by wattprint.</p>\n";
  for (const Block& b : blocks) {
    switch (b.kind) {
      case Block::kHeading: out += "<h2>" + Html(b.text) + "</h2>\n"; break;
      case Block::kParagraph: out += "<p>" + Html(b.text) + "</p>\n"; break;
      case Block::kStatement: out += "<blockquote class=\"statement\">" + Html(b.text) + "</blockquote>\n"; break;
      case Block::kList:
        out += "<ul>\n";
        for (const auto& r : b.rows) out += "<li>" + Html(r[0]) + "</li>\n";
        out += "</ul>\n";
        break;
      case Block::kTable: {
        out += "<table>\n<caption>" + Html(b.text) + "</caption>\n<thead><tr>";
        for (const auto& h : b.header) out += "<th>" + Html(h) + "</th>";
        out += "</tr></thead>\n<tbody>\n";
        for (const auto& row : b.rows) {
          out += "<tr>";
          for (size_t i = 0; i < row.size(); ++i)
            out += std::string(b.numeric[i] ? "<td class=\"n\">" : "<td>") + Html(row[i]) + "</td>";
          out += "</tr>\n";
        }
        out += "</tbody>\n</table>\n";
        break;
      }
      case Block::kPlot:
        out += "<figure>\n" + b.plot->svg + "\n<figcaption>" + Html(b.text) + "</figcaption>\n</figure>\n";
        break;
    }
  }
  return out + "</body>\n</html>\n";
}

// --- LaTeX ------------------------------------------------------------------

std::string Tex(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    switch (c) {
      case '&': case '%': case '$': case '#': case '_': case '{': case '}': out += '\\'; out += c; break;
      case '~': out += "\\textasciitilde{}"; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '\\': out += "\\textbackslash{}"; break;
      case '<': out += "\\textless{}"; break;
      case '>': out += "\\textgreater{}"; break;
      default: out += c;
    }
  }
  // CO2 with a subscript, and the en dash as LaTeX writes it.
  for (size_t p = 0; (p = out.find("CO2", p)) != std::string::npos; p += 15) out.replace(p, 3, "CO\\textsubscript{2}");
  for (size_t p = 0; (p = out.find(kDash, p)) != std::string::npos; p += 2) out.replace(p, kDash.size(), "--");
  return out;
}

std::string Latex(const Report& rep, const std::vector<Block>& blocks, const std::string& plot_dir) {
  std::string out =
      "% Carbon report written by wattprint. Compile with: pdflatex -shell-escape (the svg package\n"
      "% converts the plots with Inkscape), then bibtex, then pdflatex twice.\n"
      "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n"
      "\\usepackage{booktabs}\n\\usepackage{longtable}\n\\usepackage{svg}\n\\usepackage[margin=2cm]{geometry}\n"
      "\\title{" + Tex(rep.options.title) + "}\n\\date{" + Tex(rep.options.generated) + "}\n"
      "\\begin{document}\n\\maketitle\n";
  for (const Block& b : blocks) {
    switch (b.kind) {
      case Block::kHeading: out += "\\section*{" + Tex(b.text) + "}\n"; break;
      case Block::kParagraph: out += Tex(b.text) + "\n\n"; break;
      case Block::kStatement: {
        std::string s = Tex(b.text);
        if (auto p = s.find("reported by wattprint"); p != std::string::npos) {
          auto dot = s.find(" in the scope", p);
          if (dot != std::string::npos) s.insert(dot, "~\\cite{wattprint}");
        }
        out += "\\begin{quote}\n" + s + "\n\\end{quote}\n";
        break;
      }
      case Block::kList:
        out += "\\begin{itemize}\n";
        for (const auto& r : b.rows) out += "\\item " + Tex(r[0]) + "\n";
        out += "\\end{itemize}\n";
        break;
      case Block::kTable: {
        std::string cols;
        for (size_t i = 0; i < b.header.size(); ++i) cols += b.numeric[i] ? "r" : "l";
        out += "{\\footnotesize\n\\begin{longtable}{" + cols + "}\n\\caption*{" + Tex(b.text) + "}\\\\\n\\toprule\n";
        for (size_t i = 0; i < b.header.size(); ++i) out += (i ? " & " : "") + Tex(b.header[i]);
        out += " \\\\\n\\midrule\n";
        for (const auto& row : b.rows) {
          for (size_t i = 0; i < row.size(); ++i) out += (i ? " & " : "") + Tex(row[i]);
          out += " \\\\\n";
        }
        out += "\\bottomrule\n\\end{longtable}\n}\n";
        break;
      }
      case Block::kPlot:
        out += "\\begin{figure}[htbp]\n\\centering\n\\includesvg[width=\\linewidth]{" +
               (plot_dir.empty() ? "" : plot_dir + "/") + b.plot->stem + "}\n\\caption{" + Tex(b.text) +
               "}\n\\end{figure}\n";
        break;
    }
  }
  return out + "\\bibliographystyle{plain}\n\\bibliography{wattprint}\n\\end{document}\n";
}

}  // namespace

std::string WattprintBibtex() {
  return "@software{wattprint,\n"
         "  title = {wattprint: energy and carbon footprint of computing jobs, measured from hardware counters},\n"
         "  author = {{The wattprint authors}},\n"
         "  version = {" WATTPRINT_VERSION "},\n"
         "  year = {2026},\n"
         "  note = {Version " WATTPRINT_VERSION "}\n"
         "}\n";
}

RenderedReport RenderReport(const Report& rep, ReportFormat format, const std::string& plot_dir) {
  const std::vector<paper::Plot> plots = paper::MakePlots(rep);
  const std::vector<Block> blocks = Layout(rep, plots);
  RenderedReport out;
  switch (format) {
    case ReportFormat::kHtml: out.text = HtmlDoc(rep, blocks); return out;
    case ReportFormat::kMarkdown: out.text = Markdown(rep, blocks, plot_dir); break;
    case ReportFormat::kLatex:
      out.text = Latex(rep, blocks, plot_dir);
      out.files["wattprint.bib"] = WattprintBibtex();
      break;
  }
  for (const paper::Plot& p : plots) out.files[(plot_dir.empty() ? "" : plot_dir + "/") + p.stem + ".svg"] = p.svg;
  return out;
}

}  // namespace wattprint
