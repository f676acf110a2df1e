// Reads the committed grid-intensity CSVs (data/intensity/, data/cloud_regions.csv)
// so tests compare lookups with the source data rather than copies of it.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace wattprint::testing {

using CsvRow = std::map<std::string, std::string>;

// RFC 4180 with '#' comment lines; one record per line (the data files hold no newlines in fields).
inline std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') out.back() += c;
      else if (i + 1 < line.size() && line[i + 1] == '"') out.back() += line[++i];
      else quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

inline std::vector<CsvRow> ReadDataCsv(const std::string& relative) {
  std::ifstream in(std::string(WATTPRINT_DATA) + "/" + relative);
  std::vector<CsvRow> rows;
  std::vector<std::string> header;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = SplitCsvLine(line);
    if (header.empty()) {
      header = f;
      continue;
    }
    CsvRow r;
    for (size_t i = 0; i < header.size() && i < f.size(); ++i) r[header[i]] = f[i];
    rows.push_back(std::move(r));
  }
  return rows;
}

inline std::map<std::string, CsvRow> ByKey(const std::vector<CsvRow>& rows, const std::string& key) {
  std::map<std::string, CsvRow> out;
  for (const CsvRow& r : rows) out[r.at(key)] = r;
  return out;
}

}  // namespace wattprint::testing
