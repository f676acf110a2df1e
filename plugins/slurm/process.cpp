// Child processes for the SPANK plugin: see process.h.
#include "process.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace wattprint_spank {
namespace {

// What a child writes to its parent on a close-on-exec pipe: the measuring
// process's pid ('P'), or the errno of a fork or exec that failed ('E').
struct Report {
  char tag;
  int value;
};

void report(int fd, char tag, int value) {
  Report r{tag, value};
  ssize_t n = write(fd, &r, sizeof r);  // atomic: far below PIPE_BUF
  (void)n;
}

// Moves a descriptor above 2, where the dup2() calls below cannot hit it.
int lift(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  return moved < 0 ? fd : moved;
}

void close_range_or_loop(unsigned first, unsigned last) {
  if (first > last || close_range(first, last, 0) == 0) return;
  rlimit rl{};
  unsigned cap = 65535;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < cap) cap = static_cast<unsigned>(rl.rlim_cur);
  for (unsigned fd = first; fd <= last && fd < cap; ++fd) close(static_cast<int>(fd));
}

// user_init runs with the job user's effective ids; slurmstepd's real uid
// stays 0. The children become root again: the collector token in their
// environment must not be readable by the job's user through
// /proc/PID/environ, the user must not be able to kill the measurement, and
// RAPL counters are readable by root only.
void regain_root() {
  if (getuid() != 0) return;  // a slurmstepd not run as root: stay as we are
  if (geteuid() != 0 && seteuid(0) != 0) return;
  if (setgroups(0, nullptr) != 0 || setresgid(0, 0, 0) != 0) return;
  if (setresuid(0, 0, 0) != 0) return;
}

void reset_signals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int s = 1; s < NSIG; ++s) sigaction(s, &dfl, nullptr);  // EINVAL for KILL, STOP: fine
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// In the child after fork(): async-signal-safe calls only.
[[noreturn]] void exec_child(const ChildPlan& plan, int report_fd) {
  report_fd = lift(report_fd);
  int out = lift(plan.out_fd);
  regain_root();
  reset_signals();
  int null_fd = lift(open("/dev/null", O_RDWR | O_CLOEXEC));
  int err = out >= 0 ? null_fd : -1;  // captured: stderr dropped; detached: beside stdout
  if (out < 0 && !plan.log_path.empty())
    out = lift(open(plan.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (out < 0) out = null_fd;
  if (err < 0) err = out;
  if (dup2(null_fd, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
    report(report_fd, 'E', errno);
    _exit(127);
  }
  close_range_or_loop(3, static_cast<unsigned>(report_fd) - 1);
  close_range_or_loop(static_cast<unsigned>(report_fd) + 1, ~0U);
  int ignored = chdir("/");  // where it fails, the process runs where it is
  (void)ignored;
  umask(077);
  execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  report(report_fd, 'E', errno);
  _exit(127);
}

using Clock = std::chrono::steady_clock;

int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

enum class Reaped { Exited, Gone, Timeout };

Reaped reap_until(pid_t pid, Clock::time_point deadline, int& status) {
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) return Reaped::Exited;
    if (w < 0 && errno != EINTR) return Reaped::Gone;  // reaped by someone else
    if (ms_left(deadline) == 0) return Reaped::Timeout;
    usleep(5000);
  }
}

void reap_now(pid_t pid, int& status) {
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// Reads stdout and the report pipe until both close or the deadline.
// Returns false on timeout.
bool collect(int out_fd, int rep_fd, Clock::time_point deadline, size_t limit, Outcome& r) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {rep_fd, POLLIN, 0}};
  char buf[4096];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    int left = ms_left(deadline);
    if (left == 0) return false;
    int n = poll(fds, 2, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        fds[i].fd = -1;
      } else if (i == 0) {
        r.out.append(buf, std::min(static_cast<size_t>(got), limit - std::min(limit, r.out.size())));
      } else if (static_cast<size_t>(got) >= sizeof(Report)) {
        Report rep;
        std::memcpy(&rep, buf, sizeof rep);
        r.kind = Outcome::NotStarted;
        r.code = rep.value;
      }
    }
  }
  return true;
}

}  // namespace

void ChildPlan::seal() {
  argv.clear();
  envp.clear();
  for (auto& a : args) argv.push_back(a.data());
  for (auto& e : env) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string read_bounded(int fd, size_t limit) {
  std::string out;
  char buf[4096];
  while (out.size() < limit) {
    ssize_t n = read(fd, buf, std::min(sizeof buf, limit - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool proc_stat(pid_t pid, char& state, unsigned long long& start) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::string text = read_bounded(fd, 2048);
  close(fd);
  size_t paren = text.rfind(')');  // the command name may hold anything
  if (paren == std::string::npos || paren + 2 >= text.size()) return false;
  const char* p = text.c_str() + paren + 2;
  state = *p;
  for (int field = 3; field < 22; ++field) {
    p = std::strchr(p, ' ');
    if (!p) return false;
    ++p;
  }
  start = std::strtoull(p, nullptr, 10);
  return true;
}

bool still_running(pid_t pid, unsigned long long start) {
  char state = 0;
  unsigned long long now_start = 0;
  if (!proc_stat(pid, state, now_start)) return false;
  return now_start == start && state != 'Z' && state != 'X';
}

Outcome run_captured(ChildPlan& plan, int timeout_ms, size_t limit) {
  Outcome r;
  int out[2], rep[2];
  if (pipe2(out, O_CLOEXEC) != 0) return r;
  if (pipe2(rep, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return r;
  }
  plan.out_fd = out[1];
  plan.seal();
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    exec_child(plan, rep[1]);
  }
  close(out[1]);
  close(rep[1]);
  if (pid < 0) {
    r.code = errno;
    close(out[0]);
    close(rep[0]);
    return r;
  }
  setpgid(pid, pid);  // both sides set it, whichever runs first
  bool finished = collect(out[0], rep[0], deadline, limit, r);
  close(out[0]);
  close(rep[0]);
  int status = 0;
  Reaped how = finished ? reap_until(pid, deadline, status) : Reaped::Timeout;
  if (how == Reaped::Timeout) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    reap_now(pid, status);
    if (r.kind != Outcome::NotStarted) r = Outcome{Outcome::TimedOut, 0, {}};
    return r;
  }
  if (r.kind == Outcome::NotStarted) return r;
  if (how == Reaped::Exited && WIFEXITED(status)) {
    r.kind = Outcome::Exited;
    r.code = WEXITSTATUS(status);
  } else {
    r.kind = Outcome::Failed;
    r.code = how == Reaped::Exited && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return r;
}

std::string describe(const Outcome& r, int timeout_ms) {
  switch (r.kind) {
    case Outcome::Exited:
      return "exited with status " + std::to_string(r.code);
    case Outcome::NotStarted:
      return std::string("could not be run: ") + std::strerror(r.code);
    case Outcome::TimedOut:
      return "did not answer within " + std::to_string(timeout_ms / 1000) + " s";
    case Outcome::Failed:
      break;
  }
  return r.code ? "was killed by signal " + std::to_string(r.code) : "failed";
}

Started spawn_detached(ChildPlan& plan, int timeout_ms) {
  Started s;
  int rep[2];
  if (pipe2(rep, O_CLOEXEC) != 0) return {-1, errno};
  plan.out_fd = -1;
  plan.seal();
  pid_t mid = fork();
  if (mid == 0) {
    close(rep[0]);
    setsid();
    pid_t meter = fork();
    if (meter == 0) exec_child(plan, rep[1]);
    report(rep[1], meter > 0 ? 'P' : 'E', meter > 0 ? meter : errno);
    _exit(0);
  }
  int fork_errno = errno;
  close(rep[1]);
  if (mid < 0) {
    close(rep[0]);
    return {-1, fork_errno};
  }
  int status = 0;
  reap_now(mid, status);
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  Report reports[2];
  size_t got = 0;
  char* into = reinterpret_cast<char*>(reports);
  pollfd pfd{rep[0], POLLIN, 0};
  while (got < sizeof reports) {
    int n = poll(&pfd, 1, ms_left(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ssize_t r = read(rep[0], into + got, sizeof reports - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  close(rep[0]);
  for (size_t i = 0; i < got / sizeof(Report); ++i) {
    if (reports[i].tag == 'P') s.pid = reports[i].value;
    if (reports[i].tag == 'E') s.err = reports[i].value;
  }
  if (s.err == 0 && s.pid < 0) s.err = ETIMEDOUT;
  if (s.err != 0) s.pid = -1;
  return s;
}

}  // namespace wattprint_spank
