// The tree CPU clock: a perf_event software task-clock counter with
// `inherit` set, opened by the tracked command itself before it executes.
//
// Why perf and not procfs: summing /proc/PID/stat over a tree costs two
// reads per member at every sample (hundreds of microseconds for 100
// processes), and loses the time of an orphan reparented outside the tree.
// The kernel keeps an inherited counter per descendant and folds it into
// the parent counter when the descendant exits; one read(2) returns the
// sum over the living and the dead.
//
// Requirements: perf_event_open(2) allowed for the caller's own tasks
// (kernel.perf_event_paranoid <= 2, the upstream default, or CAP_PERFMON;
// some container seccomp profiles block the call). When it fails, the
// sampler walks procfs at every sample instead.
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "wattprint/activity.h"

namespace wattprint {
namespace {

class TaskClock final : public TreeCpuClock {
 public:
  explicit TaskClock(int fd) : fd_(fd) {}
  ~TaskClock() override { ::close(fd_); }
  TaskClock(const TaskClock&) = delete;
  TaskClock& operator=(const TaskClock&) = delete;

  Result<unsigned long long> ReadNs() override {
    unsigned long long ns = 0;
    const ssize_t n = ::read(fd_, &ns, sizeof ns);
    if (n != static_cast<ssize_t>(sizeof ns)) {
      const int err = n < 0 ? errno : EIO;
      return Status::IOError(std::string("perf task-clock counter: ") + std::strerror(err));
    }
    // The kernel sums per-task counters; guard the contract anyway.
    if (ns < last_) ns = last_;
    last_ = ns;
    return ns;
  }

 private:
  int fd_;
  unsigned long long last_ = 0;
};

}  // namespace

int OpenInheritedTaskClock() noexcept {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.inherit = 1;     // follow every child forked from now on
  attr.exclude_hv = 1;  // not permitted for unprivileged users on some kernels
  // pid 0 = the calling task, cpu -1 = wherever it runs.
  const long fd = ::syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

std::unique_ptr<TreeCpuClock> TaskClockFromFd(int fd) {
  if (fd < 0) return nullptr;
  return std::make_unique<TaskClock>(fd);
}

}  // namespace wattprint
