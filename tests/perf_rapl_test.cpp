// The perf RAPL source with a fake PerfEventApi and the intel-2s fixture's
// power PMU description.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/source_helpers.h"

#include <cerrno>
#include <map>
#include <tuple>

#include "sources/perf_event_api.h"
#include "sources/probes.h"
#include "sources/source_util.h"
#include "support/temp_tree.h"

namespace wattprint {
namespace {

using testing::PollOnce;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempTree;

const std::string kFixtures = WATTPRINT_FIXTURES;
constexpr double kScale = 2.3283064365386962890625e-10;  // 2^-32 J per count

// Records opens, serves counts per (config, cpu), and can refuse opens.
class FakePerf final : public PerfEventApi {
 public:
  struct Opened {
    uint32_t type;
    uint64_t config;
    int cpu;
  };
  Result<int> Open(uint32_t type, uint64_t config, int cpu) override {
    if (open_error.count(config)) return Status::FromErrno(open_error[config], "perf_event_open");
    opened.push_back({type, config, cpu});
    int fd = next_fd++;
    event_of[fd] = {config, cpu};
    return fd;
  }
  Result<uint64_t> ReadCounter(int fd) override {
    auto it = event_of.find(fd);
    if (it == event_of.end()) return Status::InvalidArgument("bad fd");
    if (read_error.count(fd)) return read_error[fd];
    return counts[it->second];
  }
  void Close(int fd) override { closed.push_back(fd); }

  std::vector<Opened> opened;
  std::vector<int> closed;
  std::map<std::pair<uint64_t, int>, uint64_t> counts;  // (config, cpu) -> raw count
  std::map<uint64_t, int> open_error;                   // config -> errno
  std::map<int, Status> read_error;
  std::map<int, std::pair<uint64_t, int>> event_of;
  int next_fd = 10;
};

SourceOptions OptionsFor(const std::string& root, std::shared_ptr<PerfEventApi> perf) {
  SourceOptions o;
  o.roots.sysfs = root + "/sys";
  o.roots.procfs = root + "/proc";
  o.fs = PosixFileSystem();
  o.perf = std::move(perf);
  return o;
}

TEST(PerfRaplTest, TwoSocketsOneChannelPerEventAndSocket) {
  auto perf = std::make_shared<FakePerf>();
  perf->counts[{0x02, 0}] = 4294967296ull * 100;  // 100 J at 2^-32 J per count
  perf->counts[{0x02, 28}] = 4294967296ull * 250;
  perf->counts[{0x03, 0}] = 2147483648ull;        // 0.5 J
  perf->counts[{0x03, 28}] = 3ull;
  std::string root = kFixtures + "/intel-2s";
  ProbeResult r = ProbePerfRapl(OptionsFor(root, perf), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  ASSERT_TRUE(r.source);
  EXPECT_EQ(r.source->name(), "perf_rapl");

  ASSERT_EQ(perf->opened.size(), 4u);
  EXPECT_EQ(perf->opened[0].type, 22u);
  EXPECT_EQ(perf->opened[0].config, 0x02u);
  EXPECT_EQ(perf->opened[0].cpu, 0);
  EXPECT_EQ(perf->opened[1].cpu, 28);
  EXPECT_EQ(perf->opened[2].config, 0x03u);

  std::vector<std::string> ids;
  for (const ChannelInfo& c : r.source->channels()) ids.push_back(c.id);
  EXPECT_THAT(ids, ElementsAre("perf_rapl:package-0", "perf_rapl:package-1", "perf_rapl:dram-0",
                               "perf_rapl:dram-1"));
  const ChannelInfo& pkg1 = r.source->channels()[1];
  EXPECT_EQ(pkg1.device_id, "package-1");
  EXPECT_EQ(pkg1.label, "CPU package 1 (perf power/energy-pkg, cpu 28)");
  EXPECT_EQ(pkg1.kind, DeviceKind::kCpu);
  EXPECT_EQ(pkg1.type, ChannelType::kEnergyCounter);
  EXPECT_EQ(pkg1.method, Method::kMeasuredCounter);
  EXPECT_EQ(pkg1.path, root + "/sys/bus/event_source/devices/power/events/energy-pkg");
  // 2^64 counts x 2^-32 J = 2^32 J: the 64-bit count does not wrap in practice.
  EXPECT_DOUBLE_EQ(pkg1.wrap_range.joules(), 4294967296.0);
  EXPECT_EQ(r.source->channels()[2].kind, DeviceKind::kDram);

  std::vector<Reading> v = PollOnce(*r.source);
  EXPECT_DOUBLE_EQ(v[0].value, 100.0);
  EXPECT_DOUBLE_EQ(v[1].value, 250.0);
  EXPECT_DOUBLE_EQ(v[2].value, 0.5);
  EXPECT_DOUBLE_EQ(v[3].value, 3 * kScale);
}

TEST(PerfRaplTest, ClosesEveryDescriptorWithTheSource) {
  auto perf = std::make_shared<FakePerf>();
  ProbeResult r = ProbePerfRapl(OptionsFor(kFixtures + "/intel-2s", perf), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  r.source.reset();
  EXPECT_THAT(perf->closed, ElementsAre(10, 11, 12, 13));
}

TEST(PerfRaplTest, ReadFailureIsUnavailable) {
  auto perf = std::make_shared<FakePerf>();
  ProbeResult r = ProbePerfRapl(OptionsFor(kFixtures + "/intel-2s", perf), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  perf->read_error[11] = Status::IOError("read(perf event fd 11): Input/output error");
  std::vector<Reading> v = PollOnce(*r.source);
  EXPECT_TRUE(v[0].ok);
  EXPECT_FALSE(v[1].ok);
  EXPECT_EQ(v[1].error.ToString(), "IOError: read(perf event fd 11): Input/output error");
}

TEST(PerfRaplTest, PermissionDeniedGivesParanoidAdvice) {
  auto perf = std::make_shared<FakePerf>();
  perf->open_error[0x02] = EACCES;
  ProbeResult r = ProbePerfRapl(OptionsFor(kFixtures + "/intel-2s", perf), {});
  EXPECT_EQ(r.state, ProbeState::kDenied);
  EXPECT_FALSE(r.source);
  EXPECT_EQ(r.reason,
            "perf_event_open: Permission denied; kernel.perf_event_paranoid is 2; system-wide events need "
            "it to be <= 0, or the CAP_PERFMON capability (Linux >= 5.8)");
  EXPECT_EQ(r.fix,
            "sudo sysctl kernel.perf_event_paranoid=0\n"
            "or, to allow only wattprint: sudo setcap cap_perfmon=ep $(command -v wattprint)");
}

TEST(PerfRaplTest, DenialAfterSomeOpensClosesThem) {
  auto perf = std::make_shared<FakePerf>();
  perf->open_error[0x03] = EPERM;  // energy-pkg opens, energy-ram is refused
  ProbeResult r = ProbePerfRapl(OptionsFor(kFixtures + "/intel-2s", perf), {});
  EXPECT_EQ(r.state, ProbeState::kDenied);
  EXPECT_EQ(perf->opened.size(), 2u);
  EXPECT_THAT(perf->closed, ElementsAre(10, 11));
}

TEST(PerfRaplTest, UnreadableParanoidIsSaid) {
  TempTree t;
  t.CopyFrom(kFixtures + "/intel-2s");
  t.Remove("proc/sys/kernel/perf_event_paranoid");
  auto perf = std::make_shared<FakePerf>();
  perf->open_error[0x02] = EACCES;
  ProbeResult r = ProbePerfRapl(OptionsFor(t.root(), perf), {});
  EXPECT_EQ(r.state, ProbeState::kDenied);
  EXPECT_THAT(r.reason, HasSubstr("kernel.perf_event_paranoid could not be read (" + t.root() +
                                  "/proc/sys/kernel/perf_event_paranoid: No such file or directory)"));
}

TEST(PerfRaplTest, AbsentWithoutPowerPmu) {
  TempTree t;
  auto perf = std::make_shared<FakePerf>();
  ProbeResult r = ProbePerfRapl(OptionsFor(t.root(), perf), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_EQ(r.reason, "no RAPL perf PMU: " + t.root() +
                          "/sys/bus/event_source/devices/power/type: No such file or directory");
  EXPECT_TRUE(perf->opened.empty());
}

TEST(PerfRaplTest, CoveredKindsAreNotOpened) {
  auto perf = std::make_shared<FakePerf>();
  ProbeResult r = ProbePerfRapl(OptionsFor(kFixtures + "/intel-2s", perf), {DeviceKind::kCpu});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  ASSERT_EQ(perf->opened.size(), 2u);
  EXPECT_EQ(perf->opened[0].config, 0x03u);
  EXPECT_EQ(r.source->channels()[0].id, "perf_rapl:dram-0");
  EXPECT_THAT(r.reason, HasSubstr("energy-pkg not used: cpu already measured by an earlier source"));
}

TEST(PerfRaplTest, PsysOnlyWithoutPackageAndCpuListRanges) {
  TempTree t;
  std::string pmu = "sys/bus/event_source/devices/power/";
  t.Write(pmu + "type", "9\n");
  t.Write(pmu + "cpumask", "0-1\n");
  t.Write(pmu + "events/energy-psys", "event=0x05\n");
  t.Write(pmu + "events/energy-psys.scale", "2.3283064365386962890625e-10\n");
  t.Write(pmu + "events/energy-psys.unit", "Joules\n");
  auto perf = std::make_shared<FakePerf>();
  perf->counts[{0x05, 0}] = 4294967296ull * 7;
  ProbeResult r = ProbePerfRapl(OptionsFor(t.root(), perf), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  // One platform counter: opened once, on the first listed CPU.
  ASSERT_EQ(perf->opened.size(), 1u);
  EXPECT_EQ(perf->opened[0].type, 9u);
  EXPECT_EQ(perf->opened[0].config, 0x05u);
  ASSERT_EQ(r.source->channels().size(), 1u);
  EXPECT_EQ(r.source->channels()[0].id, "perf_rapl:psys");
  EXPECT_EQ(r.source->channels()[0].kind, DeviceKind::kPlatform);
  EXPECT_DOUBLE_EQ(PollOnce(*r.source)[0].value, 7.0);
}

TEST(PerfRaplTest, MalformedEventIsSkippedWithReason) {
  TempTree t;
  t.CopyFrom(kFixtures + "/intel-2s");
  std::string ev = "sys/bus/event_source/devices/power/events/";
  t.Write(ev + "energy-pkg", "config=0x02\n");
  t.Write(ev + "energy-ram.scale", "fast\n");
  auto perf = std::make_shared<FakePerf>();
  ProbeResult r = ProbePerfRapl(OptionsFor(t.root(), perf), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_THAT(r.reason, HasSubstr("energy-pkg: expected event=0x.., got \"config=0x02\""));
  EXPECT_THAT(r.reason, HasSubstr("energy-ram.scale: not a number: \"fast\""));
  EXPECT_TRUE(perf->opened.empty());
}

}  // namespace
}  // namespace wattprint

namespace wattprint {
namespace {

// A cpumask such as "0-2147483647" once took `doctor` to 8.4 GB: a list
// naming more CPUs than Linux can have is corrupt.
TEST(CpuList, IsBoundedByTheLargestCpuCount) {
  Result<std::vector<int>> ok = sources::ParseCpuList("0-3,8\n", "cpumask");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 5u);
  for (const char* bad : {"0-2147483647", "0-8191,8192", "9000", "-1", "3-1", "0-", "x"}) {
    Result<std::vector<int>> r = sources::ParseCpuList(bad, "cpumask");
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_TRUE(sources::ParseCpuList("0-8191", "cpumask").ok());
}

}  // namespace
}  // namespace wattprint
