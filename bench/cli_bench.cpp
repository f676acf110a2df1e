// Whole-command costs of `wattprint run`:
//   - wall time it adds over running `true` directly (the two alternate);
//   - CPU time and peak RSS of `wattprint run --interval 0.1 -- sleep 10`;
//   - the floor under that CPU time on this machine: a bare 10 Hz wake-up loop.
//
//   ./build/bench/cli_bench --wattprint ./build/wattprint
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
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

// Runs `true` and `wattprint run -- true` alternately, so that both see the
// same machine (a shared VM drifts by tens of percent within minutes), and
// reports the difference of the medians as added_ms.
void BM_WattprintRunTrue(benchmark::State& state) {
  long rss = 0;
  std::vector<double> bare, wrapped;
  for (auto _ : state) {
    bare.push_back(Run({"/bin/true"}).wall_s);
    Usage u = Run({g_wattprint, "run", "--quiet", "--no-save", "--", "/bin/true"});
    wrapped.push_back(u.wall_s);
    state.SetIterationTime(u.wall_s);
    rss = std::max(rss, u.maxrss_kib);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  state.counters["true_ms"] = 1e3 * median(bare);
  state.counters["wrapped_ms"] = 1e3 * median(wrapped);
  state.counters["added_ms"] = 1e3 * (median(wrapped) - median(bare));
  state.counters["peak_rss_KiB"] = static_cast<double>(rss);
}
BENCHMARK(BM_WattprintRunTrue)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(3.0);

// wattprint's own CPU seconds from its JSON record ("overhead"), or -1.
double OwnCpuSeconds(const std::string& json_path) {
  FILE* f = std::fopen(json_path.c_str(), "r");
  if (f == nullptr) return -1;
  std::string text;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  std::fclose(f);
  const size_t at = text.find("\"cpu_s\":", text.find("\"overhead\""));
  return at == std::string::npos ? -1 : std::strtod(text.c_str() + at + 8, nullptr);
}

// One long run; the figure that matters is CPU per second of wall time.
// cpu_percent_of_core counts everything the process tree used (start-up,
// `sleep` itself, outputs); wattprint_percent_of_core is wattprint's own
// CPU time as its JSON record states it (getrusage of itself, the command
// excluded); sampler_percent_of_core subtracts a run of the same command
// whose interval is longer than the run, which takes only its start/stop
// readings.
void BM_WattprintSleep10(benchmark::State& state) {
  Usage u;
  Usage base;
  double own = -1;
  const std::string json = "/tmp/wattprint-cli-bench.json";
  for (auto _ : state) {
    u = Run({g_wattprint, "run", "--quiet", "--no-save", "--json", json, "--interval", "0.1", "--",
             "/bin/sleep", "10"});
    state.SetIterationTime(u.wall_s);
    own = OwnCpuSeconds(json);
    base = Run({g_wattprint, "run", "--quiet", "--no-save", "--interval", "1000", "--", "/bin/sleep", "10"});
  }
  std::remove(json.c_str());
  state.counters["cpu_s"] = u.cpu_s;
  state.counters["cpu_percent_of_core"] = 100.0 * u.cpu_s / u.wall_s;
  state.counters["wattprint_percent_of_core"] = own < 0 ? -1 : 100.0 * own / u.wall_s;
  state.counters["sampler_percent_of_core"] = 100.0 * (u.cpu_s - base.cpu_s) / u.wall_s;
  state.counters["peak_rss_KiB"] = static_cast<double>(u.maxrss_kib);
}
BENCHMARK(BM_WattprintSleep10)->UseManualTime()->Unit(benchmark::kSecond)->Iterations(1);

// The floor under any 10 Hz sampler on this machine: a loop that only
// sleeps until the next 100 ms tick and reads /proc/stat once, as the
// sampler does. On a virtual machine most of the cost of a wake-up is the
// hypervisor's, and the figure shows how much of the sampler's share that
// is.
void BM_TimerWakeFloor(benchmark::State& state) {
  constexpr int kWakes = 50;
  double percent = 0;
  for (auto _ : state) {
    const int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
    char buf[8192];
    struct rusage a {}, b {};
    getrusage(RUSAGE_SELF, &a);
    timespec next{};
    clock_gettime(CLOCK_MONOTONIC, &next);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kWakes; ++i) {
      next.tv_nsec += 100'000'000;
      if (next.tv_nsec >= 1'000'000'000) {
        next.tv_nsec -= 1'000'000'000;
        ++next.tv_sec;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
      benchmark::DoNotOptimize(pread(fd, buf, sizeof buf, 0));
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    getrusage(RUSAGE_SELF, &b);
    close(fd);
    auto secs = [](const struct rusage& r) {
      return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
    };
    percent = 100.0 * (secs(b) - secs(a)) / wall;
    state.SetIterationTime(wall);
  }
  state.counters["cpu_percent_of_core"] = percent;
}
BENCHMARK(BM_TimerWakeFloor)->UseManualTime()->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  // Nothing leaves the machine: no cloud metadata probe (169.254.169.254)
  // from the runs below; the location comes from the time zone.
  setenv("WATTPRINT_CLOUD_METADATA", "false", 1);
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
