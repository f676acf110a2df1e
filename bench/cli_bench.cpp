// Whole-command costs of `wattprint run`:
//   - wall time it adds over running `true` directly;
//   - CPU time and peak RSS of `wattprint run --interval 0.1 -- sleep 10`.
//
//   ./build/bench/cli_bench --wattprint ./build/wattprint
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::string g_wattprint = "./build/wattprint";

struct Usage {
  double wall_s = 0;
  double cpu_s = 0;
  long maxrss_kib = 0;
};

// Runs argv with stdout/stderr sent to /dev/null and the current directory
// set to a scratch dir; returns wall time and the rusage of the process tree.
Usage Run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto t0 = std::chrono::steady_clock::now();
  pid_t p = fork();
  if (p == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    if (chdir("/tmp") != 0) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int st = 0;
  struct rusage ru {};
  wait4(p, &st, 0, &ru);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    std::fprintf(stderr, "%s failed (status %d)\n", args[0].c_str(), st);
    std::exit(1);
  }
  Usage u;
  u.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  u.cpu_s = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  u.maxrss_kib = ru.ru_maxrss;
  return u;
}

void BM_True(benchmark::State& state) {
  for (auto _ : state) {
    Usage u = Run({"/bin/true"});
    state.SetIterationTime(u.wall_s);
  }
}
BENCHMARK(BM_True)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_WattprintRunTrue(benchmark::State& state) {
  long rss = 0;
  for (auto _ : state) {
    Usage u = Run({g_wattprint, "run", "--quiet", "--no-save", "--", "/bin/true"});
    state.SetIterationTime(u.wall_s);
    rss = std::max(rss, u.maxrss_kib);
  }
  state.counters["peak_rss_KiB"] = static_cast<double>(rss);
}
BENCHMARK(BM_WattprintRunTrue)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);

// One long run; the figure that matters is CPU per second of wall time.
// cpu_percent_of_core counts everything (start-up, sleep itself, outputs);
// sampler_percent_of_core subtracts a run of the same command whose
// interval is longer than the run, which takes only its start/stop readings.
void BM_WattprintSleep10(benchmark::State& state) {
  Usage u;
  Usage base;
  for (auto _ : state) {
    u = Run({g_wattprint, "run", "--quiet", "--no-save", "--interval", "0.1", "--", "/bin/sleep", "10"});
    state.SetIterationTime(u.wall_s);
    base = Run({g_wattprint, "run", "--quiet", "--no-save", "--interval", "1000", "--", "/bin/sleep", "10"});
  }
  state.counters["cpu_s"] = u.cpu_s;
  state.counters["cpu_percent_of_core"] = 100.0 * u.cpu_s / u.wall_s;
  state.counters["sampler_percent_of_core"] = 100.0 * (u.cpu_s - base.cpu_s) / u.wall_s;
  state.counters["peak_rss_KiB"] = static_cast<double>(u.maxrss_kib);
}
BENCHMARK(BM_WattprintSleep10)->UseManualTime()->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--wattprint") == 0 && i + 1 < argc) {
      // Absolute: the runs below chdir to /tmp.
      char* abs = realpath(argv[++i], nullptr);
      g_wattprint = abs ? abs : argv[i];
      free(abs);
      continue;
    }
    rest.push_back(argv[i]);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
