// The ledger: every poll's readings turned into per-channel, per-interval
// energy, for the whole machine and for the tracked process tree. Totals,
// task slices and time series are all derived from it.
//
// Counters are differenced against the last good reading, so a read that
// fails in the middle of a run loses nothing: the next good reading carries
// the energy of the gap. A counter that decreases is a wrap when its range
// is known (delta = range - prev + cur); with an unknown range the interval
// is dropped and reported, never negative. Power readings are integrated with
// the trapezoid rule between consecutive good readings. For counters the
// total is therefore exactly last - first (+ wraps), whatever the interval.
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
#include <span>
#include <string>
#include <vector>

#include "wattprint/source.h"
#include "wattprint/units.h"

namespace wattprint {

enum class Scope { kMachine, kProcess };
const char* ToString(Scope s);  // "machine", "process"

struct ChannelDelta {
  bool ok = false;        // energy known for this interval
  Energy machine;         // whole device
  Energy process;         // tracked tree's share
  double share = 0.0;     // process / machine
  bool share_ok = false;  // a share could be computed
  // The reading's device utilisation (0..1) and memory in use (bytes) at
  // the end of the interval; negative when the source gives none.
  double utilization = -1.0;
  double memory_used_bytes = -1.0;
  // In a coalesced interval: how many of its polled intervals had no energy
  // (a plain interval leaves this 0 and says it with `ok`).
  int missing = 0;
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
};

// Something the ledger noticed: a wrap, a decrease it could not explain, a
// channel that became unavailable or came back.
struct LedgerEvent {
  size_t channel = 0;
  size_t point = 0;  // poll index at which it happened
  std::string what;
};

struct ChannelTotal {
  Energy machine;
  Energy process;
  int ok_intervals = 0;
  int missing_intervals = 0;  // intervals whose energy is unknown
  int wraps = 0;
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
  void Add(SteadyTime t, SystemTime wall, std::span<const Reading> readings,
           const ActivitySnapshot& activity);

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
    SteadyTime prev_time;
    bool last_ok = true;
  };
  ChannelDelta Account(size_t c, SteadyTime t, const Reading& r, double default_share,
                       bool default_share_ok);

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
