// `wattprint doctor`: print, on stdout, every source wattprint knows with
// what its probe found, the channels a run would use, the intensity and
// its provenance, whether process scope works, and the effective
// configuration with the origin of each value. With --json FILE the same
// report is also written as JSON. Exits 0 unless the configuration is
// invalid (2) or the JSON file cannot be written (1): finding nothing is a
// diagnosis, not an error.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "options.h"
#include "wattprint/activity.h"

namespace wattprint::cli {
namespace {

void PrintSources(const std::vector<ProbeReport>& reports) {
  fmt::print("Sources (probed in priority order):\n");
  for (const ProbeReport& r : reports) {
    fmt::print("  {:<13} {:<7} {}\n", r.name, ToString(r.state), r.reason);
    if (r.state == ProbeState::kDenied && !r.fix.empty()) fmt::print("  {:<13} fix:    {}\n", "", r.fix);
  }
}

void PrintChannels(const std::vector<ProbeReport>& reports) {
  fmt::print("\nChannels a run would use:\n");
  size_t n = 0;
  for (const ProbeReport& r : reports) {
    for (const ChannelInfo& c : r.channels) {
      fmt::print("  {:<28} {:<9} {:<17} {}\n", c.id, ToString(c.kind), ToString(c.method),
                 c.path.empty() ? "-" : c.path);
      ++n;
    }
  }
  if (n == 0) {
    fmt::print(
        "  none: a run would report no energy. Give --cpu-power W to estimate the CPU\n"
        "  from its utilisation, or fix a denied source above.\n");
  }
}

std::string ModelValue(const ChannelInfo& c, const char* key) {
  auto it = c.model.find(key);
  return it == c.model.end() ? std::string() : it->second;
}

// Every GPU a run would measure, and what its library supports for it.
void PrintGpus(const std::vector<ProbeReport>& reports) {
  std::vector<const ChannelInfo*> gpus;
  for (const ProbeReport& r : reports) {
    for (const ChannelInfo& c : r.channels) {
      if (c.kind == DeviceKind::kGpu) gpus.push_back(&c);
    }
  }
  if (gpus.empty()) return;
  fmt::print("\nGPUs:\n");
  for (const ChannelInfo* c : gpus) {
    const std::string uuid = ModelValue(*c, "uuid");
    fmt::print("  {}{}\n", c->label, uuid.empty() ? "" : " (" + uuid + ")");
    const std::string energy = ModelValue(*c, "energy");
    fmt::print("    energy:  {}\n", energy.empty() ? std::string(ToString(c->method)) : energy);
    const std::string process = ModelValue(*c, "process_attribution");
    if (!process.empty()) fmt::print("    process: {}\n", process);
    const auto limit = c->model_inputs.find("power_limit_w");
    if (limit != c->model_inputs.end()) fmt::print("    power limit: {:g} W\n", limit->second);
    const std::string mig = ModelValue(*c, "mig_instances");
    if (!mig.empty()) fmt::print("    MIG instances: {}\n", mig);
  }
}

void PrintIntensity(const IntensityTimeline& t) {
  const IntensityProvenance& p = t.provenance;
  fmt::print("\nCarbon intensity:\n");
  fmt::print("  {} gCO2e/kWh{}\n", t.points.empty() ? 0.0 : t.points.front().value.g_per_kwh(),
             p.is_default ? " (default: no location configured; give --country, --zone or --region)" : "");
  if (!p.zone.empty()) fmt::print("  zone:       {}\n", p.zone);
  if (!p.country_name.empty()) fmt::print("  country:    {} ({})\n", p.country_name, p.country_iso3);
  if (!p.region.empty()) fmt::print("  region:     {}\n", p.region);
  fmt::print("  source:     {}{}\n", p.source, p.year ? fmt::format(", {}", p.year) : "");
  fmt::print("  resolution: {}\n", p.resolution);
}

ActivitySnapshot SampleSelf(const Config& cfg) {
  SystemRoots roots;
  roots.sysfs = cfg.sysfs_root;
  roots.procfs = cfg.procfs_root;
  ActivitySampler sampler(roots, PosixFileSystem(), getpid());
  return sampler.Sample();
}

// Whether `wattprint run` can count its command's tree CPU time with the
// inherited perf counter (activity.h), tried on this process.
struct ClockProbe {
  bool available = false;
  std::string error;
  std::string paranoid;  // kernel.perf_event_paranoid, "" when unreadable
};

ClockProbe ProbeTreeCpuClock(const Config& cfg) {
  ClockProbe p;
  const int fd = OpenInheritedTaskClock();
  p.available = fd >= 0;
  if (fd >= 0) {
    close(fd);
  } else {
    p.error = std::strerror(-fd);
  }
  SystemRoots roots;
  roots.procfs = cfg.procfs_root;
  auto text = PosixFileSystem()->ReadFile(roots.Proc("sys/kernel/perf_event_paranoid"));
  if (text.ok()) p.paranoid = std::string(Trim(*text));
  return p;
}

void PrintTreeCpuClock(const ClockProbe& p) {
  const std::string level = p.paranoid.empty() ? "unreadable" : p.paranoid;
  if (p.available) {
    fmt::print("  tree CPU clock: perf_event task-clock available (kernel.perf_event_paranoid = {})\n",
               level);
    return;
  }
  fmt::print("  tree CPU clock: refused ({}; kernel.perf_event_paranoid = {}); `run` walks procfs "
             "at every sample instead\n  fix: sudo sysctl kernel.perf_event_paranoid=2, or "
             "sudo setcap cap_perfmon+ep $(command -v wattprint)\n",
             p.error, level);
}

void PrintProcessScope(const Config& cfg, const ActivitySnapshot& s) {
  SystemRoots roots;
  roots.procfs = cfg.procfs_root;
  fmt::print("\nProcess scope:\n");
  if (s.ok && s.tree_ok) {
    fmt::print("  works: read {} ({} CPUs, this process tree: {} process(es))\n",
               roots.Proc("self"), s.online_cpus, s.tree_processes);
  } else {
    const Status& why = s.error;
    fmt::print("  does not work: {}\n  --scope process would have no share; use --scope machine\n",
               why.ok() ? std::string("the process tree could not be read") : why.ToString());
  }
}

void PrintConfig(const Config& cfg, const std::vector<std::string>& files) {
  fmt::print("\nConfiguration (flags > WATTPRINT_* > ./wattprint.toml > user file > defaults):\n");
  for (const ConfigKey& k : ConfigKeys()) {
    const std::string v = ConfigValueText(cfg, k.key);
    fmt::print("  {:<16} = {:<24} ({})\n", k.key, v.empty() ? "(unset)" : v, cfg.OriginOf(k.key));
  }
  if (files.empty()) fmt::print("  config files: none found\n");
  for (const std::string& f : files) fmt::print("  config file: {}\n", f);
}

nlohmann::json ReportJson(const Config& cfg, const std::vector<std::string>& files,
                          const DiscoveredSources& found, const IntensityTimeline& intensity,
                          const ActivitySnapshot& self, const ClockProbe& clock) {
  using nlohmann::json;
  json sources = json::array();
  json channels = json::array();
  for (const ProbeReport& r : found.reports) {
    sources.push_back({{"name", r.name}, {"state", ToString(r.state)}, {"reason", r.reason},
                       {"fix", r.fix.empty() ? json(nullptr) : json(r.fix)}});
    for (const ChannelInfo& c : r.channels) {
      channels.push_back({{"id", c.id}, {"kind", ToString(c.kind)}, {"method", ToString(c.method)},
                          {"path", c.path}, {"source", r.name},
                          {"model", c.model.empty() ? json(nullptr) : json(c.model)}});
    }
  }
  const IntensityProvenance& p = intensity.provenance;
  json config = json::object();
  for (const ConfigKey& k : ConfigKeys()) {
    config[k.key] = {{"value", ConfigValueText(cfg, k.key)}, {"origin", cfg.OriginOf(k.key)}};
  }
  return {{"wattprint_version", WATTPRINT_VERSION},
          {"sources", sources},
          {"channels", channels},
          {"intensity",
           {{"g_per_kwh", intensity.points.empty() ? json(nullptr) : json(intensity.points[0].value.g_per_kwh())},
            {"zone", p.zone}, {"source", p.source}, {"year", p.year}, {"resolution", p.resolution},
            {"is_default", p.is_default}}},
          {"process_scope",
           {{"works", self.ok && self.tree_ok},
            {"error", self.error.ok() ? json(nullptr) : json(self.error.ToString())},
            {"tree_cpu_clock",
             {{"available", clock.available},
              {"error", clock.available ? json(nullptr) : json(clock.error)},
              {"perf_event_paranoid", clock.paranoid.empty() ? json(nullptr) : json(clock.paranoid)}}}}},
          {"config", config},
          {"config_files", files}};
}

bool WriteReport(const std::string& path, const nlohmann::json& j) {
  std::ofstream out(path, std::ios::trunc);
  out << j.dump(2) << "\n";
  out.close();
  if (out) return true;
  std::fprintf(stderr, "wattprint: error: cannot write %s\n", path.c_str());
  return false;
}

}  // namespace

int DoctorCommand(const Config& cfg, const std::vector<std::string>& config_files) {
  Result<IntensityTimeline> intensity = ResolveIntensity(cfg);
  if (!intensity.ok()) return UsageError(intensity.status().message());
  const DiscoveredSources found = DiscoverSources(MakeSourceOptions(cfg));
  fmt::print("wattprint {} doctor\n\n", WATTPRINT_VERSION);
  PrintSources(found.reports);
  PrintChannels(found.reports);
  PrintGpus(found.reports);
  PrintIntensity(*intensity);
  const ActivitySnapshot self = SampleSelf(cfg);
  PrintProcessScope(cfg, self);
  const ClockProbe clock = ProbeTreeCpuClock(cfg);
  PrintTreeCpuClock(clock);
  PrintConfig(cfg, config_files);
  std::fflush(stdout);
  if (cfg.json.empty()) return 0;
  return WriteReport(cfg.json, ReportJson(cfg, config_files, found, *intensity, self, clock)) ? 0 : 1;
}

}  // namespace wattprint::cli
