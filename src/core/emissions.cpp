// Energy x intensity x PUE, interval by interval.
#include "wattprint/emissions.h"

#include <algorithm>

namespace wattprint {

Intensity IntensityTimeline::At(SystemTime t) const {
  if (points.empty()) return Intensity(0.0);
  // Last point whose `from` is <= t; before the first point, the first value.
  auto it = std::upper_bound(points.begin(), points.end(), t,
                             [](SystemTime x, const IntensityPoint& p) { return x < p.from; });
  if (it == points.begin()) return points.front().value;
  return std::prev(it)->value;
}

IntensityTimeline IntensityTimeline::Constant(Intensity value, IntensityProvenance p) {
  IntensityTimeline tl;
  tl.points.push_back({SystemTime{}, value});
  tl.provenance = std::move(p);
  return tl;
}

std::vector<bool> CountedChannels(std::span<const ChannelInfo> channels) {
  bool has_cpu = false;
  for (const ChannelInfo& c : channels) has_cpu = has_cpu || c.kind == DeviceKind::kCpu;
  std::vector<bool> counted(channels.size());
  for (size_t i = 0; i < channels.size(); ++i) {
    counted[i] = channels[i].kind != DeviceKind::kPlatform || !has_cpu;
  }
  return counted;
}

EmissionsResult ComputeEmissions(const Ledger& ledger, size_t from_point, size_t to_point,
                                 Scope scope, const IntensityTimeline& intensity, double pue) {
  EmissionsResult r;
  const auto& ivs = ledger.intervals();
  if (ledger.num_points() == 0) return r;
  const std::vector<bool> counted = CountedChannels(ledger.channels());
  to_point = std::min(to_point, ledger.num_points() - 1);
  for (size_t k = from_point; k < to_point && k < ivs.size(); ++k) {
    const Interval& iv = ivs[k];
    Energy e;
    for (size_t c = 0; c < iv.channels.size() && c < counted.size(); ++c) {
      const ChannelDelta& d = iv.channels[c];
      if (d.ok && counted[c]) e += scope == Scope::kMachine ? d.machine : d.process;
    }
    e = e * pue;
    const auto half = std::chrono::duration_cast<SystemTime::duration>((iv.end - iv.begin) / 2);
    const Co2e c = e * intensity.At(iv.wall_end - half);
    r.energy += e;
    r.total += c;
    r.per_interval.push_back(c);
  }
  return r;
}

}  // namespace wattprint
