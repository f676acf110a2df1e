// Energy per cgroup: the sampler over temporary cgroup v2 trees (containers
// under kubepods, Slurm job cgroups, a cgroup that vanishes, 1000 cgroups),
// and the ledger's invariant: in every interval, the cgroups and the
// unattributed rest add up exactly to the machine.
#include "wattprint/cgroups.h"

#include <gtest/gtest.h>

#include <string>

#include "support/temp_tree.h"

namespace wattprint {
namespace {

using testing::TempTree;

class CgroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_.Write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
    tree_.Write("proc/stat", "cpu  1 2 3 4\ncpu0 1 0 0 0\ncpu1 0 1 0 0\ncpu2 0 0 1 0\ncpu3 0 0 0 1\nintr 5\n");
    tree_.Write("proc/meminfo", "MemTotal:        8000000 kB\nMemFree: 1 kB\n");
    roots_.sysfs = tree_.Path("sys");
    roots_.procfs = tree_.Path("proc");
  }
  void Cgroup(const std::string& path, uint64_t usage_usec, uint64_t memory) {
    tree_.Write("sys/fs/cgroup/" + path + "/cpu.stat",
                "usage_usec " + std::to_string(usage_usec) + "\nuser_usec 1\nsystem_usec 1\n");
    tree_.Write("sys/fs/cgroup/" + path + "/memory.current", std::to_string(memory) + "\n");
    tree_.Write("sys/fs/cgroup/" + path + "/cgroup.procs", "");
  }
  CgroupSnapshot Sample(const CgroupSelection& sel, double at_s) {
    CgroupSampler s(PosixFileSystem(), roots_, sel);
    auto snap = s.Sample(SteadyTime{} + std::chrono::duration_cast<Duration>(Seconds(at_s)));
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    return snap.ok() ? *snap : CgroupSnapshot{};
  }
  static void ExpectConserved(const CgroupLedger& l, double machine_j) {
    double sum = l.unattributed().joules();
    for (const CgroupTotal& t : l.totals()) sum += t.Sum().joules();
    EXPECT_NEAR(sum, machine_j, 1e-9 * machine_j);
  }
  TempTree tree_;
  SystemRoots roots_;
};

TEST_F(CgroupsTest, ContainersGetTheirCapacitySharesAndTheRestStaysUnattributed) {
  // Four CPUs, one second: 4e6 us of capacity. pod-a uses one CPU for the
  // second (25 %), pod-b half of one (12.5 %).
  Cgroup("kubepods/besteffort/pod-a", 1000000, 800000000);
  Cgroup("kubepods/besteffort/pod-b", 5000000, 0);
  Cgroup("system.slice/kubelet.service", 0, 0);
  CgroupSelection sel;
  sel.parents = {"kubepods/besteffort"};
  const CgroupSnapshot a = Sample(sel, 10);
  ASSERT_EQ(a.cgroups.size(), 2u);
  EXPECT_EQ(a.online_cpus, 4);
  EXPECT_EQ(a.mem_total_bytes, 8000000ull * 1024);
  Cgroup("kubepods/besteffort/pod-a", 2000000, 800000000);
  Cgroup("kubepods/besteffort/pod-b", 5500000, 0);
  const CgroupSnapshot b = Sample(sel, 11);
  CgroupLedger ledger;
  ledger.AddInterval(a, b, Energy::Joules(100), Energy::Joules(10), Energy::Joules(50));
  const auto totals = ledger.totals();
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[0].path, "kubepods/besteffort/pod-a");
  EXPECT_NEAR(totals[0].cpu.joules(), 25, 1e-9);
  EXPECT_NEAR(totals[0].dram.joules(), 10 * 800000000.0 / (8000000.0 * 1024), 1e-9);
  EXPECT_NEAR(totals[1].cpu.joules(), 12.5, 1e-9);
  EXPECT_EQ(totals[1].dram.joules(), 0);
  EXPECT_NEAR(ledger.unattributed_cpu().joules(), 62.5, 1e-9);
  EXPECT_EQ(ledger.unattributed_gpu().joules(), 50);  // no GPU use given: all of it stays in the rest
  ExpectConserved(ledger, 160);
}

TEST_F(CgroupsTest, SlurmJobsByDepthAndACgroupThatVanishesKeepsWhatItUsed) {
  Cgroup("system.slice/slurmstepd.scope/job_41", 0, 0);
  Cgroup("system.slice/slurmstepd.scope/job_42", 0, 0);
  CgroupSelection sel;
  sel.parents = {"system.slice/slurmstepd.scope"};
  CgroupLedger ledger;
  CgroupSnapshot prev = Sample(sel, 0);
  double machine = 0;
  for (int i = 1; i <= 4; ++i) {
    if (i == 3) tree_.Remove("sys/fs/cgroup/system.slice/slurmstepd.scope/job_41");  // the job ended
    if (i < 3) Cgroup("system.slice/slurmstepd.scope/job_41", 4000000ull * i, 0);  // all four CPUs
    Cgroup("system.slice/slurmstepd.scope/job_42", 1000000ull * i, 0);             // one CPU
    if (i == 4) Cgroup("system.slice/slurmstepd.scope/job_43", 2000000, 0);        // born in the interval
    const CgroupSnapshot now = Sample(sel, i);
    // Reads a few microseconds apart can make shares add up past 1: scaled.
    ledger.AddInterval(prev, now, Energy::Joules(40), Energy::Joules(0), Energy::Joules(0));
    machine += 40;
    ExpectConserved(ledger, machine);
    prev = now;
  }
  const auto totals = ledger.totals();
  ASSERT_EQ(totals.size(), 3u);
  // job_41 had all four CPUs for two intervals, but job_42 one of them: the
  // shares (1 + 0.25) are scaled to 1.
  EXPECT_NEAR(totals[0].cpu.joules(), 2 * 40 / 1.25, 1e-9);
  EXPECT_FALSE(totals[0].present);
  EXPECT_NEAR(totals[1].cpu.joules(), 2 * 40 * 0.25 / 1.25 + 2 * 10, 1e-9);
  EXPECT_NEAR(totals[2].cpu.joules(), 20, 1e-9);  // 2 CPU-seconds of 4
  EXPECT_TRUE(totals[2].present);
}

TEST_F(CgroupsTest, GpuEnergyGoesToTheCgroupsOfTheProcessesThatUsedEachGpu) {
  Cgroup("kubepods/pod-a", 0, 0);
  Cgroup("kubepods/pod-b", 0, 0);
  tree_.Write("proc/101/cgroup", "0::/kubepods/pod-a/ctr-1\n");        // below a followed cgroup
  tree_.Write("proc/102/cgroup", "12:cpu:/x\n0::/kubepods/pod-b\n");   // v1 lines before the v2 one
  tree_.Write("proc/103/cgroup", "0::/system.slice/other.service\n");  // not followed
  tree_.Write("proc/104/cgroup", "0::/kubepods/pod-c (deleted)\n");
  CgroupSelection sel;
  sel.parents = {"kubepods"};
  CgroupSampler sampler(PosixFileSystem(), roots_, sel);
  EXPECT_EQ(sampler.CgroupOf(101).value_or("?"), "kubepods/pod-a/ctr-1");
  EXPECT_EQ(sampler.CgroupOf(102).value_or("?"), "kubepods/pod-b");
  EXPECT_FALSE(sampler.CgroupOf(104).has_value());
  EXPECT_FALSE(sampler.CgroupOf(999).has_value());  // gone
  const CgroupSnapshot a = Sample(sel, 0);
  const CgroupSnapshot b = Sample(sel, 1);
  // GPU 0 (300 J): pod-a's process at 50 % SM, pod-b's at 20 %, another
  // service's at 10 %: the rest (idle, and the unfollowed one) stays
  // unattributed. GPU 1 (100 J): two pod-a processes at 80 % each, and
  // pod-b's at 40 %: 2.0 in all, scaled to 1.
  std::vector<CgroupGpuUse> gpus(2);
  gpus[0].energy = Energy::Joules(300);
  for (int pid : {101, 102, 103}) {
    gpus[0].processes.emplace_back(sampler.CgroupOf(pid).value(), pid == 101 ? 0.5 : pid == 102 ? 0.2 : 0.1);
  }
  gpus[1].energy = Energy::Joules(100);
  gpus[1].processes = {{"kubepods/pod-a/ctr-1", 0.8}, {"kubepods/pod-a/ctr-2", 0.8}, {"kubepods/pod-b", 0.4}};
  CgroupLedger ledger;
  ledger.AddInterval(a, b, Energy::Joules(0), Energy::Joules(0), Energy::Joules(400), gpus);
  const auto totals = ledger.totals();
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_NEAR(totals[0].gpu.joules(), 150 + 100 * 1.6 / 2.0, 1e-9);
  EXPECT_NEAR(totals[1].gpu.joules(), 60 + 100 * 0.4 / 2.0, 1e-9);
  EXPECT_NEAR(ledger.unattributed_gpu().joules(), 90, 1e-9);
  ExpectConserved(ledger, 400);
  // GPU figures that claim more than the counted GPU energy never give
  // more than it.
  ledger.AddInterval(b, b, Energy::Joules(0), Energy::Joules(0), Energy::Joules(10), gpus);
  EXPECT_GE(ledger.unattributed_gpu().joules(), 90 - 1e-9);
  ExpectConserved(ledger, 410);
}

TEST_F(CgroupsTest, AThousandCgroupsAreBoundedAndConserved) {
  for (int i = 0; i < 1000; ++i) Cgroup("user.slice/u" + std::to_string(i), 0, 0);
  CgroupSelection sel;
  sel.depth = 2;
  sel.max_cgroups = 900;
  const CgroupSnapshot a = Sample(sel, 0);
  EXPECT_EQ(a.cgroups.size(), 900u);
  EXPECT_EQ(a.dropped, 100u);
  for (int i = 0; i < 1000; ++i) Cgroup("user.slice/u" + std::to_string(i), 1000, 0);
  const CgroupSnapshot b = Sample(sel, 1);
  CgroupLedger ledger(1000);
  ledger.AddInterval(a, b, Energy::Joules(1000), Energy::Joules(100), Energy::Joules(0));
  EXPECT_EQ(ledger.totals().size(), 900u);
  EXPECT_EQ(ledger.dropped(), 100u);
  ExpectConserved(ledger, 1100);
  // Past the ledger's cap, vanished cgroups fold into one entry: nothing lost.
  CgroupLedger small(10);
  CgroupSnapshot prev = a;
  double machine = 0;
  for (int round = 0; round < 3; ++round) {
    CgroupSnapshot next = b;
    next.t = prev.t + std::chrono::seconds(1);
    next.cgroups.assign(b.cgroups.begin() + round * 8, b.cgroups.begin() + round * 8 + 8);
    small.AddInterval(prev, next, Energy::Joules(10), Energy::Joules(0), Energy::Joules(0));
    machine += 10;
    prev = next;
  }
  EXPECT_LE(small.totals().size(), 10u);
  EXPECT_EQ(small.totals().front().path, "(gone)");
  ExpectConserved(small, machine);
}

TEST_F(CgroupsTest, NoCgroupV2HierarchyIsAClearError) {
  tree_.Remove("sys/fs/cgroup/cgroup.controllers");
  CgroupSampler s(PosixFileSystem(), roots_, {});
  auto snap = s.Sample(SteadyTime{});
  ASSERT_FALSE(snap.ok());
  EXPECT_NE(snap.status().message().find("not a cgroup v2 hierarchy"), std::string::npos);
}

}  // namespace
}  // namespace wattprint
