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
// Thread safety: one ActivitySampler is used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "wattprint/fs.h"
#include "wattprint/source.h"

namespace wattprint {

class ActivitySampler {
 public:
  // root_pid <= 0 tracks no process tree (machine figures only).
  ActivitySampler(SystemRoots roots, std::shared_ptr<FileSystem> fs, pid_t root_pid);
  ~ActivitySampler();
  ActivitySampler(const ActivitySampler&) = delete;
  ActivitySampler& operator=(const ActivitySampler&) = delete;

  void SetRoot(pid_t root_pid);
  ActivitySnapshot Sample();
  // Clock ticks per second used to convert procfs ticks (sysconf(_SC_CLK_TCK)).
  long ticks_per_second() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattprint
