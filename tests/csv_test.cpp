// emissions.csv: columns, units, exact numbers, RFC 4180 quoting, and safe
// appends (header checks, sibling files, torn lines, concurrent writers).
#include <sys/wait.h>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "output_fixture.h"
#include "support/temp_tree.h"
#include "wattprint/report.h"

namespace wattprint {
namespace {

using testing::FixedWall;
using testing::FixtureRun;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Field(const CsvRow& row, const std::string& column) {
  for (size_t i = 0; i < kCsvColumns.size(); ++i) {
    if (kCsvColumns[i] == column) return row.fields.at(i);
  }
  ADD_FAILURE() << "no column " << column;
  return "";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

TEST(CsvColumns, MatchCodeCarbonOrder) {
  const std::string joined = [] {
    std::string s;
    for (const auto& c : kCsvColumns) s += (s.empty() ? "" : ",") + c;
    return s;
  }();
  EXPECT_EQ(joined,
            "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,"
            "cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,"
            "water_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,"
            "python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,"
            "latitude,ram_total_size,tracking_mode,cpu_utilization_percent,"
            "gpu_utilization_percent,ram_utilization_percent,ram_used_gb,on_cloud,pue,wue");
}

TEST(CsvRow, ExactMachineFigures) {
  RunResult run = FixtureRun();
  CsvRow row = MakeCsvRow(run, 0, 2, FixedWall() + std::chrono::seconds(2));
  ASSERT_EQ(row.fields.size(), kCsvColumns.size());
  EXPECT_EQ(Field(row, "timestamp"), "2024-05-01T12:00:02");
  EXPECT_EQ(Field(row, "duration"), "2.0");
  EXPECT_EQ(Field(row, "cpu_energy"), "0.001");    // 3600 J
  EXPECT_EQ(Field(row, "ram_energy"), "0.0001");   // 360 J
  EXPECT_EQ(Field(row, "gpu_energy"), "");         // unavailable, not 0
  EXPECT_EQ(Field(row, "gpu_power"), "");
  EXPECT_EQ(Field(row, "cpu_power"), "1800.0");      // 3600 J / 2 s
  EXPECT_EQ(Field(row, "ram_power"), "180.0");
  EXPECT_DOUBLE_EQ(std::stod(Field(row, "energy_consumed")), 0.0011);
  // 0.0011 kWh x 56 g/kWh (France, Ember 2023) = 0.0616 g
  EXPECT_DOUBLE_EQ(std::stod(Field(row, "emissions")), 0.0616e-3);
  EXPECT_DOUBLE_EQ(std::stod(Field(row, "emissions_rate")), 0.0616e-3 / 2);
  EXPECT_EQ(Field(row, "country_name"), "France");
  EXPECT_EQ(Field(row, "country_iso_code"), "FRA");
  EXPECT_EQ(Field(row, "tracking_mode"), "machine");
  EXPECT_EQ(Field(row, "codecarbon_version"), "0.1.0");
  EXPECT_EQ(Field(row, "ram_total_size"), "16.0");
  EXPECT_EQ(Field(row, "cpu_utilization_percent"), "50.0");
  EXPECT_EQ(Field(row, "ram_utilization_percent"), "25.0");
  EXPECT_EQ(Field(row, "ram_used_gb"), "4.0");
  EXPECT_EQ(Field(row, "on_cloud"), "N");
  EXPECT_EQ(Field(row, "pue"), "1.0");
  EXPECT_EQ(Field(row, "longitude"), "");
}

// The row is typed first (what Python's EmissionsData holds), then
// formatted: numbers are numbers, counts are integers, unknown is empty.
TEST(CsvRow, TypedRecordIsWhatTheTextSays) {
  const RunResult run = FixtureRun();
  const CsvRecord rec = MakeCsvRecord(run, 0, 2, FixedWall());
  ASSERT_EQ(rec.values.size(), kCsvColumns.size());
  auto at = [&](const char* column) -> const CsvValue& {
    for (size_t i = 0; i < kCsvColumns.size(); ++i) {
      if (kCsvColumns[i] == column) return rec.values[i];
    }
    ADD_FAILURE() << column;
    return rec.values[0];
  };
  EXPECT_DOUBLE_EQ(std::get<double>(at("cpu_energy")), 0.001);
  EXPECT_EQ(std::get<long long>(at("cpu_count")), 8);
  EXPECT_EQ(std::get<std::string>(at("on_cloud")), "N");
  // The fixture's GPU exists but was never readable: unknown, not 0.
  EXPECT_TRUE(std::holds_alternative<std::monostate>(at("gpu_energy")));
  EXPECT_EQ(FormatCsvRow(rec).fields, MakeCsvRow(run, 0, 2, FixedWall()).fields);
}

TEST(CsvRow, PueMultipliesEnergyNotPower) {
  RunResult run = FixtureRun();
  run.meta.pue = 1.5;
  CsvRow row = MakeCsvRow(run, 0, 2, FixedWall());
  EXPECT_DOUBLE_EQ(std::stod(Field(row, "cpu_energy")), 0.0015);
  EXPECT_DOUBLE_EQ(std::stod(Field(row, "energy_consumed")), 0.00165);
  EXPECT_DOUBLE_EQ(std::stod(Field(row, "emissions")), 0.00165 * 56 * 1e-3);
  EXPECT_EQ(Field(row, "cpu_power"), "1800.0");
  EXPECT_EQ(Field(row, "pue"), "1.5");
}

TEST(CsvRow, ProcessScopeUsesShares) {
  RunResult run = FixtureRun();
  run.scope = Scope::kProcess;
  CsvRow row = MakeCsvRow(run, 0, 2, FixedWall());
  EXPECT_EQ(Field(row, "tracking_mode"), "process");
  EXPECT_DOUBLE_EQ(std::stod(Field(row, "cpu_energy")), 900 / 3.6e6);    // 1/4 of 3600 J
  EXPECT_DOUBLE_EQ(std::stod(Field(row, "ram_energy")), 22.5 / 3.6e6);   // 1/16 of 360 J
  EXPECT_EQ(Field(row, "ram_used_gb"), "1.0");  // the tree's peak RSS
}

TEST(CsvRow, SliceCoversOnlyItsPoints) {
  RunResult run = FixtureRun();
  CsvRow row = MakeCsvRow(run, 1, 2, FixedWall());
  EXPECT_EQ(Field(row, "duration"), "1.0");
  EXPECT_EQ(Field(row, "cpu_energy"), "0.0005");  // 1800 J
}

TEST(CsvRow, ZeroDurationGivesZeroPower) {
  RunResult run = FixtureRun();
  CsvRow row = MakeCsvRow(run, 1, 1, FixedWall());
  EXPECT_EQ(Field(row, "duration"), "0.0");
  EXPECT_EQ(Field(row, "cpu_power"), "0.0");
  EXPECT_EQ(Field(row, "emissions_rate"), "0.0");
}

TEST(CsvRow, TinyEnergyKeepsAllDigits) {
  // 0.36 J = 1e-7 kWh: fixed 6-digit output would print 0.000000.
  auto ledger = std::make_shared<Ledger>(testing::FixtureChannels());
  const double cpu[] = {1, 1.36};
  for (int i = 0; i < 2; ++i) {
    std::vector<Reading> r = {Reading::Of(cpu[i]), Reading::Of(5), Reading::Of(1)};
    ledger->Add(testing::FixedSteady() + std::chrono::seconds(i),
                FixedWall() + std::chrono::seconds(i), r, testing::FixtureActivity(i));
  }
  RunResult run = FixtureRun();
  run.snapshot.ledger = ledger;
  CsvRow row = MakeCsvRow(run, 0, 1, FixedWall());
  EXPECT_DOUBLE_EQ(std::stod(Field(row, "cpu_energy")), 0.36 / 3.6e6);
  EXPECT_NE(Field(row, "cpu_energy").find("e-"), std::string::npos);
}

TEST(CsvRow, GoldenHeaderAndRow) {
  RunResult run = FixtureRun();
  run.meta.cpu_model = "Intel(R) Xeon(R) \"Gold\" 6130, 2 sockets";  // needs quoting
  testing::TempTree tmp;
  std::string where;
  ASSERT_TRUE(AppendCsvRow(tmp.root(), "emissions.csv", MakeCsvRow(run, 0, 2, FixedWall()), &where,
                           nullptr)
                  .ok());
  const std::string got = ReadAll(where);
  const std::string golden_path = std::string(WATTPRINT_GOLDEN) + "/emissions.csv";
  if (getenv("WATTPRINT_UPDATE_GOLDEN")) std::ofstream(golden_path, std::ios::binary) << got;
  EXPECT_EQ(got, ReadAll(golden_path));
}

TEST(CsvQuote, Rfc4180) {
  RunResult run = FixtureRun();
  run.meta.project_name = "a,b \"c\"\nd";
  testing::TempTree tmp;
  std::string where;
  ASSERT_TRUE(
      AppendCsvRow(tmp.root(), "e.csv", MakeCsvRow(run, 0, 2, FixedWall()), &where, nullptr).ok());
  const std::string text = ReadAll(where);
  EXPECT_NE(text.find(",\"a,b \"\"c\"\"\nd\","), std::string::npos) << text;
}

class CsvAppend : public ::testing::Test {
 protected:
  CsvRow Row() { return MakeCsvRow(run_, 0, 2, FixedWall()); }
  RunResult run_ = FixtureRun();
  testing::TempTree tmp_;
};

TEST_F(CsvAppend, CreatesDirectoryAndHeaderOnce) {
  std::string where, note;
  const std::string dir = tmp_.Path("a/b/c");
  ASSERT_TRUE(AppendCsvRow(dir, "emissions.csv", Row(), &where, &note).ok());
  ASSERT_TRUE(AppendCsvRow(dir, "emissions.csv", Row(), &where, &note).ok());
  EXPECT_EQ(where, dir + "/emissions.csv");
  EXPECT_EQ(note, "");
  auto lines = Lines(ReadAll(where));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("timestamp,project_name,", 0), 0u);
  EXPECT_EQ(lines[1], lines[2]);
}

TEST_F(CsvAppend, ImpossibleDirectoryIsAnError) {
  tmp_.Write("file", "x");
  std::string where;
  Status st = AppendCsvRow(tmp_.Path("file/sub"), "emissions.csv", Row(), &where, nullptr);
  EXPECT_FALSE(st.ok());
}

TEST_F(CsvAppend, DifferentHeaderLeftUntouchedAndSiblingWritten) {
  const std::string old = "timestamp,project_name,run_id,duration\n2024,x,y,1\n";
  tmp_.Write("out/emissions.csv", old);
  std::string where, note;
  ASSERT_TRUE(AppendCsvRow(tmp_.Path("out"), "emissions.csv", Row(), &where, &note).ok());
  EXPECT_EQ(ReadAll(tmp_.Path("out/emissions.csv")), old);
  EXPECT_EQ(where, tmp_.Path("out/emissions.wattprint-1.csv"));
  EXPECT_NE(note.find("left untouched"), std::string::npos);
  EXPECT_NE(note.find("emissions.wattprint-1.csv"), std::string::npos);
  // The next row goes to the same sibling, which now has our header.
  ASSERT_TRUE(AppendCsvRow(tmp_.Path("out"), "emissions.csv", Row(), &where, &note).ok());
  EXPECT_EQ(where, tmp_.Path("out/emissions.wattprint-1.csv"));
  EXPECT_EQ(Lines(ReadAll(where)).size(), 3u);
}

// Another process holding the file's lock must not block the row for ever:
// after a bounded wait it goes to a sibling, and the note says why.
TEST_F(CsvAppend, ALockHeldElsewhereMovesTheRowAfterABoundedWait) {
  std::string where, note;
  ASSERT_TRUE(AppendCsvRow(tmp_.root(), "emissions.csv", Row(), &where, &note).ok());
  const std::string before = ReadAll(where);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t holder = fork();
  if (holder == 0) {
    const int fd = open(where.c_str(), O_RDONLY);
    flock(fd, LOCK_EX);
    (void)!write(ready[1], "x", 1);
    pause();
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(AppendCsvRow(tmp_.root(), "emissions.csv", Row(), &where, &note).ok());
  const auto waited = std::chrono::steady_clock::now() - t0;
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  close(ready[0]);
  close(ready[1]);
  EXPECT_LT(waited, std::chrono::seconds(8));
  EXPECT_EQ(where, tmp_.Path("emissions.wattprint-1.csv"));
  EXPECT_NE(note.find("is locked by another process"), std::string::npos) << note;
  EXPECT_EQ(ReadAll(tmp_.Path("emissions.csv")), before);
}

// A first line longer than any header (100 MB without a newline once took
// 297 MB of RSS) is not read whole: the file is not ours, the row goes beside.
TEST_F(CsvAppend, AHugeFirstLineIsNotReadWhole) {
  tmp_.Write("emissions.csv", std::string(1 << 20, 'a'));
  std::string where, note;
  ASSERT_TRUE(AppendCsvRow(tmp_.root(), "emissions.csv", Row(), &where, &note).ok());
  EXPECT_EQ(where, tmp_.Path("emissions.wattprint-1.csv"));
  EXPECT_EQ(ReadAll(tmp_.Path("emissions.csv")).size(), 1u << 20);
}

TEST_F(CsvAppend, SkipsSiblingWithForeignHeaderToo) {
  tmp_.Write("emissions.csv", "a,b\n1,2\n");
  tmp_.Write("emissions.wattprint-1.csv", "c,d\n");
  std::string where, note;
  ASSERT_TRUE(AppendCsvRow(tmp_.root(), "emissions.csv", Row(), &where, &note).ok());
  EXPECT_EQ(where, tmp_.Path("emissions.wattprint-2.csv"));
  EXPECT_EQ(ReadAll(tmp_.Path("emissions.wattprint-1.csv")), "c,d\n");
}

TEST_F(CsvAppend, TornLastLineIsEndedBeforeAppending) {
  std::string where;
  ASSERT_TRUE(AppendCsvRow(tmp_.root(), "emissions.csv", Row(), &where, nullptr).ok());
  { std::ofstream(where, std::ios::app) << "2024-05-01T12:00:00,torn,"; }
  ASSERT_TRUE(AppendCsvRow(tmp_.root(), "emissions.csv", Row(), &where, nullptr).ok());
  auto lines = Lines(ReadAll(where));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2], "2024-05-01T12:00:00,torn,");
  EXPECT_EQ(lines[3], lines[1]);  // the new row starts on its own line
}

TEST_F(CsvAppend, ConcurrentWritersNeverInterleave) {
  constexpr int kProcs = 8;
  constexpr int kRowsEach = 25;
  const CsvRow row = Row();
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      for (int i = 0; i < kRowsEach; ++i) {
        std::string w;
        if (!AppendCsvRow(tmp_.root(), "emissions.csv", row, &w, nullptr).ok()) _exit(1);
      }
      _exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    ASSERT_EQ(waitpid(k, &status, 0), k);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto lines = Lines(ReadAll(tmp_.Path("emissions.csv")));
  ASSERT_EQ(lines.size(), 1u + kProcs * kRowsEach);
  std::string expected_row;
  {
    testing::TempTree one;
    std::string w;
    ASSERT_TRUE(AppendCsvRow(one.root(), "x.csv", row, &w, nullptr).ok());
    expected_row = Lines(ReadAll(w)).at(1);
  }
  for (size_t i = 1; i < lines.size(); ++i) EXPECT_EQ(lines[i], expected_row) << "line " << i;
}

}  // namespace
}  // namespace wattprint
