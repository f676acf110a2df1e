// Charging each interval's machine energy to the cgroups that used it, and
// keeping the rest: no I/O.
#include <algorithm>

#include "wattprint/cgroups.h"
#include "wattprint/emissions.h"

namespace wattprint {

namespace {

const CgroupReading* Find(const CgroupSnapshot& s, const std::string& path) {
  auto it = std::lower_bound(s.cgroups.begin(), s.cgroups.end(), path,
                             [](const CgroupReading& r, const std::string& p) { return r.path < p; });
  return it != s.cgroups.end() && it->path == path ? &*it : nullptr;
}

constexpr const char* kGone = "(gone)";

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
      case DeviceKind::kGpu: out.gpu += e; break;
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
                               Energy gpu) {
  dropped_ += b.dropped;
  const double capacity_us = std::chrono::duration<double, std::micro>(b.t - a.t).count() * b.online_cpus;
  std::vector<double> cpu_share(b.cgroups.size(), 0.0), ram_share(b.cgroups.size(), 0.0);
  double cpu_sum = 0, ram_sum = 0;
  for (size_t i = 0; i < b.cgroups.size(); ++i) {
    const CgroupReading& now = b.cgroups[i];
    const CgroupReading* before = Find(a, now.path);
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
  Energy given_cpu, given_dram;
  for (auto& [path, t] : totals_) t.present = false;
  for (size_t i = 0; i < b.cgroups.size(); ++i) {
    CgroupTotal& t = totals_[b.cgroups[i].path];
    t.path = b.cgroups[i].path;
    t.present = true;
    const Energy c = cpu * (cpu_share[i] * cpu_scale);
    const Energy d = dram * (ram_share[i] * ram_scale);
    t.cpu += c;
    t.dram += d;
    given_cpu += c;
    given_dram += d;
  }
  // The rest, by difference: the cgroups and it add up to the machine.
  rest_cpu_ += cpu - given_cpu;
  rest_dram_ += dram - given_dram;
  rest_gpu_ += gpu;
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
