// End-to-end tests of `wattprint doctor` and `wattprint monitor`.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"
#include "e2e/run_binary.h"
#include "wattprint/activity.h"

namespace wattprint::testing {
namespace {

TEST(DoctorTest, ListsFoundAndAbsentSourcesAndTheChannels) {
  TempTree sys, cwd;
  WriteRaplTree(sys, 1000000, 2000000);
  BinaryResult r = RunWattprint({"doctor", "--sysfs-root", sys.Path("sys")}, cwd.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\n  powercap      found   "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n  hwmon         absent  "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n  powercap:package-0           cpu       measured_counter  " + sys.Path(kPkgDir) + "\n"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(default: no location configured; give --country, --zone or --region)"), std::string::npos);
  EXPECT_NE(r.out.find("Process scope:\n  works: read /proc/self"), std::string::npos) << r.out;
}

TEST(DoctorTest, EmptyTreeStillExitsZero) {
  TempTree sys, cwd;
  sys.Mkdir("sys");
  BinaryResult r = RunWattprint({"doctor", "--sysfs-root", sys.Path("sys"), "--country", "FRA"}, cwd.root());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\n  powercap      absent  "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("country:    France (FRA)"), std::string::npos) << r.out;
}

TEST(DoctorTest, JsonReportCarriesChannelsAndConfigOrigins) {
  TempTree sys, cwd;
  WriteRaplTree(sys, 1000000, 2000000);
  BinaryResult r = RunWattprint({"doctor", "--sysfs-root", sys.Path("sys"), "--json", cwd.Path("d.json")},
                                cwd.root(), {{"WATTPRINT_PUE", "1.3"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(cwd.Path("d.json")));
  EXPECT_EQ(j["sources"][0]["name"], "powercap");
  EXPECT_EQ(j["sources"][0]["state"], "found");
  ASSERT_EQ(j["channels"].size(), 2u);
  EXPECT_EQ(j["channels"][0]["id"], "powercap:package-0");
  EXPECT_EQ(j["channels"][1]["kind"], "dram");
  EXPECT_EQ(j["config"]["pue"]["value"], "1.3");
  EXPECT_EQ(j["config"]["pue"]["origin"], "env WATTPRINT_PUE");
  EXPECT_EQ(j["config"]["sysfs_root"]["origin"], "flag --sysfs-root");
  EXPECT_EQ(j["config"]["scope"]["origin"], "default");
  EXPECT_EQ(j["intensity"]["is_default"], true);
  EXPECT_EQ(j["process_scope"]["works"], true);
  // The tree CPU clock probe agrees with the kernel as this test sees it.
  const int probe = OpenInheritedTaskClock();
  if (probe >= 0) close(probe);
  EXPECT_EQ(j["process_scope"]["tree_cpu_clock"]["available"], probe >= 0);
  std::string paranoid = ReadWholeFile("/proc/sys/kernel/perf_event_paranoid");
  while (!paranoid.empty() && paranoid.back() == '\n') paranoid.pop_back();
  EXPECT_EQ(j["process_scope"]["tree_cpu_clock"]["perf_event_paranoid"], paranoid);
  EXPECT_NE(r.out.find("tree CPU clock: "), std::string::npos) << r.out;
}

TEST(MonitorTest, RowsCoverTheWholeRunAndSigintExitsZero) {
  TempTree sys, out;
  WriteRaplTree(sys, 1000000, 2000000);
  RunSpec spec;
  spec.args = {"monitor", "--sysfs-root", sys.Path("sys"), "--output-dir", out.root(), "--interval", "0.05",
               "--save-interval", "0.25", "--json", out.Path("m.json")};
  spec.cwd = out.root();
  spec.signal = SIGINT;
  spec.signal_after_s = 0.9;
  spec.timeout_s = 5;
  // Move the package counter twice while monitor runs.
  std::thread mover([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    OverwriteCounter(sys.Path(std::string(kPkgDir) + "/energy_uj"), 3000000);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    OverwriteCounter(sys.Path(std::string(kPkgDir) + "/energy_uj"), 4500000);
  });
  BinaryResult r = RunWattprint(spec);
  mover.join();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto rows = ReadCsv(out.Path("emissions.csv"));
  ASSERT_GE(rows.size(), 3u);  // about 3 periodic rows and the final partial one
  // Rows are contiguous: together they hold exactly the counter's movement.
  double kwh = 0;
  std::string run_id = rows[0]["run_id"];
  for (auto& row : rows) {
    kwh += std::stod(row["cpu_energy"]);
    EXPECT_EQ(row["run_id"], run_id);
  }
  EXPECT_NEAR(kwh, KwhOfMicrojoules(3500000), KwhOfMicrojoules(3500000) * 1e-12);
  const nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out.Path("m.json")));
  EXPECT_NEAR(j["kinds"]["cpu"]["machine"]["j"].get<double>(), 3.5, 3.5 * 1e-12);
  // Each written row's polls were coalesced into one interval: the series
  // holds about one interval per row plus the polls after the last row (at
  // 0.05 s, some 18 polls in all), and still sums to the whole run.
  const nlohmann::json& samples = j["samples"];
  EXPECT_LE(samples.size(), rows.size() + 6) << samples.dump();
  double series_j = 0;
  for (const auto& s : samples) {
    if (!s["machine_j"][0].is_null()) series_j += s["machine_j"][0].get<double>();
  }
  EXPECT_NEAR(series_j, 3.5, 3.5 * 1e-9);
  // What monitoring cost, as run states it.
  EXPECT_GT(j["overhead"]["cpu_s"].get<double>(), 0.0);
  EXPECT_LT(j["overhead"]["cpu_s"].get<double>(), 0.9);  // less than the whole run's wall time
  EXPECT_GT(j["overhead"]["peak_rss_kib"].get<long>(), 0);
}

}  // namespace
}  // namespace wattprint::testing
