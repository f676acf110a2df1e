// The JSON run record: both scopes, per channel/device/kind energy, nulls for
// what is unknown, intensity provenance, tasks, events, samples, atomic write.
#include <sys/stat.h>
#include <thread>
#include <fcntl.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "output_fixture.h"
#include "support/temp_tree.h"
#include "wattprint/report.h"

namespace wattprint {
namespace {

using nlohmann::json;
using testing::FixedWall;
using testing::FixtureRun;

TEST(RunJson, MetadataAndCommand) {
  const json j = RunToJson(FixtureRun());
  EXPECT_EQ(j["schema_version"], 2);
  EXPECT_EQ(j["metadata"]["run_id"], "0f3c2a4e-9b1d-4c7e-8a55-1d2e3f405162");
  EXPECT_EQ(j["metadata"]["start"], "2024-05-01T12:00:00Z");
  EXPECT_TRUE(j["metadata"]["longitude"].is_null());
  EXPECT_TRUE(j["metadata"]["python_version"].is_null());
  EXPECT_EQ(j["command"], json({"python3", "train.py", "--epochs", "1"}));
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_TRUE(j["signal"].is_null());
  EXPECT_EQ(j["scope"], "machine");
  EXPECT_EQ(j["duration_s"], 2.0);
}

// The "embodied" object: its total, scope, method, one item per device with
// the figures it was computed from, and what was not counted. A run with
// embodied reporting off has none (no key, not null).
TEST(RunJson, EmbodiedObjectStandsApartFromEmissions) {
  EXPECT_FALSE(RunToJson(FixtureRun()).contains("embodied"));
  RunResult run = FixtureRun();
  run.meta.cpu_sockets = 2;
  run.meta.embodied_factors = BuiltinEmbodiedFactors();
  const json j = RunToJson(run);
  ASSERT_TRUE(j.contains("embodied"));
  const json& e = j["embodied"];
  EXPECT_EQ(e["scope"], "machine");
  EXPECT_TRUE(e["method"].get<std::string>().starts_with("linear: "));
  ASSERT_EQ(e["items"].size(), 2u);  // server, the second socket; the 16 GiB are in the server figure
  const json& server = e["items"][0];
  for (const char* key : {"device", "factor", "count", "manufacture_kg", "lifetime_years", "time_share", "use_share",
                          "kg", "source", "licence"}) {
    EXPECT_TRUE(server.contains(key)) << key;
  }
  EXPECT_EQ(server["device"], "server");
  EXPECT_EQ(server["factor"], "server");
  EXPECT_EQ(server["count"], 1.0);
  EXPECT_EQ(server["use_share"], 1.0);
  EXPECT_DOUBLE_EQ(server["time_share"].get<double>(), 2.0 / (server["lifetime_years"].get<double>() * 365.25 * 86400));
  EXPECT_DOUBLE_EQ(server["kg"].get<double>(), server["manufacture_kg"].get<double>() * server["time_share"].get<double>());
  EXPECT_EQ(e["items"][1]["device"], "cpu");
  EXPECT_DOUBLE_EQ(e["kg"].get<double>(), server["kg"].get<double>() + e["items"][1]["kg"].get<double>());
  EXPECT_EQ(e["not_counted"], json({"gpu-0: GPU model unknown"}));
  // The operational figures do not move.
  EXPECT_EQ(j["emissions"], RunToJson(FixtureRun())["emissions"]);
}

TEST(RunJson, ChannelsCarryMethodAndBothScopes) {
  const json j = RunToJson(FixtureRun());
  ASSERT_EQ(j["channels"].size(), 3u);
  const json& cpu = j["channels"][0];
  EXPECT_EQ(cpu["id"], "powercap:package-0");
  EXPECT_EQ(cpu["kind"], "cpu");
  EXPECT_EQ(cpu["type"], "energy_counter");
  EXPECT_EQ(cpu["method"], "measured_counter");
  EXPECT_DOUBLE_EQ(cpu["wrap_range_j"].get<double>(), 262143.328850);
  EXPECT_EQ(cpu["energy"]["machine"]["j"], 3600.0);
  EXPECT_DOUBLE_EQ(cpu["energy"]["machine"]["kwh"].get<double>(), 0.001);
  EXPECT_EQ(cpu["energy"]["process"]["j"], 900.0);  // tree has 1/4 of the CPU ticks
  EXPECT_EQ(cpu["last_status"]["ok"], true);
  const json& dram = j["channels"][1];
  EXPECT_EQ(dram["energy"]["machine"]["j"], 360.0);
  EXPECT_EQ(dram["energy"]["process"]["j"], 22.5);  // 1 GiB of 16 GiB
}

TEST(RunJson, UnavailableChannelIsNullNeverZero) {
  const json j = RunToJson(FixtureRun());
  const json& gpu = j["channels"][2];
  EXPECT_EQ(gpu["available"], false);
  EXPECT_TRUE(gpu["energy"]["machine"].is_null());
  EXPECT_TRUE(gpu["energy"]["process"].is_null());
  EXPECT_TRUE(gpu["wrap_range_j"].is_null());
  EXPECT_EQ(gpu["last_status"]["code"], "NotFound");
  EXPECT_EQ(gpu["last_status"]["message"], "libnvidia-ml.so.1 not found");
  ASSERT_EQ(j["unavailable"].size(), 1u);
  EXPECT_EQ(j["unavailable"][0]["channel"], "nvml:gpu-0");
  EXPECT_NE(j["unavailable"][0]["reason"].get<std::string>().find("libnvidia-ml"),
            std::string::npos);
  EXPECT_TRUE(j["kinds"]["gpu"]["machine"].is_null());
  for (const json& s : j["samples"]) {
    EXPECT_TRUE(s["machine_j"][2].is_null());
    EXPECT_TRUE(s["process_j"][2].is_null());
  }
}

TEST(RunJson, KindsDevicesTotalsAndEmissionsInBothScopes) {
  RunResult run = FixtureRun();
  run.meta.pue = 1.5;
  const json j = RunToJson(run);
  EXPECT_EQ(j["kinds"]["cpu"]["method"], "measured_counter");
  EXPECT_EQ(j["kinds"]["cpu"]["machine"]["j"], 3600.0);
  EXPECT_EQ(j["kinds"]["dram"]["process"]["j"], 22.5);
  EXPECT_EQ(j["devices"][0]["device_id"], "package-0");
  EXPECT_EQ(j["devices"][0]["machine"]["j"], 3600.0);
  EXPECT_EQ(j["energy"]["machine"]["j"], 3960.0);  // no PUE
  EXPECT_EQ(j["energy"]["process"]["j"], 922.5);
  // Emissions: energy x 1.5 x 56 g/kWh.
  EXPECT_DOUBLE_EQ(j["emissions"]["machine"]["g"].get<double>(), 3960 * 1.5 / 3.6e6 * 56);
  EXPECT_DOUBLE_EQ(j["emissions"]["process"]["g"].get<double>(), 922.5 * 1.5 / 3.6e6 * 56);
  EXPECT_DOUBLE_EQ(j["emissions"]["machine"]["energy"]["j"].get<double>(), 3960 * 1.5);
  EXPECT_EQ(j["emissions"]["scope"], "machine");
  EXPECT_DOUBLE_EQ(j["emissions"]["kg"].get<double>(), 3960 * 1.5 / 3.6e6 * 56 / 1000);
  EXPECT_EQ(j["pue"], 1.5);
}

TEST(RunJson, ProcessNullWhenAShareIsMissing) {
  // Same run, but the activity sampler never sees the tree.
  auto ledger = std::make_shared<Ledger>(testing::FixtureChannels());
  for (int i = 0; i < 2; ++i) {
    ActivitySnapshot a = testing::FixtureActivity(i);
    a.tree_ok = false;
    std::vector<Reading> r = {Reading::Of(100.0 * i), Reading::Of(10.0 * i),
                              Reading::Unavailable(Status::NotFound("x"))};
    ledger->Add(testing::FixedSteady() + std::chrono::seconds(i),
                FixedWall() + std::chrono::seconds(i), r, a);
  }
  RunResult run = FixtureRun();
  run.snapshot.ledger = ledger;
  run.scope = Scope::kProcess;
  const json j = RunToJson(run);
  EXPECT_TRUE(j["channels"][0]["energy"]["process"].is_null());
  EXPECT_EQ(j["channels"][0]["energy"]["machine"]["j"], 100.0);
  EXPECT_TRUE(j["energy"]["process"].is_null());
  EXPECT_TRUE(j["emissions"]["process"].is_null());
  EXPECT_TRUE(j["emissions"]["kg"].is_null());
  EXPECT_TRUE(j["samples"][0]["process_j"][0].is_null());
  EXPECT_TRUE(j["samples"][0]["cpu_share"].is_null());  // unknown, not 0
  EXPECT_TRUE(j["samples"][0]["ram_share"].is_null());
  EXPECT_EQ(j["samples"][0]["cpu_utilization"], 0.5);    // the machine side is known
}

TEST(RunJson, IntensityProvenanceAndPoints) {
  const json j = RunToJson(FixtureRun());
  const json& i = j["intensity"];
  EXPECT_EQ(i["g_per_kwh"], 56.0);
  EXPECT_EQ(i["zone"], "FRA");
  EXPECT_EQ(i["country_name"], "France");
  EXPECT_EQ(i["year"], 2023);
  EXPECT_EQ(i["resolution"], "explicit --country");
  EXPECT_EQ(i["is_default"], false);
  ASSERT_EQ(i["points"].size(), 1u);
  EXPECT_EQ(i["points"][0]["g_per_kwh"], 56.0);
}

TEST(RunJson, SamplesPerInterval) {
  const json j = RunToJson(FixtureRun());
  ASSERT_EQ(j["samples"].size(), 2u);
  const json& s = j["samples"][1];
  EXPECT_EQ(s["t_start_s"], 1.0);
  EXPECT_EQ(s["t_end_s"], 2.0);
  EXPECT_EQ(s["machine_j"][0], 1800.0);
  EXPECT_EQ(s["process_j"][0], 450.0);
  EXPECT_EQ(s["machine_j"][1], 180.0);
  EXPECT_EQ(s["cpu_share"], 0.25);
  EXPECT_EQ(s["ram_share"], 0.0625);
  EXPECT_EQ(s["cpu_utilization"], 0.5);
  EXPECT_EQ(s["ram_utilization"], 0.25);
}

TEST(RunJson, TasksHaveTheirOwnFigures) {
  RunResult run = FixtureRun();
  run.snapshot.tasks.push_back(
      TaskRecord{"load", 0, 1, FixedWall(), FixedWall() + std::chrono::seconds(1)});
  run.snapshot.tasks.push_back(TaskRecord{"train", 1, 2, FixedWall() + std::chrono::seconds(1),
                                          FixedWall() + std::chrono::seconds(2)});
  const json j = RunToJson(run);
  ASSERT_EQ(j["tasks"].size(), 2u);
  EXPECT_EQ(j["tasks"][0]["name"], "load");
  EXPECT_EQ(j["tasks"][0]["duration_s"], 1.0);
  EXPECT_EQ(j["tasks"][0]["energy"]["machine"]["j"], 1980.0);
  EXPECT_EQ(j["tasks"][1]["kinds"]["cpu"]["machine"]["j"], 1800.0);
  EXPECT_EQ(j["tasks"][1]["start"], "2024-05-01T12:00:01Z");
  EXPECT_DOUBLE_EQ(j["tasks"][1]["emissions"]["machine"]["g"].get<double>(), 1980 / 3.6e6 * 56);
}

TEST(RunJson, LedgerEventsListed) {
  // A counter that wraps: 262000 J -> 100 J with range 262143.32885 J.
  auto ledger = std::make_shared<Ledger>(testing::FixtureChannels());
  const double cpu[] = {262000, 100};
  for (int i = 0; i < 2; ++i) {
    std::vector<Reading> r = {Reading::Of(cpu[i]), Reading::Of(1.0 + i),
                              Reading::Unavailable(Status::NotFound("x"))};
    ledger->Add(testing::FixedSteady() + std::chrono::seconds(i),
                FixedWall() + std::chrono::seconds(i), r, testing::FixtureActivity(i));
  }
  RunResult run = FixtureRun();
  run.snapshot.ledger = ledger;
  const json j = RunToJson(run);
  bool wrap = false;
  for (const json& e : j["events"]) {
    if (e["channel"] == "powercap:package-0" &&
        e["what"].get<std::string>().find("wrapped") != std::string::npos) {
      wrap = true;
      EXPECT_EQ(e["t_s"], 1.0);
    }
  }
  EXPECT_TRUE(wrap) << j["events"].dump();
  EXPECT_EQ(j["channels"][0]["wraps"], 1);
  EXPECT_DOUBLE_EQ(j["channels"][0]["energy"]["machine"]["j"].get<double>(),
                   262143.328850 - 262000 + 100);
}

TEST(RunJson, SourcesWithReasonAndFix) {
  RunResult run = FixtureRun();
  run.sources.push_back(testing::FixtureProbe("perf_rapl", ProbeState::kDenied,
                                              "perf_event_paranoid is 2",
                                              "sudo sysctl kernel.perf_event_paranoid=0", {}));
  const json j = RunToJson(run);
  ASSERT_EQ(j["sources"].size(), 3u);
  EXPECT_EQ(j["sources"][0]["state"], "found");
  EXPECT_EQ(j["sources"][0]["channels"], json({"powercap:package-0", "powercap:dram-0"}));
  EXPECT_TRUE(j["sources"][0]["fix"].is_null());
  EXPECT_EQ(j["sources"][2]["state"], "denied");
  EXPECT_EQ(j["sources"][2]["fix"], "sudo sysctl kernel.perf_event_paranoid=0");
}

TEST(RunJson, WriteIsAtomicAndParses) {
  testing::TempTree tmp;
  const std::string path = tmp.Path("run.json");
  tmp.Write("run.json", "old");
  ASSERT_TRUE(WriteJsonFile(path, FixtureRun()).ok());
  std::ifstream in(path);
  const json j = json::parse(in);
  EXPECT_EQ(j["metadata"]["run_id"], "0f3c2a4e-9b1d-4c7e-8a55-1d2e3f405162");
  // No temporary file left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.root())) (void)e, ++files;
  EXPECT_EQ(files, 1);
}

TEST(RunJson, WriteIntoMissingDirectoryFails) {
  testing::TempTree tmp;
  EXPECT_FALSE(WriteJsonFile(tmp.Path("nope/run.json"), FixtureRun()).ok());
}

TEST(RunJson, EmptyRunHasNoMadeUpNumbers) {
  RunResult run;
  run.intensity = WorldAverageIntensity();
  const json j = RunToJson(run);
  EXPECT_EQ(j["channels"].size(), 0u);
  EXPECT_EQ(j["samples"].size(), 0u);
  EXPECT_TRUE(j["exit_code"].is_null());
  EXPECT_EQ(j["intensity"]["is_default"], true);
  EXPECT_TRUE(j["intensity"]["country_iso3"].is_null());
}

// --json writes atomically only over a regular file: a symlink keeps being a
// link and its target gets the record; a device or a pipe is written
// through, never replaced by a rename.
TEST(JsonFile, WritesThroughWhatIsNotARegularFile) {
  testing::TempTree t;
  t.Write("target.json", "old");
  std::filesystem::create_symlink("target.json", t.Path("link.json"));
  ASSERT_TRUE(WriteJsonFile(t.Path("link.json"), FixtureRun()).ok());
  EXPECT_TRUE(std::filesystem::is_symlink(t.Path("link.json")));
  EXPECT_EQ(json::parse(std::ifstream(t.Path("target.json")))["schema_version"], 2);
  // A dangling link: its target is created.
  std::filesystem::create_symlink("new.json", t.Path("dangling.json"));
  ASSERT_TRUE(WriteJsonFile(t.Path("dangling.json"), FixtureRun()).ok());
  EXPECT_TRUE(std::filesystem::is_symlink(t.Path("dangling.json")));
  EXPECT_TRUE(std::filesystem::is_regular_file(t.Path("new.json")));
  // A FIFO with a reader: the record goes through it.
  ASSERT_EQ(mkfifo(t.Path("fifo").c_str(), 0644), 0);
  std::string got;
  std::thread reader([&] { got = std::string(std::istreambuf_iterator<char>(std::ifstream(t.Path("fifo")).rdbuf()), {}); });
  ASSERT_TRUE(WriteJsonFile(t.Path("fifo"), FixtureRun()).ok());
  reader.join();
  EXPECT_TRUE(std::filesystem::is_fifo(t.Path("fifo")));
  EXPECT_EQ(json::parse(got)["schema_version"], 2);
  // /dev/full stays a device; the error says why.
  Status full = WriteJsonFile("/dev/full", FixtureRun());
  EXPECT_FALSE(full.ok());
  EXPECT_NE(full.message().find("No space left"), std::string::npos) << full.ToString();
  struct stat st {};
  ASSERT_EQ(stat("/dev/full", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_FALSE(WriteJsonFile(t.root(), FixtureRun()).ok());  // a directory
}

// /dev/fd/N (and /dev/stdout) is the descriptor itself: the record is
// appended where the command's output went, never renamed over that file.
TEST(JsonFile, NamedDescriptorsAreWrittenInPlace) {
  testing::TempTree t;
  t.Write("out.txt", "command output\n");
  const int fd = open(t.Path("out.txt").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WriteJsonFile("/dev/fd/" + std::to_string(fd), FixtureRun()).ok());
  close(fd);
  const std::string text = std::string(std::istreambuf_iterator<char>(std::ifstream(t.Path("out.txt")).rdbuf()), {});
  ASSERT_EQ(text.rfind("command output\n", 0), 0u);
  EXPECT_EQ(json::parse(text.substr(15))["schema_version"], 2);
}

}  // namespace
}  // namespace wattprint
