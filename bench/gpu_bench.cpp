// CPU cost of one GPU sample: NvmlSource::Poll for 1 and 8 GPUs with a
// tracked tree (energy counter, utilisation, memory, per-process samples and
// the running-process list per GPU), against the fake NVML of the tests.
// The fake re-reads its scenario file at every call, so the figure is an
// upper bound of wattprint's own work plus that file read per NVML call;
// real NVML calls go to the driver instead.
//
//   ./build/bench/gpu_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "sources/probes.h"
#include "support/temp_tree.h"

namespace {

using wattprint::testing::TempTree;

void BM_NvmlPoll(benchmark::State& state) {
  const int gpus = static_cast<int>(state.range(0));
  TempTree t;
  std::string s = "count " + std::to_string(gpus) + "\n";
  for (int i = 0; i < gpus; ++i) {
    const std::string g = "gpu" + std::to_string(i) + ".";
    s += g + "name NVIDIA H100 80GB HBM3\n" + g + "uuid GPU-" + std::to_string(i) + "\n" + g +
         "energy_mj 123456789\n" + g + "util 80\n" + g + "mem_used 1000\n" + g + "samples 100:50,200:30\n" + g +
         "procs 100:1000,200:500\n";
  }
  t.Write("scenario", s);
  setenv("FAKE_NVML_SCENARIO", t.Path("scenario").c_str(), 1);
  wattprint::SourceOptions o;
  o.nvml_library = WATTPRINT_FAKE_NVML;
  wattprint::ProbeResult r = wattprint::ProbeNvml(o, {});
  if (!r.source) {
    state.SkipWithError(r.reason.c_str());
    return;
  }
  wattprint::ActivitySnapshot a;
  a.ok = a.tree_ok = true;
  a.tree_pids = {100, 101, 102};
  std::vector<wattprint::Reading> out(r.source->channels().size());
  for (auto _ : state) {
    r.source->Poll(wattprint::SteadyClock::now(), a, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["gpus"] = gpus;
}
BENCHMARK(BM_NvmlPoll)->Arg(1)->Arg(8)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
