// The typed run record (wattprint/run_record.h): written as JSON and read
// back into the same values, losslessly, for every section; bad records are
// Corrupt with the path of the bad field.
#include "wattprint/run_record.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "output_fixture.h"
#include "wattprint/report.h"

namespace wattprint {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using testing::FixedSteady;
using testing::FixedWall;
using testing::FixtureRun;

// The built-in table and a row for the fixture's "NVIDIA H100".
std::vector<EmbodiedFactor> EmbodiedTable() {
  std::vector<EmbodiedFactor> t = BuiltinEmbodiedFactors();
  EmbodiedOverride h100;
  h100.key = "gpu_test_h100";
  h100.kind = "gpu";
  h100.model_match = "^NVIDIA H100$";
  h100.kg_co2e = 164;
  h100.lifetime_years = 6;
  h100.source = "test";
  EXPECT_TRUE(ApplyEmbodiedOverride(&t, h100, "test").ok());
  return t;
}

// A run that fills every optional part: tasks, GPU facts, a reset and a
// wrap, an estimate with bounds, sub-second times, both bases, overhead.
RunResult RichRun() {
  RunResult run = FixtureRun();
  ChannelInfo pkg;
  pkg.id = "powercap:package-0";
  pkg.device_id = "package-0";
  pkg.label = "CPU package 0";
  pkg.kind = DeviceKind::kCpu;
  pkg.wrap_range = Energy::Joules(1000);
  pkg.power_ceiling = Power::Watts(300);
  pkg.power_ceiling_source = "2 x constraint_0_max_power_uw";
  ChannelInfo ram;
  ram.id = "estimate_ram:machine";
  ram.device_id = "dram";
  ram.label = "RAM power model";
  ram.kind = DeviceKind::kDram;
  ram.type = ChannelType::kPower;
  ram.method = Method::kEstimated;
  ram.model = {{"model", "dimms x (idle + (stream - idle) x activity)"}, {"source", "McCalpin"}};
  ram.model_inputs = {{"dimms", 4}, {"low_w", 3.68}};
  ChannelInfo gpu;
  gpu.id = "nvml:gpu-0";
  gpu.device_id = "gpu-0";
  gpu.label = "GPU 0 NVIDIA H100";
  gpu.kind = DeviceKind::kGpu;
  gpu.method = Method::kMeasuredCounter;
  gpu.model = {{"name", "NVIDIA H100"}, {"uuid", "GPU-aaaa"}, {"process_attribution", "SM utilisation"}};
  gpu.model_inputs = {{"index", 0}, {"power_limit_w", 700}, {"memory_total_bytes", 85899345920.0}};
  auto ledger = std::make_shared<Ledger>(std::vector<ChannelInfo>{pkg, ram, gpu});
  const double pkg_j[] = {990, 10, 5, 25};  // a wrap, then a reset, then 20 J
  for (int i = 0; i < 4; ++i) {
    Reading r[] = {Reading::Of(pkg_j[i]), Reading::Estimate(4.0 + i, 3.68, 18.08), Reading::Of(100.0 * i)};
    r[2].process_share = 0.25;
    r[2].utilization = 0.5;
    r[2].memory_used_bytes = 1e9;
    ledger->Add(FixedSteady() + std::chrono::milliseconds(1500 * i),
                FixedWall() + std::chrono::milliseconds(1500 * i), r, testing::FixtureActivity(i));
  }
  run.snapshot.ledger = ledger;
  TaskRecord task;
  task.name = "epoch 1";
  task.from_point = 1;
  task.to_point = 3;
  task.wall_begin = FixedWall() + std::chrono::microseconds(1500123);
  task.wall_end = FixedWall() + std::chrono::seconds(4);
  run.snapshot.tasks = {task};
  run.wall_start = FixedWall() + std::chrono::microseconds(250);
  run.meta.python_version = "3.11.2";
  run.meta.cloud_provider = "gcp";
  run.meta.cloud_region = "europe-west1";
  run.meta.on_cloud = true;
  run.meta.longitude = 2.35;
  run.meta.tree_cpu_source = "perf_event task-clock (inherited)";
  run.meta.signal = 15;
  run.meta.exit_code.reset();
  run.scope = Scope::kProcess;
  IntensityTimeline marginal = run.intensity;
  marginal.provenance.basis = "marginal";
  marginal.points[0].value = Intensity::GramsPerKwh(158);
  run.other_intensity = marginal;
  run.intensity.points.push_back({FixedWall() + std::chrono::milliseconds(2250), Intensity::GramsPerKwh(70)});
  run.self_cost = SelfCost{0.0123, 4608};
  run.sources.push_back(testing::FixtureProbe("estimate_ram", ProbeState::kFound, "4 DIMMs", "", {ram}));
  run.sources.push_back(testing::FixtureProbe("perf_rapl", ProbeState::kDenied, "paranoid", "sysctl", {}));
  run.meta.cpu_sockets = 2;
  run.meta.ram_total_bytes = 48ULL << 30;  // installed; the activity's 16 GiB sets the share
  run.meta.embodied_factors = EmbodiedTable();
  return run;
}

void ExpectRoundTrip(const RunResult& run) {
  const RunRecord record = MakeRunRecord(run);
  const json written = RunRecordToJson(record);
  // Through text, as a collector receives it.
  Result<RunRecord> back = RunRecordFromJson(json::parse(written.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == record);
  EXPECT_EQ(RunRecordToJson(*back), written);
  EXPECT_EQ(RunToJson(run), written);  // the writer only formats the record
}

TEST(RunRecord, FixtureRoundTripsLosslessly) { ExpectRoundTrip(FixtureRun()); }

TEST(RunRecord, EverySectionRoundTripsLosslessly) {
  const RunResult run = RichRun();
  const RunRecord r = MakeRunRecord(run);
  // The parts this test is about are really there.
  ASSERT_EQ(r.tasks.size(), 1u);
  ASSERT_EQ(r.gpus.size(), 1u);
  EXPECT_EQ(r.gpus[0].power_limit_w, 700.0);
  EXPECT_TRUE(r.overhead.has_value());
  EXPECT_TRUE(r.emissions_by_basis.marginal.has_value());
  EXPECT_TRUE(r.kinds.at("dram").bounds.machine.has_value());
  bool reset = false, wrap = false;
  for (const EventRecord& e : r.events) {
    reset = reset || e.kind == LedgerEventKind::kReset;
    wrap = wrap || e.kind == LedgerEventKind::kWrap;
  }
  EXPECT_TRUE(reset && wrap);
  EXPECT_EQ(r.metadata.start, FixedWall() + std::chrono::microseconds(250));
  ASSERT_TRUE(r.embodied.has_value());
  EXPECT_EQ(r.embodied->items.size(), 4u);  // server, 1 more socket, dram, gpu0
  ExpectRoundTrip(run);
}

// An MPI rank's tag (wattprint/mpi.h) is written and read back; a record
// without one (every record outside MPI, every older one) has no "mpi" key.
TEST(RunRecord, MpiRankRoundTripsAndIsAbsentOutsideMpi) {
  RunResult run = RichRun();
  EXPECT_FALSE(RunToJson(run)["metadata"].contains("mpi"));
  run.meta.mpi = MpiRank{3, 1, std::nullopt, "PMI_RANK", false};
  const json j = RunToJson(run);
  EXPECT_EQ(j["metadata"]["mpi"]["rank"], 3);
  EXPECT_EQ(j["metadata"]["mpi"]["local_rank"], 1);
  EXPECT_TRUE(j["metadata"]["mpi"]["world_size"].is_null());
  EXPECT_EQ(j["metadata"]["mpi"]["measures_node"], false);
  ExpectRoundTrip(run);
  json bad = j;
  bad["metadata"]["mpi"]["rank"] = "three";
  EXPECT_EQ(RunRecordFromJson(bad).status().code(), Status::Code::kCorrupt);
}

// Process scope: the server and sockets by the tree's CPU share (1/4 of the
// ticks), the 32 GiB of DRAM beyond the server's 16 by its RAM share (1 GiB
// of 16), the GPU by its process
// energy share (1/4); each over duration / lifetime (4.5 s here).
TEST(RunRecord, EmbodiedIsSharedInTheRunsScope) {
  const RunResult run = RichRun();
  const RunRecord r = MakeRunRecord(run);
  ASSERT_TRUE(r.embodied.has_value());
  const EmbodiedRecord& e = *r.embodied;
  EXPECT_EQ(e.scope, "process");
  const std::vector<EmbodiedFactor> t = EmbodiedTable();
  auto factor = [&](const std::string& key) {
    return *std::find_if(t.begin(), t.end(), [&](const EmbodiedFactor& f) { return f.key == key; });
  };
  constexpr double kYear = 365.25 * 86400;
  struct Expect {
    const char* device;
    const char* factor;
    double count, share;
  } expect[] = {{"server", "server", 1, 0.25}, {"cpu", "cpu", 1, 0.25}, {"dram", "dram", 0, 1.0 / 16},
                {"gpu0", "gpu_test_h100", 1, 0.25}};
  expect[2].count = 48.0 - factor("server").includes_dram_gb;
  ASSERT_EQ(e.items.size(), std::size(expect));
  double sum = 0;
  for (size_t i = 0; i < std::size(expect); ++i) {
    const EmbodiedItemRecord& item = e.items[i];
    const EmbodiedFactor f = factor(expect[i].factor);
    SCOPED_TRACE(expect[i].device);
    EXPECT_EQ(item.device, expect[i].device);
    EXPECT_EQ(item.factor, expect[i].factor);
    EXPECT_DOUBLE_EQ(item.count, expect[i].count);
    EXPECT_NEAR(item.use_share, expect[i].share, 1e-12);
    EXPECT_NEAR(item.time_share, 4.5 / (f.lifetime_years * kYear), 1e-15);
    EXPECT_NEAR(item.kg, expect[i].count * f.kg_co2e * item.time_share * expect[i].share, 1e-15);
    EXPECT_EQ(item.source, f.source);
    EXPECT_EQ(item.licence, f.licence);
    sum += item.kg;
  }
  EXPECT_NEAR(e.kg, sum, 1e-15);
  EXPECT_TRUE(e.not_counted.empty());
  EXPECT_EQ(EmbodiedOfRun(run), r.embodied);
}

// Manufacturing emissions stand apart: the operational figures and the
// CSV row are the same with and without them.
TEST(RunRecord, EmbodiedIsNeverAddedToEmissions) {
  RunResult with = RichRun();
  RunResult without = with;
  without.meta.embodied_factors.reset();
  const RunRecord a = MakeRunRecord(with), b = MakeRunRecord(without);
  ASSERT_TRUE(a.embodied.has_value());
  EXPECT_GT(a.embodied->kg, 0);
  EXPECT_FALSE(b.embodied.has_value());
  EXPECT_TRUE(a.emissions == b.emissions);
  EXPECT_TRUE(a.emissions_by_basis == b.emissions_by_basis);
  EXPECT_EQ(MakeCsvRow(with, 0, 3, FixedWall()).fields, MakeCsvRow(without, 0, 3, FixedWall()).fields);
  EXPECT_FALSE(RunToJson(without).contains("embodied"));
}

// Machine scope on the fixture: a GPU the source could not name is listed,
// not counted as 0.
TEST(RunRecord, EmbodiedListsWhatItCouldNotCount) {
  RunResult run = FixtureRun();
  run.meta.embodied_factors = BuiltinEmbodiedFactors();
  const std::optional<EmbodiedRecord> e = MakeRunRecord(run).embodied;
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->scope, "machine");
  EXPECT_THAT(e->not_counted, ::testing::ElementsAre(
                                  "cpu: socket count unknown (no \"physical id\" in /proc/cpuinfo)", "gpu-0: GPU model unknown"));
  // The server alone: its figure covers the fixture's 16 GiB; no socket count.
  ASSERT_EQ(e->items.size(), 1u);
  EXPECT_EQ(e->items[0].device, "server");
  for (const EmbodiedItemRecord& i : e->items) EXPECT_EQ(i.use_share, 1);
  ExpectRoundTrip(run);
}

TEST(RunRecord, SubSecondTimesAreWrittenWithMicroseconds) {
  const json j = RunToJson(RichRun());
  EXPECT_EQ(j["metadata"]["start"], "2024-05-01T12:00:00.000250Z");
  EXPECT_EQ(j["tasks"][0]["start"], "2024-05-01T12:00:01.500123Z");
  EXPECT_EQ(j["tasks"][0]["end"], "2024-05-01T12:00:04Z");
}

TEST(RunRecord, BadRecordsAreCorruptNamingTheField) {
  const json good = RunToJson(RichRun());
  struct Case {
    const char* what;
    std::function<void(json&)> spoil;
    const char* message;
  };
  const Case cases[] = {
      {"missing key", [](json& j) { j["metadata"].erase("run_id"); }, "record.metadata.run_id: missing"},
      {"wrong type", [](json& j) { j["pue"] = "high"; }, "record.pue: wrong type (string)"},
      {"unknown enum", [](json& j) { j["channels"][1]["kind"] = "tpu"; }, "record.channels[1].kind: unknown value 'tpu'"},
      {"bad time", [](json& j) { j["tasks"][0]["start"] = "yesterday"; }, "record.tasks[0].start: 'yesterday'"},
      {"newer schema", [](json& j) { j["schema_version"] = 99; }, "99 is not one this wattprint reads"},
      {"not an object", [](json& j) { j = json::array(); }, "record: expected an object"},
      {"bad sample", [](json& j) { j["samples"][0]["machine_j"][0] = "x"; }, "record.samples[0].machine_j[0]"},
      {"bad event kind", [](json& j) { j["events"][0]["kind"] = "boom"; }, "record.events[0].kind"},
      {"bad embodied item", [](json& j) { j["embodied"]["items"][0]["kg"] = "x"; },
       "record.embodied.items[0].kg: wrong type"},
      {"embodied without items", [](json& j) { j["embodied"].erase("items"); }, "record.embodied.items: missing"},
  };
  for (const Case& c : cases) {
    json j = good;
    c.spoil(j);
    Result<RunRecord> r = RunRecordFromJson(j);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), Status::Code::kCorrupt) << c.what;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.what;
  }
}

// An older agent's record (schema_version 1) lacks the fields version 2
// added; it is read, and they take their defaults.
TEST(RunRecord, VersionOneRecordsAreRead) {
  json j = RunToJson(RichRun());
  j["schema_version"] = 1;
  for (json& c : j["channels"]) {
    for (const char* k : {"resets", "lower_bound", "power_ceiling_w", "power_ceiling_source", "bounds"}) c.erase(k);
  }
  for (auto& [name, k] : j["kinds"].items()) {
    k.erase("lower_bound");
    k.erase("bounds");
  }
  for (const char* k : {"partial", "left_out", "process_partial"}) j["emissions"].erase(k);
  j["emissions"]["machine"].erase("bounds");
  j["emissions"]["process"].erase("bounds");
  j["emissions_by_basis"]["average"].erase("g");
  for (json& e : j["events"]) e.erase("kind");
  j.erase("embodied");  // older agents wrote none
  Result<RunRecord> r = RunRecordFromJson(j);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->schema_version, 1);
  EXPECT_EQ(r->channels[0].resets, 0);
  EXPECT_EQ(r->events[0].kind, LedgerEventKind::kWrap);  // from "counter wrapped ..."
  EXPECT_EQ(r->emissions.machine.low, r->emissions.machine.co2e);
  EXPECT_TRUE(r->emissions_by_basis.average.has_value());
  EXPECT_FALSE(r->embodied.has_value());
}

}  // namespace
}  // namespace wattprint
