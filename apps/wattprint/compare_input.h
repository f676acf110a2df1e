// Readers of the runs `wattprint compare` is given, apart from the command,
// so that they can be tested and fuzzed on bytes.
//
// Private header. Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "commands.h"
#include "wattprint/status.h"

namespace wattprint::cli {

struct Baseline {
  double kwh = 0;    // energy that fed the emissions (PUE applied)
  double kg = 0;     // CO2e the run reported
  std::string what;  // "France (FRA), emissions.csv row 3"
};

// The run in a file's bytes: a JSON record (the text starts with '{') or an
// emissions CSV (CodeCarbon columns; data row `row`, 1-based, or the last
// with kLastRow). A one-line InvalidArgument names what is wrong.
Result<Baseline> ParseRun(const std::string& path, std::string text, int row);

// RFC 4180 records: quoted fields may hold commas, quotes ("") and
// newlines. Blank trailing lines are dropped.
std::vector<std::vector<std::string>> CsvRecords(const std::string& text);

}  // namespace wattprint::cli
