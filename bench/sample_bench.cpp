// CPU cost of one sample: the work the tracker's sampler does at every tick
// (procfs activity of the tracked tree, every source's poll, the ledger
// update), with 4 RAPL domains (2 sockets x package+dram) and a tracked
// process tree of 100 processes.
//
//   ./build/bench/sample_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>
#include <time.h>

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

void BM_Sample(benchmark::State& state) {
  const int tree = static_cast<int>(state.range(0));
  TempTree t;
  WriteRapl(t);
  wattprint::SourceOptions so;
  so.roots.sysfs = t.Path("sys");
  so.roots.procfs = "/proc";
  auto found = wattprint::DiscoverSources(so);
  std::vector<wattprint::ChannelInfo> infos;
  std::vector<size_t> offsets;
  for (auto& s : found.sources) {
    offsets.push_back(infos.size());
    for (auto& c : s->channels()) infos.push_back(c);
  }
  std::vector<pid_t> kids = SpawnChildren(tree - 1);
  wattprint::ActivitySampler act(so.roots, wattprint::PosixFileSystem(), getpid());
  wattprint::Ledger ledger(infos);
  std::vector<wattprint::Reading> readings(infos.size());
  int processes = 0;
  for (auto _ : state) {
    auto now = wattprint::SteadyClock::now();
    auto snap = act.Sample();
    for (size_t i = 0; i < found.sources.size(); ++i) {
      found.sources[i]->Poll(now, snap, {readings.data() + offsets[i], found.sources[i]->channels().size()});
    }
    ledger.Add(now, std::chrono::system_clock::now(), readings, snap);
    processes = snap.tree_processes;
  }
  for (pid_t p : kids) kill(p, SIGKILL);
  for (pid_t p : kids) waitpid(p, nullptr, 0);
  state.counters["channels"] = static_cast<double>(infos.size());
  state.counters["tree_processes"] = processes;
}
BENCHMARK(BM_Sample)->Arg(1)->Arg(100)->MeasureProcessCPUTime()->Unit(benchmark::kMicrosecond);

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The same sample taken as the sampler takes it: after sleeping 100 ms, with
// caches gone cold. Reports this thread's CPU time per sample.
void BM_SampleAfterSleep(benchmark::State& state) {
  TempTree t;
  WriteRapl(t);
  wattprint::SourceOptions so;
  so.roots.sysfs = t.Path("sys");
  so.roots.procfs = "/proc";
  auto found = wattprint::DiscoverSources(so);
  std::vector<wattprint::ChannelInfo> infos;
  std::vector<size_t> offsets;
  for (auto& s : found.sources) {
    offsets.push_back(infos.size());
    for (auto& c : s->channels()) infos.push_back(c);
  }
  wattprint::ActivitySampler act(so.roots, wattprint::PosixFileSystem(), getpid());
  wattprint::Ledger ledger(infos);
  std::vector<wattprint::Reading> readings(infos.size());
  for (auto _ : state) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const double c0 = ThreadCpuSeconds();
    auto now = wattprint::SteadyClock::now();
    auto snap = act.Sample();
    for (size_t i = 0; i < found.sources.size(); ++i) {
      found.sources[i]->Poll(now, snap, {readings.data() + offsets[i], found.sources[i]->channels().size()});
    }
    ledger.Add(now, std::chrono::system_clock::now(), readings, snap);
    state.SetIterationTime(ThreadCpuSeconds() - c0);
  }
}
BENCHMARK(BM_SampleAfterSleep)->UseManualTime()->Iterations(50)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
