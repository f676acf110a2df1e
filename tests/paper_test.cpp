// `wattprint report`'s figures and renderers (wattprint/paper_report.h):
// ranges from estimated energy and the intensity's yearly spread, jobs over
// nodes, counterfactual places, CSV rows, the statement, escaping in each
// format, and golden files of the three formats from real records.
#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "output/paper_internal.h"
#include "wattprint/grid.h"
#include "wattprint/paper_report.h"

namespace wattprint {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A record as MakeRunRecord would write it: a CPU estimated within bounds,
// a GPU measured, PUE 1.2, one intensity.
RunRecord MakeRecord(bool cpu_estimated, const std::string& zone = "FR", double g_per_kwh = 30) {
  RunRecord r;
  r.metadata.run_id = "run-1";
  r.metadata.project_name = "proj";
  r.metadata.experiment_name = "exp";
  r.metadata.wattprint_version = "0.1.0";
  r.metadata.cpu_model = "Xeon";
  r.metadata.cpu_count = 8;
  r.metadata.gpu_count = 1;
  r.metadata.gpu_model = "1 x NVIDIA A100-SXM4-80GB";
  r.pue = 1.2;
  r.duration_s = 3600;
  KindRecord cpu;
  cpu.method = cpu_estimated ? "estimated" : "measured_counter";
  if (cpu_estimated) cpu.model = "TDP model";
  cpu.counted = true;
  cpu.energy.machine = Energy::KilowattHours(1.0);
  cpu.bounds.machine = BoundsRecord{Energy::KilowattHours(0.5), Energy::KilowattHours(2.0)};
  KindRecord gpu;
  gpu.method = "measured_counter";
  gpu.counted = true;
  gpu.energy.machine = Energy::KilowattHours(3.0);
  gpu.bounds.machine = BoundsRecord{Energy::KilowattHours(3.0), Energy::KilowattHours(3.0)};
  r.kinds = {{"cpu", cpu}, {"gpu", gpu}};
  const double kwh = 4.0 * 1.2;
  r.emissions.machine.energy = Energy::KilowattHours(kwh);
  r.emissions.machine.co2e = Co2e::Grams(kwh * g_per_kwh);
  const double low_kwh = cpu_estimated ? 3.5 * 1.2 : kwh, high_kwh = cpu_estimated ? 5.0 * 1.2 : kwh;
  r.emissions.machine.low = Co2e::Grams(low_kwh * g_per_kwh);
  r.emissions.machine.high = Co2e::Grams(high_kwh * g_per_kwh);
  r.intensity.provenance.zone = zone;
  r.intensity.provenance.source = "Electricity Maps, test";
  r.intensity.points = {{SystemTime{}, Intensity::GramsPerKwh(g_per_kwh)}};
  return r;
}

TEST(PaperFormat, ThreeSignificantFiguresInReadableUnits) {
  EXPECT_EQ(paper::Sig3(0), "0");
  EXPECT_EQ(paper::Sig3(12.345), "12.3");
  EXPECT_EQ(paper::Sig3(0.0022137), "0.00221");
  EXPECT_EQ(paper::Sig3(4210.4), "4210");
  EXPECT_EQ(paper::Sig3(9.9951), "10.0");
  EXPECT_EQ(paper::Sig3(std::nan("")), "unknown");
  EXPECT_EQ(paper::Energy(2.637e-6), "9.49 J");
  EXPECT_EQ(paper::Energy(0.00264), "2.64 Wh");
  EXPECT_EQ(paper::Energy(41.2), "41.2 kWh");
  EXPECT_EQ(paper::Energy(1200), "1.20 MWh");
  EXPECT_EQ(paper::Mass(8.17e-8), "0.0817 mg");
  EXPECT_EQ(paper::Mass(0.0817), "81.7 g");
  EXPECT_EQ(paper::Mass(3400), "3.40 t");
  EXPECT_EQ(paper::EnergyRange({2.0, 1.5, 3.0}, "-"), "2.00 kWh (1.50-3.00 kWh)");
  EXPECT_EQ(paper::EnergyRange({2.0, 2.0, 2.0}, "-"), "2.00 kWh");
  EXPECT_EQ(paper::Duration(45), "45.0 s");
  EXPECT_EQ(paper::Duration(5400), "90.0 min");
  EXPECT_EQ(paper::Duration(36000), "10.0 h");
}

TEST(PaperRun, EstimatedKindsGiveTheEnergyRangeWithThePue) {
  ReportRun run = ReportRunFromRecord(MakeRecord(true), "a.json");
  EXPECT_DOUBLE_EQ(run.kwh.value, 4.8);
  EXPECT_NEAR(run.kwh.low, 4.8 - 0.5 * 1.2, 1e-12);   // the CPU's low bound, PUE applied
  EXPECT_NEAR(run.kwh.high, 4.8 + 1.0 * 1.2, 1e-12);
  EXPECT_NEAR(run.co2e_kg.value, 4.8 * 30 / 1e3, 1e-12);
  EXPECT_NEAR(run.co2e_kg.low, 3.5 * 1.2 * 30 / 1e3, 1e-12);
  EXPECT_NEAR(run.g_per_kwh, 30, 1e-9);
  ASSERT_EQ(run.kinds.size(), 2u);
  EXPECT_EQ(run.kinds[0].kind, "cpu");
  EXPECT_FALSE(run.kinds[0].kwh.exact());
  EXPECT_TRUE(run.kinds[1].kwh.exact());  // measured: its bounds are not a range
}

TEST(PaperReport, MeasuredEnergyIsOneFigureAndTheIntensitySpreadWidensCo2e) {
  auto spread = ZoneYearSpread("DE");
  ASSERT_TRUE(spread.has_value());
  EXPECT_LT(spread->low, spread->high);
  EXPECT_LT(spread->first_year, spread->last_year);
  GridLocation de;
  de.zone = "DE";
  const double g = LookupGridIntensity(de)->g_per_kwh;
  auto rep = BuildReport({ReportRunFromRecord(MakeRecord(false, "DE", g), "a.json")});
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->all_measured);
  EXPECT_TRUE(rep->kwh.exact());
  EXPECT_NEAR(rep->co2e_kg.low, rep->co2e_kg.value * spread->low / g, 1e-12);
  EXPECT_NEAR(rep->co2e_kg.high, rep->co2e_kg.value * spread->high / g, 1e-12);
  EXPECT_NE(rep->statement.find("4.80 kWh of electricity, all of it measured"), std::string::npos) << rep->statement;
  EXPECT_NE(rep->statement.find("spread of the grid's yearly averages"), std::string::npos);
  ASSERT_EQ(rep->intensity_notes.size(), 1u);
  EXPECT_NE(rep->intensity_notes[0].find("zone DE"), std::string::npos);
}

TEST(PaperReport, EstimatedEnergyGivesARangeInTheStatement) {
  auto rep = BuildReport({ReportRunFromRecord(MakeRecord(true), "a.json")});
  ASSERT_TRUE(rep.ok());
  EXPECT_FALSE(rep->all_measured);
  EXPECT_NE(rep->statement.find("4.80 kWh (4.20\u20136.00 kWh)"), std::string::npos) << rep->statement;
  EXPECT_NE(rep->statement.find("CPU estimated (TDP model)"), std::string::npos);
  EXPECT_NE(rep->statement.find("GPU measured (hardware energy counter)"), std::string::npos);
  EXPECT_NE(rep->statement.find("A PUE of 1.20 was applied"), std::string::npos);
}

TEST(PaperReport, ALiveIntensityHasNoYearlySpread) {
  RunRecord r = MakeRecord(false, "DE", 300);
  r.intensity.points.push_back({SystemTime{} + std::chrono::hours(1), Intensity::GramsPerKwh(320)});
  auto rep = BuildReport({ReportRunFromRecord(r, "a.json")});
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->co2e_kg.exact());
  ASSERT_EQ(rep->intensity_notes.size(), 1u);
  EXPECT_NE(rep->intensity_notes[0].find("live intensity"), std::string::npos);
}

TEST(PaperReport, RunsOfOneJobJoinAcrossNodes) {
  std::vector<ReportRun> runs;
  for (const char* node : {"n2", "n1", "n2"}) {
    RunRecord r = MakeRecord(false);
    r.metadata.cluster_job = ClusterJob{"hpc", "77", "0", node, "ada", "nlp", "gpu"};
    runs.push_back(ReportRunFromRecord(r, node));
  }
  runs.push_back(ReportRunFromRecord(MakeRecord(false), "alone"));
  auto rep = BuildReport(runs);
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->jobs.size(), 1u);
  EXPECT_EQ(rep->jobs[0].nodes, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(rep->jobs[0].runs, 3);
  EXPECT_NEAR(rep->jobs[0].kwh.value, 3 * 4.8, 1e-9);
  EXPECT_NEAR(rep->kwh.value, 4 * 4.8, 1e-9);
  EXPECT_NE(rep->statement.find("(1 Slurm job on 2 nodes)"), std::string::npos) << rep->statement;
}

TEST(PaperReport, TheCleanestPlacesAreTheReportsEnergyAtTheirIntensity) {
  ReportOptions options;
  options.places = 3;
  auto rep = BuildReport({ReportRunFromRecord(MakeRecord(false), "a.json")}, options);
  ASSERT_TRUE(rep.ok());
  auto zones = LowestZones(3);
  ASSERT_EQ(rep->zones.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rep->zones[i].name, zones[i].name);
    EXPECT_NEAR(rep->zones[i].co2e_kg, 4.8 * zones[i].g_per_kwh / 1e3, 1e-12);
    EXPECT_NEAR(rep->zones[i].change, rep->zones[i].co2e_kg / rep->co2e_kg.value - 1, 1e-12);
  }
  EXPECT_LE(rep->zones[0].g_per_kwh, rep->zones[2].g_per_kwh);
  EXPECT_EQ(rep->cloud_regions.size(), 3u);
  ASSERT_FALSE(rep->equivalents.empty());
}

TEST(PaperReport, EmbodiedStaysApartFromOperationalCo2e) {
  RunRecord r = MakeRecord(false);
  const double operational = ReportRunFromRecord(r, "a").co2e_kg.value;
  EmbodiedRecord e;
  e.kg = 0.25;
  e.items.push_back({"gpu0", "gpu_a100", 1, 150, 6, 3600 / (6 * 365.25 * 86400), 1, 0.25, "BLOOM", "CC BY 4.0"});
  e.not_counted = {"gpu1 NVIDIA T4: no published figure"};
  r.embodied = e;
  auto rep = BuildReport({ReportRunFromRecord(r, "a")});
  ASSERT_TRUE(rep.ok());
  EXPECT_NEAR(rep->co2e_kg.value, operational, 1e-15);
  ASSERT_TRUE(rep->embodied_kg.has_value());
  EXPECT_DOUBLE_EQ(*rep->embodied_kg, 0.25);
  EXPECT_NE(rep->statement.find("adds 250 g CO2e"), std::string::npos) << rep->statement;
  EXPECT_NE(rep->statement.find("not included above"), std::string::npos);
  const std::string md = RenderReport(*rep, ReportFormat::kMarkdown, "").text;
  EXPECT_NE(md.find("| gpu0 | gpu_a100 | 1 | 1.00 | 150 | 6.00 | 250 | [1] |"), std::string::npos) << md;
  EXPECT_NE(md.find("- [1] BLOOM Licence: CC BY 4.0."), std::string::npos);
  EXPECT_NE(md.find("Embodied, not counted: gpu1 NVIDIA T4"), std::string::npos);
}

TEST(PaperCsv, ACodeCarbonRowIsARunWithoutMethods) {
  const std::vector<std::string> header = {"timestamp", "run_id", "project_name", "duration", "emissions",
                                           "energy_consumed", "cpu_energy", "gpu_energy", "ram_energy",
                                           "country_name", "country_iso_code", "pue"};
  auto run = ReportRunFromCsv(header, {"2026-11-30T10:00:12", "r1", "train", "12", "1.5e-06", "0.0002", "0.00014",
                                       "0.0", "0.00006", "France", "FRA", "1.0"},
                              "e.csv row 1");
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_FALSE(run->has_record);
  EXPECT_EQ(run->start_iso, "2026-11-30T10:00:00Z");  // the row is written at the end
  EXPECT_NEAR(run->g_per_kwh, 7.5, 1e-9);
  ASSERT_EQ(run->kinds.size(), 3u);
  EXPECT_EQ(run->kinds[0].method, "not recorded");
  auto rep = BuildReport({*run});
  ASSERT_TRUE(rep.ok());
  EXPECT_FALSE(rep->all_measured);
  EXPECT_TRUE(rep->any_unknown_method);
  EXPECT_NE(rep->statement.find("does not record the method"), std::string::npos);

  auto bad = ReportRunFromCsv(header, {"x", "r1", "p", "12", "lots", "0.1", "", "", "", "", "", ""}, "e.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "column emissions: \"lots\" is not a number of 0 or more");
  auto missing = ReportRunFromCsv({"run_id"}, {"r1"}, "e.csv");
  EXPECT_EQ(missing.status().message(), "column energy_consumed is missing or empty");
}

TEST(PaperReport, NoRunIsAnError) { EXPECT_FALSE(BuildReport({}).ok()); }

TEST(PaperRender, EveryFormatEscapesWhatRunsCarry) {
  RunRecord r = MakeRecord(true);
  r.metadata.project_name = "a<b>&c_50%|x";
  r.metadata.experiment_name = "";
  auto rep = BuildReport({ReportRunFromRecord(r, "x.json")});
  ASSERT_TRUE(rep.ok());
  const std::string html = RenderReport(*rep, ReportFormat::kHtml, "").text;
  EXPECT_NE(html.find("a&lt;b&gt;&amp;c_50%|x"), std::string::npos);
  EXPECT_EQ(html.find("a<b>"), std::string::npos);
  const std::string md = RenderReport(*rep, ReportFormat::kMarkdown, "").text;
  EXPECT_NE(md.find("a<b>&c_50%\\|x"), std::string::npos);
  const RenderedReport tex = RenderReport(*rep, ReportFormat::kLatex, "plots");
  EXPECT_NE(tex.text.find("a\\textless{}b\\textgreater{}\\&c\\_50\\%|x"), std::string::npos);
  EXPECT_NE(tex.text.find("wattprint 0.1.0~\\cite{wattprint}"), std::string::npos);
  EXPECT_NE(tex.text.find("CO\\textsubscript{2}e"), std::string::npos);
  EXPECT_TRUE(tex.files.count("wattprint.bib"));
  EXPECT_TRUE(tex.files.count("plots/runs.svg"));
  for (const std::string* text : {&html, &md, &tex.text}) {
    EXPECT_EQ(text->find("nan"), std::string::npos);
    EXPECT_EQ(text->find("inf "), std::string::npos);
  }
}

TEST(PaperRender, MarkdownTablesKeepTheirColumns) {
  auto rep = BuildReport({ReportRunFromRecord(MakeRecord(true), "x.json")});
  ASSERT_TRUE(rep.ok());
  std::istringstream md(RenderReport(*rep, ReportFormat::kMarkdown, "").text);
  std::string line;
  int columns = -1;
  for (int n = 0; std::getline(md, line); ++n) {
    if (line.empty() || line[0] != '|') {
      columns = -1;
      continue;
    }
    int bars = 0;
    for (size_t i = 0; i < line.size(); ++i) bars += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
    if (columns < 0) columns = bars;
    EXPECT_EQ(bars, columns) << line;
  }
}

// The goldens: the report of a two-node Slurm job whose records the real
// Python tracker wrote (tests/fixtures/records/README.md).
std::vector<ReportRun> FixtureRuns() {
  std::vector<ReportRun> runs;
  for (const char* name : {"job-4242-gpu-a01.json", "job-4242-gpu-a02.json"}) {
    const std::string path = std::string(WATTPRINT_FIXTURES) + "/records/" + name;
    auto j = nlohmann::json::parse(ReadAll(path));
    auto r = RunRecordFromJson(j);
    EXPECT_TRUE(r.ok()) << r.status().message();
    runs.push_back(ReportRunFromRecord(*r, name));
  }
  return runs;
}

void ExpectGolden(const std::string& got, const std::string& name) {
  const std::string path = std::string(WATTPRINT_GOLDEN) + "/" + name;
  if (getenv("WATTPRINT_UPDATE_GOLDEN")) std::ofstream(path, std::ios::binary) << got;
  EXPECT_EQ(got, ReadAll(path)) << name << ": regenerate with WATTPRINT_UPDATE_GOLDEN=1 after review";
}

TEST(PaperGolden, EachFormatOfATwoNodeJob) {
  ReportOptions options;
  options.title = "BERT fine-tuning, job 4242";
  options.generated = "2026-12-01";
  auto rep = BuildReport(FixtureRuns(), options);
  ASSERT_TRUE(rep.ok());
  ExpectGolden(RenderReport(*rep, ReportFormat::kMarkdown, "report_files").text, "report.md");
  ExpectGolden(RenderReport(*rep, ReportFormat::kHtml, "").text, "report.html");
  const RenderedReport tex = RenderReport(*rep, ReportFormat::kLatex, "report_files");
  ExpectGolden(tex.text, "report.tex");
  ExpectGolden(tex.files.at("wattprint.bib"), "wattprint.bib");
  // The plots of that job: power of each node, energy per task, cumulative
  // CO2e and CO2e by run.
  std::vector<std::string> names;
  for (const auto& [name, svg] : tex.files) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"report_files/cumulative.svg", "report_files/power-1.svg",
                                             "report_files/power-2.svg", "report_files/runs.svg",
                                             "report_files/tasks.svg", "wattprint.bib"}));
}

}  // namespace
}  // namespace wattprint
