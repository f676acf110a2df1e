// A fixed run for the output tests (CSV, JSON, summary): a ledger built
// from fabricated readings, fixed metadata and a fixed wall clock, so every
// figure is known in advance.
//
// Channels: CPU package counter, DRAM counter, a GPU power channel that is
// unavailable for the whole run. Three polls one second apart:
//   CPU  100 J -> 1900 J -> 3700 J   = 3600 J = 0.001 kWh (machine)
//   DRAM  10 J ->  190 J ->  370 J   =  360 J = 0.0001 kWh (machine)
// Activity: the machine is 50 % busy, the tree uses 1/4 of all CPU ticks and
// 1 GiB of a 16 GiB machine (share 1/16); MemAvailable is 12 GiB (25 % used).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "wattprint/intensity.h"
#include "wattprint/report.h"

namespace wattprint::testing {

// 2024-05-01T12:00:00Z
inline SystemTime FixedWall() { return SystemTime{} + std::chrono::seconds(1714564800); }
inline SteadyTime FixedSteady() { return SteadyTime{} + std::chrono::seconds(1000); }

inline std::vector<ChannelInfo> FixtureChannels() {
  ChannelInfo cpu;
  cpu.id = "powercap:package-0";
  cpu.device_id = "package-0";
  cpu.label = "CPU package 0 (intel-rapl:0)";
  cpu.kind = DeviceKind::kCpu;
  cpu.type = ChannelType::kEnergyCounter;
  cpu.method = Method::kMeasuredCounter;
  cpu.wrap_range = Energy::Joules(262143.328850);
  cpu.path = "/sys/class/powercap/intel-rapl:0";
  ChannelInfo dram = cpu;
  dram.id = "powercap:dram-0";
  dram.device_id = "dram-0";
  dram.label = "DRAM 0 (intel-rapl:0:2)";
  dram.kind = DeviceKind::kDram;
  dram.path = "/sys/class/powercap/intel-rapl:0/intel-rapl:0:2";
  ChannelInfo gpu;
  gpu.id = "nvml:gpu-0";
  gpu.device_id = "gpu-0";
  gpu.label = "GPU 0";
  gpu.kind = DeviceKind::kGpu;
  gpu.type = ChannelType::kPower;
  gpu.method = Method::kMeasuredPower;
  return {cpu, dram, gpu};
}

inline ActivitySnapshot FixtureActivity(int i) {
  constexpr unsigned long long kGiB = 1ULL << 30;
  ActivitySnapshot a;
  a.ok = true;
  a.online_cpus = 4;
  a.machine_total_ticks = 400ULL * i;
  a.machine_busy_ticks = 200ULL * i;
  a.tree_ok = true;
  a.tree_ticks = 100ULL * i;
  a.tree_rss_bytes = kGiB;
  a.tree_processes = 1;
  a.mem_total_bytes = 16 * kGiB;
  a.mem_available_bytes = 12 * kGiB;
  return a;
}

inline std::shared_ptr<Ledger> FixtureLedger() {
  auto ledger = std::make_shared<Ledger>(FixtureChannels());
  const double cpu[] = {100, 1900, 3700};
  const double dram[] = {10, 190, 370};
  for (int i = 0; i < 3; ++i) {
    std::vector<Reading> r = {Reading::Of(cpu[i]), Reading::Of(dram[i]),
                              Reading::Unavailable(Status::NotFound("libnvidia-ml.so.1 not found"))};
    ledger->Add(FixedSteady() + std::chrono::seconds(i), FixedWall() + std::chrono::seconds(i), r,
                FixtureActivity(i));
  }
  return ledger;
}

inline RunMetadata FixtureMetadata() {
  RunMetadata m;
  m.run_id = "0f3c2a4e-9b1d-4c7e-8a55-1d2e3f405162";
  m.command = {"python3", "train.py", "--epochs", "1"};
  m.os = "Linux-6.1.0-18-amd64-x86_64-with-glibc2.36";
  m.tool_version = "0.1.0";
  m.cpu_count = 8;
  m.cpu_model = "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz";
  m.ram_total_bytes = 16ULL << 30;
  m.pue = 1.0;
  m.exit_code = 0;
  return m;
}

inline ProbeReport FixtureProbe(const char* name, ProbeState st, const char* reason,
                                const char* fix, std::vector<ChannelInfo> ch) {
  ProbeReport p;
  p.name = name;
  p.description = std::string(name) + " source";
  p.state = st;
  p.reason = reason;
  p.fix = fix;
  p.channels = std::move(ch);
  return p;
}

// A fixed intensity with full provenance, so output tests do not move when
// the grid data are regenerated (the lookup has its own tests).
inline IntensityTimeline FixtureIntensity() {
  IntensityProvenance p;
  p.zone = "FRA";
  p.country_iso3 = "FRA";
  p.country_name = "France";
  p.source = "Ember (2024), Yearly Electricity Data, 2023 lifecycle average";
  p.year = 2023;
  p.basis = "average";
  p.resolution = "explicit --country";
  return IntensityTimeline::Constant(Intensity::GramsPerKwh(56), std::move(p));
}

inline RunResult FixtureRun() {
  RunResult run;
  run.meta = FixtureMetadata();
  run.snapshot.ledger = FixtureLedger();
  run.snapshot.wall_start = FixedWall();
  run.wall_start = FixedWall();
  run.scope = Scope::kMachine;
  run.intensity = FixtureIntensity();
  auto ch = FixtureChannels();
  run.sources.push_back(FixtureProbe("powercap", ProbeState::kFound, "2 zones", "", {ch[0], ch[1]}));
  run.sources.push_back(FixtureProbe("nvml", ProbeState::kAbsent, "libnvidia-ml.so.1 not found",
                                     "", {ch[2]}));
  return run;
}

}  // namespace wattprint::testing
