// Source discovery and polling over an in-memory sysfs and procfs tree:
// powercap zones, hwmon chips, the perf `power` PMU's files, EDAC DIMMs,
// cpuinfo and meminfo, with values, names, cpulists and limits that a
// faulty or hostile machine could hold. The tree changes between polls
// (tree.h). Every reading is a finite number or unavailable, and the
// ledger's energies stay finite and non-negative.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "check.h"
#include "sources/perf_event_api.h"
#include "tree.h"
#include "wattprint/ledger.h"
#include "wattprint/sources.h"

using namespace wattprint;

namespace {

// perf_event_open answered from the tree: the count of event fd N is the
// number in /perf/N (absent: an I/O error).
class TreePerf final : public PerfEventApi {
 public:
  explicit TreePerf(const fuzz::MemFs* fs) : fs_(fs) {}
  Result<int> Open(uint32_t type, uint64_t config, int cpu) override {
    if (type > 64 || config > 64 || cpu < 0 || cpu > 4096) return Status::NotFound("no such event");
    return static_cast<int>(++next_);
  }
  Result<uint64_t> ReadCounter(int fd) override {
    Result<std::string> t = fs_->ReadFile("/perf/" + std::to_string(fd));
    if (!t.ok()) return t.status();
    Result<unsigned long long> v = ParseUnsigned(*t, "perf count");
    if (!v.ok()) return v.status();
    return static_cast<uint64_t>(*v);
  }
  void Close(int) override {}

 private:
  const fuzz::MemFs* fs_;
  unsigned next_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<fuzz::TreeRound> rounds = fuzz::ParseTree(text);
  auto fs = std::make_shared<fuzz::MemFs>();
  fuzz::Apply(rounds[0], fs.get());

  SourceOptions opts;
  opts.roots.sysfs = "/sys";
  opts.roots.procfs = "/proc";
  opts.fs = fs;
  opts.perf = std::make_shared<TreePerf>(fs.get());
  opts.nvml_library = "/nonexistent/libnvidia-ml.so.1";
  opts.rocm_smi_library = "/nonexistent/librocm_smi64.so";
  DiscoveredSources found = DiscoverSources(opts);
  FUZZ_CHECK(!found.reports.empty());

  std::vector<ChannelInfo> infos;
  for (const auto& s : found.sources) {
    for (const ChannelInfo& c : s->channels()) {
      FUZZ_CHECK(!c.id.empty());
      infos.push_back(c);
    }
  }
  Ledger ledger(infos);
  // Polls one second apart, with a plausible activity snapshot.
  const SteadyTime t0{};
  const SystemTime w0 = std::chrono::system_clock::from_time_t(1780272000);
  ActivitySnapshot act;
  act.ok = true;
  act.online_cpus = 4;
  act.mem_total_bytes = 16ull << 30;
  act.mem_available_bytes = 8ull << 30;
  for (size_t round = 0; round < rounds.size() + 1; ++round) {
    if (round > 0 && round < rounds.size()) fuzz::Apply(rounds[round], fs.get());
    act.machine_total_ticks = 400 * (round + 1);
    act.machine_busy_ticks = 100 * (round + 1);
    const SteadyTime now = t0 + std::chrono::seconds(round + 1);
    std::vector<Reading> readings(infos.size());
    size_t at = 0;
    for (const auto& s : found.sources) {
      const size_t n = s->channels().size();
      s->Poll(now, act, std::span<Reading>(readings.data() + at, n));
      at += n;
    }
    for (const Reading& r : readings) {
      if (r.ok) FUZZ_CHECK(std::isfinite(r.value));
    }
    ledger.Add(now, w0 + std::chrono::seconds(round + 1), readings, act);
  }
  const Totals all = ledger.SumAll();
  for (const ChannelTotal& c : all.channels) {
    for (Energy e : {c.machine, c.process, c.machine_low, c.machine_high}) {
      FUZZ_CHECK(std::isfinite(e.joules()) && e.joules() >= 0);
    }
  }
  return 0;
}
