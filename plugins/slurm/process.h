// Child processes for the SPANK plugin, started from inside slurmstepd:
// a command run to its end under a deadline with its stdout captured, and a
// detached process that outlives the step. Plus the small I/O they need.
//
// slurmstepd is multithreaded, so everything a child needs is prepared
// before fork() and the child makes only async-signal-safe calls. Every
// child starts with the default signal dispositions, an empty signal mask,
// stdin on /dev/null, no descriptor but 0-2, "/" as its directory, umask
// 077, and as root again where slurmstepd's real uid is root (user_init runs
// with the job user's effective ids).
//
// Not thread-safe: call from one thread at a time (SPANK callbacks are).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wattprint_spank {

// What to exec, and where its output goes.
struct ChildPlan {
  std::vector<std::string> args;  // args[0]: the absolute path to exec
  std::vector<std::string> env;   // the whole environment, NAME=value
  std::string log_path;           // detached: stdout and stderr appended here (0600), else /dev/null

  // Filled by the functions below, before fork().
  int out_fd = -1;
  std::vector<char*> argv, envp;
  void seal();
};

struct Outcome {
  enum Kind { Exited, NotStarted, TimedOut, Failed } kind = Failed;
  int code = 0;     // Exited: exit status; NotStarted: errno; Failed: signal or 0
  std::string out;  // the first `limit` bytes of stdout
};

// Runs a command to its end, at most `timeout_ms` milliseconds, keeping the
// first `limit` bytes of its stdout (the rest is read and dropped); stderr
// goes to /dev/null. On timeout the command's process group (its own) is
// killed with SIGKILL and reaped. Returns at most ~timeout_ms after the call.
Outcome run_captured(ChildPlan& plan, int timeout_ms, size_t limit);

// "exited with status 3", "did not answer within 2 s", ...
std::string describe(const Outcome& r, int timeout_ms);

struct Started {
  pid_t pid = -1;  // the process, once it has exec'ed
  int err = 0;     // errno of the fork or exec that failed; ETIMEDOUT: no word in time
};

// Starts a process that is not the caller's child: an intermediate child
// calls setsid() and forks it, then exits, so it is reparented to init (out
// of the step's process tree, which Slurm kills when the step ends) in a
// session of its own. Returns once it has exec'ed (or failed to), at most
// `timeout_ms` later; its pid and any exec error come back on a
// close-on-exec pipe. The caller never waits for it.
Started spawn_detached(ChildPlan& plan, int timeout_ms);

// The state (/proc/PID/stat field 3) and start time (field 22, clock ticks
// since boot) of a process: with the pid, the start time names one process
// for good, so a recycled pid is not mistaken for it. False if it is gone.
bool proc_stat(pid_t pid, char& state, unsigned long long& start);

// True while `pid` is the process that started at `start` and not a zombie.
bool still_running(pid_t pid, unsigned long long start);

// Writes all of `data`, retrying after EINTR; false on an error.
bool write_all(int fd, std::string_view data);

// Up to `limit` bytes from a descriptor, until EOF, an error or EAGAIN.
std::string read_bounded(int fd, size_t limit);

}  // namespace wattprint_spank
