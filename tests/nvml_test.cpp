// The NVML source against fake libnvidia-ml builds (tests/fakes/fake_nvml.cpp)
// driven by scenario files: counters, power-only devices, errors, missing
// symbols, device selection, MIG, per-process shares and a GPU lost mid-run.
#include <cstdlib>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sources/gpu_ids.h"
#include "sources/probes.h"
#include "support/temp_tree.h"
#include "wattprint/ledger.h"

namespace wattprint {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempTree;

constexpr const char* kTwoH100 =
    "count 2\n"
    "gpu0.name NVIDIA H100 80GB HBM3\n"
    "gpu0.uuid GPU-aaaa1111-0000-0000-0000-000000000000\n"
    "gpu0.energy_mj 123456\n"
    "gpu0.power_mw 250500\n"
    "gpu0.util 70\n"
    "gpu0.mem_used 1048576\n"
    "gpu0.mem_total 85899345920\n"
    "gpu0.limit_mw 700000\n"
    "gpu1.name NVIDIA H100 80GB HBM3\n"
    "gpu1.uuid GPU-bbbb2222-0000-0000-0000-000000000000\n"
    "gpu1.energy_mj 5000\n"
    "gpu1.util 0\n"
    "gpu1.mig MIG-cccc3333-0000-0000-0000-000000000000\n";

class NvmlTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("FAKE_NVML_SCENARIO", Scenario().c_str(), 1); }
  void TearDown() override { unsetenv("FAKE_NVML_SCENARIO"); }
  std::string Scenario() const { return t_.Path("scenario"); }
  void Write(const std::string& text) const { t_.Write("scenario", text); }
  void Append(const std::string& text) const {
    std::ofstream(Scenario(), std::ios::app) << text;
  }
  SourceOptions Options(const char* lib = WATTPRINT_FAKE_NVML) const {
    SourceOptions o;
    o.nvml_library = lib;
    return o;
  }
  static std::vector<std::string> Ids(const Source& s) {
    std::vector<std::string> ids;
    for (const ChannelInfo& c : s.channels()) ids.push_back(c.id);
    return ids;
  }
  static std::vector<Reading> Poll(Source& s, const ActivitySnapshot& a = {},
                                   SteadyTime now = SteadyClock::now()) {
    std::vector<Reading> out(s.channels().size());
    s.Poll(now, a, out);
    return out;
  }
  TempTree t_;
};

ActivitySnapshot Tree(std::vector<int> pids) {
  ActivitySnapshot a;
  a.ok = a.tree_ok = true;
  a.tree_pids = std::move(pids);
  return a;
}

TEST_F(NvmlTest, EnergyCounterPerGpuInJoulesWithDeviceFacts) {
  Write(kTwoH100);
  ProbeResult r = ProbeNvml(Options(), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  ASSERT_TRUE(r.source);
  EXPECT_THAT(Ids(*r.source), ElementsAre("nvml:gpu-0", "nvml:gpu-1"));
  const ChannelInfo& c = r.source->channels()[0];
  EXPECT_EQ(c.device_id, "gpu-0");
  EXPECT_EQ(c.label, "GPU 0 NVIDIA H100 80GB HBM3");
  EXPECT_EQ(c.kind, DeviceKind::kGpu);
  EXPECT_EQ(c.type, ChannelType::kEnergyCounter);
  EXPECT_EQ(c.method, Method::kMeasuredCounter);
  EXPECT_EQ(c.path, WATTPRINT_FAKE_NVML);
  EXPECT_EQ(c.model.at("uuid"), "GPU-aaaa1111-0000-0000-0000-000000000000");
  EXPECT_EQ(c.model_inputs.at("index"), 0.0);
  EXPECT_EQ(c.model_inputs.at("power_limit_w"), 700.0);
  EXPECT_EQ(c.model_inputs.at("memory_total_bytes"), 85899345920.0);
  EXPECT_DOUBLE_EQ(c.power_ceiling.watts(), 2000.0);  // 2 x 700 W is below the GPU default
  EXPECT_EQ(c.model.at("energy"), "nvmlDeviceGetTotalEnergyConsumption (mJ counter)");
  EXPECT_THAT(r.reason, HasSubstr("GPU 0 NVIDIA H100 80GB HBM3 (energy counter)"));

  std::vector<Reading> v = Poll(*r.source);
  ASSERT_TRUE(v[0].ok) << v[0].error.ToString();
  EXPECT_DOUBLE_EQ(v[0].value, 123.456);
  EXPECT_DOUBLE_EQ(v[0].utilization, 0.70);
  EXPECT_DOUBLE_EQ(v[0].memory_used_bytes, 1048576.0);
  EXPECT_LT(v[0].process_share, 0.0);  // no tracked tree
  EXPECT_DOUBLE_EQ(v[1].value, 5.0);
  EXPECT_DOUBLE_EQ(v[1].utilization, 0.0);
  // The counter moves: the next poll sees the new value.
  Append("gpu0.energy_mj 223456\n");
  EXPECT_DOUBLE_EQ(Poll(*r.source)[0].value, 223.456);
}

TEST_F(NvmlTest, PowerOnlyDeviceIsIntegratedAndSaysWhy) {
  Write("count 1\ngpu0.name Tesla P100\ngpu0.uuid GPU-p100\ngpu0.power_mw 250500\n");
  ProbeResult r = ProbeNvml(Options(), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  const ChannelInfo& c = r.source->channels()[0];
  EXPECT_EQ(c.type, ChannelType::kPower);
  EXPECT_EQ(c.method, Method::kMeasuredPower);
  EXPECT_EQ(c.model.at("energy"),
            "nvmlDeviceGetPowerUsage (mW) integrated over each interval; "
            "nvmlDeviceGetTotalEnergyConsumption: Not Supported (3)");
  EXPECT_THAT(r.reason, HasSubstr("(power only)"));
  std::vector<Reading> v = Poll(*r.source);
  ASSERT_TRUE(v[0].ok);
  EXPECT_DOUBLE_EQ(v[0].value, 250.5);
  EXPECT_LT(v[0].utilization, 0.0);  // not reported by this device: absent, not 0
}

TEST_F(NvmlTest, NoPermissionIsDeniedWithAFix) {
  Write("count 1\ngpu0.name X\ngpu0.energy_rc 4\ngpu0.power_rc 4\n");
  ProbeResult r = ProbeNvml(Options(), {});
  EXPECT_EQ(r.state, ProbeState::kDenied);
  EXPECT_EQ(r.reason,
            "NVML: 1 GPU(s), none measurable; GPU 0 not measured: nvmlDeviceGetTotalEnergyConsumption: "
            "Insufficient Permissions (4); nvmlDeviceGetPowerUsage: Insufficient Permissions (4)");
  EXPECT_THAT(r.fix, HasSubstr("/dev/nvidia"));
  EXPECT_FALSE(r.source);
}

TEST_F(NvmlTest, InitWithoutPermissionIsDenied) {
  Write("init_rc 4\ncount 1\n");
  ProbeResult r = ProbeNvml(Options(), {});
  EXPECT_EQ(r.state, ProbeState::kDenied);
  EXPECT_EQ(r.reason, "nvmlInit: Insufficient Permissions (4)");
}

TEST_F(NvmlTest, NotSupportedEverywhereIsAbsentNotZero) {
  Write("count 1\ngpu0.name GeForce\n");
  ProbeResult r = ProbeNvml(Options(), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_THAT(r.reason, HasSubstr("nvmlDeviceGetTotalEnergyConsumption: Not Supported (3); "
                                  "nvmlDeviceGetPowerUsage: Not Supported (3)"));
  EXPECT_FALSE(r.source);
}

TEST_F(NvmlTest, ZeroDevices) {
  Write("count 0\n");
  ProbeResult r = ProbeNvml(Options(), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_EQ(r.reason, std::string("NVML loaded (") + WATTPRINT_FAKE_NVML + ") but it reports no GPU");
}

TEST_F(NvmlTest, LibraryMissing) {
  ProbeResult r = ProbeNvml(Options("/nonexistent/libnvidia-ml.so.1"), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_THAT(r.reason, HasSubstr("NVML library not found: /nonexistent/libnvidia-ml.so.1"));
}

// The default library search is skipped without the kernel driver; with
// it, the search runs (and here finds nothing under the default names).
TEST_F(NvmlTest, NoDriverSkipsTheLibrarySearch) {
  SourceOptions o;  // no configured library: the default search
  o.roots.procfs = t_.Path("proc");
  ProbeResult r = ProbeNvml(o, {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_EQ(r.reason, "no NVIDIA kernel driver (" + t_.Path("proc") +
                          "/driver/nvidia/version unreadable); NVML not loaded");
  t_.Write("proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15\n");
  r = ProbeNvml(o, {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_THAT(r.reason, Not(HasSubstr("kernel driver")));
}

TEST_F(NvmlTest, MissingEnergySymbolFallsBackToPower) {
  Write(kTwoH100);
  ProbeResult r = ProbeNvml(Options(WATTPRINT_FAKE_NVML_NOENERGY), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  // gpu1 has no power reading in the scenario: skipped with a note.
  EXPECT_THAT(Ids(*r.source), ElementsAre("nvml:gpu-0"));
  EXPECT_EQ(r.source->channels()[0].method, Method::kMeasuredPower);
  EXPECT_THAT(r.source->channels()[0].model.at("energy"),
              HasSubstr(std::string("nvmlDeviceGetTotalEnergyConsumption missing from ") +
                        WATTPRINT_FAKE_NVML_NOENERGY));
  EXPECT_THAT(r.reason, HasSubstr("GPU 1 not measured"));
}

TEST_F(NvmlTest, LegacySymbolsAreUsedWhenVersionedOnesAreMissing) {
  // nvmlDeviceGetProcessUtilization NOT_SUPPORTED, as on older boards.
  Write(std::string(kTwoH100) + "gpu0.procs 100:3000,200:1000\ngpu0.proc_util_rc 3\n");
  ProbeResult r = ProbeNvml(Options(WATTPRINT_FAKE_NVML_LEGACY), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(r.source->channels()[0].model.at("process_attribution"),
              HasSubstr("(nvmlDeviceGetComputeRunningProcesses)"));
  // No per-process utilisation: the memory method with the v1 process list,
  // the tree's part of the GPU's total memory.
  EXPECT_DOUBLE_EQ(Poll(*r.source, Tree({100}))[0].process_share, 3000.0 / 85899345920.0);
}

TEST_F(NvmlTest, SmShareIsTheTreesBusyFractionOfTheGpu) {
  Write(std::string(kTwoH100) + "gpu0.samples 100:60,200:20\ngpu0.procs 100:1,200:1\n");
  ProbeResult r = ProbeNvml(Options(), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(r.source->channels()[0].model.at("process_attribution"),
              HasSubstr("nvmlDeviceGetProcessUtilization"));
  const SteadyTime t0 = SteadyClock::now();
  std::vector<Reading> v = Poll(*r.source, Tree({100, 101}), t0);
  EXPECT_DOUBLE_EQ(v[0].process_share, 0.6);  // busy 60 % of the time; the other 40 % is not the tree's
  EXPECT_DOUBLE_EQ(v[1].process_share, 0.0);  // gpu1: no process busy
  // No newer samples (NOT_FOUND): the last share is carried, the method kept.
  EXPECT_DOUBLE_EQ(Poll(*r.source, Tree({100, 101}), t0 + std::chrono::seconds(1))[0].process_share, 0.6);
  // New samples arrive: only those since the last poll count.
  Append("gpu0.samples 200:10\ngpu0.samples_ts 2000\n");
  EXPECT_DOUBLE_EQ(Poll(*r.source, Tree({100, 101}), t0 + std::chrono::seconds(2))[0].process_share, 0.0);
}

// The audit's scenario: the tree does 90 % of the SM work with 1 GB; another
// process does 10 % with 39 GB. The share stays 0.9 through polls with no
// fresh sample instead of flipping to the memory share (1/40).
TEST_F(NvmlTest, TwoProcessShareHoldsStillThroughNotFoundGaps) {
  Write(std::string(kTwoH100) + "gpu0.mem_total 42949672960\n"
                                "gpu0.samples 100:90,200:10\ngpu0.procs 100:1073741824,200:41875931136\n");
  ProbeResult r = ProbeNvml(Options(), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  const SteadyTime t0 = SteadyClock::now();
  const ActivitySnapshot tree = Tree({100});
  for (int k = 0; k < 4; ++k) {
    const std::vector<Reading> v = Poll(*r.source, tree, t0 + std::chrono::milliseconds(200 * k));
    EXPECT_DOUBLE_EQ(v[0].process_share, 0.9) << "poll " << k;
  }
  // Past the carry horizon with no sample at all, nobody kept the GPU busy.
  EXPECT_DOUBLE_EQ(Poll(*r.source, tree, t0 + std::chrono::seconds(10))[0].process_share, 0.0);
}

TEST_F(NvmlTest, AProcessAloneAtLowUtilisationGetsItsCapacityShare) {
  Write(std::string(kTwoH100) + "gpu0.samples 100:5\ngpu0.procs 100:1\n");
  ProbeResult r = ProbeNvml(Options(), {});
  ASSERT_TRUE(r.source);
  Ledger ledger(r.source->channels());
  const SteadyTime t0 = SteadyClock::now();
  const SystemTime w0 = std::chrono::system_clock::now();
  const ActivitySnapshot a = Tree({100});
  for (int k = 0; k < 3; ++k) {
    Append("gpu0.energy_mj " + std::to_string(123456 + 100000 * k) + "\ngpu0.samples_ts " +
           std::to_string(1000 + k) + "\n");
    const std::vector<Reading> v = Poll(*r.source, a, t0 + std::chrono::seconds(k));
    EXPECT_DOUBLE_EQ(v[0].process_share, 0.05);
    ledger.Add(t0 + std::chrono::seconds(k), w0, v, a);
  }
  const Totals t = ledger.SumAll();
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 200.0);
  EXPECT_DOUBLE_EQ(t.channels[0].process.joules(), 10.0);  // 5 %, idle unattributed
}

TEST_F(NvmlTest, ProcessUtilisationWithoutPermissionUsesTheMemoryMethod) {
  Write(std::string(kTwoH100) + "gpu0.proc_util_rc 4\ngpu0.procs 100:8589934592\n");
  ProbeResult r = ProbeNvml(Options(), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  const std::string& note = r.source->channels()[0].model.at("process_attribution");
  EXPECT_THAT(note, HasSubstr("GPU memory"));
  EXPECT_THAT(note, HasSubstr("nvmlDeviceGetProcessUtilization: Insufficient Permissions (4)"));
  EXPECT_DOUBLE_EQ(Poll(*r.source, Tree({100}))[0].process_share, 0.1);  // 8 GiB of 80 GiB
}

TEST_F(NvmlTest, FailingProcessQueriesMakeTheShareUnknownNeverOne) {
  Write(std::string(kTwoH100) + "gpu0.samples 100:50\n");
  ProbeResult r = ProbeNvml(Options(), {});
  ASSERT_TRUE(r.source);
  EXPECT_DOUBLE_EQ(Poll(*r.source, Tree({100}))[0].process_share, 0.5);
  Append("gpu0.proc_util_rc 999\n");  // an unknown error mid-run
  EXPECT_LT(Poll(*r.source, Tree({100}))[0].process_share, 0.0);
}

TEST_F(NvmlTest, MigUuidSelectsItsGpuWithAnUnknownShare) {
  Write(kTwoH100);
  SourceOptions o = Options();
  o.cuda_visible_devices = "MIG-cccc3333-0000-0000-0000-000000000000";
  ProbeResult r = ProbeNvml(o, {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ElementsAre("nvml:gpu-1"));
  const ChannelInfo& c = r.source->channels()[0];
  EXPECT_EQ(c.model.at("mig_instances"), "MIG-cccc3333-0000-0000-0000-000000000000");
  EXPECT_THAT(c.model.at("process_attribution"), HasSubstr("unknown: NVML gives no per-process"));
  EXPECT_THAT(r.reason, HasSubstr("selected by CUDA_VISIBLE_DEVICES=MIG-cccc3333"));
  EXPECT_LT(Poll(*r.source, Tree({1}))[0].process_share, 0.0);
}

TEST_F(NvmlTest, CudaVisibleDevicesByUuidPrefixAndIndex) {
  Write(kTwoH100);
  SourceOptions o = Options();
  o.cuda_visible_devices = "GPU-bbbb,0";
  ProbeResult r = ProbeNvml(o, {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ElementsAre("nvml:gpu-1", "nvml:gpu-0"));
  // CUDA stops at the first invalid entry; "" hides every GPU.
  o.cuda_visible_devices = "1,bogus,0";
  EXPECT_THAT(Ids(*ProbeNvml(o, {}).source), ElementsAre("nvml:gpu-1"));
  o.cuda_visible_devices = "";
  r = ProbeNvml(o, {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_EQ(r.reason, "NVML: 2 GPU(s), none measurable; selected by CUDA_VISIBLE_DEVICES=");
}

TEST_F(NvmlTest, GpuIdsOverrideCudaVisibleDevicesAndNameUnknownIds) {
  Write(kTwoH100);
  SourceOptions o = Options();
  o.cuda_visible_devices = "0";
  o.gpu_ids = *ParseGpuIds("1, 7");
  o.gpu_ids_text = "1, 7";
  ProbeResult r = ProbeNvml(o, {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ElementsAre("nvml:gpu-1"));
  EXPECT_THAT(r.reason, HasSubstr("selected by --gpu-ids 1, 7; 7: no such GPU"));
}

TEST_F(NvmlTest, GpuCoveredByAnEarlierSourceIsNotProbed) {
  Write(kTwoH100);
  ProbeResult r = ProbeNvml(Options(), {DeviceKind::kGpu});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_FALSE(r.source);
}

TEST_F(NvmlTest, GpuLostMidRunKeepsTheEnergyMeasuredBefore) {
  Write(kTwoH100);
  ProbeResult r = ProbeNvml(Options(), {});
  ASSERT_TRUE(r.source);
  Ledger ledger(r.source->channels());
  const SteadyTime t0 = SteadyClock::now();
  const SystemTime w0 = std::chrono::system_clock::now();
  auto poll = [&](int second) {
    std::vector<Reading> v(2);
    r.source->Poll(t0, {}, v);
    ledger.Add(t0 + std::chrono::seconds(second), w0 + std::chrono::seconds(second), v, {});
    return v;
  };
  poll(0);
  Append("gpu0.energy_mj 133456\ngpu1.energy_mj 6000\n");
  poll(1);
  Append("gpu0.lost 1\ngpu1.energy_mj 7000\n");
  std::vector<Reading> v = poll(2);
  ASSERT_FALSE(v[0].ok);
  EXPECT_EQ(v[0].error.code(), Status::Code::kIOError);
  EXPECT_EQ(v[0].error.message(), "nvmlDeviceGetTotalEnergyConsumption: GPU is lost (15)");
  poll(3);
  const Totals t = ledger.SumAll();
  EXPECT_NEAR(t.channels[0].machine.joules(), 10.0, 1e-9);  // before it was lost (mJ -> J rounding)
  EXPECT_EQ(t.channels[0].ok_intervals, 1);
  EXPECT_EQ(t.channels[0].missing_intervals, 2);
  EXPECT_DOUBLE_EQ(t.channels[1].machine.joules(), 2.0);  // the other GPU goes on
  EXPECT_EQ(ledger.last_status()[0].message(), "nvmlDeviceGetTotalEnergyConsumption: GPU is lost (15)");
  ASSERT_FALSE(ledger.events().empty());
  EXPECT_THAT(ledger.events()[0].what, HasSubstr("GPU is lost (15)"));
}

TEST_F(NvmlTest, ProcessEnergyNeverExceedsDeviceEnergy) {
  Write(std::string(kTwoH100) + "gpu0.samples 100:90,100:90,200:0\ngpu0.procs 100:5,200:5\n");
  ProbeResult r = ProbeNvml(Options(), {});
  ASSERT_TRUE(r.source);
  Ledger ledger(r.source->channels());
  const SteadyTime t0 = SteadyClock::now();
  const SystemTime w0 = std::chrono::system_clock::now();
  for (int k = 0; k < 6; ++k) {
    Append("gpu0.energy_mj " + std::to_string(123456 + 1000 * k * k) + "\ngpu0.samples_ts " +
           std::to_string(1000 + k) + "\n");
    std::vector<Reading> v(2);
    const ActivitySnapshot a = Tree({100, 100, 300});  // a PID listed twice must not count twice
    r.source->Poll(t0, a, v);
    for (const Reading& x : v) EXPECT_LE(x.process_share, 1.0);
    ledger.Add(t0 + std::chrono::seconds(k), w0, v, a);
  }
  const Totals t = ledger.SumAll();
  for (size_t c = 0; c < t.channels.size(); ++c) {
    EXPECT_LE(t.channels[c].process.joules(), t.channels[c].machine.joules()) << c;
  }
  EXPECT_DOUBLE_EQ(t.channels[0].machine.joules(), 25.0);
  EXPECT_DOUBLE_EQ(t.channels[0].process.joules(), 22.5);  // 90 % SM busy
}

TEST(GpuIdsTest, ParsesIndicesAndUuids) {
  Result<std::vector<sources::GpuSelector>> r = sources::ParseGpuIds(" 0, GPU-abc ,MIG-def");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].kind, sources::GpuSelector::Kind::kIndex);
  EXPECT_EQ((*r)[0].index, 0u);
  EXPECT_EQ((*r)[1].kind, sources::GpuSelector::Kind::kGpuUuid);
  EXPECT_EQ((*r)[1].uuid, "GPU-abc");
  EXPECT_EQ((*r)[2].kind, sources::GpuSelector::Kind::kMigUuid);
  for (const char* bad : {"", "x", "1,,2", "-1", "GPU-", "0x1"}) {
    Result<std::vector<sources::GpuSelector>> b = sources::ParseGpuIds(bad);
    EXPECT_FALSE(b.ok()) << bad;
  }
  EXPECT_EQ(sources::ParseGpuIds("a").status().message(), "'a' is not a GPU index, GPU-<uuid> or MIG-<uuid>");
}

TEST(GpuIdsTest, CudaVisibleDevicesStopsAtTheFirstInvalidEntry) {
  EXPECT_EQ(sources::ParseCudaVisibleDevices("").size(), 0u);
  EXPECT_EQ(sources::ParseCudaVisibleDevices("-1").size(), 0u);
  EXPECT_EQ(sources::ParseCudaVisibleDevices("2,1,-1,0").size(), 2u);
  EXPECT_EQ(sources::ParseCudaVisibleDevices("MIG-GPU-abc/1/0")[0].kind, sources::GpuSelector::Kind::kMigUuid);
}

TEST(GpuIdsTest, TreeShareTable) {
  using Samples = std::vector<std::pair<int, double>>;
  EXPECT_DOUBLE_EQ(sources::TreeSmShare(Samples{{1, 30}, {2, 10}}, {1}), 0.3);
  EXPECT_DOUBLE_EQ(sources::TreeSmShare(Samples{{1, 30}, {1, 50}}, {1}), 0.4);  // mean of one PID's samples
  EXPECT_DOUBLE_EQ(sources::TreeSmShare(Samples{{1, 70}, {3, 60}}, {1, 3}), 1.0);  // capped
  EXPECT_DOUBLE_EQ(sources::TreeSmShare(Samples{{2, 90}}, {1}), 0.0);
  EXPECT_DOUBLE_EQ(sources::TreeSmShare(Samples{}, {1}), 0.0);
  EXPECT_EQ(sources::TreeMemoryShare(Samples{{1, 100}, {2, 300}}, {1}, 1000.0), 0.1);
  EXPECT_EQ(sources::TreeMemoryShare(Samples{{2, 300}}, {1}, 1000.0), 0.0);
  EXPECT_EQ(sources::TreeMemoryShare(Samples{{1, 300}}, {1}, 0.0), std::nullopt);
  // NVML_VALUE_NOT_AVAILABLE for a tree process: unknown, never the whole GPU.
  EXPECT_EQ(sources::TreeMemoryShare(Samples{{1, 18446744073709551615.0}}, {1}, 1000.0), std::nullopt);
  EXPECT_EQ(sources::TreeMemoryShare(Samples{{2, 18446744073709551615.0}, {1, 100}}, {1}, 1000.0), 0.1);
}

}  // namespace
}  // namespace wattprint
