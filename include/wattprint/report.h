// The output formats built from a finished (or flushed) run
// (wattprint/record.h): the CodeCarbon-compatible emissions.csv row, the
// JSON record, and the human summary printed by `wattprint run`. They only
// format: the figures come from wattprint/figures.h.
//
// Thread safety: value types and pure functions, except AppendCsvRow, which
// takes an exclusive flock on the file so concurrent writers never interleave.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "wattprint/emissions.h"
#include "wattprint/record.h"

namespace wattprint {

// One CSV row covering polls [from, to] of the run's ledger, as typed
// values (what Python's EmissionsData holds): a number, a count, a text, or
// unknown (an empty field, never 0).
using CsvValue = std::variant<std::monostate, double, long long, std::string>;
struct CsvRecord {
  std::vector<CsvValue> values;  // in kCsvColumns order
};
// The same row as the text written to emissions.csv.
struct CsvRow {
  std::vector<std::string> fields;  // in kCsvColumns order
};
extern const std::vector<std::string> kCsvColumns;

CsvRecord MakeCsvRecord(const RunResult& run, size_t from_point, size_t to_point, SystemTime row_time);
// Numbers in fmt's shortest round-trip form (a whole float keeps ".0", as
// Python's repr), unknown as "".
CsvRow FormatCsvRow(const CsvRecord& record);
CsvRow MakeCsvRow(const RunResult& run, size_t from_point, size_t to_point,
                  SystemTime row_time);
// Appends a row to dir/file, creating dir and the header as needed. If the
// file exists with a different header it is left untouched and the row goes
// to a sibling file ("emissions.wattprint-1.csv", ...); *written_to says where.
Status AppendCsvRow(const std::string& dir, const std::string& file, const CsvRow& row,
                    std::string* written_to, std::string* note);

// The full JSON record: metadata, sources, channels with method, energy per
// channel/device/kind in both scopes, intensity with provenance, emissions in
// both scopes, tasks, events and the sample time series.
nlohmann::json RunToJson(const RunResult& run);
Status WriteJsonFile(const std::string& path, const RunResult& run);

// The multi-line summary printed on stderr at the end of `run`.
std::string FormatSummary(const RunResult& run);
// One-line live status: current power, energy so far, CO2e so far.
std::string FormatLiveStatus(const RunResult& run);

// Everyday equivalents of a run's energy and CO2e, each with the source of
// its factor: a share of a household's weekly emissions (a fraction: 0.01
// is 1 %), distance driven in km and in miles, days of TV (from the energy)
// and smartphone charges.
struct Equivalent {
  std::string key;     // "household_week", "car_km", "car_miles", "tv_days", "phone_charges"
  double amount;
  std::string unit;    // "km driven by an average passenger car"
  std::string source;  // "US EPA (2023), typical passenger vehicle: 400 g CO2/mile"
};
std::vector<Equivalent> EverydayEquivalents(Energy energy, Co2e mass);

}  // namespace wattprint
