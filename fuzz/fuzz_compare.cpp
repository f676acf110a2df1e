// The readers of `wattprint compare` and `wattprint report`: an emissions
// CSV (RFC 4180 quoting, a byte order mark, any row) or a JSON record
// through the typed reader. A run read holds finite, non-negative energy
// and emissions; a JSON record that the typed reader accepts is written and
// read back the same, and reports in every format.
//
// Input: the first byte picks the row (0 = the last), the rest is the file.
#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "check.h"
#include "compare_input.h"
#include "wattprint/paper_report.h"
#include "wattprint/run_record.h"

using namespace wattprint;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int row = data[0] == 0 ? cli::kLastRow : data[0] % 8;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  Result<cli::Baseline> b = cli::ParseRun("run", text, row);
  if (b.ok()) {
    FUZZ_CHECK(std::isfinite(b->kwh) && b->kwh >= 0);
    FUZZ_CHECK(std::isfinite(b->kg) && b->kg >= 0);
  } else {
    FUZZ_CHECK(!b.status().message().empty());
  }
  // The report's reading of the same rows.
  const auto records = cli::CsvRecords(text);
  for (size_t i = 1; i < records.size() && i < 8; ++i) {
    Result<ReportRun> run = ReportRunFromCsv(records[0], records[i], "run");
    if (!run.ok()) {
      FUZZ_CHECK(!run.status().message().empty());
      continue;
    }
    FUZZ_CHECK(std::isfinite(run->kwh.value) && run->kwh.value >= 0);
    FUZZ_CHECK(std::isfinite(run->co2e_kg.value) && run->co2e_kg.value >= 0);
  }
  // The typed record reader on its own, and its round trip.
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  Result<RunRecord> r = RunRecordFromJson(j);
  if (!r.ok()) return 0;
  const nlohmann::json out = RunRecordToJson(*r);
  Result<RunRecord> again = RunRecordFromJson(out);
  if (!again.ok()) std::fprintf(stderr, "round trip: %s\n", again.status().message().c_str());
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(RunRecordToJson(*again) == out);
  Result<Report> report = BuildReport({ReportRunFromRecord(*r, "run")});
  FUZZ_CHECK(report.ok());
  for (ReportFormat f : {ReportFormat::kMarkdown, ReportFormat::kHtml, ReportFormat::kLatex})
    FUZZ_CHECK(!RenderReport(*report, f, "plots").text.empty());
  return 0;
}
