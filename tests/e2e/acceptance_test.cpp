// The acceptance check: `wattprint run -- sleep 3` on a RAPL tree whose
// counters move while the command sleeps gives the exact energy.
#include <chrono>
#include <thread>

#include "e2e/e2e_util.h"
#include "e2e/run_binary.h"

namespace wattprint::testing {
namespace {

TEST(AcceptanceTest, SleepThreeGivesExactEnergyFromMovingCounters) {
  TempTree sys, out;
  WriteRaplTree(sys, 10000000, 20000000);
  // Four steps of package and dram energy, all before the command ends.
  std::thread mover([&] {
    const unsigned long long pkg[] = {14000000, 19500000, 23000000, 31000000};
    const unsigned long long dram[] = {20500000, 21000000, 22250000, 23000000};
    for (int i = 0; i < 4; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      OverwriteCounter(sys.Path(std::string(kPkgDir) + "/energy_uj"), pkg[i]);
      OverwriteCounter(sys.Path(std::string(kDramDir) + "/energy_uj"), dram[i]);
    }
  });
  BinaryResult r = RunWattprint({"run", "--sysfs-root", sys.Path("sys"), "--output-dir", out.root(), "--",
                                 "sleep", "3"},
                                out.root(), {}, 10);
  mover.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = ReadCsv(out.Path("emissions.csv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_KWH(rows[0]["cpu_energy"], KwhOfMicrojoules(31000000 - 10000000));
  EXPECT_KWH(rows[0]["ram_energy"], KwhOfMicrojoules(23000000 - 20000000));
  EXPECT_KWH(rows[0]["energy_consumed"], KwhOfMicrojoules(24000000));
  const double duration = std::stod(rows[0]["duration"]);
  EXPECT_GE(duration, 3.0);
  EXPECT_LT(duration, 4.0);
  // Emissions = energy x the world average used by default (g/kWh -> kg).
  EXPECT_NE(r.err.find("world average"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wattprint::testing
