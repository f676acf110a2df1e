// The tracker: owns a set of sources, polls them on a background sampler
// thread at a fixed interval, and takes an extra reading at every start,
// stop and task boundary, so counters make those slices exact.
//
// RAII: destroying a running tracker stops it. There is no global state; any
// number of trackers may live in one process, each with its own sources.
//
// Thread safety: every public method may be called from any thread. Stop()
// wakes the sampler through a condition variable and returns within
// milliseconds, whatever the interval; of two concurrent Stop() calls one
// stops the tracker and the other gets an error, never a double join.
// on_sample runs on the sampling thread *under the tracker's lock*: it must
// not call back into the tracker (it would deadlock), and it should be quick.
//
// The interval is capped at half the shortest minimum wrap time of the
// channels (range / power ceiling, ledger.h), so no poll gap can hide a
// whole wrap; interval_note() says so when the requested one was longer.
//
// A caller that already waits in an event loop (`wattprint run` waits on a
// signalfd for the command) can drive the schedule itself instead: with
// TrackerOptions::sampler_thread = false no thread is started, and the
// caller calls PollDue() whenever NextPoll() has passed.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wattprint/activity.h"
#include "wattprint/clock.h"
#include "wattprint/ledger.h"
#include "wattprint/record.h"
#include "wattprint/source.h"
#include "wattprint/status.h"

namespace wattprint {

struct TrackerOptions {
  Duration interval = std::chrono::seconds(1);  // background sampling period
  SystemRoots roots;                            // for the activity sampler
  std::shared_ptr<FileSystem> fs;               // null = PosixFileSystem()
  pid_t tree_root = 0;                          // process tree for process scope; 0 = none
  // Called after every scheduled poll (live status), on the sampling thread,
  // with the tracker's lock held: it must not call the tracker.
  std::function<void(const Ledger&)> on_sample;
  // null = RealClock(). Tests pass their own, with sampler_thread = false.
  std::shared_ptr<Clock> clock;
  // false: no sampler thread; the caller drives NextPoll()/PollDue().
  bool sampler_thread = true;
};

class Tracker {
 public:
  Tracker(TrackerOptions opts, std::vector<std::unique_ptr<Source>> sources);
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  const std::vector<ChannelInfo>& channels() const { return channels_; }
  // The interval in use, after the wrap-time cap.
  Duration interval() const;
  // Why the interval is shorter than asked ("" when it is not).
  const std::string& interval_note() const { return interval_note_; }

  // Takes the first reading and starts the sampler. Error if already running.
  Status Start();
  // Takes the last reading and joins the sampler. Error if not running.
  Status Stop();
  // Takes a reading now (without stopping) and returns the state so far.
  TrackerSnapshot Flush();
  // Tasks are non-overlapping slices; StartTask while a task is open closes it first.
  Status StartTask(std::string name);
  Result<TaskRecord> StopTask();
  // Ledger::Coalesce on the live ledger, for a long run that has written out
  // the polls [from, to] (the monitor, after each row). InvalidArgument if a
  // task boundary lies strictly inside the span.
  Status Coalesce(size_t from, size_t to);
  // Ledger::Thin on the live ledger; InvalidArgument on a tracker with tasks
  // (their poll indexes would no longer hold).
  Result<size_t> Thin(size_t upto, size_t max_intervals);
  // Changes the process tree (e.g. once the tracked command is forked).
  // `clock`, when given, counts that tree's CPU time (see activity.h).
  void SetTreeRoot(pid_t pid, std::unique_ptr<TreeCpuClock> clock = nullptr);
  TrackerSnapshot Snapshot() const;
  bool running() const;
  // Caller-driven sampling (sampler_thread = false). NextPoll: when the next
  // scheduled (or early) poll is due; SteadyTime::max() when not running.
  // PollDue: takes every poll that is due at `now` and runs on_sample after
  // a scheduled one; false when nothing was due.
  SteadyTime NextPoll() const;
  bool PollDue(SteadyTime now);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<ChannelInfo> channels_;
  std::string interval_note_;
};

}  // namespace wattprint
