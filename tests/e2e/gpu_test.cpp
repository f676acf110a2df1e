// End-to-end tests of `wattprint run` with the fake NVML: the tracked
// command moves the GPUs' energy counters mid-run by appending to the
// scenario file, and the CSV, JSON and summary must show the exact energy.
#include <nlohmann/json.hpp>

#include "e2e/e2e_util.h"
#include "e2e/run_binary.h"

namespace wattprint::testing {
namespace {

constexpr const char* kScenario =
    "count 2\n"
    "gpu0.name NVIDIA H100 80GB HBM3\n"
    "gpu0.uuid GPU-aaaa1111-0000-0000-0000-000000000000\n"
    "gpu0.energy_mj 1000000\n"
    "gpu0.util 70\n"
    "gpu0.mem_used 2048\n"
    "gpu0.limit_mw 700000\n"
    "gpu1.name NVIDIA H100 80GB HBM3\n"
    "gpu1.uuid GPU-bbbb2222-0000-0000-0000-000000000000\n"
    "gpu1.energy_mj 5000000\n"
    "gpu1.util 30\n";

class GpuRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteRaplTree(sys_, 1000000, 2000000);
    out_.Write("scenario", kScenario);
  }
  std::string Scenario() const { return out_.Path("scenario"); }
  // A shell command that appends scenario lines (the fake reads the file anew).
  // Double quotes, so that $$ (the shell, root of the tracked tree) expands.
  std::string Set(const std::string& lines) const { return "printf \"" + lines + "\" >> '" + Scenario() + "'"; }
  BinaryResult Run(const std::string& script, std::vector<std::string> extra = {},
                   std::map<std::string, std::string> env = {}) const {
    std::vector<std::string> args = {"run", "--sysfs-root", sys_.Path("sys"), "--procfs-root", "/proc",
                                     "--output-dir", out_.root(), "--json", out_.Path("run.json"),
                                     "--interval", "0.1"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", "sh", "-c", script});
    env["WATTPRINT_NVML_LIBRARY"] = WATTPRINT_FAKE_NVML;
    env["FAKE_NVML_SCENARIO"] = Scenario();
    return RunWattprint(args, out_.root(), env);
  }
  nlohmann::json Json() const { return nlohmann::json::parse(ReadWholeFile(out_.Path("run.json"))); }
  TempTree sys_;
  TempTree out_;
};

TEST_F(GpuRunTest, CounterDeltasGiveExactGpuEnergyInCsvJsonAndSummary) {
  const std::string script = "sleep 0.3; " + Set("gpu0.energy_mj 1250000\\ngpu1.energy_mj 5040000\\n") +
                             "; sleep 0.3";
  BinaryResult r = Run(script);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  ASSERT_EQ(rows.size(), 1u);
  // 250 J + 40 J: the counters' differences, mJ -> J -> kWh.
  EXPECT_KWH(rows[0]["gpu_energy"], 290.0 / 3.6e6);
  EXPECT_EQ(rows[0]["gpu_count"], "2");
  EXPECT_EQ(rows[0]["gpu_model"], "2 x NVIDIA H100 80GB HBM3");
  EXPECT_NEAR(std::stod(rows[0]["gpu_utilization_percent"]), 50.0, 1e-9);  // mean of 70 % and 30 %
  const double duration = std::stod(rows[0]["duration"]);
  EXPECT_NEAR(std::stod(rows[0]["gpu_power"]), 290.0 / duration, 1e-9 * 290.0 / duration);
  EXPECT_EQ(rows[0]["cpu_energy"], "0.0");  // the RAPL counters did not move
  EXPECT_KWH(rows[0]["energy_consumed"], 290.0 / 3.6e6);

  const nlohmann::json j = Json();
  ASSERT_EQ(j["gpus"].size(), 2u);
  const nlohmann::json& g0 = j["gpus"][0];
  EXPECT_EQ(g0["device_id"], "gpu-0");
  EXPECT_EQ(g0["channel"], "nvml:gpu-0");
  EXPECT_EQ(g0["name"], "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(g0["uuid"], "GPU-aaaa1111-0000-0000-0000-000000000000");
  EXPECT_EQ(g0["index"], 0);
  EXPECT_EQ(g0["method"], "measured_counter");
  EXPECT_EQ(g0["energy_source"], "nvmlDeviceGetTotalEnergyConsumption (mJ counter)");
  EXPECT_EQ(g0["power_limit_w"], 700);
  EXPECT_NEAR(g0["machine"]["j"].get<double>(), 250.0, 1e-9);
  EXPECT_NEAR(g0["mean_utilization"].get<double>(), 0.7, 1e-12);
  EXPECT_EQ(g0["peak_memory_used_bytes"], 2048);
  EXPECT_NEAR(j["gpus"][1]["machine"]["j"].get<double>(), 40.0, 1e-9);
  EXPECT_NEAR(j["kinds"]["gpu"]["machine"]["j"].get<double>(), 290.0, 1e-9);
  EXPECT_EQ(j["metadata"]["gpu_model"], "2 x NVIDIA H100 80GB HBM3");
  EXPECT_NEAR(j["utilization"]["gpu_mean"].get<double>(), 0.5, 1e-12);

  EXPECT_NE(r.err.find("GPU 0 NVIDIA H100 80GB HBM3: 6.944e-05 kWh (250 J)  measured counter"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("GPU 1 NVIDIA H100 80GB HBM3: 1.111e-05 kWh (40 J)  measured counter"), std::string::npos)
      << r.err;
}

TEST_F(GpuRunTest, PowerOnlyGpuIsIntegratedAndTheFallbackIsRecorded) {
  out_.Write("scenario", "count 1\ngpu0.name Tesla P100\ngpu0.uuid GPU-p\ngpu0.power_mw 250000\n");
  BinaryResult r = Run("sleep 0.3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = Json();
  ASSERT_EQ(j["gpus"].size(), 1u);
  EXPECT_EQ(j["gpus"][0]["method"], "measured_power");
  EXPECT_EQ(j["gpus"][0]["energy_source"],
            "nvmlDeviceGetPowerUsage (mW) integrated over each interval; "
            "nvmlDeviceGetTotalEnergyConsumption: Not Supported (3)");
  // A constant 250 W integrates to exactly 250 W x the run's duration.
  const double d = j["duration_s"].get<double>();
  EXPECT_NEAR(j["gpus"][0]["machine"]["j"].get<double>(), 250.0 * d, 1e-9 * 250.0 * d);
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  EXPECT_EQ(rows[0]["gpu_model"], "1 x Tesla P100");
  EXPECT_EQ(rows[0]["gpu_utilization_percent"], "");  // not reported: empty, not 0
}

TEST_F(GpuRunTest, GpuLostMidRunKeepsItsEarlierEnergyAndIsReported) {
  const std::string script = "sleep 0.3; " + Set("gpu0.energy_mj 1100000\n") + "; sleep 0.3; " +
                             Set("gpu0.lost 1\ngpu1.energy_mj 5002000\n") + "; sleep 0.3";
  BinaryResult r = Run(script);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = Json();
  EXPECT_NEAR(j["gpus"][0]["machine"]["j"].get<double>(), 100.0, 1e-9);
  EXPECT_EQ(j["gpus"][0]["last_status"]["message"], "nvmlDeviceGetTotalEnergyConsumption: GPU is lost (15)");
  EXPECT_NEAR(j["gpus"][1]["machine"]["j"].get<double>(), 2.0, 1e-9);
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  EXPECT_KWH(rows[0]["gpu_energy"], 102.0 / 3.6e6);
  EXPECT_NE(r.err.find("(some intervals unknown: lower bound)"), std::string::npos) << r.err;
}

TEST_F(GpuRunTest, ProcessScopeChargesTheTreesShareOfTheGpu) {
  // The shell ($$) is the tracked tree's root: it keeps the SMs busy 60 %
  // of the time, another process 20 %. The tree is charged 60 % of the
  // GPU's energy (its capacity share); the idle 20 % stays unattributed.
  const std::string script = Set("gpu0.samples $$:60,999999:20\ngpu0.procs $$:3000,999999:1000\n") +
                             "; sleep 0.3; " + Set("gpu0.energy_mj 1400000\n") + "; sleep 0.3";
  BinaryResult r = Run(script, {"--scope", "process"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = Json();
  EXPECT_NEAR(j["gpus"][0]["machine"]["j"].get<double>(), 400.0, 1e-9);
  EXPECT_NEAR(j["gpus"][0]["process"]["j"].get<double>(), 240.0, 1e-9);
  EXPECT_LE(j["gpus"][1]["process"]["j"].get<double>(), j["gpus"][1]["machine"]["j"].get<double>());
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  EXPECT_EQ(rows[0]["tracking_mode"], "process");
  EXPECT_KWH(rows[0]["gpu_energy"], 240.0 / 3.6e6);
}

TEST_F(GpuRunTest, CudaVisibleDevicesAndGpuIdsSelectDevices) {
  BinaryResult r = Run("true", {}, {{"CUDA_VISIBLE_DEVICES", "GPU-bbbb2222"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  EXPECT_EQ(rows[0]["gpu_count"], "1");
  EXPECT_EQ(Json()["gpus"][0]["device_id"], "gpu-1");
  // --gpu-ids wins over the environment.
  r = Run("true", {"--gpu-ids", "0"}, {{"CUDA_VISIBLE_DEVICES", "1"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json()["gpus"][0]["device_id"], "gpu-0");
}

TEST_F(GpuRunTest, BadGpuIdsIsAUsageError) {
  BinaryResult r = Run("true", {"--gpu-ids", "0,first"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "wattprint: error: --gpu-ids 0,first: 'first' is not a GPU index, GPU-<uuid> or MIG-<uuid>\n");
}

TEST_F(GpuRunTest, DoctorListsTheGpusAndWhatEachSupports) {
  BinaryResult r = RunWattprint({"doctor", "--sysfs-root", sys_.Path("sys")}, out_.root(),
                                {{"WATTPRINT_NVML_LIBRARY", WATTPRINT_FAKE_NVML}, {"FAKE_NVML_SCENARIO", Scenario()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("GPUs:\n  GPU 0 NVIDIA H100 80GB HBM3 (GPU-aaaa1111-0000-0000-0000-000000000000)\n"
                       "    energy:  nvmlDeviceGetTotalEnergyConsumption (mJ counter)\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("    power limit: 700 W\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nvml:gpu-1"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace wattprint::testing

namespace wattprint::testing {
namespace {

// A GPU that exists but cannot be read (neither energy counter nor power):
// its figure is unknown, an empty field, never the 0 of a machine without a
// GPU.
TEST_F(GpuRunTest, UnreadableGpuIsEmptyNotZero) {
  out_.Write("scenario", "count 1\ngpu0.name NVIDIA H100 80GB HBM3\ngpu0.uuid GPU-cccc\n");
  BinaryResult r = Run("true");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["gpu_energy"], "");
  EXPECT_EQ(rows[0]["gpu_power"], "");
  EXPECT_FALSE(Json()["kinds"].contains("gpu"));
}

// In process scope a GPU whose per-process share is unknown (NVML answers
// neither query) is empty in emissions.csv, and the JSON flags the
// emissions as partial, naming the kind left out.
TEST_F(GpuRunTest, UnknownProcessShareIsEmptyAndEmissionsArePartial) {
  out_.Write("scenario", std::string(kScenario) + "gpu0.proc_util_rc 999\ngpu0.procs_rc 999\n"
                                                  "gpu1.proc_util_rc 999\ngpu1.procs_rc 999\n");
  const std::string script = "sleep 0.3; " + Set("gpu0.energy_mj 1250000\\ngpu1.energy_mj 5040000\\n") +
                             "; sleep 0.3";
  BinaryResult r = Run(script, {"--scope", "process"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = ReadCsv(out_.Path("emissions.csv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["gpu_energy"], "");
  EXPECT_EQ(rows[0]["gpu_power"], "");
  EXPECT_NE(rows[0]["cpu_energy"], "");
  const nlohmann::json j = Json();
  EXPECT_EQ(j["emissions"]["partial"], true);
  EXPECT_EQ(j["emissions"]["left_out"], nlohmann::json::array({"gpu"}));
  EXPECT_TRUE(j["kinds"]["gpu"]["process"].is_null());
  EXPECT_NEAR(j["kinds"]["gpu"]["machine"]["j"].get<double>(), 290.0, 1e-6);
}

}  // namespace
}  // namespace wattprint::testing
