// `wattprint run [options] -- CMD ARGS...`: track the machine (and the
// command's process tree) while CMD runs, then write the outputs.
//
// Signals. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH and
// SIGCONT are blocked in wattprint (before any background thread starts, so
// they inherit the mask) and read from a signalfd; the command gets the
// original mask back. A signal sent by a process (kill, timeout, a job manager:
// si_code <= 0) is forwarded to the command. A signal the kernel generated
// (Ctrl-C, Ctrl-\, a window resize or a hang-up on the terminal: si_code ==
// SI_KERNEL) is not, because the terminal already delivers it to the whole
// foreground process group, the command included; forwarding it would
// deliver it twice. wattprint itself never dies from these signals: it
// waits for the command to end and still writes its outputs.
//
// Sampling. The main thread waits for the command in ppoll on that signalfd,
// with the tracker's next poll as the timeout, and takes the samples itself
// (Tracker::PollDue): no sampler thread, and one wake-up per sample.
//
// The command is waited for with waitid(WNOWAIT), so the tracker's last
// sample still sees it as a zombie (its final CPU time counts), and only
// then is it reaped.
//
// Starting the command. clone(CLONE_VM | CLONE_VFORK) like posix_spawn, plus
// CLONE_FILES: before it executes, the child opens the tree CPU clock on
// itself (a perf task-clock its descendants inherit, activity.h), and the
// shared descriptor table hands that fd to wattprint; execve then unshares
// the table and closes the close-on-exec copy, so the command never sees it.
// posix_spawn also resets every signal's disposition in the child with one
// sigaction call per signal; wattprint installs no handler (its signals
// arrive through a signalfd), so the child only restores the signal mask.
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "commands.h"
#include "output/prometheus.h"
#include "options.h"
#include "wait.h"

extern char** environ;

namespace wattprint::cli {
namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

struct ChildExit {
  int code = 0;    // exit status, or 128 + signal
  int signal = 0;  // the signal that killed it, 0 if it exited
};

// Blocks the forwarded signals and SIGCHLD; returns a signalfd for them.
int BlockSignals(sigset_t* old_mask) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwarded) sigaddset(&set, s);
  sigaddset(&set, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &set, old_mask);
  return signalfd(-1, &set, SFD_CLOEXEC);
}

// Shared between wattprint and the child until the child executes (the
// child runs in wattprint's memory; wattprint is suspended meanwhile).
struct SpawnShared {
  char** argv = nullptr;
  const sigset_t* mask = nullptr;
  const struct sigaction* sigpipe = nullptr;  // the command's SIGPIPE disposition
  int clock_fd = -1;   // the tree CPU clock, or -errno
  int exec_err = 0;    // why execvpe failed
};

// The child: async-signal-safe calls only.
int ChildMain(void* arg) {
  auto* sh = static_cast<SpawnShared*>(arg);
  sh->clock_fd = OpenInheritedTaskClock();
  // The command gets the SIGPIPE disposition wattprint was started with
  // (wattprint itself ignores it); without CLONE_SIGHAND this changes the
  // child's copy only.
  if (sh->sigpipe != nullptr) sigaction(SIGPIPE, sh->sigpipe, nullptr);
  sigprocmask(SIG_SETMASK, sh->mask, nullptr);
  execvpe(sh->argv[0], sh->argv, environ);
  sh->exec_err = errno;
  _exit(127);
}

struct Spawned {
  static Spawned Failed(int err) {
    Spawned s;
    s.err = err;
    return s;
  }
  pid_t pid = 0;
  int err = 0;  // errno when the command could not be started
  std::unique_ptr<TreeCpuClock> clock;
  std::string clock_note;  // where the tree's CPU time comes from
};

// Starts the command with the original signal mask, and its tree CPU clock.
Spawned Spawn(const std::vector<std::string>& command, const sigset_t& mask, const struct sigaction& sigpipe) {
  std::vector<char*> argv;
  for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  SpawnShared sh;
  sh.argv = argv.data();
  sh.mask = &mask;
  sh.sigpipe = &sigpipe;
  // execvpe builds each candidate path on the stack.
  constexpr size_t kStack = 256 * 1024;
  void* stack = mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return Spawned::Failed(errno);
  Spawned out;
  out.pid = clone(&ChildMain, static_cast<char*>(stack) + kStack,
                  CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &sh);
  const int clone_err = errno;
  munmap(stack, kStack);
  if (out.pid < 0) return Spawned::Failed(clone_err);
  if (sh.exec_err != 0) {
    if (sh.clock_fd >= 0) close(sh.clock_fd);
    waitpid(out.pid, nullptr, 0);
    return Spawned::Failed(sh.exec_err);
  }
  out.clock = TaskClockFromFd(sh.clock_fd);
  out.clock_note = out.clock ? "perf_event task-clock (inherited)"
                             : std::string("procfs walk (perf_event_open: ") +
                                   std::strerror(-sh.clock_fd) + ")";
  return out;
}

bool ShouldForward(const signalfd_siginfo& si, pid_t child) {
  if (si.ssi_signo == SIGCHLD) return false;
  // SI_USER (0), SI_QUEUE (-1), SI_TKILL (-6): sent by a process. Not by
  // the command itself, which would only echo its own signal back.
  return si.ssi_code <= 0 && static_cast<pid_t>(si.ssi_pid) != child;
}

ChildExit FromSiginfo(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return {info.si_status, 0};
  return {128 + info.si_status, info.si_status};
}

// How long to sleep until `due`, for ppoll; nullptr when nothing is due.
const timespec* UntilDue(SteadyTime due, timespec* ts) {
  if (due == SteadyTime::max()) return nullptr;
  const auto left = std::max(Duration::zero(), due - SteadyClock::now());
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  ts->tv_sec = static_cast<time_t>(ns / 1000000000);
  ts->tv_nsec = static_cast<long>(ns % 1000000000);
  return ts;
}

// Forwards signals until the command has exited; leaves it unreaped. With a
// signalfd this is also the tracker's sampling loop (one thread sleeps in
// ppoll until a signal arrives or the next poll is due).
ChildExit WaitForwarding(pid_t child, int sigfd, Tracker& tracker) {
  bool check_child = true;  // at the start, then after every SIGCHLD
  for (;;) {
    siginfo_t info{};
    if (check_child && waitid(P_PID, child, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == child) {
      return FromSiginfo(info);
    }
    check_child = false;
    if (sigfd < 0) {
      // No signalfd: the tracker has its own thread (unless ppoll failed
      // below); just wait (signals then stay pending, unforwarded).
      info = siginfo_t{};
      if (waitid(P_PID, child, &info, WEXITED | WNOWAIT) == 0) return FromSiginfo(info);
      if (errno != EINTR) return {127, 0};
      continue;
    }
    pollfd p{sigfd, POLLIN, 0};
    timespec ts{};
    const int ready = ppoll(&p, 1, UntilDue(tracker.NextPoll(), &ts), nullptr);
    if (ready == 0) {
      tracker.PollDue(SteadyClock::now());
      continue;
    }
    if (ready < 0) {
      // Never expected; rather than spin, wait without the signalfd. The
      // tracker then only takes its stop reading (totals stay exact).
      if (errno != EINTR) sigfd = -1;
      check_child = true;
      continue;
    }
    signalfd_siginfo si{};
    const ssize_t n = read(sigfd, &si, sizeof si);
    if (n != static_cast<ssize_t>(sizeof si)) continue;
    if (si.ssi_signo == SIGCHLD) check_child = true;
    if (ShouldForward(si, child)) kill(child, static_cast<int>(si.ssi_signo));
  }
}

// `run --attach PID`: the tree of a process wattprint did not start, until
// it exits (a pidfd becomes readable) or a stop signal arrives. No signal
// is forwarded: the process is not ours.
ChildExit WaitAttached(pid_t pid, int sigfd, Tracker& tracker) {
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  for (;;) {
    pollfd p[2] = {{sigfd, POLLIN, 0}, {pidfd, POLLIN, 0}};
    timespec ts{};
    // Without a pidfd (an old kernel), the process is checked at each poll.
    const int ready = ppoll(p, pidfd >= 0 ? 2 : 1, UntilDue(tracker.NextPoll(), &ts), nullptr);
    if (pidfd < 0 && kill(pid, 0) != 0 && errno == ESRCH) break;
    if (ready == 0) {
      tracker.PollDue(SteadyClock::now());
      continue;
    }
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pidfd >= 0 && (p[1].revents & (POLLIN | POLLHUP)) != 0) break;
    signalfd_siginfo si{};
    if (read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si) &&
        (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)) {
      break;
    }
  }
  if (pidfd >= 0) close(pidfd);
  return {0, 0};
}

// The command line of a running process, for the record.
std::vector<std::string> CmdlineOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> out;
  std::string arg;
  while (std::getline(in, arg, '\0')) out.push_back(arg);
  return out;
}

int ExecFailure(const std::string& cmd, int err) {
  std::fprintf(stderr, "wattprint: cannot run '%s': %s\n", cmd.c_str(), std::strerror(err));
  // Like a shell: 127 = not found, 126 = found but not executable.
  return err == ENOENT ? 127 : 126;
}

}  // namespace

int RunCommand(const Config& cfg, const std::vector<std::string>& command) {
  return RunCommand(cfg, command, WaitOptions{});
}

namespace {

// An explicit location is checked before the command runs (a typo is a
// usage error then, not after an hour of training), and with the marginal
// basis, that it has a marginal figure. Empty: found beside the command.
Result<std::optional<IntensityTimeline>> CheckExplicitIntensity(const Config& cfg) {
  Result<std::optional<IntensityTimeline>> given = ExplicitIntensity(cfg);
  if (!given.ok() || !given->has_value() || cfg.intensity_basis != IntensityBasis::kMarginal) return given;
  Location loc;
  loc.step = LocationStep::kExplicit;
  Result<IntensityTimeline> m = MarginalIntensityAt(cfg, loc);
  if (!m.ok()) return m.status();
  return given;
}

// The run's record before the command: metadata, sources, scope, and a
// provisional intensity for the live status line.
RunResult NewRun(const Config& cfg, const std::vector<std::string>& command, const DiscoveredSources& found,
                 const std::optional<IntensityTimeline>& given) {
  RunResult run;
  run.meta = MakeMetadata(cfg);
  run.meta.command = command;
  run.sources = found.reports;
  AddGpuMetadata(found.reports, &run.meta);
  run.scope = cfg.scope;
  run.intensity = given ? *given : WorldAverageIntensity();
  return run;
}

// After the command: the intensity as the library chooses it, the ledger,
// how the command ended.
void FinishRun(BackgroundIntensity& background, const Tracker& tracker, const ChildExit& exit, RunResult* run) {
  Result<IntensityChoice> chosen = background.Finish();
  if (!chosen.ok()) {
    std::fprintf(stderr, "wattprint: error: %s\n", chosen.status().message().c_str());
  } else {
    run->intensity = std::move(chosen->chosen);
    run->other_intensity = std::move(chosen->other);
    AddCloudPlacement(chosen->location, &run->meta);
  }
  run->snapshot = tracker.Snapshot();
  run->wall_start = run->snapshot.wall_start;
  const bool attached = run->meta.tree_cpu_source.starts_with("procfs walk (attached");
  run->meta.exit_code = exit.signal == 0 && !attached ? std::optional<int>(exit.code) : std::nullopt;
  if (exit.signal != 0) run->meta.signal = exit.signal;
  run->self_cost = MeasureSelfCost();
}

// Output errors are reported but do not replace the command's exit code:
// scripts that wrap a command with wattprint keep its meaning.
void Report(const Config& cfg, const RunResult& run) {
  const size_t points = run.snapshot.ledger->num_points();
  SaveOutputs(cfg, run, 0, points == 0 ? 0 : points - 1, true);
  if (cfg.quiet) return;
  const std::string summary = FormatSummary(run);
  std::fwrite(summary.data(), 1, summary.size(), stderr);
}

}  // namespace

int RunCommand(const Config& cfg, const std::vector<std::string>& command, const WaitOptions& wait) {
  Result<std::optional<IntensityTimeline>> given = CheckExplicitIntensity(cfg);
  if (!given.ok()) return UsageError(given.status().message());
  const pid_t attach = wait.attach;
  if (attach > 0 && kill(attach, 0) != 0 && errno == ESRCH) {
    return UsageError("--attach " + std::to_string(attach) + ": no such process");
  }
  DiscoveredSources found = DiscoverSources(MakeSourceOptions(cfg));
  RunResult run = NewRun(cfg, attach > 0 ? CmdlineOf(attach) : command, found, *given);

  LiveStatus live(cfg, &run);
  TrackerOptions topts = MakeTrackerOptions(cfg);
  // Set before the tracker starts, then used only on its sampling side.
  std::unique_ptr<GatewayPusher> pusher;
  topts.on_sample = [status = live.Callback(), &pusher](const Ledger& ledger) {
    if (status) status(ledger);
    if (pusher) pusher->metrics().Update(ledger);
  };
  // A closed stderr (`wattprint run ... 2>&1 | head -1`) must not kill
  // wattprint with SIGPIPE while it prints: writes fail with EPIPE instead,
  // and the command's exit code is kept. The command gets the original
  // disposition back (Spawn).
  struct sigaction ignore {}, original {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, &original);
  sigset_t old_mask;
  const int sigfd = BlockSignals(&old_mask);
  if (wait.below_g_per_kwh) {
    const WaitOutcome w = WaitForLowIntensity(cfg, wait, sigfd);
    if (w.signal != 0) {
      std::fprintf(stderr, "wattprint: wait ended by signal %d; command not started\n", w.signal);
      return 128 + w.signal;
    }
  }
  // After BlockSignals: its threads must inherit the blocked mask.
  BackgroundIntensity background(cfg, *given);
  // What earlier runs could not send goes while this one measures.
  std::optional<BackgroundReplay> replay;
  if (!cfg.collector_url.empty()) replay.emplace(UploadOptionsFor(cfg));
  // The wait loop below samples; a thread only if there is no signalfd.
  topts.sampler_thread = sigfd < 0;
  Tracker tracker(std::move(topts), std::move(found.sources));
  if (!tracker.interval_note().empty()) {
    std::fprintf(stderr, "wattprint: warning: %s\n", tracker.interval_note().c_str());
  }
  if (!cfg.pushgateway.empty()) {
    run.snapshot = tracker.Snapshot();  // the channels
    Result<std::unique_ptr<PrometheusExporter>> metrics = PrometheusExporter::Create(&run);
    if (metrics.ok()) {
      pusher = std::make_unique<GatewayPusher>(cfg.pushgateway, cfg.pushgateway_job,
                                               run.meta.host.empty() ? "unknown" : run.meta.host,
                                               cfg.pushgateway_interval_s, std::move(metrics).value());
    }
  }
  run.wall_start = std::chrono::system_clock::now();
  Status st = tracker.Start();
  if (!st.ok()) {
    std::fprintf(stderr, "wattprint: error: cannot start tracking: %s\n", st.ToString().c_str());
    return 1;
  }
  ChildExit exit;
  if (attach > 0) {
    run.meta.tree_cpu_source = "procfs walk (attached to process " + std::to_string(attach) + ")";
    tracker.SetTreeRoot(attach);
    exit = WaitAttached(attach, sigfd, tracker);
    (void)tracker.Stop();
  } else {
    Spawned spawned = Spawn(command, old_mask, original);
    if (spawned.err != 0) {
      (void)tracker.Stop();
      return ExecFailure(command[0], spawned.err);
    }
    run.meta.tree_cpu_source = spawned.clock_note;
    tracker.SetTreeRoot(spawned.pid, std::move(spawned.clock));
    exit = WaitForwarding(spawned.pid, sigfd, tracker);
    (void)tracker.Stop();
    waitpid(spawned.pid, nullptr, 0);
  }
  if (sigfd >= 0) close(sigfd);
  // The forwarded signals stay blocked until wattprint exits, so one that
  // arrives now cannot interrupt the outputs.
  live.Clear();
  FinishRun(background, tracker, exit, &run);
  Report(cfg, run);
  if (pusher) {
    pusher->metrics().Update(*run.snapshot.ledger);
    pusher->metrics().Finish(run);
    (void)pusher->PushFinal(std::chrono::milliseconds(3000));
  }
  if (replay) replay->Finish();
  SendToCollector(cfg, run);
  return exit.code;
}

}  // namespace wattprint::cli
