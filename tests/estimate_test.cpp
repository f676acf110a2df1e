// The CPU and RAM estimation models: family matching, exact watts for a
// given utilisation, overrides, and the fallbacks.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "sources/cpu_models.h"
#include "sources/probes.h"
#include "wattprint/ledger.h"
#include "support/temp_tree.h"
#include "wattprint/sources.h"

namespace wattprint {
namespace {

using testing::TempTree;

std::string CpuInfo(int processors, const std::string& model_name, const std::string& vendor = "GenuineIntel",
                    int family = 6, int model = 85, int stepping = 7) {
  std::string out;
  for (int i = 0; i < processors; ++i) {
    out += "processor\t: " + std::to_string(i) + "\nvendor_id\t: " + vendor + "\ncpu family\t: " +
           std::to_string(family) + "\nmodel\t\t: " + std::to_string(model) + "\nmodel name\t: " + model_name +
           "\nstepping\t: " + std::to_string(stepping) + "\nflags\t\t: fpu vme de\n\n";
  }
  return out;
}

struct Env {
  TempTree t;
  SourceOptions opts;
  Env() {
    opts.roots.procfs = t.Path("proc");
    opts.roots.sysfs = t.Path("sys");
    t.Write("proc/stat", "cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu1 0 0 0 0\ncpu2 0 0 0 0\n");
    t.Write("proc/meminfo", "MemTotal:       16777216 kB\nMemFree:  1000 kB\nMemAvailable: 2000 kB\n");
  }
};

ActivitySnapshot Snap(unsigned long long total, unsigned long long busy) {
  ActivitySnapshot a;
  a.ok = true;
  a.machine_total_ticks = total;
  a.machine_busy_ticks = busy;
  return a;
}

double PollOnce(Source& s, const ActivitySnapshot& a) {
  Reading r;
  s.Poll(SteadyClock::now(), a, {&r, 1});
  EXPECT_TRUE(r.ok) << r.error.ToString();
  return r.value;
}

TEST(EstimateCpuTest, CascadeLakeChannelAndModelMap) {
  Env e;
  e.t.Write("proc/cpuinfo", CpuInfo(4, "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"));
  ProbeResult r = ProbeEstimateCpu(e.opts, {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  ASSERT_TRUE(r.source);
  EXPECT_EQ(r.source->name(), "estimate_cpu");
  ASSERT_EQ(r.source->channels().size(), 1u);
  const ChannelInfo& c = r.source->channels()[0];
  EXPECT_EQ(c.id, "estimate_cpu:machine");
  EXPECT_EQ(c.kind, DeviceKind::kCpu);
  EXPECT_EQ(c.type, ChannelType::kPower);
  EXPECT_EQ(c.method, Method::kEstimated);
  EXPECT_DOUBLE_EQ(c.model_inputs.at("vcpus"), 4);
  EXPECT_DOUBLE_EQ(c.model_inputs.at("idle_w_per_vcpu"), 0.64);
  EXPECT_DOUBLE_EQ(c.model_inputs.at("max_w_per_vcpu"), 3.97);
  EXPECT_DOUBLE_EQ(c.model_inputs.at("idle_w"), 2.56);
  EXPECT_DOUBLE_EQ(c.model_inputs.at("max_w"), 15.88);
  EXPECT_EQ(c.model.at("family"), "Intel Cascade Lake");
  EXPECT_EQ(c.model.at("cpu_model_name"), "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz");
  EXPECT_EQ(c.model.at("family_match"), "model name Xeon Platinum 8259CL: second digit is the generation");
  EXPECT_NE(c.model.at("source").find("Cloud Carbon Footprint"), std::string::npos);
  EXPECT_EQ(r.reason, "4 vCPUs, CCF Cascade Lake, 2.56 W idle to 15.88 W full load");
}

TEST(EstimateCpuTest, PowerFollowsUtilisationBetweenSnapshots) {
  Env e;
  e.t.Write("proc/cpuinfo", CpuInfo(4, "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"));
  ProbeResult r = ProbeEstimateCpu(e.opts, {});
  ASSERT_TRUE(r.source);
  Source& s = *r.source;
  // First poll: utilisation since boot, 250/1000.
  EXPECT_NEAR(PollOnce(s, Snap(1000, 250)), 4 * (0.64 + (3.97 - 0.64) * 0.25), 1e-12);  // 5.89 W
  EXPECT_NEAR(PollOnce(s, Snap(1000, 250)), 5.89, 1e-12);
  // 300 busy of 400 ticks: 75 %.
  EXPECT_NEAR(PollOnce(s, Snap(1400, 550)), 12.55, 1e-12);
  // No tick elapsed: the last figure is kept.
  EXPECT_NEAR(PollOnce(s, Snap(1400, 550)), 12.55, 1e-12);
  // Idle interval: idle power only.
  EXPECT_NEAR(PollOnce(s, Snap(1800, 550)), 2.56, 1e-12);
  // Fully busy interval.
  EXPECT_NEAR(PollOnce(s, Snap(2200, 950)), 15.88, 1e-12);
}

TEST(EstimateCpuTest, UnavailableWithoutActivity) {
  Env e;
  e.t.Write("proc/cpuinfo", CpuInfo(2, "AMD EPYC 7R32", "AuthenticAMD", 23, 49, 0));
  ProbeResult r = ProbeEstimateCpu(e.opts, {});
  ASSERT_TRUE(r.source);
  ActivitySnapshot bad;
  bad.error = Status::PermissionDenied("/proc/stat: Permission denied");
  Reading out;
  r.source->Poll(SteadyClock::now(), bad, {&out, 1});
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error.code(), Status::Code::kPermissionDenied);
  // EPYC 2nd gen, 2 vCPUs, 50 %: 2 x (0.47 + 1.22 x 0.5) = 2.16 W.
  EXPECT_NEAR(PollOnce(*r.source, Snap(100, 50)), 2.16, 1e-12);
}

TEST(EstimateCpuTest, CpuPowerOverrideKeepsIdleRatio) {
  Env e;
  e.t.Write("proc/cpuinfo", CpuInfo(8, "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz"));  // Skylake
  e.opts.cpu_power_override = Power::Watts(100.0);
  ProbeResult r = ProbeEstimateCpu(e.opts, {});
  ASSERT_TRUE(r.source);
  const ChannelInfo& c = r.source->channels()[0];
  EXPECT_DOUBLE_EQ(c.model_inputs.at("max_w"), 100);
  EXPECT_DOUBLE_EQ(c.model_inputs.at("max_w_per_vcpu"), 12.5);
  const double idle = 100.0 * 0.65 / 4.26;  // 15.258... W
  EXPECT_DOUBLE_EQ(c.model_inputs.at("idle_w"), idle);
  EXPECT_EQ(c.model.at("family_match").rfind("user --cpu-power (idle ratio from Skylake", 0), 0u);
  EXPECT_NEAR(PollOnce(*r.source, Snap(1000, 0)), idle, 1e-9);
  EXPECT_NEAR(PollOnce(*r.source, Snap(2000, 500)), idle + (100.0 - idle) * 0.5, 1e-9);
  EXPECT_NEAR(PollOnce(*r.source, Snap(3000, 1500)), 100.0, 1e-9);
}

TEST(EstimateCpuTest, UnknownCpuUsesAverageRow) {
  Env e;
  e.t.Write("proc/cpuinfo", CpuInfo(2, "Mystery CPU 9000", "SomeVendor", 1, 1, 1));
  ProbeResult r = ProbeEstimateCpu(e.opts, {});
  ASSERT_TRUE(r.source);
  const ChannelInfo& c = r.source->channels()[0];
  EXPECT_EQ(c.model.at("family"), "unknown");
  EXPECT_DOUBLE_EQ(c.model_inputs.at("idle_w_per_vcpu"), 0.74);
  EXPECT_DOUBLE_EQ(c.model_inputs.at("max_w_per_vcpu"), 3.5);
  EXPECT_EQ(c.model.at("family_match"), "not recognised (model name \"Mystery CPU 9000\"); CCF average used");
  // 2 x (0.74 + 2.76 x 0.5) = 4.24 W.
  EXPECT_NEAR(PollOnce(*r.source, Snap(10, 5)), 4.24, 1e-12);
}

TEST(EstimateCpuTest, UnreadableCpuinfoUsesAverageAndProcStatCount) {
  Env e;  // no proc/cpuinfo
  ProbeResult r = ProbeEstimateCpu(e.opts, {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  const ChannelInfo& c = r.source->channels()[0];
  EXPECT_DOUBLE_EQ(c.model_inputs.at("vcpus"), 3);  // cpu0..cpu2 in /proc/stat
  EXPECT_DOUBLE_EQ(c.model_inputs.at("idle_w_per_vcpu"), 0.74);
  EXPECT_NE(c.model.at("family_match").find("unreadable"), std::string::npos);
  EXPECT_NE(c.model.at("family_match").find("CCF average used"), std::string::npos);
}

TEST(EstimateCpuTest, AbsentWhenCoveredOrDisabled) {
  Env e;
  e.t.Write("proc/cpuinfo", CpuInfo(2, "AMD EPYC 7R32"));
  ProbeResult covered = ProbeEstimateCpu(e.opts, {DeviceKind::kCpu});
  EXPECT_EQ(covered.state, ProbeState::kAbsent);
  EXPECT_FALSE(covered.source);
  EXPECT_EQ(covered.reason, "CPU already measured by an earlier source");
  e.opts.disable_estimation = true;
  ProbeResult off = ProbeEstimateCpu(e.opts, {});
  EXPECT_EQ(off.state, ProbeState::kAbsent);
  EXPECT_EQ(off.reason, "estimation disabled");
}

struct FamilyCase {
  const char* cpuinfo_name;
  const char* vendor;
  int family, model, stepping;
  const char* expect_family;
  double idle, max;  // per vCPU; the average row when the family has no figures
};

class CpuFamilyTest : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(CpuFamilyTest, MatchesFamilyAndFigures) {
  const FamilyCase& c = GetParam();
  sources::CpuInfoSummary s =
      sources::ParseCpuInfo(CpuInfo(2, c.cpuinfo_name, c.vendor, c.family, c.model, c.stepping));
  EXPECT_EQ(s.processors, 2);
  sources::CpuModelChoice m = sources::ChooseCpuModel(s);
  EXPECT_EQ(m.family, c.expect_family) << m.match;
  EXPECT_DOUBLE_EQ(m.coefficients.idle_w_per_vcpu, c.idle);
  EXPECT_DOUBLE_EQ(m.coefficients.max_w_per_vcpu, c.max);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CpuFamilyTest,
    ::testing::Values(
        FamilyCase{"Intel(R) Xeon(R) Platinum 8175M CPU @ 2.50GHz", "GenuineIntel", 6, 85, 4, "Intel Skylake", 0.65, 4.26},
        FamilyCase{"Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "GenuineIntel", 6, 79, 1, "Intel Broadwell", 0.71, 3.69},
        FamilyCase{"Intel(R) Xeon(R) CPU E5-2676 v3 @ 2.40GHz", "GenuineIntel", 6, 63, 2, "Intel Haswell", 1.00, 4.74},
        FamilyCase{"Intel(R) Xeon(R) CPU E5-2670 v2 @ 2.50GHz", "GenuineIntel", 6, 62, 4, "Intel Ivy Bridge", 3.04, 8.25},
        FamilyCase{"Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz", "GenuineIntel", 6, 45, 7, "Intel Sandy Bridge", 2.17, 8.58},
        FamilyCase{"Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "GenuineIntel", 6, 106, 6, "Intel Ice Lake", 0.74, 3.5},
        FamilyCase{"Intel(R) Xeon(R) Platinum 8488C", "GenuineIntel", 6, 143, 8, "Intel Sapphire Rapids", 0.74, 3.5},
        FamilyCase{"Intel Xeon Processor (Cascadelake)", "GenuineIntel", 6, 85, 6, "Intel Cascade Lake", 0.64, 3.97},
        // GCP names give no generation: the model and stepping decide.
        FamilyCase{"Intel(R) Xeon(R) CPU @ 2.20GHz", "GenuineIntel", 6, 85, 7, "Intel Cascade Lake", 0.64, 3.97},
        FamilyCase{"Intel(R) Xeon(R) CPU @ 2.00GHz", "GenuineIntel", 6, 85, 3, "Intel Skylake", 0.65, 4.26},
        FamilyCase{"Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", "GenuineIntel", 6, 158, 10,
                   "Intel Kaby/Coffee/Comet Lake", 1.14, 5.42},
        FamilyCase{"AMD EPYC 7571", "AuthenticAMD", 23, 1, 2, "AMD EPYC 1st gen (Naples)", 0.82, 2.55},
        FamilyCase{"AMD EPYC 7R32", "AuthenticAMD", 23, 49, 0, "AMD EPYC 2nd gen (Rome)", 0.47, 1.69},
        FamilyCase{"AMD EPYC 7763 64-Core Processor", "AuthenticAMD", 25, 1, 1, "AMD EPYC 3rd gen (Milan)", 0.45, 2.02},
        FamilyCase{"AMD EPYC 9654 96-Core Processor", "AuthenticAMD", 25, 17, 1,
                   "AMD EPYC 4th gen (Genoa/Bergamo/Siena)", 0.74, 3.5},
        FamilyCase{"AMD EPYC-Rome Processor", "AuthenticAMD", 23, 49, 0, "AMD EPYC 2nd gen (Rome)", 0.47, 1.69},
        FamilyCase{"AMD Ryzen 7 5800X", "AuthenticAMD", 25, 33, 0, "", 0.74, 3.5}));

TEST(CpuFamilyTest, ArmImplementerAndPart) {
  const char* n1 = "processor\t: 0\nBogoMIPS\t: 243.75\nCPU implementer\t: 0x41\nCPU architecture: 8\n"
                   "CPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n"
                   "processor\t: 1\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n";
  sources::CpuInfoSummary s = sources::ParseCpuInfo(n1);
  EXPECT_EQ(s.processors, 2);
  EXPECT_EQ(s.implementer, 0x41);
  EXPECT_EQ(s.part, 0xd0c);
  sources::CpuModelChoice m = sources::ChooseCpuModel(s);
  EXPECT_EQ(m.family, "Arm Neoverse N1 (Graviton2, Ampere Altra)");
  EXPECT_TRUE(m.family_has_figures);
  EXPECT_DOUBLE_EQ(m.coefficients.idle_w_per_vcpu, 0.47);
  EXPECT_DOUBLE_EQ(m.coefficients.max_w_per_vcpu, 1.69);
  EXPECT_EQ(m.match, "CPU implementer 0x41 part 0xd0c");

  s.part = 0xd40;
  m = sources::ChooseCpuModel(s);
  EXPECT_EQ(m.family, "Arm Neoverse V1 (Graviton3)");
  EXPECT_FALSE(m.family_has_figures);
  EXPECT_DOUBLE_EQ(m.coefficients.max_w_per_vcpu, 3.5);
}

// A 256-vCPU Sandy Bridge machine estimates over 2 kW: more than the
// per-package default ceiling, but the model's own ceiling lets it through.
TEST(EstimateCpuTest, LargeMachinesAreNotCutByThePackageCeiling) {
  Env e;
  std::string cpuinfo;
  for (int i = 0; i < 256; ++i) {
    cpuinfo += "processor\t: " + std::to_string(i) + "\nmodel name\t: Intel(R) Xeon(R) CPU E5-2680 0 @ 2.70GHz\n\n";
  }
  e.t.Write("proc/cpuinfo", cpuinfo);
  ProbeResult r = ProbeEstimateCpu(e.opts, {});
  ASSERT_TRUE(r.source) << r.reason;
  const ChannelInfo& c = r.source->channels()[0];
  ASSERT_GT(c.model_inputs.at("max_w"), 2000.0) << r.reason;
  Ledger l(r.source->channels());
  const SteadyTime t0 = SteadyClock::now();
  for (int k = 0; k < 3; ++k) {
    std::vector<Reading> v(1);
    const ActivitySnapshot a = Snap(1000ULL * (k + 1), 1000ULL * (k + 1));
    r.source->Poll(t0, a, v);
    l.Add(t0 + std::chrono::seconds(k), SystemTime{} + std::chrono::seconds(k), v, a);
  }
  EXPECT_EQ(l.SumAll().channels[0].ok_intervals, 2);
  EXPECT_GT(l.SumAll().channels[0].machine.joules(), 4000.0);
}

TEST(EstimateRamTest, PerDimmModelWithActivityAndBounds) {
  Env e;  // MemTotal 16 GiB, no EDAC: 2 modules of 8 GiB guessed
  ProbeResult r = ProbeEstimateRam(e.opts, {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  const ChannelInfo& c = r.source->channels()[0];
  EXPECT_EQ(r.source->name(), "estimate_ram");
  EXPECT_EQ(c.id, "estimate_ram:machine");
  EXPECT_EQ(c.kind, DeviceKind::kDram);
  EXPECT_EQ(c.type, ChannelType::kPower);
  EXPECT_EQ(c.method, Method::kEstimated);
  EXPECT_DOUBLE_EQ(c.model_inputs.at("mem_total_gib"), 16.0);
  EXPECT_DOUBLE_EQ(c.model_inputs.at("dimms"), 2.0);
  EXPECT_THAT(c.model.at("dimms_from"), ::testing::HasSubstr("guessed"));
  EXPECT_DOUBLE_EQ(c.model_inputs.at("low_w"), 1.84);
  EXPECT_DOUBLE_EQ(c.model_inputs.at("high_w"), 9.04);
  // Idle machine: 2 x 1.0 W; fully busy: 2 x 3.95 W.
  std::vector<Reading> idle(1), busy(1);
  r.source->Poll(SteadyClock::now(), Snap(100, 0), idle);
  r.source->Poll(SteadyClock::now(), Snap(200, 100), busy);
  EXPECT_NEAR(idle[0].value, 2.0, 1e-12);
  EXPECT_NEAR(busy[0].value, 7.9, 1e-12);
  EXPECT_NEAR(busy[0].low, 1.84, 1e-12);
  EXPECT_NEAR(busy[0].high, 9.04, 1e-12);
}

// A 1 TiB server: 16 x 64 GB modules guessed. Published figures put its DRAM
// at about 15-145 W (McCalpin's per-DIMM idle to STREAM; 91 W in MICRO'21);
// the old 0.392 W/GiB model said 401 W.
TEST(EstimateRamTest, ATebibyteServerStaysInThePublishedRange) {
  Env e;
  e.t.Write("proc/meminfo", "MemTotal: 1073741824 kB\n");
  for (double u : {0.0, 0.5, 1.0}) {
    ProbeResult r = ProbeEstimateRam(e.opts, {});
    ASSERT_TRUE(r.source);
    const ChannelInfo& c = r.source->channels()[0];
    EXPECT_DOUBLE_EQ(c.model_inputs.at("dimms"), 16.0);
    EXPECT_DOUBLE_EQ(c.model_inputs.at("high_w"), 91.0);
    std::vector<Reading> v(1);
    r.source->Poll(SteadyClock::now(), Snap(100, static_cast<unsigned long long>(100 * u)), v);
    EXPECT_GE(v[0].value, 15.0) << u;
    EXPECT_LE(v[0].value, 145.0) << u;
    EXPECT_GE(v[0].low, 14.0);
    EXPECT_LE(v[0].high, 145.0);
  }
}

TEST(EstimateRamTest, EdacModulesAreCountedWhenListed) {
  Env e;
  for (int i = 0; i < 6; ++i) {
    e.t.Write("sys/devices/system/edac/mc/mc0/dimm" + std::to_string(i) + "/size", i < 4 ? "16384\n" : "0\n");
  }
  ProbeResult r = ProbeEstimateRam(e.opts, {});
  ASSERT_TRUE(r.source);
  EXPECT_DOUBLE_EQ(r.source->channels()[0].model_inputs.at("dimms"), 4.0);  // empty slots not counted
  EXPECT_THAT(r.source->channels()[0].model.at("dimms_from"), ::testing::HasSubstr("EDAC"));
}

TEST(EstimateRamTest, OverrideIsConstant) {
  Env e;
  e.opts.ram_power_override = Power::Watts(5.5);
  ProbeResult r = ProbeEstimateRam(e.opts, {});
  ASSERT_TRUE(r.source);
  EXPECT_EQ(r.source->channels()[0].model.at("model"), "constant");
  EXPECT_DOUBLE_EQ(r.source->channels()[0].model_inputs.at("watts"), 5.5);
  EXPECT_NEAR(PollOnce(*r.source, Snap(1, 1)), 5.5, 1e-12);
}

TEST(EstimateRamTest, AbsentWhenCoveredOrMeminfoUnreadable) {
  Env e;
  ProbeResult covered = ProbeEstimateRam(e.opts, {DeviceKind::kDram});
  EXPECT_EQ(covered.state, ProbeState::kAbsent);
  EXPECT_EQ(covered.reason, "DRAM already measured by an earlier source");
  e.t.Write("proc/meminfo", "MemFree: 10 kB\n");
  ProbeResult bad = ProbeEstimateRam(e.opts, {});
  EXPECT_EQ(bad.state, ProbeState::kAbsent);
  EXPECT_FALSE(bad.source);
  EXPECT_NE(bad.reason.find("no MemTotal"), std::string::npos) << bad.reason;
}

}  // namespace
}  // namespace wattprint
