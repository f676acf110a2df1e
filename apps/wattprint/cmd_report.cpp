// `wattprint report`: a carbon statement for a paper, with its tables and
// plots, from JSON records, emissions.csv files, or a selection of runs
// read from the collector (wattprint/paper_report.h computes and renders;
// this reads the inputs and writes the files).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "collector_client.h"
#include "commands.h"
#include "compare_input.h"
#include "net/http.h"
#include "wattprint/paper_report.h"
#include "wattprint/run_record.h"

namespace wattprint::cli {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": cannot read");
  return text.str();
}

Result<ReportRun> FromRecordText(const std::string& path, const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  Result<RunRecord> r = RunRecordFromJson(j);
  if (!r.ok()) return Status::InvalidArgument(path + ": not a wattprint record: " + r.status().message());
  return ReportRunFromRecord(*r, path);
}

// A run's rows whose duration and energy never go down are a cumulative
// series (CodeCarbon's flush writes the total so far): its last row is the
// run. Otherwise the rows are periods (the monitor's), and they add up.
bool Cumulative(const std::vector<ReportRun>& rows) {
  for (size_t i = 1; i < rows.size(); ++i)
    if (rows[i].duration_s < rows[i - 1].duration_s || rows[i].kwh.value < rows[i - 1].kwh.value) return false;
  return true;
}

ReportRun SumRows(std::vector<ReportRun> rows, const std::string& what) {
  ReportRun out = rows.front();
  for (size_t i = 1; i < rows.size(); ++i) {
    const ReportRun& r = rows[i];
    out.duration_s += r.duration_s;
    out.kwh.value += r.kwh.value, out.kwh.low += r.kwh.low, out.kwh.high += r.kwh.high;
    out.co2e_kg.value += r.co2e_kg.value, out.co2e_kg.low += r.co2e_kg.low, out.co2e_kg.high += r.co2e_kg.high;
    for (size_t k = 0; k < out.kinds.size() && k < r.kinds.size(); ++k) out.kinds[k].kwh.value += r.kinds[k].kwh.value;
  }
  for (ReportKind& k : out.kinds) k.kwh.low = k.kwh.high = k.kwh.value;
  if (out.kwh.value > 0) out.g_per_kwh = out.co2e_kg.value * 1e3 / out.kwh.value;
  out.origin = what;
  return out;
}

Result<std::vector<ReportRun>> FromCsvText(const std::string& path, const std::string& text) {
  std::vector<std::vector<std::string>> records = CsvRecords(text);
  if (records.size() < 2) return Status::InvalidArgument(path + ": no data row under the header");
  const std::vector<std::string>& header = records.front();
  std::vector<std::string> order;  // run ids in the order first seen
  std::map<std::string, std::vector<ReportRun>> by_run;
  std::map<std::string, std::pair<size_t, size_t>> rows_of;
  for (size_t i = 1; i < records.size(); ++i) {
    Result<ReportRun> r = ReportRunFromCsv(header, records[i], fmt::format("{} row {}", path, i));
    if (!r.ok()) return Status::InvalidArgument(fmt::format("{} row {}: {}", path, i, r.status().message()));
    const std::string key = r->id.empty() ? fmt::format("row {}", i) : r->id;
    if (!by_run.count(key)) order.push_back(key), rows_of[key] = {i, i};
    rows_of[key].second = i;
    by_run[key].push_back(std::move(*r));
  }
  std::vector<ReportRun> out;
  for (const std::string& key : order) {
    std::vector<ReportRun>& rows = by_run[key];
    const auto [first, last] = rows_of[key];
    if (rows.size() == 1) out.push_back(std::move(rows.front()));
    else if (Cumulative(rows)) {
      out.push_back(std::move(rows.back()));
      out.back().origin = fmt::format("{} rows {}-{} (cumulative: the last)", path, first, last);
    } else {
      out.push_back(SumRows(std::move(rows), fmt::format("{} rows {}-{} (periods: summed)", path, first, last)));
    }
  }
  return out;
}

Result<std::vector<ReportRun>> FromFile(const std::string& path) {
  Result<std::string> text = ReadAll(path);
  if (!text.ok()) return text.status();
  const size_t first = text->find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return Status::InvalidArgument(path + ": empty file");
  if ((*text)[first] == '{') {
    Result<ReportRun> r = FromRecordText(path, *text);
    if (!r.ok()) return r.status();
    return std::vector<ReportRun>{std::move(*r)};
  }
  return FromCsvText(path, *text);
}

// The selection's runs, page by page, each with its stored record (a run
// that only has intervals, a CodeCarbon client's, has none: it is left out
// and counted in `*skipped`).
Result<std::vector<ReportRun>> FromCollector(const Config& cfg, const ReportCliOptions& o, int* skipped) {
  constexpr auto kTimeout = std::chrono::milliseconds(10000);
  std::string query = "limit=1000&sort=start&order=asc";
  if (!o.experiment.empty()) query += "&experiment_id=" + net::UrlEncode(o.experiment);
  if (!o.from.empty()) query += "&from=" + net::UrlEncode(o.from);
  if (!o.to.empty()) query += "&to=" + net::UrlEncode(o.to);
  if (!o.job.empty()) query += "&q=" + net::UrlEncode(o.job);
  std::vector<ReportRun> out;
  for (int64_t offset = 0;;) {
    const std::string path = "/api/v1/projects/" + net::UrlEncode(o.project) + "/runs?" + query +
                             "&offset=" + std::to_string(offset);
    Result<Answer> page = Ask(cfg, "GET", path, "", kTimeout);
    if (!page.ok()) return Status::Unavailable("the collector: " + page.status().message());
    if (page->status != 200) return Status::InvalidArgument("the collector: " + ErrorOf(*page));
    const json& runs = page->body.value("runs", json::array());
    for (const json& run : runs) {
      const std::string id = run.value("id", "");
      Result<Answer> one = Ask(cfg, "GET", "/api/v1/runs/" + net::UrlEncode(id), "", kTimeout);
      if (!one.ok()) return Status::Unavailable("the collector: " + one.status().message());
      if (one->status != 200) return Status::InvalidArgument("the collector: run " + id + ": " + ErrorOf(*one));
      if (!one->body.contains("record") || !one->body["record"].is_object()) {
        ++*skipped;
        continue;
      }
      Result<RunRecord> r = RunRecordFromJson(one->body["record"]);
      if (!r.ok()) return Status::Corrupt("the collector: run " + id + ": " + r.status().message());
      // ?q= matches a substring; a job is the exact id.
      if (!o.job.empty() && (!r->metadata.cluster_job || r->metadata.cluster_job->job_id != o.job)) continue;
      out.push_back(ReportRunFromRecord(*r, "collector run " + id));
    }
    offset += static_cast<int64_t>(runs.size());
    if (runs.empty() || offset >= page->body.value("total", int64_t{0})) break;
  }
  return out;
}

// Writes `text` to `path` through a temporary file and a rename, so a
// reader never sees half a report.
Status WriteFile(const fs::path& path, const std::string& text) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      return Status::IOError(path.string() + ": cannot write");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) return Status::IOError(path.string() + ": " + ec.message());
  return Status::Ok();
}

int Fail(int code, const std::string& what) {
  std::fprintf(stderr, "wattprint: error: %s\n", what.c_str());
  return code;
}

}  // namespace

int ReportCommand(const Config& cfg, const ReportCliOptions& o) {
  Result<ReportFormat> format = ParseReportFormat(o.format);
  if (!format.ok()) return Fail(2, format.status().message());
  if (o.inputs.empty() && o.project.empty())
    return Fail(2, "give JSON records or emissions.csv files, or --project ID to read runs from the collector");
  if (o.project.empty() && (!o.experiment.empty() || !o.job.empty() || !o.from.empty() || !o.to.empty()))
    return Fail(2, "--experiment, --job, --from and --to select runs of --project ID in the collector");
  std::vector<ReportRun> runs;
  for (const std::string& path : o.inputs) {
    Result<std::vector<ReportRun>> r = FromFile(path);
    if (!r.ok()) return Fail(2, r.status().message());
    for (const ReportRun& run : *r) runs.push_back(run);
  }
  if (!o.project.empty()) {
    int skipped = 0;
    Result<std::vector<ReportRun>> r = FromCollector(cfg, o, &skipped);
    if (!r.ok()) return Fail(r.status().code() == Status::Code::kInvalidArgument ? 2 : 1, r.status().message());
    if (skipped > 0)
      std::fprintf(stderr, "wattprint: note: %d run(s) of the selection have no record (sent by a CodeCarbon "
                           "client): not in the report\n", skipped);
    for (const ReportRun& run : *r) runs.push_back(run);
    if (r->empty() && runs.empty()) return Fail(1, "the collector has no run with a record in this selection");
  }
  ReportOptions options;
  if (!o.title.empty()) options.title = o.title;
  options.places = o.places;
  options.generated = o.date;
  Result<Report> report = BuildReport(std::move(runs), options);
  if (!report.ok()) return Fail(2, report.status().message());

  if (o.output.empty() || o.output == "-") {
    RenderedReport out = RenderReport(*report, *format, "");
    std::fwrite(out.text.data(), 1, out.text.size(), stdout);
    if (*format != ReportFormat::kHtml)
      std::fprintf(stderr, "wattprint: note: the plots%s are written only with --output FILE\n",
                   *format == ReportFormat::kLatex ? " and wattprint.bib" : "");
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  const fs::path output(o.output);
  const std::string plot_dir = output.stem().string() + "_files";
  RenderedReport out = RenderReport(*report, *format, plot_dir);
  const fs::path dir = output.parent_path();
  for (const auto& [name, content] : out.files)
    if (Status s = WriteFile(dir / name, content); !s.ok()) return Fail(1, s.message());
  if (Status s = WriteFile(output, out.text); !s.ok()) return Fail(1, s.message());
  std::fprintf(stderr, "wattprint: report of %zu run(s) written to %s%s\n", report->runs.size(), o.output.c_str(),
               out.files.empty() ? "" : fmt::format(" (and {} file(s) beside it)", out.files.size()).c_str());
  return 0;
}

}  // namespace wattprint::cli
