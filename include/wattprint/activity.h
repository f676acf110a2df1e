// Machine and process-tree activity from procfs: CPU ticks from /proc/stat,
// the tracked tree's CPU ticks and RSS from /proc/PID/stat (utime, stime,
// cutime, cstime and rss fields), memory size from /proc/meminfo.
//
// The tree is the root PID and every descendant, found through
// /proc/PID/task/TID/children at each sample, so children that start or exit
// mid-run are included. Tree CPU time is the sum over living members of
// utime+stime+cutime+cstime: a member that exits and is reaped by another
// member moves its time into the reaper's cutime/cstime, so each CPU second
// is counted once. Time of an orphan reparented outside the tree is lost
// (documented in docs/ATTRIBUTION.md). tree_ticks never decreases between
// samples. `wattprint run` takes its last sample while the finished command is
// still a zombie (waitid with WNOWAIT), so its final CPU time is included.
//
// With a TreeCpuClock (a kernel counter that follows the tree, opened when
// the command is started), the tree's CPU time costs one read per sample
// whatever the tree's size, and the procfs walk above, still needed for the
// members' RSS and PIDs, runs at most every kTreeWalkPeriod. /proc/meminfo is
// read on the same period: memory figures are at most that old.
//
// Thread safety: one ActivitySampler is used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "wattprint/fs.h"
#include "wattprint/source.h"
#include "wattprint/status.h"
#include "wattprint/units.h"

namespace wattprint {

// CPU time of a process tree counted by the kernel: a perf_event task-clock
// opened on the root with `inherit`, so every descendant forked after it
// opened is counted, alive or exited, whoever reaps it (an orphan
// reparented outside the tree included).
//
// Thread safety: used by one thread at a time.
class TreeCpuClock {
 public:
  virtual ~TreeCpuClock() = default;
  // CPU time in nanoseconds since the counter opened; never decreases.
  virtual Result<unsigned long long> ReadNs() = 0;
};

// Opens a task-clock counter on the calling task that the task's future
// children inherit. Uses only raw system calls, so a child may call it
// between clone and exec. Returns the (close-on-exec) fd, or -errno.
int OpenInheritedTaskClock() noexcept;
// Takes ownership of a counter fd returned by OpenInheritedTaskClock.
std::unique_ptr<TreeCpuClock> TaskClockFromFd(int fd);

// How often the procfs walk of the tree and /proc/meminfo are read when a
// TreeCpuClock counts the tree's CPU time.
inline constexpr std::chrono::seconds kTreeWalkPeriod{5};

class ActivitySampler {
 public:
  // root_pid <= 0 tracks no process tree (machine figures only).
  ActivitySampler(SystemRoots roots, std::shared_ptr<FileSystem> fs, pid_t root_pid);
  ~ActivitySampler();
  ActivitySampler(const ActivitySampler&) = delete;
  ActivitySampler& operator=(const ActivitySampler&) = delete;

  // `clock`, when given, counts the new root's tree CPU time (see above).
  void SetRoot(pid_t root_pid, std::unique_ptr<TreeCpuClock> clock = nullptr);
  // `now` decides whether the periodic reads are due.
  ActivitySnapshot Sample(SteadyTime now = SteadyClock::now());
  // Clock ticks per second used to convert procfs ticks (sysconf(_SC_CLK_TCK)).
  long ticks_per_second() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattprint
