// The ROCm SMI source against fake librocm_smi64 builds
// (tests/fakes/fake_rocm_smi.cpp) driven by scenario files.
#include <cstdlib>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sources/probes.h"
#include "support/temp_tree.h"

namespace wattprint {
namespace {

using ::testing::HasSubstr;
using testing::TempTree;

constexpr const char* kTwoMi250 =
    "count 2\n"
    "gpu0.name AMD Instinct MI250X\n"
    "gpu0.unique_id 255\n"
    "gpu0.energy_count 1000000\n"
    "gpu0.resolution_uj 15.25\n"
    "gpu0.power_uw 300000000\n"
    "gpu0.busy 40\n"
    "gpu0.vram_used 4096\n"
    "gpu0.vram_total 68702699520\n"
    "gpu0.cap_uw 500000000\n"
    "gpu1.name AMD Instinct MI250X\n"
    "gpu1.power_uw 123000000\n";

class RocmSmiTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("FAKE_ROCM_SMI_SCENARIO", t_.Path("scenario").c_str(), 1); }
  void TearDown() override { unsetenv("FAKE_ROCM_SMI_SCENARIO"); }
  void Write(const std::string& text) const { t_.Write("scenario", text); }
  void Append(const std::string& text) const { std::ofstream(t_.Path("scenario"), std::ios::app) << text; }
  SourceOptions Options(const char* lib = WATTPRINT_FAKE_ROCM_SMI) const {
    SourceOptions o;
    o.rocm_smi_library = lib;
    return o;
  }
  static std::vector<Reading> Poll(Source& s, const ActivitySnapshot& a = {}) {
    std::vector<Reading> out(s.channels().size());
    s.Poll(SteadyClock::now(), a, out);
    return out;
  }
  TempTree t_;
};

TEST_F(RocmSmiTest, EnergyCounterTimesResolutionAndPowerFallback) {
  Write(kTwoMi250);
  ProbeResult r = ProbeRocmSmi(Options(), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  ASSERT_EQ(r.source->channels().size(), 2u);
  const ChannelInfo& c0 = r.source->channels()[0];
  EXPECT_EQ(c0.id, "rocm_smi:gpu-0");
  EXPECT_EQ(c0.label, "GPU 0 AMD Instinct MI250X");
  EXPECT_EQ(c0.method, Method::kMeasuredCounter);
  EXPECT_EQ(c0.model.at("energy"), "rsmi_dev_energy_count_get x 15.25 µJ per count");
  EXPECT_EQ(c0.model.at("uuid"), "0xff");
  EXPECT_EQ(c0.model_inputs.at("power_limit_w"), 500.0);
  EXPECT_EQ(c0.model_inputs.at("memory_total_bytes"), 68702699520.0);
  EXPECT_DOUBLE_EQ(c0.power_ceiling.watts(), 2000.0);
  const ChannelInfo& c1 = r.source->channels()[1];
  EXPECT_EQ(c1.method, Method::kMeasuredPower);
  EXPECT_EQ(c1.model.at("energy"),
            "rsmi_dev_power_ave_get (µW) integrated over each interval; "
            "rsmi_dev_energy_count_get: RSMI_STATUS_NOT_SUPPORTED (2)");
  std::vector<Reading> v = Poll(*r.source);
  ASSERT_TRUE(v[0].ok);
  EXPECT_DOUBLE_EQ(v[0].value, 15.25);  // 1e6 counts x 15.25 µJ
  EXPECT_DOUBLE_EQ(v[0].utilization, 0.40);
  EXPECT_DOUBLE_EQ(v[0].memory_used_bytes, 4096.0);
  EXPECT_DOUBLE_EQ(v[1].value, 123.0);
  Append("gpu0.energy_count 3000000\n");
  EXPECT_DOUBLE_EQ(Poll(*r.source)[0].value, 45.75);
  // No per-process data in ROCm SMI: the share is unknown, labelled.
  ActivitySnapshot a;
  a.ok = a.tree_ok = true;
  EXPECT_LT(Poll(*r.source, a)[0].process_share, 0.0);
  EXPECT_THAT(c0.model.at("process_attribution"), HasSubstr("unknown"));
}

TEST_F(RocmSmiTest, MissingEnergySymbolUsesAveragePower) {
  Write(kTwoMi250);
  ProbeResult r = ProbeRocmSmi(Options(WATTPRINT_FAKE_ROCM_SMI_NOENERGY), {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  EXPECT_EQ(r.source->channels()[0].method, Method::kMeasuredPower);
  EXPECT_THAT(r.source->channels()[0].model.at("energy"), HasSubstr("rsmi_dev_energy_count_get missing from"));
  EXPECT_DOUBLE_EQ(Poll(*r.source)[0].value, 300.0);
}

TEST_F(RocmSmiTest, PermissionErrorsAreDenied) {
  Write("count 1\ngpu0.name X\ngpu0.energy_rc 4\ngpu0.power_rc 4\n");
  ProbeResult r = ProbeRocmSmi(Options(), {});
  EXPECT_EQ(r.state, ProbeState::kDenied);
  EXPECT_THAT(r.reason, HasSubstr("RSMI_STATUS_PERMISSION (4)"));
  EXPECT_THAT(r.fix, HasSubstr("render"));
}

TEST_F(RocmSmiTest, ZeroDevicesAndMissingLibraryAreAbsent) {
  Write("count 0\n");
  ProbeResult r = ProbeRocmSmi(Options(), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_THAT(r.reason, HasSubstr("reports no GPU"));
  r = ProbeRocmSmi(Options("/nonexistent/librocm_smi64.so"), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_THAT(r.reason, HasSubstr("ROCm SMI library not found: /nonexistent/librocm_smi64.so"));
}

TEST_F(RocmSmiTest, InitFailureAndGpuIds) {
  Write("init_rc 8\ncount 1\n");
  ProbeResult r = ProbeRocmSmi(Options(), {});
  EXPECT_EQ(r.state, ProbeState::kAbsent);
  EXPECT_THAT(r.reason, HasSubstr("rsmi_init: RSMI_STATUS_OTHER (8)"));
  Write(kTwoMi250);
  SourceOptions o = Options();
  o.gpu_ids = *ParseGpuIds("1,GPU-abc");
  r = ProbeRocmSmi(o, {});
  ASSERT_EQ(r.state, ProbeState::kFound) << r.reason;
  ASSERT_EQ(r.source->channels().size(), 1u);
  EXPECT_EQ(r.source->channels()[0].id, "rocm_smi:gpu-1");
  EXPECT_THAT(r.reason, HasSubstr("GPU-abc: no such AMD GPU"));
}

TEST_F(RocmSmiTest, ReadErrorMidRunIsUnavailableNotZero) {
  Write(kTwoMi250);
  ProbeResult r = ProbeRocmSmi(Options(), {});
  ASSERT_TRUE(r.source);
  Append("gpu0.energy_rc 3\n");
  std::vector<Reading> v = Poll(*r.source);
  EXPECT_FALSE(v[0].ok);
  EXPECT_EQ(v[0].error.message(), "rsmi_dev_energy_count_get: RSMI_STATUS_OTHER (3)");
}

}  // namespace
}  // namespace wattprint
