// `wattprint run [options] -- CMD ARGS...`: track the machine (and the
// command's process tree) while CMD runs, then write the outputs.
//
// Signals. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH and
// SIGCONT are blocked in wattprint (before the sampler thread starts, so it
// inherits the mask) and read from a signalfd; the command gets the original
// mask back. A signal sent by a process (kill, timeout, a job manager:
// si_code <= 0) is forwarded to the command. A signal the kernel generated
// (Ctrl-C, Ctrl-\, a window resize or a hang-up on the terminal: si_code ==
// SI_KERNEL) is not, because the terminal already delivers it to the whole
// foreground process group, the command included; forwarding it would
// deliver it twice. wattprint itself never dies from these signals: it
// waits for the command to end and still writes its outputs.
//
// The command is waited for with waitid(WNOWAIT), so the tracker's last
// sample still sees it as a zombie (its final CPU time counts), and only
// then is it reaped.
#include <signal.h>
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "commands.h"
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

// Starts the command with the original signal mask. Returns errno on failure.
int Spawn(const std::vector<std::string>& command, const sigset_t& mask, pid_t* pid) {
  std::vector<char*> argv;
  for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  const int err = posix_spawnp(pid, argv[0], nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  return err;
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

// Forwards signals until the command has exited; leaves it unreaped.
ChildExit WaitForwarding(pid_t child, int sigfd) {
  for (;;) {
    siginfo_t info{};
    if (waitid(P_PID, child, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == child) {
      return FromSiginfo(info);
    }
    signalfd_siginfo si{};
    const ssize_t n = sigfd >= 0 ? read(sigfd, &si, sizeof si) : -1;
    if (n == static_cast<ssize_t>(sizeof si)) {
      if (ShouldForward(si, child)) kill(child, static_cast<int>(si.ssi_signo));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // No signalfd: just wait (signals then stay pending, unforwarded).
    info = siginfo_t{};
    if (waitid(P_PID, child, &info, WEXITED | WNOWAIT) == 0) return FromSiginfo(info);
    if (errno != EINTR) return {127, 0};
  }
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

int RunCommand(const Config& cfg, const std::vector<std::string>& command, const WaitOptions& wait) {
  // An explicit location is checked now (a typo is a usage error before the
  // command runs); otherwise the location is found beside the command.
  Result<IntensityTimeline> intensity =
      cfg.country.empty() ? Result<IntensityTimeline>(WorldAverageIntensity()) : ResolveIntensity(cfg);
  if (!intensity.ok()) return UsageError(intensity.status().message());
  if (cfg.intensity_basis == "marginal") {
    Result<IntensityTimeline> m =
        MarginalIntensityAt(ResolveLocation(MakeLocationOptions(cfg), *PosixFileSystem()));
    if (!m.ok()) return UsageError(m.status().message());
  }
  DiscoveredSources found = DiscoverSources(MakeSourceOptions(cfg));

  RunResult run;
  run.meta = MakeMetadata(cfg);
  run.meta.command = command;
  run.sources = found.reports;
  run.scope = cfg.scope;
  // Provisional, for the live status line; replaced once the run is over.
  run.intensity = std::move(intensity).value();

  LiveStatus live(cfg, &run);
  TrackerOptions topts = MakeTrackerOptions(cfg);
  topts.on_sample = live.Callback();

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
  BackgroundIntensity background(cfg);
  Tracker tracker(std::move(topts), std::move(found.sources));
  run.wall_start = std::chrono::system_clock::now();
  Status st = tracker.Start();
  if (!st.ok()) {
    std::fprintf(stderr, "wattprint: error: cannot start tracking: %s\n", st.ToString().c_str());
    return 1;
  }

  pid_t child = 0;
  const int spawn_err = Spawn(command, old_mask, &child);
  if (spawn_err != 0) {
    (void)tracker.Stop();
    return ExecFailure(command[0], spawn_err);
  }
  tracker.SetTreeRoot(child);
  const ChildExit exit = WaitForwarding(child, sigfd);
  (void)tracker.Stop();
  waitpid(child, nullptr, 0);
  if (sigfd >= 0) close(sigfd);
  // The forwarded signals stay blocked until wattprint exits, so one that
  // arrives now cannot interrupt the outputs.
  live.Clear();

  Result<IntensityChoice> chosen = background.Finish();
  if (!chosen.ok()) {
    std::fprintf(stderr, "wattprint: error: %s\n", chosen.status().message().c_str());
  } else {
    run.intensity = std::move(chosen->chosen);
    run.other_intensity = std::move(chosen->other);
  }
  run.snapshot = tracker.Snapshot();
  run.wall_start = run.snapshot.wall_start;
  run.meta.exit_code = exit.signal == 0 ? std::optional<int>(exit.code) : std::nullopt;
  if (exit.signal != 0) run.meta.signal = exit.signal;
  const size_t points = run.snapshot.ledger->num_points();
  // Output errors are reported but do not replace the command's exit code:
  // scripts that wrap a command with wattprint keep its meaning.
  SaveOutputs(cfg, run, 0, points == 0 ? 0 : points - 1, true);
  if (!cfg.quiet) {
    const std::string summary = FormatSummary(run);
    std::fwrite(summary.data(), 1, summary.size(), stderr);
  }
  return exit.code;
}

}  // namespace wattprint::cli
