// CPU cost of one sample: the work the tracker's sampler does at every tick
// (machine and tree activity, every source's poll, the ledger update), with
// 4 RAPL domains (2 sockets x package+dram) and a tracked process tree of 1
// or 100 processes.
//
//   BM_Sample/TREE/CLOCK   back-to-back samples (warm caches)
//   BM_SampleAfterSleep/TREE/CLOCK
//                          one sample every 100 ms, as the sampler takes
//                          them at --interval 0.1 (cold caches)
//
// CLOCK=1: the tree's CPU time comes from the inherited perf task-clock, as
// in `wattprint run`; the procfs walk of the tree then runs every
// kTreeWalkPeriod (5 s), so warm runs shorter than that see at most one.
// CLOCK=0: the procfs walk at every sample (an in-process tracker, or a
// kernel that refuses perf_event_open), i.e. the cost of one walk.
//
//   ./build/bench/sample_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "support/temp_tree.h"
#include "wattprint/activity.h"
#include "wattprint/ledger.h"
#include "wattprint/sources.h"

namespace {

using wattprint::testing::TempTree;

void WriteRapl(const TempTree& t) {
  const char* zones[][2] = {{"intel-rapl:0", "package-0"}, {"intel-rapl:0:0", "dram"},
                            {"intel-rapl:1", "package-1"}, {"intel-rapl:1:0", "dram"}};
  for (auto& z : zones) {
    std::string d = std::string("sys/class/powercap/") + z[0];
    t.Write(d + "/name", std::string(z[1]) + "\n");
    t.Write(d + "/energy_uj", "123456789\n");
    t.Write(d + "/max_energy_range_uj", "262143328850\n");
  }
}

// Forks `n` children that sleep until killed: the benchmark process and its
// children form the tracked tree.
std::vector<pid_t> SpawnChildren(int n) {
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) {
    pid_t p = fork();
    if (p == 0) {
      pause();
      _exit(0);
    }
    pids.push_back(p);
  }
  return pids;
}

// Everything one sample touches, set up as `wattprint run` sets it up.
struct Rig {
  TempTree t;
  wattprint::DiscoveredSources found;
  std::vector<wattprint::ChannelInfo> infos;
  std::vector<size_t> offsets;
  std::vector<pid_t> kids;
  std::unique_ptr<wattprint::ActivitySampler> act;
  std::unique_ptr<wattprint::Ledger> ledger;
  std::vector<wattprint::Reading> readings;
  bool clock = false;

  Rig(int tree, bool with_clock) {
    WriteRapl(t);
    wattprint::SourceOptions so;
    so.roots.sysfs = t.Path("sys");
    so.roots.procfs = "/proc";
    found = wattprint::DiscoverSources(so);
    for (auto& s : found.sources) {
      offsets.push_back(infos.size());
      for (auto& c : s->channels()) infos.push_back(c);
    }
    // The clock must exist before the children are forked to follow them.
    const int fd = with_clock ? wattprint::OpenInheritedTaskClock() : -1;
    kids = SpawnChildren(tree - 1);
    act = std::make_unique<wattprint::ActivitySampler>(so.roots, wattprint::PosixFileSystem(), 0);
    auto c = wattprint::TaskClockFromFd(fd);
    clock = c != nullptr;
    act->SetRoot(getpid(), std::move(c));
    ledger = std::make_unique<wattprint::Ledger>(infos);
    readings.resize(infos.size());
  }
  ~Rig() {
    for (pid_t p : kids) kill(p, SIGKILL);
    for (pid_t p : kids) waitpid(p, nullptr, 0);
  }
  int Sample() {
    auto now = wattprint::SteadyClock::now();
    auto snap = act->Sample(now);
    for (size_t i = 0; i < found.sources.size(); ++i) {
      found.sources[i]->Poll(now, snap, {readings.data() + offsets[i], found.sources[i]->channels().size()});
    }
    ledger->Add(now, std::chrono::system_clock::now(), readings, snap);
    return snap.tree_processes;
  }
};

void BM_Sample(benchmark::State& state) {
  Rig rig(static_cast<int>(state.range(0)), state.range(1) != 0);
  if (state.range(1) != 0 && !rig.clock) {
    state.SkipWithError("perf_event_open refused: no tree CPU clock");
    return;
  }
  int processes = 0;
  for (auto _ : state) processes = rig.Sample();
  state.counters["channels"] = static_cast<double>(rig.infos.size());
  state.counters["tree_processes"] = processes;
}
BENCHMARK(BM_Sample)
    ->Args({1, 0})
    ->Args({100, 0})
    ->Args({1, 1})
    ->Args({100, 1})
    ->ArgNames({"tree", "clock"})
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMicrosecond);

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Reports this thread's CPU time per sample, taken 100 ms apart.
void BM_SampleAfterSleep(benchmark::State& state) {
  Rig rig(static_cast<int>(state.range(0)), state.range(1) != 0);
  if (state.range(1) != 0 && !rig.clock) {
    state.SkipWithError("perf_event_open refused: no tree CPU clock");
    return;
  }
  for (auto _ : state) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const double c0 = ThreadCpuSeconds();
    rig.Sample();
    state.SetIterationTime(ThreadCpuSeconds() - c0);
  }
}
BENCHMARK(BM_SampleAfterSleep)
    ->Args({1, 0})
    ->Args({100, 1})
    ->ArgNames({"tree", "clock"})
    ->UseManualTime()
    ->Iterations(50)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
