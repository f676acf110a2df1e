// Helpers shared by the end-to-end tests: a fake RAPL powercap tree whose
// counters can be moved while wattprint runs, and readers for its outputs.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_tree.h"

namespace wattprint::testing {

constexpr const char* kPkgDir = "sys/class/powercap/intel-rapl:0";
constexpr const char* kDramDir = "sys/class/powercap/intel-rapl:0:0";

// One package zone and its dram subzone, as intel_rapl_common shows them.
// Counters are in µJ; `range_uj` is max_energy_range_uj of both zones.
inline void WriteRaplTree(const TempTree& t, unsigned long long pkg_uj, unsigned long long dram_uj,
                          unsigned long long range_uj = 262143328850ULL) {
  t.Write(std::string(kPkgDir) + "/name", "package-0\n");
  t.Write(std::string(kPkgDir) + "/energy_uj", std::to_string(pkg_uj) + "\n");
  t.Write(std::string(kPkgDir) + "/max_energy_range_uj", std::to_string(range_uj) + "\n");
  t.Write(std::string(kPkgDir) + "/enabled", "1\n");
  t.Write(std::string(kDramDir) + "/name", "dram\n");
  t.Write(std::string(kDramDir) + "/energy_uj", std::to_string(dram_uj) + "\n");
  t.Write(std::string(kDramDir) + "/max_energy_range_uj", std::to_string(range_uj) + "\n");
  t.Write(std::string(kDramDir) + "/enabled", "1\n");
}

// Overwrites a counter file in place with a value of the same width. The
// sources keep their energy_uj handles open and re-read them at offset 0,
// as is right for real sysfs, so a write-then-rename would leave them
// reading the old inode; one pwrite of the same length is seen atomically.
inline void OverwriteCounter(const std::string& path, unsigned long long uj) {
  const std::string text = std::to_string(uj) + "\n";
  std::ifstream in(path);
  std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(old.size(), text.size()) << "counter values must keep their width: " << path;
  const int fd = open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(pwrite(fd, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
  close(fd);
}

// The same in-place overwrite as a shell command the tracked child runs.
inline std::string ShellOverwrite(const std::string& path, unsigned long long uj) {
  return "printf '%s\\n' " + std::to_string(uj) + " 1<> '" + path + "'";
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// RFC 4180 records of a CSV file, as header name -> field, one map per row.
inline std::vector<std::map<std::string, std::string>> ReadCsv(const std::string& path) {
  const std::string text = ReadWholeFile(path);
  std::vector<std::vector<std::string>> records(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    std::string& field = records.back().back();
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      records.back().emplace_back();
    } else if (c == '\n') {
      records.emplace_back(1);
    } else if (c != '\r') {
      field += c;
    }
  }
  if (records.back().size() == 1 && records.back()[0].empty()) records.pop_back();
  std::vector<std::map<std::string, std::string>> rows;
  for (size_t r = 1; r < records.size(); ++r) {
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < records[0].size() && c < records[r].size(); ++c) row[records[0][c]] = records[r][c];
    rows.push_back(std::move(row));
  }
  return rows;
}

// kWh of a µJ difference. Counters are exact; the only rounding is in the
// double arithmetic, so comparisons allow a relative 1e-12.
inline double KwhOfMicrojoules(double uj) { return uj / 3.6e12; }
#define EXPECT_KWH(actual_text, expected_kwh)                                  \
  do {                                                                         \
    const double wp_exp_ = (expected_kwh);                                     \
    EXPECT_NEAR(std::stod(actual_text), wp_exp_, wp_exp_ * 1e-12) << (actual_text); \
  } while (0)

}  // namespace wattprint::testing
