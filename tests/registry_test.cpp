// The source table and discovery: order, covered-kind policy, reports.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sources/perf_event_api.h"
#include "sources/probes.h"
#include "support/fault_fs.h"
#include "support/temp_tree.h"

namespace wattprint {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FaultFs;
using testing::TempTree;

const std::string kFixtures = WATTPRINT_FIXTURES;

// A perf API that hands out descriptors and reads a fixed count.
class CountingPerf final : public PerfEventApi {
 public:
  Result<int> Open(uint32_t, uint64_t, int) override { return ++opens; }
  Result<uint64_t> ReadCounter(int) override { return uint64_t{4294967296ull * 3}; }  // 3 J
  void Close(int) override {}
  int opens = 0;
};

// A source with fixed channels, reading channel i as 10*(i+1).
class FixedSource final : public Source {
 public:
  explicit FixedSource(std::vector<ChannelInfo> ch) : ch_(std::move(ch)) {}
  std::string name() const override { return "fixed"; }
  const std::vector<ChannelInfo>& channels() const override { return ch_; }
  void Poll(SteadyTime, const ActivitySnapshot&, std::span<Reading> out) override {
    for (size_t i = 0; i < out.size(); ++i) out[i] = Reading::Of(10.0 * static_cast<double>(i + 1));
  }

 private:
  std::vector<ChannelInfo> ch_;
};

ChannelInfo Channel(std::string id, DeviceKind kind) {
  ChannelInfo c;
  c.id = std::move(id);
  c.device_id = c.id;
  c.kind = kind;
  return c;
}

// Ignores `covered` on purpose: the registry must still drop covered kinds.
ProbeResult ProbeCpuAndGpu(const SourceOptions&, const std::set<DeviceKind>&) {
  ProbeResult r;
  r.state = ProbeState::kFound;
  r.reason = "cpu and gpu";
  r.source = std::make_unique<FixedSource>(
      std::vector<ChannelInfo>{Channel("a:cpu", DeviceKind::kCpu), Channel("a:gpu", DeviceKind::kGpu)});
  return r;
}

ProbeResult ProbeCpuOnly(const SourceOptions&, const std::set<DeviceKind>& covered) {
  ProbeResult r;
  r.state = ProbeState::kFound;
  r.reason = "cpu; saw covered=" + std::to_string(covered.size());
  r.source = std::make_unique<FixedSource>(std::vector<ChannelInfo>{Channel("b:cpu", DeviceKind::kCpu)});
  return r;
}

ProbeResult ProbeDenied(const SourceOptions&, const std::set<DeviceKind>&) {
  ProbeResult r;
  r.state = ProbeState::kDenied;
  r.reason = "no access";
  r.fix = "chmod";
  return r;
}

// The test machine's own GPU libraries must not change the results.
void NoGpuLibraries(SourceOptions* o) {
  o->nvml_library = "/nonexistent/libnvidia-ml.so.1";
  o->rocm_smi_library = "/nonexistent/librocm_smi64.so";
}

TEST(RegistryTest, TableOrderIsFixed) {
  std::vector<std::string> names;
  for (const SourceEntry& e : SourceTable()) {
    names.emplace_back(e.name);
    EXPECT_NE(e.probe, nullptr);
    EXPECT_STRNE(e.description, "");
  }
  EXPECT_THAT(names, ElementsAre("powercap", "perf_rapl", "nvml", "rocm_smi", "hwmon", "estimate_cpu",
                                 "estimate_ram"));
}

TEST(RegistryTest, LaterSourceOnlyAddsUncoveredKinds) {
  const SourceEntry table[] = {
      {"denied", "refused", &ProbeDenied},
      {"b", "cpu only", &ProbeCpuOnly},
      {"a", "cpu and gpu", &ProbeCpuAndGpu},
      {"b2", "cpu only again", &ProbeCpuOnly},
  };
  TempTree t;
  SourceOptions opts;
  opts.roots.sysfs = t.root();
  DiscoveredSources d = DiscoverFrom(table, opts);
  ASSERT_EQ(d.reports.size(), 4u);
  EXPECT_EQ(d.reports[0].state, ProbeState::kDenied);
  EXPECT_EQ(d.reports[0].fix, "chmod");
  EXPECT_TRUE(d.reports[0].channels.empty());

  EXPECT_EQ(d.reports[1].reason, "cpu; saw covered=0");
  ASSERT_EQ(d.reports[1].channels.size(), 1u);

  // "a" measured cpu too, but b came first: only its gpu channel is kept.
  EXPECT_EQ(d.reports[2].state, ProbeState::kFound);
  EXPECT_EQ(d.reports[2].reason, "cpu and gpu; not used for cpu (measured by an earlier source)");
  ASSERT_EQ(d.reports[2].channels.size(), 1u);
  EXPECT_EQ(d.reports[2].channels[0].id, "a:gpu");

  // Nothing left for the last one: found, but no source and no channels.
  EXPECT_EQ(d.reports[3].reason, "cpu; saw covered=2; not used for cpu (measured by an earlier source)");
  EXPECT_TRUE(d.reports[3].channels.empty());

  ASSERT_EQ(d.sources.size(), 2u);
  // The kept gpu channel still reads its own value (index 1 of the inner source).
  Source& a = *d.sources[1];
  ASSERT_EQ(a.channels().size(), 1u);
  std::vector<Reading> v(1);
  a.Poll(SteadyClock::now(), ActivitySnapshot{}, v);
  ASSERT_TRUE(v[0].ok);
  EXPECT_DOUBLE_EQ(v[0].value, 20.0);
}

TEST(RegistryTest, PowercapCoversPerfRapl) {
  auto perf = std::make_shared<CountingPerf>();
  SourceOptions opts;
  opts.roots.sysfs = kFixtures + "/intel-2s/sys";
  opts.roots.procfs = kFixtures + "/intel-2s/proc";
  NoGpuLibraries(&opts);
  opts.perf = perf;  // opts.fs left null: the real filesystem
  DiscoveredSources d = DiscoverSources(opts);
  ASSERT_EQ(d.reports.size(), 7u);
  EXPECT_EQ(d.reports[0].name, "powercap");
  EXPECT_EQ(d.reports[0].state, ProbeState::kFound);
  EXPECT_EQ(d.reports[0].channels.size(), 4u);
  EXPECT_EQ(d.reports[1].name, "perf_rapl");
  EXPECT_EQ(d.reports[1].state, ProbeState::kAbsent);
  EXPECT_TRUE(d.reports[1].channels.empty());
  EXPECT_EQ(perf->opens, 0);
  EXPECT_EQ(d.reports[2].name, "nvml");
  EXPECT_EQ(d.reports[2].state, ProbeState::kAbsent);
  EXPECT_EQ(d.reports[3].name, "rocm_smi");
  EXPECT_EQ(d.reports[3].state, ProbeState::kAbsent);
  EXPECT_EQ(d.reports[4].name, "hwmon");
  EXPECT_EQ(d.reports[4].state, ProbeState::kAbsent);
  EXPECT_EQ(d.reports[5].name, "estimate_cpu");
  EXPECT_EQ(d.reports[6].name, "estimate_ram");
  // Estimation models never add cpu or dram once powercap measured them.
  for (size_t i = 5; i < 7; ++i)
    for (const ChannelInfo& c : d.reports[i].channels) {
      EXPECT_NE(c.kind, DeviceKind::kCpu) << c.id;
      EXPECT_NE(c.kind, DeviceKind::kDram) << c.id;
    }
  EXPECT_EQ(d.sources[0]->name(), "powercap");
}

TEST(RegistryTest, PerfRaplTakesOverWhenPowercapIsDenied) {
  std::string root = kFixtures + "/intel-2s";
  auto fs = std::make_shared<FaultFs>(PosixFileSystem());
  for (const char* z : {"intel-rapl:0", "intel-rapl:0:0", "intel-rapl:1", "intel-rapl:1:0"})
    fs->Set(root + "/sys/class/powercap/" + z + "/energy_uj", FaultFs::Fault::kPermissionDenied);
  auto perf = std::make_shared<CountingPerf>();
  SourceOptions opts;
  opts.roots.sysfs = root + "/sys";
  opts.roots.procfs = root + "/proc";
  NoGpuLibraries(&opts);
  opts.fs = fs;
  opts.perf = perf;
  DiscoveredSources d = DiscoverSources(opts);
  EXPECT_EQ(d.reports[0].state, ProbeState::kDenied);
  EXPECT_THAT(d.reports[0].fix, HasSubstr("sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj"));
  ASSERT_EQ(d.reports[1].state, ProbeState::kFound) << d.reports[1].reason;
  std::vector<std::string> ids;
  for (const ChannelInfo& c : d.reports[1].channels) ids.push_back(c.id);
  EXPECT_THAT(ids, ElementsAre("perf_rapl:package-0", "perf_rapl:package-1", "perf_rapl:dram-0",
                               "perf_rapl:dram-1"));
  EXPECT_EQ(perf->opens, 4);
  ASSERT_FALSE(d.sources.empty());
  EXPECT_EQ(d.sources[0]->name(), "perf_rapl");
  std::vector<Reading> v(4);
  d.sources[0]->Poll(SteadyClock::now(), ActivitySnapshot{}, v);
  EXPECT_DOUBLE_EQ(v[0].value, 3.0);
}

TEST(RegistryTest, HwmonOnlyAddsKindsPowercapLacks) {
  TempTree t;
  t.CopyFrom(kFixtures + "/intel-1s");
  t.CopyFrom(kFixtures + "/hwmon");
  SourceOptions opts;
  opts.roots.sysfs = t.root() + "/sys";
  opts.roots.procfs = t.root() + "/proc";
  NoGpuLibraries(&opts);
  opts.perf = std::make_shared<CountingPerf>();
  DiscoveredSources d = DiscoverSources(opts);
  ASSERT_EQ(d.reports[4].state, ProbeState::kFound) << d.reports[4].reason;
  std::vector<std::string> ids;
  for (const ChannelInfo& c : d.reports[4].channels) ids.push_back(c.id);
  // amd_energy's cpu sockets are left out: powercap measures the cpu.
  EXPECT_THAT(ids, ElementsAre("hwmon:gpu-hwmon3", "hwmon:module-0"));
  EXPECT_THAT(d.reports[4].reason, HasSubstr("cpu already measured by an earlier source"));
}

// NVML comes before hwmon, so an NVIDIA GPU is measured through NVML even
// when hwmon has a GPU sensor (an AMD iGPU, an Intel card).
TEST(RegistryTest, NvmlCoversHwmonGpuSensors) {
  TempTree t;
  t.CopyFrom(kFixtures + "/hwmon");
  t.Write("scenario", "count 1\ngpu0.name NVIDIA L4\ngpu0.uuid GPU-l4\ngpu0.energy_mj 42\n");
  setenv("FAKE_NVML_SCENARIO", t.Path("scenario").c_str(), 1);
  SourceOptions opts;
  opts.roots.sysfs = t.root() + "/sys";
  opts.roots.procfs = t.root() + "/proc";
  opts.perf = std::make_shared<CountingPerf>();
  NoGpuLibraries(&opts);
  opts.nvml_library = WATTPRINT_FAKE_NVML;
  DiscoveredSources d = DiscoverSources(opts);
  unsetenv("FAKE_NVML_SCENARIO");
  ASSERT_EQ(d.reports[2].state, ProbeState::kFound) << d.reports[2].reason;
  ASSERT_EQ(d.reports[2].channels.size(), 1u);
  EXPECT_EQ(d.reports[2].channels[0].id, "nvml:gpu-0");
  EXPECT_EQ(d.reports[3].reason, "gpu already measured by an earlier source");
  for (const ChannelInfo& c : d.reports[4].channels) EXPECT_NE(c.kind, DeviceKind::kGpu) << c.id;
  EXPECT_THAT(d.reports[4].reason, HasSubstr("not used: gpu already measured by an earlier source"));
}

TEST(RegistryTest, EnumNames) {
  EXPECT_STREQ(ToString(ProbeState::kFound), "found");
  EXPECT_STREQ(ToString(ProbeState::kAbsent), "absent");
  EXPECT_STREQ(ToString(ProbeState::kDenied), "denied");
  EXPECT_STREQ(ToString(DeviceKind::kCpu), "cpu");
  EXPECT_STREQ(ToString(DeviceKind::kDram), "dram");
  EXPECT_STREQ(ToString(DeviceKind::kGpu), "gpu");
  EXPECT_STREQ(ToString(DeviceKind::kPlatform), "platform");
  EXPECT_STREQ(ToString(ChannelType::kEnergyCounter), "energy_counter");
  EXPECT_STREQ(ToString(ChannelType::kPower), "power");
  EXPECT_STREQ(ToString(Method::kMeasuredCounter), "measured_counter");
  EXPECT_STREQ(ToString(Method::kMeasuredPower), "measured_power");
  EXPECT_STREQ(ToString(Method::kEstimated), "estimated");
}

}  // namespace
}  // namespace wattprint
