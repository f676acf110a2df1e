// One `monitor --attribute cgroups` poll over 1,000 cgroups: the
// hierarchy listed and each cgroup's cpu.stat and memory.current read
// (CgroupSampler::Sample), then the interval charged (CgroupLedger
// ::AddInterval). Google Benchmark's CPU time is the figure (goal: 2 ms).
//
//   ./build-test/bench/cgroup_bench
#include <benchmark/benchmark.h>

#include <string>
#include <thread>

#include "support/temp_tree.h"
#include "wattprint/cgroups.h"

namespace {

using wattprint::testing::TempTree;

void WriteCgroups(const TempTree& t, int n, int round) {
  for (int i = 0; i < n; ++i) {
    const std::string d = "sys/fs/cgroup/kubepods/pod-" + std::to_string(i);
    t.Write(d + "/cpu.stat", "usage_usec " + std::to_string(1000 * round + i) + "\nuser_usec 0\nsystem_usec 0\n");
    t.Write(d + "/memory.current", std::to_string(1000000 + i) + "\n");
    t.Write(d + "/cgroup.procs", "");
  }
}

void BM_PollOf1000Cgroups(benchmark::State& state) {
  TempTree t;
  t.Write("sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
  t.Write("proc/stat", "cpu  1 1 1 1\ncpu0 1 1 1 1\ncpu1 1 1 1 1\n");
  t.Write("proc/meminfo", "MemTotal: 16000000 kB\n");
  WriteCgroups(t, static_cast<int>(state.range(0)), 0);
  wattprint::SystemRoots roots{t.Path("sys"), t.Path("proc")};
  wattprint::CgroupSelection sel;
  sel.parents = {"kubepods"};
  wattprint::CgroupSampler sampler(wattprint::PosixFileSystem(), roots, sel);
  wattprint::CgroupLedger ledger;
  auto prev = sampler.Sample(wattprint::SteadyClock::now());
  const auto pause = std::chrono::milliseconds(state.range(1));
  for (auto _ : state) {
    if (pause.count() > 0) {
      // As in the monitor: the thread sleeps between polls (caches cool).
      state.PauseTiming();
      std::this_thread::sleep_for(pause);
      state.ResumeTiming();
    }
    auto now = sampler.Sample(wattprint::SteadyClock::now());
    ledger.AddInterval(*prev, *now, wattprint::Energy::Joules(10), wattprint::Energy::Joules(1),
                       wattprint::Energy::Joules(0));
    prev = std::move(now);
  }
  state.counters["cgroups"] = static_cast<double>(prev->cgroups.size());
}
// Back to back, and with a 50 ms sleep between polls.
BENCHMARK(BM_PollOf1000Cgroups)->Args({1000, 0})->Args({1000, 50})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
