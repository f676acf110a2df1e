// The powercap RAPL source against fixture trees (tests/fixtures/*/sys) and
// fault injection.
#include <sys/stat.h>
#include <filesystem>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/source_helpers.h"

#include "sources/probes.h"
#include "sources/source_util.h"
#include "wattprint/ledger.h"
#include "support/fault_fs.h"
#include "support/temp_tree.h"

namespace wattprint {
namespace {

using testing::PollOnce;
using testing::Ids;
using testing::OptionsFor;

using ::testing::HasSubstr;
using testing::FaultFs;
using testing::TempTree;

const std::string kFixtures = WATTPRINT_FIXTURES;

std::string ZoneDir(const std::string& root, const std::string& zone) {
  return root + "/sys/class/powercap/" + zone;
}

TEST(PowercapTest, Intel1sUsesPackageAndDramOnly) {
  std::string root = kFixtures + "/intel-1s";
  ProbeResult r = ProbePowercap(OptionsFor(root), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  ASSERT_TRUE(r.source);
  EXPECT_EQ(r.source->name(), "powercap");
  EXPECT_THAT(Ids(*r.source), ::testing::ElementsAre("powercap:package-0", "powercap:dram-0"));

  const ChannelInfo& pkg = r.source->channels()[0];
  EXPECT_EQ(pkg.device_id, "package-0");
  EXPECT_EQ(pkg.label, "CPU package 0 (intel-rapl:0)");
  EXPECT_EQ(pkg.kind, DeviceKind::kCpu);
  EXPECT_EQ(pkg.type, ChannelType::kEnergyCounter);
  EXPECT_EQ(pkg.method, Method::kMeasuredCounter);
  EXPECT_DOUBLE_EQ(pkg.wrap_range.joules(), 262143.328850);
  EXPECT_EQ(pkg.path, ZoneDir(root, "intel-rapl:0"));

  const ChannelInfo& dram = r.source->channels()[1];
  EXPECT_EQ(dram.device_id, "dram-0");
  EXPECT_EQ(dram.label, "DRAM socket 0 (intel-rapl:0:2)");
  EXPECT_EQ(dram.kind, DeviceKind::kDram);
  EXPECT_DOUBLE_EQ(dram.wrap_range.joules(), 65712.999613);

  std::vector<Reading> v = PollOnce(*r.source);
  ASSERT_TRUE(v[0].ok && v[1].ok);
  EXPECT_DOUBLE_EQ(v[0].value, 123.456789);  // 123456789 µJ
  EXPECT_DOUBLE_EQ(v[1].value, 23.456789);
}

TEST(PowercapTest, Intel1sReasonExplainsEveryDomainLeftOut) {
  ProbeResult r = ProbePowercap(OptionsFor(kFixtures + "/intel-1s"), {});
  EXPECT_THAT(r.reason, HasSubstr("core (intel-rapl:0:0) not used: already included in its package"));
  EXPECT_THAT(r.reason, HasSubstr("uncore (intel-rapl:0:1) not used: already included in its package"));
  EXPECT_THAT(r.reason, HasSubstr("psys (intel-rapl:1) not used: covers the packages, which are measured"));
  EXPECT_THAT(r.reason, HasSubstr("package-0 (intel-rapl-mmio:0) not used: same counter as intel-rapl:0"));
}

TEST(PowercapTest, Intel2sOneChannelPerSocket) {
  ProbeResult r = ProbePowercap(OptionsFor(kFixtures + "/intel-2s"), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ::testing::ElementsAre("powercap:package-0", "powercap:dram-0",
                                                     "powercap:package-1", "powercap:dram-1"));
  std::vector<Reading> v = PollOnce(*r.source);
  EXPECT_DOUBLE_EQ(v[0].value, 1000.0);
  EXPECT_DOUBLE_EQ(v[1].value, 300.0);
  EXPECT_DOUBLE_EQ(v[2].value, 2000.0);
  EXPECT_DOUBLE_EQ(v[3].value, 400.0);
  EXPECT_EQ(r.source->channels()[3].label, "DRAM socket 1 (intel-rapl:1:0)");
}

TEST(PowercapTest, AmdZenPackageOnly) {
  ProbeResult r = ProbePowercap(OptionsFor(kFixtures + "/amd-zen"), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ::testing::ElementsAre("powercap:package-0"));
  EXPECT_DOUBLE_EQ(r.source->channels()[0].wrap_range.joules(), 65532.610987);
  EXPECT_DOUBLE_EQ(PollOnce(*r.source)[0].value, 987.654321);
}

TEST(PowercapTest, PsysUsedWhenNoPackageExists) {
  TempTree t;
  t.Write("sys/class/powercap/intel-rapl:1/name", "psys\n");
  t.Write("sys/class/powercap/intel-rapl:1/energy_uj", "42000000\n");
  t.Write("sys/class/powercap/intel-rapl:1/max_energy_range_uj", "262143328850\n");
  t.Write("sys/class/powercap/intel-rapl:1:0/name", "core\n");
  t.Write("sys/class/powercap/intel-rapl:1:0/energy_uj", "1000000\n");
  ProbeResult r = ProbePowercap(OptionsFor(t.root()), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  ASSERT_EQ(r.source->channels().size(), 1u);
  const ChannelInfo& c = r.source->channels()[0];
  EXPECT_EQ(c.id, "powercap:psys-1");
  EXPECT_EQ(c.kind, DeviceKind::kPlatform);
  EXPECT_EQ(c.label, "Platform (psys) (intel-rapl:1)");
  EXPECT_DOUBLE_EQ(PollOnce(*r.source)[0].value, 42.0);
}

// A laptop package: 15 W TDP (max_power_uw), 44 W short-term limit. The
// ceiling is twice the largest stated figure; a zone that states none keeps
// the kind's default.
TEST(PowercapTest, PowerCeilingFromTheConstraints) {
  TempTree t;
  const std::string z = "sys/class/powercap/intel-rapl:0/";
  t.Write(z + "name", "package-0\n");
  t.Write(z + "energy_uj", "1000000\n");
  t.Write(z + "max_energy_range_uj", "262143328850\n");
  t.Write(z + "constraint_0_max_power_uw", "15000000\n");
  t.Write(z + "constraint_0_power_limit_uw", "15000000\n");
  t.Write(z + "constraint_1_power_limit_uw", "44000000\n");
  t.Write(z + "constraint_1_max_power_uw", "garbage\n");
  t.Write("sys/class/powercap/intel-rapl:0:0/name", "dram\n");
  t.Write("sys/class/powercap/intel-rapl:0:0/energy_uj", "1000000\n");
  ProbeResult r = ProbePowercap(OptionsFor(t.root()), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  ASSERT_EQ(r.source->channels().size(), 2u);
  const ChannelInfo& pkg = r.source->channels()[0];
  EXPECT_DOUBLE_EQ(pkg.power_ceiling.watts(), 88.0);
  EXPECT_THAT(pkg.power_ceiling_source, HasSubstr("constraint_1_power_limit_uw"));
  EXPECT_DOUBLE_EQ(PowerCeilingOf(pkg).watts(), 88.0);
  const ChannelInfo& dram = r.source->channels()[1];
  EXPECT_DOUBLE_EQ(dram.power_ceiling.watts(), 0.0);
  EXPECT_DOUBLE_EQ(PowerCeilingOf(dram).watts(), DefaultPowerCeiling(DeviceKind::kDram).watts());
}

// A FIFO or a link to /dev/zero in place of a sysfs value: refused at once
// (no blocking open, no endless read), and the next source fills in.
TEST(PowercapTest, NonRegularFilesAreRefusedNotReadForEver) {
  TempTree t;
  const std::string z = "sys/class/powercap/intel-rapl:0/";
  t.Write(z + "name", "package-0\n");
  t.Write(z + "max_energy_range_uj", "262143328850\n");
  ASSERT_EQ(mkfifo(t.Path(z + "energy_uj").c_str(), 0644), 0);
  const std::string y = "sys/class/powercap/intel-rapl:1/";
  t.Write(y + "max_energy_range_uj", "262143328850\n");
  std::filesystem::create_symlink("/dev/zero", t.Path(y + "name"));
  ProbeResult r = ProbePowercap(OptionsFor(t.root()), {});
  EXPECT_FALSE(r.source);
  EXPECT_THAT(r.reason, HasSubstr("not a regular file")) << r.reason;
}

// A counter file replaced by a rename, or a zone removed and re-created
// (driver reload, hot-plug), must not freeze the energy: the handle is
// opened again and the channel follows the new file.
TEST(PowercapTest, ReplacedOrRemovedFilesAreOpenedAgain) {
  TempTree t;
  const std::string z = "sys/class/powercap/intel-rapl:0/";
  t.Write(z + "name", "package-0\n");
  t.Write(z + "energy_uj", "1000000\n");
  t.Write(z + "max_energy_range_uj", "262143328850\n");
  ProbeResult r = ProbePowercap(OptionsFor(t.root()), {});
  ASSERT_TRUE(r.source) << r.reason;
  EXPECT_DOUBLE_EQ(PollOnce(*r.source)[0].value, 1.0);
  // Replaced by a rename: the old inode still reads 1 J; within the stale
  // check period the new file is read.
  t.Write(z + "energy_uj.new", "2000000\n");
  std::filesystem::rename(t.Path(z + "energy_uj.new"), t.Path(z + "energy_uj"));
  double last = 0;
  for (int i = 0; i < sources::SysfsSource::kStaleCheckPolls; ++i) last = PollOnce(*r.source)[0].value;
  EXPECT_DOUBLE_EQ(last, 2.0);
  // Removed: unavailable, never 0; re-created: read again.
  std::filesystem::remove_all(t.Path("sys/class/powercap/intel-rapl:0"));
  bool went = false;
  for (int i = 0; i < sources::SysfsSource::kStaleCheckPolls && !went; ++i) went = !PollOnce(*r.source)[0].ok;
  EXPECT_TRUE(went);
  t.Write(z + "energy_uj", "3000000\n");
  const Reading back = PollOnce(*r.source)[0];
  ASSERT_TRUE(back.ok) << back.error.ToString();
  EXPECT_DOUBLE_EQ(back.value, 3.0);
}

TEST(PowercapTest, MmioPackageUsedWhenMsrInterfaceAbsent) {
  TempTree t;
  t.Write("sys/class/powercap/intel-rapl-mmio:0/name", "package-0\n");
  t.Write("sys/class/powercap/intel-rapl-mmio:0/energy_uj", "5500000\n");
  t.Write("sys/class/powercap/intel-rapl-mmio:0/max_energy_range_uj", "262143328850\n");
  ProbeResult r = ProbePowercap(OptionsFor(t.root()), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ::testing::ElementsAre("powercap:package-0"));
  EXPECT_EQ(r.source->channels()[0].path, t.root() + "/sys/class/powercap/intel-rapl-mmio:0");
  EXPECT_DOUBLE_EQ(PollOnce(*r.source)[0].value, 5.5);
}

TEST(PowercapTest, NearWrapCounterAndItsWrap) {
  std::string root = kFixtures + "/near-wrap";
  auto fs = std::make_shared<FaultFs>(PosixFileSystem());
  ProbeResult r = ProbePowercap(OptionsFor(root, fs), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_DOUBLE_EQ(r.source->channels()[0].wrap_range.joules(), 262143.328850);
  EXPECT_DOUBLE_EQ(PollOnce(*r.source)[0].value, 262143.0);
  // Past its range the kernel counter restarts near 0; the kept handle
  // sees the new value (sysfs files are rewritten in place, so the change
  // is injected through the same handle rather than by replacing the file).
  fs->Set(ZoneDir(root, "intel-rapl:0") + "/energy_uj", FaultFs::Fault::kReplace, "1000000\n");
  EXPECT_DOUBLE_EQ(PollOnce(*r.source)[0].value, 1.0);
}

// A counter whose first read does not parse is not "found" (that would
// disable the CPU estimate and leave the CPU unknown): it is skipped with
// the reason, and the next source fills in. Later bad reads are
// unavailable readings (ReadErrorsDuringPollAreUnavailable).
TEST(PowercapTest, MalformedValuesAreSkippedAtProbeNeverZero) {
  std::string root = kFixtures + "/malformed";
  ProbeResult r = ProbePowercap(OptionsFor(root), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ::testing::ElementsAre("powercap:package-1"));
  EXPECT_THAT(r.reason, HasSubstr(ZoneDir(root, "intel-rapl:0") + "/energy_uj: empty value, skipped"));
  EXPECT_THAT(r.reason,
              HasSubstr(ZoneDir(root, "intel-rapl:0:0") + "/energy_uj: not an unsigned integer: \"n/a\", skipped"));
  std::vector<Reading> v = PollOnce(*r.source);
  ASSERT_TRUE(v[0].ok);
  EXPECT_DOUBLE_EQ(v[0].value, 5.0);
  // Missing max_energy_range_uj: range unknown, said in the reason.
  EXPECT_EQ(r.source->channels()[0].wrap_range.joules(), 0.0);
  EXPECT_THAT(r.reason, HasSubstr("intel-rapl:1: counter range unknown, wraps cannot be told from resets"));
  EXPECT_THAT(r.reason, HasSubstr("intel-rapl:2: no readable domain name"));
}

TEST(PowercapTest, ReadErrorsDuringPollAreUnavailable) {
  std::string root = kFixtures + "/intel-1s";
  auto fs = std::make_shared<FaultFs>(PosixFileSystem());
  ProbeResult r = ProbePowercap(OptionsFor(root, fs), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  std::string pkg = ZoneDir(root, "intel-rapl:0") + "/energy_uj";
  std::string dram = ZoneDir(root, "intel-rapl:0:2") + "/energy_uj";
  fs->Set(pkg, FaultFs::Fault::kIOError);
  fs->Set(dram, FaultFs::Fault::kEmpty);
  std::vector<Reading> v = PollOnce(*r.source);
  EXPECT_FALSE(v[0].ok);
  EXPECT_EQ(v[0].error.ToString(), "IOError: " + pkg + ": Input/output error");
  EXPECT_FALSE(v[1].ok);
  EXPECT_EQ(v[1].error.ToString(), "Corrupt: " + dram + ": empty value");
  fs->Clear(pkg);
  v = PollOnce(*r.source);
  ASSERT_TRUE(v[0].ok);
  EXPECT_DOUBLE_EQ(v[0].value, 123.456789);
}

TEST(PowercapTest, UnreadableEnergyIsDeniedWithFix) {
  std::string root = kFixtures + "/intel-1s";
  auto fs = std::make_shared<FaultFs>(PosixFileSystem());
  fs->Set(ZoneDir(root, "intel-rapl:0") + "/energy_uj", FaultFs::Fault::kPermissionDenied);
  fs->Set(ZoneDir(root, "intel-rapl:0:2") + "/energy_uj", FaultFs::Fault::kPermissionDenied);
  ProbeResult r = ProbePowercap(OptionsFor(root, fs), {});
  EXPECT_EQ(r.state, ProbeState::kDenied);
  EXPECT_FALSE(r.source);
  EXPECT_THAT(r.reason, HasSubstr("CVE-2020-8694"));
  EXPECT_THAT(r.reason, HasSubstr(ZoneDir(root, "intel-rapl:0") + "/energy_uj"));
  EXPECT_THAT(r.fix, HasSubstr("sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj"));
  EXPECT_THAT(r.fix, HasSubstr("ACTION==\"add\", SUBSYSTEM==\"powercap\", KERNEL==\"intel-rapl:*\", "
                               "RUN+=\"/bin/chmod o+r /sys%p/energy_uj\""));
}

TEST(PowercapTest, AbsentWithoutPowercapDirectory) {
  TempTree t;
  ProbeResult r = ProbePowercap(OptionsFor(t.root()), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_FALSE(r.source);
  EXPECT_THAT(r.reason, HasSubstr("no powercap interface: " + t.root() + "/sys/class/powercap"));
}

TEST(PowercapTest, AbsentWhenOnlyOtherControlTypes) {
  TempTree t;
  t.Write("sys/class/powercap/dtpm/enabled", "1\n");
  ProbeResult r = ProbePowercap(OptionsFor(t.root()), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_EQ(r.reason, "no RAPL zones (intel-rapl:*) under " + t.root() + "/sys/class/powercap");
}

TEST(PowercapTest, CoveredKindsAreNotCreated) {
  ProbeResult r = ProbePowercap(OptionsFor(kFixtures + "/intel-1s"), {DeviceKind::kDram});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ::testing::ElementsAre("powercap:package-0"));
  EXPECT_THAT(r.reason, HasSubstr("dram (intel-rapl:0:2) not used: dram already measured by an earlier source"));
}

}  // namespace
}  // namespace wattprint
