// The hwmon source: driver-specific kind mapping, energy preferred to power,
// unknown drivers ignored.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/source_helpers.h"

#include "sources/probes.h"
#include "support/fault_fs.h"
#include "support/temp_tree.h"

namespace wattprint {
namespace {

using testing::PollOnce;
using testing::Ids;
using testing::OptionsFor;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FaultFs;
using testing::TempTree;

const std::string kFixtures = WATTPRINT_FIXTURES;

TEST(HwmonTest, CompositeFixtureMapsKnownDrivers) {
  std::string root = kFixtures + "/hwmon";
  ProbeResult r = ProbeHwmon(OptionsFor(root), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  ASSERT_TRUE(r.source);
  EXPECT_EQ(r.source->name(), "hwmon");
  EXPECT_THAT(Ids(*r.source),
              ElementsAre("hwmon:package-0", "hwmon:package-1", "hwmon:gpu-hwmon3", "hwmon:module-0"));
  const auto& ch = r.source->channels();

  EXPECT_EQ(ch[0].label, "CPU package 0 (amd_energy, hwmon1)");
  EXPECT_EQ(ch[0].kind, DeviceKind::kCpu);
  EXPECT_EQ(ch[0].type, ChannelType::kEnergyCounter);
  EXPECT_EQ(ch[0].method, Method::kMeasuredCounter);
  EXPECT_EQ(ch[0].path, root + "/sys/class/hwmon/hwmon1/energy3_input");
  EXPECT_DOUBLE_EQ(ch[0].wrap_range.joules(), 281474976.710656);  // 2^48 µJ

  EXPECT_EQ(ch[2].label, "GPU i915 (i915, hwmon3)");
  EXPECT_EQ(ch[2].kind, DeviceKind::kGpu);
  EXPECT_EQ(ch[2].wrap_range.joules(), 0.0);  // no published range

  EXPECT_EQ(ch[3].label, "Module socket 0 (power_meter, hwmon4)");
  EXPECT_EQ(ch[3].kind, DeviceKind::kPlatform);
  EXPECT_EQ(ch[3].type, ChannelType::kPower);
  EXPECT_EQ(ch[3].method, Method::kMeasuredPower);
  EXPECT_EQ(ch[3].path, root + "/sys/class/hwmon/hwmon4/device/power1_average");

  std::vector<Reading> v = PollOnce(*r.source);
  EXPECT_DOUBLE_EQ(v[0].value, 81.0);    // 81000000 µJ
  EXPECT_DOUBLE_EQ(v[1].value, 92.0);
  EXPECT_DOUBLE_EQ(v[2].value, 3500.0);
  EXPECT_DOUBLE_EQ(v[3].value, 350.0);   // 350000000 µW

  EXPECT_THAT(r.reason, HasSubstr("2 amd_energy per-core counters not used (inside the sockets)"));
  EXPECT_THAT(r.reason, HasSubstr("pmbus (hwmon2) ignored: unknown driver"));
  EXPECT_THAT(r.reason, ::testing::Not(HasSubstr("k10temp")));  // no power sensor: not worth a word
}

TEST(HwmonTest, GraceSocketTotalPreferredToCpuRail) {
  ProbeResult r = ProbeHwmon(OptionsFor(kFixtures + "/hwmon-grace"), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ElementsAre("hwmon:module-0", "hwmon:package-0"));
  EXPECT_EQ(r.source->channels()[1].label, "Grace socket 0 (power_meter, hwmon1)");
  std::vector<Reading> v = PollOnce(*r.source);
  EXPECT_DOUBLE_EQ(v[0].value, 612.0);
  EXPECT_DOUBLE_EQ(v[1].value, 210.0);
}

TEST(HwmonTest, GraceCpuRailUsedWithoutSocketTotal) {
  TempTree t;
  t.Write("sys/class/hwmon/hwmon0/name", "grace\n");
  t.Write("sys/class/hwmon/hwmon0/power1_input", "95000000\n");
  t.Write("sys/class/hwmon/hwmon0/power1_label", "CPU Power Socket 1\n");
  t.Write("sys/class/hwmon/hwmon0/power2_input", "20000000\n");
  t.Write("sys/class/hwmon/hwmon0/power2_label", "SysIO Power Socket 1\n");
  ProbeResult r = ProbeHwmon(OptionsFor(t.root()), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ElementsAre("hwmon:package-1"));
  EXPECT_EQ(r.source->channels()[0].label, "Grace CPU rail socket 1 (grace, hwmon0)");
  EXPECT_DOUBLE_EQ(PollOnce(*r.source)[0].value, 95.0);
}

TEST(HwmonTest, IbmPowerNvLabelsAndEnergyPreferred) {
  TempTree t;
  std::string d = "sys/class/hwmon/hwmon2/";
  t.Write(d + "name", "ibmpowernv\n");
  t.Write(d + "power1_input", "850000000\n");
  t.Write(d + "power1_label", "System\n");
  t.Write(d + "power2_input", "190000000\n");
  t.Write(d + "power2_label", "Proc 0\n");
  t.Write(d + "power3_input", "30000000\n");
  t.Write(d + "power3_label", "Mem 0\n");
  t.Write(d + "power4_input", "250000000\n");
  t.Write(d + "power4_label", "GPU 0\n");
  t.Write(d + "power5_input", "5000000\n");
  t.Write(d + "power5_label", "Fan\n");
  // The OCC also accumulates energy for the system: the counter wins.
  t.Write(d + "energy1_input", "9000000000\n");
  t.Write(d + "energy1_label", "System\n");
  ProbeResult r = ProbeHwmon(OptionsFor(t.root()), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ElementsAre("hwmon:powernv-system", "hwmon:powernv-proc-0",
                                          "hwmon:powernv-mem-0", "hwmon:powernv-gpu-0"));
  const auto& ch = r.source->channels();
  EXPECT_EQ(ch[0].kind, DeviceKind::kPlatform);
  EXPECT_EQ(ch[0].type, ChannelType::kEnergyCounter);
  EXPECT_EQ(ch[0].path, t.Path(d + "energy1_input"));
  EXPECT_EQ(ch[1].kind, DeviceKind::kCpu);
  EXPECT_EQ(ch[1].type, ChannelType::kPower);
  EXPECT_EQ(ch[2].kind, DeviceKind::kDram);
  EXPECT_EQ(ch[3].kind, DeviceKind::kGpu);
  std::vector<Reading> v = PollOnce(*r.source);
  EXPECT_DOUBLE_EQ(v[0].value, 9000.0);
  EXPECT_DOUBLE_EQ(v[1].value, 190.0);
  EXPECT_DOUBLE_EQ(v[2].value, 30.0);
  EXPECT_DOUBLE_EQ(v[3].value, 250.0);
}

TEST(HwmonTest, XePrefersCardToPkg) {
  TempTree t;
  t.Write("sys/class/hwmon/hwmon5/name", "xe\n");
  t.Write("sys/class/hwmon/hwmon5/energy1_input", "1200000000\n");
  t.Write("sys/class/hwmon/hwmon5/energy1_label", "card\n");
  t.Write("sys/class/hwmon/hwmon5/energy2_input", "900000000\n");
  t.Write("sys/class/hwmon/hwmon5/energy2_label", "pkg\n");
  ProbeResult r = ProbeHwmon(OptionsFor(t.root()), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ElementsAre("hwmon:gpu-hwmon5"));
  EXPECT_EQ(r.source->channels()[0].label, "GPU xe card (xe, hwmon5)");
  EXPECT_DOUBLE_EQ(PollOnce(*r.source)[0].value, 1200.0);
}

// amdgpu (Linux 6.x, Radeon/Instinct): power1_average with label "PPT";
// an APU shows slowPPT and fastPPT instead. Used when ROCm SMI is absent.
TEST(HwmonTest, AmdGpuPptPowerIsTheGpuFallback) {
  TempTree t;
  t.Write("sys/class/hwmon/hwmon2/name", "amdgpu\n");
  t.Write("sys/class/hwmon/hwmon2/power1_average", "45000000\n");
  t.Write("sys/class/hwmon/hwmon2/power1_label", "PPT\n");
  t.Write("sys/class/hwmon/hwmon2/temp1_input", "40000\n");
  t.Write("sys/class/hwmon/hwmon3/name", "amdgpu\n");
  t.Write("sys/class/hwmon/hwmon3/power1_input", "9000000\n");
  t.Write("sys/class/hwmon/hwmon3/power1_label", "fastPPT\n");
  t.Write("sys/class/hwmon/hwmon3/power2_average", "7000000\n");
  t.Write("sys/class/hwmon/hwmon3/power2_label", "slowPPT\n");
  ProbeResult r = ProbeHwmon(OptionsFor(t.root()), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ElementsAre("hwmon:gpu-hwmon2", "hwmon:gpu-hwmon3"));
  const auto& ch = r.source->channels();
  EXPECT_EQ(ch[0].label, "GPU amdgpu PPT (amdgpu, hwmon2)");
  EXPECT_EQ(ch[0].kind, DeviceKind::kGpu);
  EXPECT_EQ(ch[0].method, Method::kMeasuredPower);
  EXPECT_EQ(ch[1].label, "GPU amdgpu slowPPT (amdgpu, hwmon3)");
  std::vector<Reading> v = PollOnce(*r.source);
  EXPECT_DOUBLE_EQ(v[0].value, 45.0);
  EXPECT_DOUBLE_EQ(v[1].value, 7.0);
  // A GPU library earlier in the table covers gpu: amdgpu is then not used.
  r = ProbeHwmon(OptionsFor(t.root()), {DeviceKind::kGpu});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
}

TEST(HwmonTest, CoveredKindsAreNotCreated) {
  ProbeResult r = ProbeHwmon(OptionsFor(kFixtures + "/hwmon"), {DeviceKind::kCpu, DeviceKind::kPlatform});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_THAT(Ids(*r.source), ElementsAre("hwmon:gpu-hwmon3"));
  EXPECT_THAT(r.reason, HasSubstr("CPU package 0 (amd_energy) not used: cpu already measured by an earlier source"));
}

TEST(HwmonTest, UnknownDriversOnlyIsAbsent) {
  TempTree t;
  t.Write("sys/class/hwmon/hwmon0/name", "nct6775\n");
  t.Write("sys/class/hwmon/hwmon0/power1_input", "4000000\n");
  ProbeResult r = ProbeHwmon(OptionsFor(t.root()), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_EQ(r.reason, "no known energy or power sensor; nct6775 (hwmon0) ignored: unknown driver");
}

TEST(HwmonTest, UnreadableSensorIsDenied) {
  std::string root = kFixtures + "/hwmon-grace";
  auto fs = std::make_shared<FaultFs>(PosixFileSystem());
  for (int i = 0; i < 4; ++i)
    fs->Set(root + "/sys/class/hwmon/hwmon" + std::to_string(i) + "/device/power1_average",
            FaultFs::Fault::kPermissionDenied);
  ProbeResult r = ProbeHwmon(OptionsFor(root, fs), {});
  EXPECT_EQ(r.state, ProbeState::kDenied);
  EXPECT_EQ(r.fix, "sudo chmod o+r " + root + "/sys/class/hwmon/hwmon0/device/power1_average " + root +
                       "/sys/class/hwmon/hwmon1/device/power1_average");
}

TEST(HwmonTest, PollErrorsAreUnavailable) {
  std::string root = kFixtures + "/hwmon";
  auto fs = std::make_shared<FaultFs>(PosixFileSystem());
  ProbeResult r = ProbeHwmon(OptionsFor(root, fs), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  std::string gpu = root + "/sys/class/hwmon/hwmon3/energy1_input";
  fs->Set(gpu, FaultFs::Fault::kReplace, "-1\n");
  std::vector<Reading> v = PollOnce(*r.source);
  EXPECT_FALSE(v[2].ok);
  EXPECT_EQ(v[2].error.ToString(), "Corrupt: " + gpu + ": not an unsigned integer: \"-1\"");
  EXPECT_TRUE(v[0].ok);
}

TEST(HwmonTest, AbsentWithoutHwmonClass) {
  TempTree t;
  ProbeResult r = ProbeHwmon(OptionsFor(t.root()), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_EQ(r.reason, "no hwmon devices: " + t.root() + "/sys/class/hwmon: No such file or directory");
}

}  // namespace
}  // namespace wattprint
