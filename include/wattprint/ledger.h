// The ledger: every poll's readings turned into per-channel, per-interval
// energy, for the whole machine and for the tracked process tree. Totals,
// task slices and time series are all derived from it.
//
// Counters are differenced against the last good reading, so a read that
// fails in the middle of a run loses nothing: the next good reading carries
// the energy of the gap. Power readings are integrated with the trapezoid
// rule between consecutive good readings. For counters the total is
// therefore exactly last - first (+ wraps), whatever the interval.
//
// Every channel has a power ceiling (ChannelInfo::power_ceiling, else
// DefaultPowerCeiling of its kind), and no interval may book more energy
// than ceiling x (interval + kCeilingSlack):
//  - a decrease is a wrap (delta = range - prev + cur) only when that delta
//    fits under the ceiling; otherwise the counter was reset (driver reload,
//    hot-plug, firmware update): the interval is dropped, a kReset event is
//    recorded and the total becomes a lower bound. With an unknown range a
//    decrease is always a reset;
//  - a forward jump over the ceiling is dropped the same way (kJump);
//  - a power reading over the ceiling is ignored like an unreadable one.
// An interval as long as a counter's minimum wrap time (range / ceiling)
// could hide whole wraps, as could a suspend (PollTiming::suspended): its
// energy is kept but flagged as a lower bound (kLongGap, kSuspend).
//
// Process energy per interval = machine energy x share, where the share is
// the reading's own process_share when the source provides one (GPUs), else
// the tree's CPU ticks / machine CPU ticks for cpu and platform channels, or
// tree RSS / MemTotal for dram. Shares are clamped to [0, 1], so process
// energy never exceeds machine energy.
//
// No I/O. Thread safety: none; the tracker serialises access.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "wattprint/source.h"
#include "wattprint/units.h"

namespace wattprint {

// Headroom over a ceiling for counters that update in steps (RAPL about
// every 1 ms, NVML's energy every 20-100 ms): an interval of dt may show up
// to dt + one update period of energy.
inline constexpr Seconds kCeilingSlack{1.0};
// The documented ceiling of a kind when the hardware states none
// (docs/sources/README.md): CPU package 1000 W, DRAM domain 500 W, GPU
// 2000 W, platform 2000 W.
Power DefaultPowerCeiling(DeviceKind kind);
// The ceiling the ledger applies to a channel.
Power PowerCeilingOf(const ChannelInfo& info);
// range / ceiling: the shortest time in which the counter can wrap;
// Duration::max() for a power channel or an unknown range.
Duration MinWrapTime(const ChannelInfo& info);

// How a poll relates to the previous one, as the tracker's clock saw it.
struct PollTiming {
  // Time the machine spent suspended since the previous poll
  // (CLOCK_BOOTTIME - CLOCK_MONOTONIC grew by this much).
  Duration suspended{0};
  // The scheduled interval; a poll much later than that (the sampler was
  // stopped or starved, or the VM paused) is recorded as a kStall event.
  // Zero: unknown, not checked.
  Duration expected{0};
};

struct ChannelDelta {
  bool ok = false;        // energy known for this interval
  Energy machine;         // whole device
  Energy process;         // tracked tree's share
  // The model's bounds on `machine` (estimated channels); equal to it for a
  // measurement.
  Energy machine_low;
  Energy machine_high;
  Energy process_low;   // machine bounds x this interval's share
  Energy process_high;
  double share = 0.0;     // process / machine
  bool share_ok = false;  // a share could be computed
  // The reading's device utilisation (0..1) and memory in use (bytes) at
  // the end of the interval; negative when the source gives none.
  double utilization = -1.0;
  double memory_used_bytes = -1.0;
  // In a coalesced interval: how many of its polled intervals had no energy
  // (a plain interval leaves this 0 and says it with `ok`).
  int missing = 0;
  // The energy may be short of the truth: the interval was long enough to
  // hide a counter wrap, or the machine was suspended during it.
  bool lower_bound = false;
};

struct Interval {
  SteadyTime begin;
  SteadyTime end;
  SystemTime wall_end;
  std::vector<ChannelDelta> channels;  // parallel to Ledger::channels()
  double cpu_share = 0.0;              // procfs-derived shares for this interval
  double ram_share = 0.0;
  double cpu_utilization = 0.0;  // machine busy / total ticks, 0..1
  double ram_utilization = 0.0;  // 1 - MemAvailable / MemTotal
  bool activity_ok = false;
  // Polled intervals this one stands for (Ledger::Coalesce), and the largest
  // tree RSS at the polls it absorbed.
  int samples = 1;
  unsigned long long peak_tree_rss_bytes = 0;
  // Time the machine was suspended within the interval.
  Duration suspended{0};
};

// Something the ledger noticed, typed so totals count them without reading
// the text.
enum class LedgerEventKind {
  kWrap,            // a decrease booked as one counter wrap
  kReset,           // a decrease that no wrap explains: interval dropped
  kJump,            // a forward jump (or power) over the ceiling: dropped
  kNegativePower,   // a negative power reading: interval dropped
  kUnavailable,     // the channel could not be read
  kAvailableAgain,  // ... and now can
  kLongGap,         // an interval as long as the minimum wrap time
  kSuspend,         // the machine was suspended (all channels)
  kStall,           // a poll came far later than scheduled (all channels)
};
const char* ToString(LedgerEventKind k);  // "wrap", "reset", "jump", ...
// For events about the whole machine (kSuspend, kStall).
inline constexpr size_t kAllChannels = static_cast<size_t>(-1);

struct LedgerEvent {
  size_t channel = 0;  // index into Ledger::channels(), or kAllChannels
  size_t point = 0;    // poll index at which it happened
  LedgerEventKind kind = LedgerEventKind::kUnavailable;
  std::string what;    // the human text, with the figures
};

struct ChannelTotal {
  Energy machine;
  Energy process;
  // Bounds of an estimate (equal to the figure for a measurement); the
  // process bounds apply each interval's share.
  Energy machine_low, machine_high;
  Energy process_low, process_high;
  int ok_intervals = 0;
  int missing_intervals = 0;  // intervals whose energy is unknown
  int wraps = 0;
  int resets = 0;             // intervals dropped as resets or jumps
  // Some energy may be missing: an interval was dropped (reset, jump,
  // unreadable) or flagged (long gap, suspend).
  bool lower_bound = false;
  bool process_ok = false;    // every ok interval had a share
  // Time-weighted mean utilisation (0..1) over the intervals that had one,
  // and the largest memory in use seen; negative when never reported.
  double mean_utilization = -1.0;
  double peak_memory_used_bytes = -1.0;
};

struct Totals {
  SteadyTime begin;
  SteadyTime end;
  std::vector<ChannelTotal> channels;
  Seconds duration() const { return std::chrono::duration_cast<Seconds>(end - begin); }
  Energy Of(DeviceKind kind, Scope scope, std::span<const ChannelInfo> infos) const;
  Energy Of(Scope scope) const;  // all channels
  double mean_cpu_utilization = 0.0;
  double mean_ram_utilization = 0.0;
  unsigned long long peak_tree_rss_bytes = 0;
};

class Ledger {
 public:
  explicit Ledger(std::vector<ChannelInfo> channels);

  const std::vector<ChannelInfo>& channels() const { return channels_; }
  // Records one poll. readings.size() == channels().size(). Time must not go
  // backwards; a poll at the same instant as the previous one is ignored.
  // Returns false when the poll was ignored (same instant or earlier).
  bool Add(SteadyTime t, SystemTime wall, std::span<const Reading> readings,
           const ActivitySnapshot& activity, PollTiming timing = {});

  size_t num_points() const { return points_; }
  SteadyTime point_time(size_t i) const { return times_[i]; }
  SystemTime point_wall_time(size_t i) const { return walls_[i]; }
  // intervals()[k] spans points k and k+1.
  const std::vector<Interval>& intervals() const { return intervals_; }
  const std::vector<LedgerEvent>& events() const { return events_; }

  // Totals between polls `from` and `to` (indexes, from <= to).
  Totals Sum(size_t from, size_t to) const;
  Totals SumAll() const;

  // Status of the last reading of each channel (ok, or why not).
  const std::vector<Status>& last_status() const { return last_status_; }

  // Merges the intervals between polls `from` and `to` (from < to) into one
  // and forgets the polls in between, so a long run keeps a bounded ledger.
  // Every total over a range that contains the whole merged span is
  // unchanged: energy, interval counts, wraps, peaks, time-weighted means.
  // What is lost is resolution: emissions use the intensity at the merged
  // interval's midpoint, and the sample series shows one interval. Polls
  // after `to` move down by to - from - 1 (events follow them); callers that
  // hold poll indexes (tasks) must not straddle the span.
  void Coalesce(size_t from, size_t to);
  // Keeps the intervals before poll `upto` at most `max_intervals`: when
  // there are more, the oldest half is merged pairwise (Coalesce), so a run
  // that coalesces each written slice stays bounded for ever, its resolution
  // halving towards the start. Returns where poll `upto` is now.
  size_t Thin(size_t upto, size_t max_intervals);

 private:
  struct ChannelState {
    bool have_prev = false;
    double prev_value = 0.0;
    double prev_low = -1.0, prev_high = -1.0;
    SteadyTime prev_time;
    bool last_ok = true;
  };
  ChannelDelta Account(size_t c, SteadyTime t, const Reading& r, double default_share,
                       bool default_share_ok, Duration suspended);
  // The energy a counter reading implies since the previous one, or
  // nullopt (with an event) when no wrap or step can explain it.
  std::optional<double> CounterDelta(size_t c, double prev, double cur, Seconds window);
  void Event(size_t c, LedgerEventKind k, std::string what);
  std::vector<Power> ceilings_;
  std::vector<Duration> min_wrap_;

  std::vector<ChannelInfo> channels_;
  std::vector<ChannelState> state_;
  std::vector<Status> last_status_;
  std::vector<Interval> intervals_;
  std::vector<LedgerEvent> events_;
  std::vector<SteadyTime> times_;
  std::vector<SystemTime> walls_;
  std::vector<unsigned long long> tree_rss_;
  ActivitySnapshot prev_activity_;
  size_t points_ = 0;
};

}  // namespace wattprint
