// The /proc readers: /proc/stat, /proc/meminfo, /proc/PID/stat,
// /proc/PID/task/TID/children (the tracked tree's walk) and /proc/cpuinfo,
// over an in-memory tree that changes between samples (tree.h). The tree
// root is pid 100. A snapshot is either unavailable with a reason, or
// holds figures that can be true: busy time within total time, available
// memory within the total, at least the root in the tree.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.h"
#include "output/sysinfo.h"
#include "tree.h"
#include "wattprint/activity.h"

using namespace wattprint;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<fuzz::TreeRound> rounds = fuzz::ParseTree(text);
  auto fs = std::make_shared<fuzz::MemFs>();
  fuzz::Apply(rounds[0], fs.get());
  SystemRoots roots;
  roots.sysfs = "/sys";
  roots.procfs = "/proc";

  ActivitySampler sampler(roots, fs, 100);
  const SteadyTime t0{};
  for (size_t round = 0; round < rounds.size(); ++round) {
    if (round > 0) fuzz::Apply(rounds[round], fs.get());
    // Past the periodic walk's period each time, so every read is due.
    const ActivitySnapshot s = sampler.Sample(t0 + kTreeWalkPeriod * (round + 1) * 2);
    if (!s.ok) {
      FUZZ_CHECK(!s.error.message().empty());
      continue;
    }
    FUZZ_CHECK(s.machine_busy_ticks <= s.machine_total_ticks);
    FUZZ_CHECK(s.online_cpus >= 0);
    FUZZ_CHECK(s.mem_available_bytes <= s.mem_total_bytes);
    if (s.tree_ok) FUZZ_CHECK(s.tree_processes >= 1);
  }

  if (Result<std::string> cpuinfo = fs->ReadFile("/proc/cpuinfo"); cpuinfo.ok()) {
    (void)ParseCpuModel(*cpuinfo);
    FUZZ_CHECK(ParseCpuCount(*cpuinfo) >= 0);
  }
  if (Result<std::string> meminfo = fs->ReadFile("/proc/meminfo"); meminfo.ok()) {
    (void)ParseMemTotalBytes(*meminfo);
  }
  const RunMetadata meta = CollectMetadata(roots, *fs);
  FUZZ_CHECK(meta.cpu_count >= 0);
  return 0;
}
