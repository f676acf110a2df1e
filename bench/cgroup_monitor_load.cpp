// `wattprint monitor --attribute cgroups --prometheus` over 1,000 cgroups,
// measured from outside: the time a scrape of /metrics takes (3,000 cgroup
// series and the machine's), the monitor's RSS, and its CPU per poll (its
// own wattprint_exporter_cpu_seconds_total over its updates). Everything
// listens on 127.0.0.1; the tree is a temporary fixture.
//
//   ./build-test/bench/cgroup_monitor_load --wattprint ./build-test/wattprint [--cgroups N]
//       [--real-cgroup2 /sys/fs/cgroup/unified]   (as root: kernel cgroups, not files)
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/free_port.h"
#include "support/temp_tree.h"

extern char** environ;

namespace {

double Metric(const std::string& body, const std::string& name) {
  size_t at = body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + name.size() + 2));
}

long RssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string wattprint;
  int n = 1000;
  std::string interval = "1";  // the monitor's poll interval, seconds
  std::string real;  // a cgroup2 mount to make the cgroups in, instead of plain files
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--wattprint") wattprint = argv[i + 1];
    if (std::string(argv[i]) == "--cgroups") n = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--real-cgroup2") real = argv[i + 1];
    if (std::string(argv[i]) == "--interval") interval = argv[i + 1];
  }
  if (wattprint.empty()) {
    std::fprintf(stderr, "usage: cgroup_monitor_load --wattprint PATH\n");
    return 2;
  }
  wattprint::testing::TempTree t;
  for (const char* zone : {"intel-rapl:0", "intel-rapl:0:0"}) {
    const std::string d = std::string("sys/class/powercap/") + zone;
    t.Write(d + "/name", zone == std::string("intel-rapl:0") ? "package-0\n" : "dram\n");
    t.Write(d + "/energy_uj", "1000000000\n");
    t.Write(d + "/max_energy_range_uj", "262143328850\n");
    t.Write(d + "/enabled", "1\n");
  }
  // Real cgroups: made under REAL/wattprint-bench, which the fixture's
  // fs/cgroup links to, and removed at the end. Their cpu.stat is the
  // kernel's; memory.current exists only where the memory controller is on.
  const std::string made = real.empty() ? "" : real + "/wattprint-bench";
  if (!real.empty()) {
    if (mkdir(made.c_str(), 0755) != 0 && errno != EEXIST) {
      std::fprintf(stderr, "cgroup_monitor_load: cannot make %s: %s\n", made.c_str(), std::strerror(errno));
      return 1;
    }
    for (int i = 0; i < n; ++i) mkdir((made + "/pod-" + std::to_string(i)).c_str(), 0755);
    t.Write("sys/fs/.keep", "");
    if (symlink(real.c_str(), t.Path("sys/fs/cgroup").c_str()) != 0) return 1;
  } else {
    t.Write("sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
  }
  t.Write("proc/stat", "cpu  1 1 1 1 0 0 0 0 0 0\ncpu0 1 1 1 1 0 0 0 0 0 0\ncpu1 1 1 1 1 0 0 0 0 0 0\n");
  t.Write("proc/meminfo", "MemTotal: 16000000 kB\nMemFree: 8000000 kB\nMemAvailable: 9000000 kB\n");
  for (int i = 0; i < n && real.empty(); ++i) {
    const std::string d = "sys/fs/cgroup/kubepods/pod-" + std::to_string(i);
    t.Write(d + "/cpu.stat", "usage_usec " + std::to_string(1000 + i) + "\n");
    t.Write(d + "/memory.current", "1000000\n");
  }
  const int port = wattprint::testing::FreePort();
  std::vector<std::string> args = {wattprint,        "monitor",         "--sysfs-root",     t.Path("sys"),
                                   "--procfs-root",  t.Path("proc"),    "--no-cloud-metadata", "--country",
                                   "FRA",            "--interval",      interval,                "--no-save",
                                   "--quiet",        "--prometheus",    "127.0.0.1:" + std::to_string(port)};
  if (n > 0) {
    for (const char* a : {"--attribute", "cgroups", "--cgroup-parents"}) args.push_back(a);
    args.push_back(real.empty() ? "kubepods" : "wattprint-bench");
  }
  std::vector<char*> argvs;
  for (auto& a : args) argvs.push_back(a.data());
  argvs.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, argvs[0], nullptr, nullptr, argvs.data(), environ) != 0) return 1;
  std::this_thread::sleep_for(std::chrono::seconds(4));
  httplib::Client c("127.0.0.1", port);
  // The process's CPU over ten polls in steady state (one scrape included).
  auto first = c.Get("/metrics");
  if (!first) return 1;
  std::this_thread::sleep_for(std::chrono::seconds(10));
  auto second = c.Get("/metrics");
  if (!second) return 1;
  const double cpu = Metric(second->body, "wattprint_exporter_cpu_seconds_total") -
                     Metric(first->body, "wattprint_exporter_cpu_seconds_total");
  const double poll_cpu = Metric(second->body, "wattprint_exporter_poll_cpu_seconds_total") -
                          Metric(first->body, "wattprint_exporter_poll_cpu_seconds_total");
  const double polls = Metric(second->body, "wattprint_exporter_updates_total") -
                       Metric(first->body, "wattprint_exporter_updates_total");
  // Scrapes as Prometheus sends them (it asks for gzip), and plain.
  auto scrape = [&](bool gzip) {
    std::vector<double> ms;
    httplib::Headers h;
    if (gzip) h.emplace("Accept-Encoding", "gzip");
    for (int i = 0; i < 21; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = c.Get("/metrics", h);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[10];
  };
  c.set_decompress(false);
  const double plain_ms = scrape(false);
  const double gzip_ms = scrape(true);
  const std::string& body = second->body;
  const long rss = RssKib(pid);
  const size_t lines = static_cast<size_t>(std::count(body.begin(), body.end(), '\n'));
  kill(pid, SIGINT);
  waitpid(pid, nullptr, 0);
  if (!made.empty()) {
    for (int i = 0; i < n; ++i) rmdir((made + "/pod-" + std::to_string(i)).c_str());
    rmdir(made.c_str());
  }
  std::printf("monitor over %d %s:  a scrape of %zu lines %.2f ms (gzip, as Prometheus asks) / %.2f ms "
              "(plain), medians of 21; RSS %.1f MiB; per poll %.2f ms CPU on the sampling thread, %.2f ms in the whole "
              "process (one scrape included) over %g polls\n",
              n, real.empty() ? "cgroups (plain files)" : "real cgroups", lines, gzip_ms, plain_ms, rss / 1024.0, polls > 0 ? poll_cpu / polls * 1000 : -1,
              polls > 0 ? cpu / polls * 1000 : -1, polls);
  return 0;
}
