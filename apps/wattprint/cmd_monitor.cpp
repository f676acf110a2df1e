// `wattprint monitor`: track the whole machine until SIGINT, SIGTERM or
// SIGHUP; append one CSV row every --save-interval seconds covering the
// samples since the previous row, and a last partial row on exit.
//
// After each row, the row's polls are coalesced into one ledger interval
// (Ledger::Coalesce), so memory stays bounded over weeks; totals, the summary
// and the JSON still cover the whole run.
//
// The signals are blocked before the sampler thread starts and read from a
// signalfd, so the main thread can sleep in poll() until the next row is
// due or a signal arrives. Monitor always uses machine scope: there is no
// process tree to attribute to.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <nlohmann/json.hpp>
#include <cstdio>

#include "commands.h"
#include "options.h"
#include "output/prometheus.h"
#include "wattprint/cgroups.h"
#include "sources/nvml_processes.h"

namespace wattprint::cli {
namespace {

int StopSignalFd() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return signalfd(-1, &set, SFD_CLOEXEC);
}

// Waits until `deadline` or a stop signal; true when a signal arrived.
bool WaitForStop(int sigfd, SteadyTime deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return false;
    pollfd p{sigfd, POLLIN, 0};
    const int n = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0;  // an unusable signalfd ends the run rather than spinning
    signalfd_siginfo si{};
    if (read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) return true;
  }
}

// At most this many written rows stay in the ledger at full (row)
// resolution; beyond it Ledger::Thin merges the older half pairwise, so a
// monitor that runs for a year still holds a few thousand intervals. The
// CSV keeps every row; the JSON series gets coarser towards the start.
constexpr size_t kMaxRowIntervals = 4096;

// `--attribute cgroups`: after each poll, the cgroups are read and the
// energy used since the last reading that worked is charged to them
// (wattprint/cgroups.h). A reading that fails leaves its energy to the next.
class CgroupTracking {
 public:
  CgroupTracking(const Config& cfg, CgroupSelection sel)
      : nvml_library_(cfg.nvml_library),
        sampler_(PosixFileSystem(), SystemRoots{cfg.sysfs_root, cfg.procfs_root}, std::move(sel)),
        ledger_(4096) {}
  // The first reading, just before the tracker starts: the energy of its
  // first interval is charged against it. NVIDIA GPUs among the channels
  // get their energy attributed by process (MIG instances excepted: NVML
  // has no per-process data there).
  Status Begin(const std::vector<ChannelInfo>& channels) {
    const SteadyTime now = SteadyClock::now();
    Result<CgroupSnapshot> first = sampler_.Sample(now);
    if (!first.ok()) return first.status();
    prev_ = std::move(first).value();
    std::vector<std::string> gpus;
    for (const ChannelInfo& c : channels) {
      if (c.kind == DeviceKind::kGpu && c.id.starts_with("nvml:") && !c.model.contains("mig_instances")) {
        gpus.push_back(c.device_id);
      }
    }
    if (!gpus.empty()) {
      Result<std::unique_ptr<NvmlProcessUse>> use = NvmlProcessUse::Open(nvml_library_, gpus);
      if (use.ok()) {
        gpu_use_ = std::move(use).value();
        (void)gpu_use_->Read(now);  // from now on: NVML keeps samples from before the start
      } else {
        std::fprintf(stderr, "wattprint: warning: GPU energy stays unattributed to cgroups: %s\n",
                     use.status().message().c_str());
      }
    }
    return Status::Ok();
  }
  // On the sampling thread after each poll, and once more on this thread
  // after the last (the stop's) poll.
  void OnSample(const Ledger& ledger) {
    Result<CgroupSnapshot> now = sampler_.Sample(SteadyClock::now());
    if (!now.ok()) return;
    const KindEnergies used = CountedEnergyByKind(ledger);
    if (prev_) {
      ledger_.AddInterval(*prev_, *now, used.cpu - seen_.cpu, used.dram - seen_.dram, used.gpu - seen_.gpu,
                          GpuUses(used, now->t));
    }
    prev_ = std::move(now).value();
    seen_ = used;
  }
  const CgroupLedger& ledger() const { return ledger_; }
  RunResult::CgroupFigures Figures() const {
    return {ledger_.totals(), ledger_.unattributed_cpu(), ledger_.unattributed_dram(), ledger_.unattributed_gpu(),
            ledger_.dropped()};
  }

 private:
  // Each GPU's energy since the last reading and the cgroups of the
  // processes that used it.
  std::vector<CgroupGpuUse> GpuUses(const KindEnergies& used, SteadyTime now) {
    std::vector<CgroupGpuUse> out;
    if (!gpu_use_) return out;
    for (const GpuProcessShares& g : gpu_use_->Read(now)) {
      if (!g.known) continue;
      CgroupGpuUse u;
      for (const auto& [id, e] : used.gpus) {
        if (id == g.device_id) u.energy += e;
      }
      for (const auto& [id, e] : seen_.gpus) {
        if (id == g.device_id) u.energy -= e;
      }
      for (const auto& [pid, share] : g.shares) {
        if (std::optional<std::string> cgroup = sampler_.CgroupOf(pid)) u.processes.emplace_back(*cgroup, share);
      }
      out.push_back(std::move(u));
    }
    return out;
  }

  std::string nvml_library_;
  std::unique_ptr<NvmlProcessUse> gpu_use_;
  CgroupSampler sampler_;
  CgroupLedger ledger_;
  std::optional<CgroupSnapshot> prev_;
  KindEnergies seen_;
};

CgroupSelection SelectionOf(const Config& cfg) {
  CgroupSelection sel;
  sel.depth = cfg.cgroup_depth;
  std::string rest = cfg.cgroup_parents;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string one(Trim(rest.substr(0, comma)));
    while (!one.empty() && one.back() == '/') one.pop_back();
    while (!one.empty() && one.front() == '/') one.erase(0, 1);
    if (!one.empty()) sel.parents.push_back(one);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  return sel;
}

// Appends a row every period until a stop signal, coalescing each written
// row's polls so memory and the cost of each Flush stay bounded however
// long the monitor runs. Returns the first poll not yet written.
// With a collector, each row is also an interval of the run there; a batch
// it does not take goes again with the next (IntervalStream).
void StreamInterval(const RunResult& run, size_t from, size_t to, IntervalStream* stream, int64_t* seq) {
  if (stream == nullptr) return;
  const SystemTime now = std::chrono::system_clock::now();
  const std::string metadata = RunToJson(run)["metadata"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  stream->Add(metadata, IntervalText(MakeCsvRecord(run, from, to, now), ++*seq, now));
  (void)stream->Flush();
}

size_t WriteRowsUntilStopped(const Config& cfg, int sigfd, Tracker& tracker, RunResult* run,
                             IntervalStream* stream, int64_t* seq) {
  const auto period = std::chrono::duration_cast<Duration>(Seconds(cfg.save_interval_s));
  SteadyTime next = SteadyClock::now() + period;
  size_t last = 0;
  while (!WaitForStop(sigfd, next)) {
    next += period;
    run->snapshot = tracker.Flush();
    const size_t end = run->snapshot.ledger->num_points() - 1;
    if (end <= last) continue;
    run->wall_start = run->snapshot.wall_start;
    SaveOutputs(cfg, *run, last, end, false);
    StreamInterval(*run, last, end, stream, seq);
    (void)tracker.Coalesce(last, end);
    last = tracker.Thin(last + 1, kMaxRowIntervals).value_or(last + 1);
  }
  return last;
}

// The last partial row, the JSON record of the whole run and the summary.
void FinishMonitor(const Config& cfg, const Tracker& tracker, size_t last, RunResult* run, IntervalStream* stream,
                   int64_t* seq) {
  run->snapshot = tracker.Snapshot();
  run->wall_start = run->snapshot.wall_start;
  run->self_cost = MeasureSelfCost();
  const size_t points = run->snapshot.ledger->num_points();
  const size_t end = points == 0 ? 0 : points - 1;
  if (end > last) {
    SaveOutputs(cfg, *run, last, end, false);
    StreamInterval(*run, last, end, stream, seq);
  }
  SendToCollector(cfg, *run);
  if (!cfg.json.empty()) {
    Config json_only = cfg;
    json_only.save_to_file = false;
    SaveOutputs(json_only, *run, 0, end, true);
  }
  if (cfg.quiet) return;
  const std::string summary = FormatSummary(*run);
  std::fwrite(summary.data(), 1, summary.size(), stderr);
}

}  // namespace

int MonitorCommand(const Config& input) {
  Config cfg = input;
  cfg.scope = Scope::kMachine;
  Location where;
  std::optional<IntensityTimeline> other;
  Result<IntensityTimeline> intensity = ResolveIntensity(cfg, &where, &other);
  if (!intensity.ok()) return UsageError(intensity.status().message());
  DiscoveredSources found = DiscoverSources(MakeSourceOptions(cfg));

  RunResult run;
  run.meta = MakeMetadata(cfg);
  AddCloudPlacement(where, &run.meta);
  run.sources = found.reports;
  AddGpuMetadata(found.reports, &run.meta);
  run.scope = Scope::kMachine;
  run.intensity = std::move(intensity).value();
  run.other_intensity = std::move(other);

  LiveStatus live(cfg, &run);
  TrackerOptions topts = MakeTrackerOptions(cfg);
  topts.tree_root = 0;
  // Set before the sampler starts, read only by it (and by this thread
  // once it has stopped).
  std::unique_ptr<PrometheusExporter> exporter;
  std::optional<CgroupTracking> cgroups;
  if (cfg.attribute_cgroups) {
    std::vector<ChannelInfo> channels;
    for (const auto& source : found.sources) {
      channels.insert(channels.end(), source->channels().begin(), source->channels().end());
    }
    cgroups.emplace(cfg, SelectionOf(cfg));
    if (Status s = cgroups->Begin(channels); !s.ok()) {
      std::fprintf(stderr, "wattprint: error: cannot attribute energy to cgroups: %s\n", s.message().c_str());
      return 1;
    }
  }
  topts.on_sample = [status = live.Callback(), &exporter, &cgroups](const Ledger& ledger) {
    if (status) status(ledger);
    if (cgroups) cgroups->OnSample(ledger);
    if (exporter) exporter->Update(ledger, cgroups ? &cgroups->ledger() : nullptr);
  };

  // A closed stderr must not kill the monitor with SIGPIPE: writes fail
  // with EPIPE instead and the rows keep coming.
  signal(SIGPIPE, SIG_IGN);
  const int sigfd = StopSignalFd();
  if (sigfd < 0) {
    std::fprintf(stderr, "wattprint: error: cannot watch for signals (signalfd failed)\n");
    return 1;
  }
  Tracker tracker(std::move(topts), std::move(found.sources));
  if (!tracker.interval_note().empty()) {
    std::fprintf(stderr, "wattprint: warning: %s\n", tracker.interval_note().c_str());
  }
  if (!cfg.prometheus.empty()) {
    run.snapshot = tracker.Snapshot();  // the channels
    Result<std::unique_ptr<PrometheusExporter>> started = PrometheusExporter::Start(cfg.prometheus, &run);
    if (!started.ok()) {
      std::fprintf(stderr, "wattprint: error: %s\n", started.status().message().c_str());
      return 1;
    }
    exporter = std::move(started).value();
    if (!cfg.quiet) std::fprintf(stderr, "wattprint: Prometheus metrics at http://%s/metrics\n", cfg.prometheus.c_str());
  }
  Status st = tracker.Start();
  if (!st.ok()) {
    std::fprintf(stderr, "wattprint: error: cannot start tracking: %s\n", st.ToString().c_str());
    return 1;
  }
  std::optional<BackgroundReplay> replay;
  std::optional<IntervalStream> stream;
  if (!cfg.collector_url.empty()) {
    replay.emplace(UploadOptionsFor(cfg));
    stream.emplace(UploadOptionsFor(cfg), run.meta.run_id);
  }
  int64_t seq = 0;
  const size_t last = WriteRowsUntilStopped(cfg, sigfd, tracker, &run, stream ? &*stream : nullptr, &seq);
  (void)tracker.Stop();
  close(sigfd);
  live.Clear();
  if (cgroups) {
    cgroups->OnSample(*tracker.Snapshot().ledger);  // the stop's poll
    run.cgroup_figures = cgroups->Figures();
  }
  if (replay) replay->Finish();
  FinishMonitor(cfg, tracker, last, &run, stream ? &*stream : nullptr, &seq);
  return 0;
}

}  // namespace wattprint::cli
