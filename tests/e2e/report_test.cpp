// `wattprint report` as users call it: records and emissions.csv files in,
// Markdown on stdout, HTML and LaTeX files (with their plots and BibTeX)
// out, and one-line errors with exit 2 for bad input, writing nothing.
#include <filesystem>

#include <gtest/gtest.h>

#include "e2e/e2e_util.h"
#include "e2e/run_binary.h"

namespace wattprint::testing {
namespace {

namespace fs = std::filesystem;

const std::string kRecords = std::string(WATTPRINT_FIXTURES) + "/records/";
const std::string kRecordA = kRecords + "job-4242-gpu-a01.json";
const std::string kRecordB = kRecords + "job-4242-gpu-a02.json";
const std::string kCodeCarbonCsv = std::string(WATTPRINT_FIXTURES) + "/../../python/tests/data/codecarbon-3.3-emissions.csv";

int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(ReportCli, MarkdownOnStdoutSaysThePlotsNeedAFile) {
  BinaryResult r = RunWattprint({"report", kRecordA});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("# Carbon footprint\n", 0), 0u);
  EXPECT_NE(r.out.find("> The run (1 Slurm job on 1 node)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("all of it measured"), std::string::npos);
  EXPECT_EQ(r.err, "wattprint: note: the plots are written only with --output FILE\n");
}

TEST(ReportCli, HtmlIsOneFileWithItsPlotsInline) {
  TempTree t;
  const std::string out = t.Path("out/report.html");
  BinaryResult r = RunWattprint({"report", kRecordA, kRecordB, "--format", "html", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = ReadWholeFile(out);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  size_t svgs = 0;
  for (size_t p = 0; (p = html.find("<svg ", p)) != std::string::npos; ++p) ++svgs;
  EXPECT_EQ(svgs, 5u);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no other URL to fetch
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_FALSE(fs::exists(t.Path("out/report_files")));
  EXPECT_EQ(r.err, "wattprint: report of 2 run(s) written to " + out + "\n");
}

TEST(ReportCli, LatexComesWithItsBibtexAndPlotFiles) {
  TempTree t;
  const std::string out = t.Path("paper/carbon.tex");
  BinaryResult r = RunWattprint({"report", kRecordA, kRecordB, "--format", "tex", "-o", out, "--title", "Job 4242"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string tex = ReadWholeFile(out);
  EXPECT_NE(tex.find("\\title{Job 4242}"), std::string::npos);
  EXPECT_NE(tex.find("\\includesvg[width=\\linewidth]{carbon_files/tasks}"), std::string::npos);
  EXPECT_NE(tex.find("\\bibliography{wattprint}"), std::string::npos);
  EXPECT_NE(ReadWholeFile(t.Path("paper/wattprint.bib")).find("@software{wattprint,"), std::string::npos);
  for (const char* plot : {"power-1", "power-2", "tasks", "cumulative", "runs"})
    EXPECT_EQ(ReadWholeFile(t.Path(std::string("paper/carbon_files/") + plot + ".svg")).rfind("<svg ", 0), 0u) << plot;
}

TEST(ReportCli, CodeCarbonCsvRowsAreRunsWithoutAMethod) {
  BinaryResult r = RunWattprint({"report", kCodeCarbonCsv});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("does not record the method"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("method not recorded (emissions.csv)"), std::string::npos);
  EXPECT_NE(r.out.find("codecarbon-3.3-emissions.csv row 1"), std::string::npos);
}

TEST(ReportCli, BadInputIsOneLineExitTwoAndWritesNothing) {
  TempTree t;
  t.Write("not-a-record.json", "{\"hello\": 1}\n");
  t.Write("bad.csv", "timestamp,run_id,duration,emissions,energy_consumed\n2026-01-01T00:00:00,r,10,lots,0.1\n");
  t.Write("empty.csv", "");
  const std::string out = t.Path("r.html");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"report"}, "give JSON records or emissions.csv files, or --project ID"},
      {{"report", t.Path("missing.json")}, "missing.json: cannot open"},
      {{"report", t.Path("not-a-record.json")}, "not-a-record.json: not a wattprint record"},
      {{"report", t.Path("bad.csv")}, "bad.csv row 1: column emissions: \"lots\" is not a number of 0 or more"},
      {{"report", t.Path("empty.csv")}, "empty.csv: empty file"},
      {{"report", kRecordA, "--format", "pdf"}, "--format \"pdf\": use md, html or tex"},
      {{"report", kRecordA, "--job", "1"}, "select runs of --project ID in the collector"},
  };
  for (const auto& [args, message] : cases) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"-o", out});
    BinaryResult r = RunWattprint(a);
    EXPECT_EQ(r.exit_code, 2) << a[1] << ": " << r.err;
    EXPECT_EQ(Lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
}

}  // namespace
}  // namespace wattprint::testing
