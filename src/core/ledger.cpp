// Counter differencing, power integration and process attribution.
// See include/wattprint/ledger.h for the contract.
#include "wattprint/ledger.h"

#include <algorithm>
#include <fmt/format.h>

namespace wattprint {
namespace {

double Clamp01(double x) { return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x); }

// Shares derived from two consecutive activity snapshots.
struct Shares {
  bool cpu_ok = false;
  double cpu = 0.0;
  bool ram_ok = false;
  double ram = 0.0;
  bool util_ok = false;
  double cpu_util = 0.0;
  double ram_util = 0.0;
};

// The tree's CPU time over the interval, in machine ticks: from the
// nanosecond clock when both ends have it (a tree that did not exist at the
// previous poll started at zero), else from procfs ticks.
double TreeTicks(const ActivitySnapshot& prev, const ActivitySnapshot& cur) {
  if (cur.tree_cpu_ns_ok && (prev.tree_cpu_ns_ok || !prev.tree_ok)) {
    const unsigned long long before = prev.tree_cpu_ns_ok ? prev.tree_cpu_ns : 0;
    if (cur.tree_cpu_ns <= before) return 0.0;
    return static_cast<double>(cur.tree_cpu_ns - before) * static_cast<double>(cur.ticks_per_second) / 1e9;
  }
  const unsigned long long before = prev.tree_ok ? prev.tree_ticks : 0;
  return cur.tree_ticks >= before ? static_cast<double>(cur.tree_ticks - before) : 0.0;
}

Shares TickShares(const ActivitySnapshot& prev, const ActivitySnapshot& cur, Shares s) {
  const double total = static_cast<double>(cur.machine_total_ticks - prev.machine_total_ticks);
  const double busy = cur.machine_busy_ticks >= prev.machine_busy_ticks
                          ? static_cast<double>(cur.machine_busy_ticks - prev.machine_busy_ticks)
                          : 0.0;
  s.util_ok = true;
  s.cpu_util = Clamp01(busy / total);
  if (cur.mem_total_bytes > 0) {
    s.ram_util = Clamp01(1.0 - static_cast<double>(cur.mem_available_bytes) /
                                   static_cast<double>(cur.mem_total_bytes));
  }
  // A tree that did not exist at the previous poll (the command was started
  // right after the tracker's first reading) began within this interval, so
  // all of its ticks belong here.
  if (cur.tree_ok) {
    s.cpu_ok = true;
    s.cpu = Clamp01(TreeTicks(prev, cur) / total);
  }
  return s;
}

// Tree CPU share when procfs ticks (10 ms) did not advance in a short
// interval: the tree used no measurable CPU time, or all of what was counted.
Shares TickFreeShares(const ActivitySnapshot& prev, const ActivitySnapshot& cur, Shares s) {
  if (!cur.tree_ok) return s;
  s.cpu_ok = true;
  s.cpu = TreeTicks(prev, cur) > 0.0 ? 1.0 : 0.0;
  return s;
}

Shares ComputeShares(const ActivitySnapshot& prev, const ActivitySnapshot& cur) {
  Shares s;
  if (!prev.ok || !cur.ok) return s;
  if (cur.machine_total_ticks <= prev.machine_total_ticks) {
    s = TickFreeShares(prev, cur, s);
  } else {
    s = TickShares(prev, cur, s);
  }
  const unsigned long long rss =
      std::max(prev.tree_ok ? prev.tree_rss_bytes : 0ULL, cur.tree_rss_bytes);
  // The larger RSS seen at either end of the interval: a command that has
  // just exited is a zombie with no memory left. A tree never seen with
  // memory (it lived only between two polls) has an unknown RAM share.
  if (cur.tree_ok && cur.mem_total_bytes > 0 && rss > 0) {
    s.ram_ok = true;
    s.ram = Clamp01(static_cast<double>(rss) / static_cast<double>(cur.mem_total_bytes));
  }
  return s;
}

}  // namespace

const char* ToString(Scope s) { return s == Scope::kMachine ? "machine" : "process"; }

const char* ToString(LedgerEventKind k) {
  switch (k) {
    case LedgerEventKind::kWrap: return "wrap";
    case LedgerEventKind::kReset: return "reset";
    case LedgerEventKind::kJump: return "jump";
    case LedgerEventKind::kNegativePower: return "negative_power";
    case LedgerEventKind::kUnavailable: return "unavailable";
    case LedgerEventKind::kAvailableAgain: return "available_again";
    case LedgerEventKind::kLongGap: return "long_gap";
    case LedgerEventKind::kSuspend: return "suspend";
    case LedgerEventKind::kStall: return "stall";
  }
  return "unknown";
}

Power DefaultPowerCeiling(DeviceKind kind) {
  // Twice the largest rating of each kind on sale in 2025 (docs/sources/README.md).
  switch (kind) {
    case DeviceKind::kCpu: return Power::Watts(1000);      // 500 W server CPUs
    case DeviceKind::kDram: return Power::Watts(500);      // 24 RDIMMs x ~10 W
    case DeviceKind::kGpu: return Power::Watts(2000);      // 1000-1200 W accelerators
    case DeviceKind::kPlatform: return Power::Watts(2000);
  }
  return Power::Watts(2000);
}

Power PowerCeilingOf(const ChannelInfo& info) {
  return info.power_ceiling.watts() > 0.0 ? info.power_ceiling : DefaultPowerCeiling(info.kind);
}

Duration MinWrapTime(const ChannelInfo& info) {
  if (info.type != ChannelType::kEnergyCounter || info.wrap_range.joules() <= 0.0) return Duration::max();
  const double s = info.wrap_range.joules() / PowerCeilingOf(info).watts();
  if (s >= 1e9) return Duration::max();
  return std::chrono::duration_cast<Duration>(Seconds(s));
}

Ledger::Ledger(std::vector<ChannelInfo> channels)
    : channels_(std::move(channels)),
      state_(channels_.size()),
      last_status_(channels_.size(), Status::NotFound("not read yet")) {
  for (const ChannelInfo& c : channels_) {
    ceilings_.push_back(PowerCeilingOf(c));
    min_wrap_.push_back(MinWrapTime(c));
  }
}

void Ledger::Event(size_t c, LedgerEventKind k, std::string what) {
  events_.push_back({c, points_, k, std::move(what)});
}

std::optional<double> Ledger::CounterDelta(size_t c, double prev, double cur, Seconds window) {
  const double most = ceilings_[c].watts() * (window + kCeilingSlack).count();
  const double range = channels_[c].wrap_range.joules();
  if (cur >= prev) {
    if (cur - prev <= most) return cur - prev;
    Event(c, LedgerEventKind::kJump,
          fmt::format("counter jumped {} J -> {} J, more than {} W could use in {:.3g} s; interval dropped",
                      prev, cur, ceilings_[c].watts(), window.count()));
    return std::nullopt;
  }
  if (range > 0.0 && prev <= range && range - prev + cur <= most) {
    Event(c, LedgerEventKind::kWrap,
          fmt::format("counter wrapped ({} J -> {} J, range {} J)", prev, cur, range));
    return range - prev + cur;
  }
  // A decrease no wrap explains: the counter restarted. Dropping the
  // interval loses its energy (the total is a lower bound) but never invents
  // a range's worth of it.
  Event(c, LedgerEventKind::kReset,
        range > 0.0 ? fmt::format("counter reset ({} J -> {} J; a wrap would mean {:.0f} J in {:.3g} s, over "
                                  "the {} W ceiling); interval dropped",
                                  prev, cur, range - prev + cur, window.count(), ceilings_[c].watts())
                    : fmt::format("counter went backwards ({} J -> {} J) with unknown range; interval dropped",
                                  prev, cur));
  return std::nullopt;
}

ChannelDelta Ledger::Account(size_t c, SteadyTime t, const Reading& r, double default_share,
                             bool default_share_ok, Duration suspended) {
  ChannelState& st = state_[c];
  const ChannelInfo& info = channels_[c];
  ChannelDelta d;
  const bool over = r.ok && info.type == ChannelType::kPower && r.value > ceilings_[c].watts();
  if (!r.ok || over) {
    const Status why = over ? Status::Corrupt(fmt::format("{} W is over the channel's {} W ceiling",
                                                          r.value, ceilings_[c].watts()))
                            : r.error;
    if (st.last_ok) {
      Event(c, over ? LedgerEventKind::kJump : LedgerEventKind::kUnavailable,
            (over ? "ignored: " : "unavailable: ") + why.ToString());
    }
    st.last_ok = false;
    last_status_[c] = why;
    return d;
  }
  d.utilization = r.utilization;
  d.memory_used_bytes = r.memory_used_bytes;
  if (!st.last_ok && points_ > 0) Event(c, LedgerEventKind::kAvailableAgain, "available again");
  st.last_ok = true;
  last_status_[c] = Status::Ok();
  if (!st.have_prev) {
    st.have_prev = true;
    st.prev_value = r.value;
    st.prev_low = r.low;
    st.prev_high = r.high;
    st.prev_time = t;
    return d;  // a baseline, no interval yet
  }

  const Seconds dt = std::chrono::duration_cast<Seconds>(t - st.prev_time);
  double joules = 0.0;
  double low_j = -1.0, high_j = -1.0;
  if (info.type == ChannelType::kPower) {
    // Trapezoid between this reading and the last good one.
    joules = 0.5 * (st.prev_value + r.value) * dt.count();
    if (r.low >= 0.0 && st.prev_low >= 0.0) low_j = 0.5 * (st.prev_low + r.low) * dt.count();
    if (r.high >= 0.0 && st.prev_high >= 0.0) high_j = 0.5 * (st.prev_high + r.high) * dt.count();
    d.ok = r.value >= 0.0 && st.prev_value >= 0.0;
    if (!d.ok) Event(c, LedgerEventKind::kNegativePower, fmt::format("negative power {} W ignored", r.value));
  } else {
    // The ceiling applies to the awake time only: a machine draws next to
    // nothing while suspended, so a counter that restarted across a suspend
    // must not pass as a wrap by crediting the sleep with full power.
    const std::optional<double> delta = CounterDelta(c, st.prev_value, r.value, dt);
    d.ok = delta.has_value();
    joules = delta.value_or(0.0);
    if (d.ok && t - st.prev_time + suspended >= min_wrap_[c]) {
      d.lower_bound = true;
      Event(c, LedgerEventKind::kLongGap,
            fmt::format("{:.3g} s since the last reading: the counter can wrap in {:.3g} s, so wraps may be "
                        "missing (lower bound)",
                        (dt + suspended).count(), std::chrono::duration_cast<Seconds>(min_wrap_[c]).count()));
    }
  }
  st.prev_value = r.value;
  st.prev_low = r.low;
  st.prev_high = r.high;
  st.prev_time = t;
  if (!d.ok) return d;

  d.machine = Energy::Joules(joules);
  d.machine_low = Energy::Joules(low_j >= 0.0 ? std::min(low_j, joules) : joules);
  d.machine_high = Energy::Joules(high_j >= 0.0 ? std::max(high_j, joules) : joules);
  d.lower_bound = d.lower_bound || suspended > Duration::zero();
  if (r.process_share >= 0.0) {
    d.share = Clamp01(r.process_share);
    d.share_ok = true;
  } else if (default_share_ok) {
    d.share = default_share;
    d.share_ok = true;
  }
  d.process = d.machine * d.share;
  d.process_low = d.machine_low * d.share;
  d.process_high = d.machine_high * d.share;
  return d;
}

bool Ledger::Add(SteadyTime t, SystemTime wall, std::span<const Reading> readings,
                 const ActivitySnapshot& activity, PollTiming timing) {
  if (points_ > 0 && t <= times_.back()) return false;
  const bool first = points_ == 0;
  // Below this, BOOTTIME - MONOTONIC moves only by the time between reading
  // the two clocks.
  constexpr Duration kSuspendNoise = std::chrono::milliseconds(50);
  const Duration suspended = first || timing.suspended < kSuspendNoise ? Duration::zero() : timing.suspended;
  if (suspended > Duration::zero()) {
    Event(kAllChannels, LedgerEventKind::kSuspend,
          fmt::format("the machine was suspended for {:.3g} s; counters may have been reset or wrapped "
                      "meanwhile (lower bound)",
                      std::chrono::duration_cast<Seconds>(suspended).count()));
  }
  if (!first && timing.expected > Duration::zero() &&
      t - times_.back() > 2 * timing.expected + std::chrono::seconds(1)) {
    Event(kAllChannels, LedgerEventKind::kStall,
          fmt::format("no reading for {:.3g} s (every {:.3g} s expected): the tracker was stopped or starved, or "
                      "the machine paused",
                      std::chrono::duration_cast<Seconds>(t - times_.back()).count(),
                      std::chrono::duration_cast<Seconds>(timing.expected).count()));
  }
  Shares sh;
  if (!first) sh = ComputeShares(prev_activity_, activity);

  Interval iv;
  if (!first) {
    iv.begin = times_.back();
    iv.end = t;
    iv.wall_end = wall;
    iv.channels.resize(channels_.size());
    iv.cpu_share = sh.cpu;
    iv.ram_share = sh.ram;
    iv.cpu_utilization = sh.cpu_util;
    iv.ram_utilization = sh.ram_util;
    iv.activity_ok = sh.util_ok;
    iv.suspended = suspended;
  }
  const size_t n = std::min(readings.size(), channels_.size());
  for (size_t c = 0; c < n; ++c) {
    double share = 0.0;
    bool share_ok = false;
    switch (channels_[c].kind) {
      case DeviceKind::kCpu:
      case DeviceKind::kPlatform: share = sh.cpu; share_ok = sh.cpu_ok; break;
      case DeviceKind::kDram: share = sh.ram; share_ok = sh.ram_ok; break;
      case DeviceKind::kGpu: break;  // only the source knows a GPU's per-process share
    }
    ChannelDelta d = Account(c, t, readings[c], share, share_ok, suspended);
    if (!first) iv.channels[c] = d;
  }
  if (!first) intervals_.push_back(std::move(iv));
  times_.push_back(t);
  walls_.push_back(wall);
  tree_rss_.push_back(activity.tree_ok ? activity.tree_rss_bytes : 0);
  prev_activity_ = activity;
  ++points_;
  return true;
}

Totals Ledger::Sum(size_t from, size_t to) const {
  Totals tot;
  tot.channels.resize(channels_.size());
  for (auto& ch : tot.channels) ch.process_ok = true;
  if (points_ == 0) return tot;
  to = std::min(to, points_ - 1);
  from = std::min(from, to);
  tot.begin = times_[from];
  tot.end = times_[to];
  double util_time = 0.0;
  std::vector<double> channel_util_time(channels_.size(), 0.0);
  for (size_t k = from; k < to; ++k) {
    const Interval& iv = intervals_[k];
    const double iv_s = std::chrono::duration<double>(iv.end - iv.begin).count();
    for (size_t c = 0; c < channels_.size(); ++c) {
      const ChannelDelta& d = iv.channels[c];
      ChannelTotal& ct = tot.channels[c];
      if (d.utilization >= 0.0) {
        ct.mean_utilization = std::max(ct.mean_utilization, 0.0) + d.utilization * iv_s;
        channel_util_time[c] += iv_s;
      }
      ct.peak_memory_used_bytes = std::max(ct.peak_memory_used_bytes, d.memory_used_bytes);
      const int missing = iv.samples == 1 ? (d.ok ? 0 : 1) : d.missing;
      ct.missing_intervals += missing;
      ct.ok_intervals += iv.samples - missing;
      ct.lower_bound = ct.lower_bound || missing > 0 || d.lower_bound;
      if (!d.ok) continue;
      ct.machine += d.machine;
      ct.process += d.process;
      ct.machine_low += d.machine_low;
      ct.machine_high += d.machine_high;
      ct.process_low += d.process_low;
      ct.process_high += d.process_high;
      if (!d.share_ok) ct.process_ok = false;
    }
    if (iv.activity_ok) {
      const double dt = std::chrono::duration<double>(iv.end - iv.begin).count();
      tot.mean_cpu_utilization += iv.cpu_utilization * dt;
      tot.mean_ram_utilization += iv.ram_utilization * dt;
      util_time += dt;
    }
  }
  if (util_time > 0) {
    tot.mean_cpu_utilization /= util_time;
    tot.mean_ram_utilization /= util_time;
  }
  for (size_t i = from; i <= to; ++i) tot.peak_tree_rss_bytes = std::max(tot.peak_tree_rss_bytes, tree_rss_[i]);
  for (size_t k = from; k < to; ++k) {
    tot.peak_tree_rss_bytes = std::max(tot.peak_tree_rss_bytes, intervals_[k].peak_tree_rss_bytes);
  }
  for (const LedgerEvent& e : events_) {
    if (e.point <= from || e.point > to || e.channel >= channels_.size()) continue;
    if (e.kind == LedgerEventKind::kWrap) ++tot.channels[e.channel].wraps;
    if (e.kind == LedgerEventKind::kReset || e.kind == LedgerEventKind::kJump) ++tot.channels[e.channel].resets;
  }
  for (size_t c = 0; c < channels_.size(); ++c) {
    ChannelTotal& ch = tot.channels[c];
    if (ch.ok_intervals == 0) ch.process_ok = false;
    if (channel_util_time[c] > 0.0) ch.mean_utilization /= channel_util_time[c];
  }
  return tot;
}

namespace {

// One interval standing for `ivs` (consecutive): energies and counts
// summed, means weighted by time, peaks kept. `interior_rss` holds the tree
// RSS at the polls between them, which the merged interval absorbs.
Interval MergeIntervals(std::span<const Interval> ivs, std::span<const unsigned long long> interior_rss,
                        size_t channels) {
  Interval m;
  m.begin = ivs.front().begin;
  m.end = ivs.back().end;
  m.wall_end = ivs.back().wall_end;
  m.samples = 0;
  m.channels.resize(channels);
  for (unsigned long long rss : interior_rss) m.peak_tree_rss_bytes = std::max(m.peak_tree_rss_bytes, rss);
  std::vector<double> util_s(channels, 0.0);
  std::vector<char> all_shared(channels, 1);  // every ok interval had a share
  double activity_s = 0.0, all_s = 0.0;
  for (const Interval& iv : ivs) {
    const double dt = std::chrono::duration<double>(iv.end - iv.begin).count();
    all_s += dt;
    m.samples += iv.samples;
    m.peak_tree_rss_bytes = std::max(m.peak_tree_rss_bytes, iv.peak_tree_rss_bytes);
    m.cpu_share += iv.cpu_share * dt;
    m.suspended += iv.suspended;
    m.ram_share += iv.ram_share * dt;
    if (iv.activity_ok) {
      m.activity_ok = true;
      m.cpu_utilization += iv.cpu_utilization * dt;
      m.ram_utilization += iv.ram_utilization * dt;
      activity_s += dt;
    }
    for (size_t c = 0; c < channels && c < iv.channels.size(); ++c) {
      const ChannelDelta& d = iv.channels[c];
      ChannelDelta& md = m.channels[c];
      md.missing += iv.samples == 1 ? (d.ok ? 0 : 1) : d.missing;
      if (d.utilization >= 0.0) {
        md.utilization = std::max(md.utilization, 0.0) + d.utilization * dt;
        util_s[c] += dt;
      }
      md.memory_used_bytes = std::max(md.memory_used_bytes, d.memory_used_bytes);
      md.lower_bound = md.lower_bound || d.lower_bound;
      if (!d.ok) continue;
      md.ok = true;
      md.machine += d.machine;
      md.process += d.process;
      md.machine_low += d.machine_low;
      md.machine_high += d.machine_high;
      md.process_low += d.process_low;
      md.process_high += d.process_high;
      if (!d.share_ok) all_shared[c] = 0;
    }
  }
  if (all_s > 0.0) {
    m.cpu_share /= all_s;
    m.ram_share /= all_s;
  }
  if (activity_s > 0.0) {
    m.cpu_utilization /= activity_s;
    m.ram_utilization /= activity_s;
  }
  for (size_t c = 0; c < channels; ++c) {
    ChannelDelta& md = m.channels[c];
    if (util_s[c] > 0.0) md.utilization /= util_s[c];
    md.share_ok = md.ok && all_shared[c] != 0;
    md.share = md.share_ok && md.machine.joules() > 0.0 ? md.process.joules() / md.machine.joules() : 0.0;
  }
  return m;
}

}  // namespace

void Ledger::Coalesce(size_t from, size_t to) {
  if (points_ == 0) return;
  to = std::min(to, points_ - 1);
  if (from + 1 >= to) return;  // zero or one interval: nothing to merge
  // Interval k spans polls k and k+1: intervals [from, to) become one, and
  // the polls strictly between from and to go.
  const auto first_gone = static_cast<std::ptrdiff_t>(from) + 1;
  const auto past_gone = static_cast<std::ptrdiff_t>(to);
  intervals_[from] = MergeIntervals(
      std::span<const Interval>(intervals_).subspan(from, to - from),
      std::span<const unsigned long long>(tree_rss_).subspan(from + 1, to - from - 1), channels_.size());
  intervals_.erase(intervals_.begin() + first_gone, intervals_.begin() + past_gone);
  times_.erase(times_.begin() + first_gone, times_.begin() + past_gone);
  walls_.erase(walls_.begin() + first_gone, walls_.begin() + past_gone);
  tree_rss_.erase(tree_rss_.begin() + first_gone, tree_rss_.begin() + past_gone);
  const size_t removed = to - from - 1;
  for (LedgerEvent& e : events_) {
    if (e.point <= from) continue;
    e.point = e.point <= to ? from + 1 : e.point - removed;
  }
  points_ -= removed;
}

size_t Ledger::Thin(size_t upto, size_t max_intervals) {
  upto = std::min(upto, points_ == 0 ? 0 : points_ - 1);
  if (upto <= max_intervals || max_intervals == 0) return upto;
  const size_t pairs = upto / 4;  // the oldest half of the intervals, two by two
  for (size_t i = 0; i < pairs; ++i) Coalesce(i, i + 2);
  return upto - pairs;
}

Totals Ledger::SumAll() const { return Sum(0, points_ == 0 ? 0 : points_ - 1); }

Energy Totals::Of(DeviceKind kind, Scope scope, std::span<const ChannelInfo> infos) const {
  Energy e;
  for (size_t c = 0; c < channels.size() && c < infos.size(); ++c) {
    if (infos[c].kind != kind) continue;
    e += scope == Scope::kMachine ? channels[c].machine : channels[c].process;
  }
  return e;
}

Energy Totals::Of(Scope scope) const {
  Energy e;
  for (const ChannelTotal& ch : channels) e += scope == Scope::kMachine ? ch.machine : ch.process;
  return e;
}

}  // namespace wattprint
