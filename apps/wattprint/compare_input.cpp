// Readers of the runs `compare` is given: an emissions CSV or a JSON
// record, from files wattprint did not necessarily write.
#include "compare_input.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/text.h"
#include "wattprint/run_record.h"

namespace wattprint::cli {
namespace {

using nlohmann::json;

Result<double> Number(const std::string& text, const std::string& what) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v) && v >= 0) return v;
  } catch (const std::exception&) {
  }
  return Status::InvalidArgument(
      fmt::format("{}: '{}' is not a non-negative number", what, text::Printable(text)));
}

Result<Baseline> FromCsv(const std::string& path, const std::string& text, int row) {
  const auto records = CsvRecords(text);
  if (records.size() < 2) return Status::InvalidArgument(path + ": no data row");
  const std::vector<std::string>& header = records[0];
  auto col = [&](std::string_view name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const size_t energy = col("energy_consumed"), emissions = col("emissions");
  if (energy == header.size() || emissions == header.size()) {
    return Status::InvalidArgument(path + ": not an emissions CSV (no energy_consumed and emissions columns)");
  }
  const int rows = static_cast<int>(records.size()) - 1;
  if (row != kLastRow && (row < 1 || row > rows)) {
    return Status::InvalidArgument(fmt::format("{}: --row {} is out of range (1..{})", path, row, rows));
  }
  const int n = row == kLastRow ? rows : row;
  const std::vector<std::string>& r = records[n];
  auto field = [&](std::string_view name) {
    const size_t c = col(name);
    return c < r.size() ? r[c] : std::string();
  };
  Result<double> kwh = Number(field("energy_consumed"), fmt::format("{} row {} energy_consumed", path, n));
  if (!kwh.ok()) return kwh.status();
  Result<double> kg = Number(field("emissions"), fmt::format("{} row {} emissions", path, n));
  if (!kg.ok()) return kg.status();
  std::string where = field("country_name");
  if (!field("country_iso_code").empty()) where += fmt::format(" ({})", field("country_iso_code"));
  if (!field("cloud_region").empty()) where += fmt::format(", {} {}", field("cloud_provider"), field("cloud_region"));
  return Baseline{*kwh, *kg, fmt::format("{}{} row {}", where.empty() ? "" : where + ", ", path, n)};
}

// A JSON record is read with the library's typed reader (RunRecordFromJson),
// so a missing or mistyped field is a one-line error naming it.
Result<Baseline> FromJson(const std::string& path, const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.what() quotes the bytes it read, raw; the offset says enough. The
    // parser stops on the byte after a broken UTF-8 sequence, so look for
    // the first one before where it stopped.
    for (size_t i = 0; i < text.size() && i < e.byte;) {
      const size_t n = text::Utf8SequenceLength(text, i);
      if (n == 0) return Status::InvalidArgument(fmt::format("{}: not JSON (invalid UTF-8 at byte {})", path, i + 1));
      i += n;
    }
    return Status::InvalidArgument(fmt::format("{}: not JSON (syntax error at byte {})", path, e.byte));
  } catch (const json::out_of_range&) {
    // A number too large for a double (1e99999) is not a syntax error to
    // the parser: it throws out_of_range.406, found by fuzz_compare.
    return Status::InvalidArgument(path + ": not JSON that can be read (a number is out of range)");
  }
  Result<RunRecord> r = RunRecordFromJson(j);
  if (!r.ok()) return Status::InvalidArgument(path + ": not a wattprint JSON record: " + r.status().message());
  const EmissionsRecord& e = r->emissions;
  const ScopeEmissionsRecord* scope = e.scope == Scope::kMachine ? &e.machine : (e.process ? &*e.process : nullptr);
  if (!e.chosen || scope == nullptr) {
    return Status::InvalidArgument(path + ": the record's " + ToString(e.scope) + " emissions are unknown");
  }
  const double kwh = scope->energy.kwh(), kg = e.chosen->kg();
  if (!(kwh >= 0) || !(kg >= 0) || !std::isfinite(kwh) || !std::isfinite(kg)) {
    return Status::InvalidArgument(path + ": energy and emissions must be non-negative numbers");
  }
  const IntensityProvenance& p = r->intensity.provenance;
  const std::string where = p.is_default ? "world average" : !p.country_name.empty() ? p.country_name : p.zone;
  return Baseline{kwh, kg, (where.empty() ? "" : where + ", ") + path};
}

}  // namespace

// RFC 4180 records: quoted fields may hold commas, quotes ("") and newlines.
std::vector<std::vector<std::string>> CsvRecords(const std::string& text) {
  std::vector<std::vector<std::string>> out(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    std::string& field = out.back().back();
    if (quoted) {
      if (c != '"') field += c;
      else if (i + 1 < text.size() && text[i + 1] == '"') field += text[++i];
      else quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.back().emplace_back();
    } else if (c == '\n') {
      out.emplace_back(1);
    } else if (c != '\r') {
      field += c;
    }
  }
  while (!out.empty() && out.back().size() == 1 && out.back()[0].empty()) out.pop_back();
  return out;
}

Result<Baseline> ParseRun(const std::string& path, std::string s, int row) {
  // A UTF-8 byte order mark (spreadsheets write one) is not part of the data.
  if (s.starts_with("\xef\xbb\xbf")) s.erase(0, 3);
  const size_t first = s.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && s[first] == '{') {
    if (row != kLastRow) return Status::InvalidArgument("--row applies to CSV files, not JSON records");
    return FromJson(path, s);
  }
  return FromCsv(path, s, row);
}

}  // namespace wattprint::cli
