// Charging each interval's machine energy to the cgroups that used it, and
// keeping the rest: no I/O.
#include <algorithm>
#include <optional>
#include <string_view>

#include "wattprint/cgroups.h"
#include "wattprint/emissions.h"

namespace wattprint {

namespace {

// The reading of `path` in a snapshot, walking forward from *at: callers
// ask in path order, so a whole snapshot is matched in one pass.
const CgroupReading* FindFrom(const CgroupSnapshot& s, const std::string& path, size_t* at) {
  while (*at < s.cgroups.size()) {
    const int order = s.cgroups[*at].path.compare(path);
    if (order == 0) return &s.cgroups[*at];
    if (order > 0) return nullptr;
    ++*at;
  }
  return nullptr;
}

constexpr const char* kGone = "(gone)";

// The followed cgroup (an index into b) that `path` is, or is below.
std::optional<size_t> Owner(const CgroupSnapshot& b, std::string_view path) {
  while (!path.empty()) {
    auto it = std::lower_bound(b.cgroups.begin(), b.cgroups.end(), path,
                               [](const CgroupReading& r, std::string_view p) { return r.path < p; });
    if (it != b.cgroups.end() && it->path == path) return static_cast<size_t>(it - b.cgroups.begin());
    const size_t slash = path.rfind('/');
    path = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  }
  return std::nullopt;
}

// Each followed cgroup's part of the interval's GPU energy (indexes of b).
std::vector<Energy> GpuCharges(const CgroupSnapshot& b, const std::vector<CgroupGpuUse>& gpus) {
  std::vector<Energy> out(b.cgroups.size());
  std::vector<std::pair<size_t, double>> hits;
  for (const CgroupGpuUse& g : gpus) {
    hits.clear();
    double sum = 0;
    for (const auto& [path, share] : g.processes) {
      const std::optional<size_t> owner = Owner(b, path);
      if (!owner || !(share > 0)) continue;
      hits.emplace_back(*owner, std::min(share, 1.0));
      sum += hits.back().second;
    }
    const double scale = sum > 1 ? 1 / sum : 1;
    for (const auto& [i, share] : hits) out[i] += g.energy * (share * scale);
  }
  return out;
}

}  // namespace

KindEnergies CountedEnergyByKind(const Ledger& ledger) {
  const std::vector<ChannelInfo>& channels = ledger.channels();
  const std::vector<bool> counted = CountedChannels(channels);
  const Totals all = ledger.SumAll();
  KindEnergies out;
  for (size_t i = 0; i < channels.size() && i < all.channels.size(); ++i) {
    if (!counted[i]) continue;
    const Energy e = all.channels[i].machine;
    switch (channels[i].kind) {
      case DeviceKind::kDram: out.dram += e; break;
      case DeviceKind::kGpu:
        out.gpu += e;
        out.gpus.emplace_back(channels[i].device_id, e);
        break;
      default: out.cpu += e; break;  // cpu, or platform standing in for it
    }
  }
  return out;
}

CgroupLedger::CgroupLedger(size_t max_series) : max_series_(std::max<size_t>(max_series, 2)) {}

std::vector<CgroupTotal> CgroupLedger::totals() const {
  std::vector<CgroupTotal> out;
  out.reserve(totals_.size());
  for (const auto& [path, t] : totals_) out.push_back(t);
  return out;
}

void CgroupLedger::AddInterval(const CgroupSnapshot& a, const CgroupSnapshot& b, Energy cpu, Energy dram,
                               Energy gpu, const std::vector<CgroupGpuUse>& gpus) {
  dropped_ += b.dropped;
  const double capacity_us = std::chrono::duration<double, std::micro>(b.t - a.t).count() * b.online_cpus;
  std::vector<double> cpu_share(b.cgroups.size(), 0.0), ram_share(b.cgroups.size(), 0.0);
  double cpu_sum = 0, ram_sum = 0;
  size_t in_a = 0;
  for (size_t i = 0; i < b.cgroups.size(); ++i) {
    const CgroupReading& now = b.cgroups[i];
    const CgroupReading* before = FindFrom(a, now.path, &in_a);
    if (now.usage_usec && capacity_us > 0) {
      const uint64_t from = before && before->usage_usec ? *before->usage_usec : 0;
      const double used = *now.usage_usec >= from ? static_cast<double>(*now.usage_usec - from) : 0.0;
      cpu_share[i] = std::clamp(used / capacity_us, 0.0, 1.0);
    }
    if (now.memory_bytes && b.mem_total_bytes > 0) {
      const uint64_t mem = std::max(*now.memory_bytes, before && before->memory_bytes ? *before->memory_bytes : 0);
      ram_share[i] = std::clamp(static_cast<double>(mem) / static_cast<double>(b.mem_total_bytes), 0.0, 1.0);
    }
    cpu_sum += cpu_share[i];
    ram_sum += ram_share[i];
  }
  const double cpu_scale = cpu_sum > 1 ? 1 / cpu_sum : 1;
  const double ram_scale = ram_sum > 1 ? 1 / ram_sum : 1;
  const std::vector<Energy> gpu_charge = GpuCharges(b, gpus);
  Energy given_gpu;
  for (const Energy& e : gpu_charge) given_gpu += e;
  // The GPUs' energies come from the same counted channels as `gpu`; never
  // give more than it.
  const double gpu_scale = given_gpu > gpu && given_gpu.joules() > 0 ? gpu.joules() / given_gpu.joules() : 1;
  given_gpu = Energy();
  Energy given_cpu, given_dram;
  // The totals are in path order too: one walk marks who is present.
  auto total = totals_.begin();
  for (size_t i = 0; i < b.cgroups.size(); ++i) {
    const std::string& path = b.cgroups[i].path;
    int order = 1;
    for (; total != totals_.end() && (order = total->first.compare(path)) < 0; ++total) total->second.present = false;
    if (total == totals_.end() || order != 0) {
      total = totals_.emplace_hint(total, path, CgroupTotal{});
      total->second.path = path;
    }
    CgroupTotal& t = total->second;
    ++total;
    t.present = true;
    const Energy c = cpu * (cpu_share[i] * cpu_scale);
    const Energy d = dram * (ram_share[i] * ram_scale);
    const Energy g = gpu_charge[i] * gpu_scale;
    t.cpu += c;
    t.dram += d;
    t.gpu += g;
    given_cpu += c;
    given_dram += d;
    given_gpu += g;
  }
  for (; total != totals_.end(); ++total) total->second.present = false;
  // The rest, by difference: the cgroups and it add up to the machine.
  rest_cpu_ += cpu - given_cpu;
  rest_dram_ += dram - given_dram;
  rest_gpu_ += gpu - given_gpu;
  Bound();
}

// Over the cap, the vanished cgroups that used least fold into "(gone)".
void CgroupLedger::Bound() {
  if (totals_.size() <= max_series_) return;
  std::vector<std::map<std::string, CgroupTotal>::iterator> gone;
  for (auto it = totals_.begin(); it != totals_.end(); ++it) {
    if (!it->second.present && it->first != kGone) gone.push_back(it);
  }
  std::sort(gone.begin(), gone.end(), [](auto x, auto y) { return x->second.Sum().joules() < y->second.Sum().joules(); });
  const size_t excess = totals_.size() - max_series_ + (totals_.count(kGone) ? 0 : 1);  // room for "(gone)"
  CgroupTotal folded;
  for (size_t k = 0; k < gone.size() && k < excess; ++k) {
    folded.cpu += gone[k]->second.cpu;
    folded.dram += gone[k]->second.dram;
    folded.gpu += gone[k]->second.gpu;
    totals_.erase(gone[k]);
  }
  CgroupTotal& g = totals_[kGone];
  g.path = kGone;
  g.present = false;
  g.cpu += folded.cpu;
  g.dram += folded.dram;
  g.gpu += folded.gpu;
}

}  // namespace wattprint
