// Carbon-aware start for `wattprint run`: wait, within a deadline, until the
// live intensity drops below a threshold, then let the command start.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "commands.h"
#include "wait.h"

namespace wattprint::cli {
namespace {

double SecondsOf(Duration d) { return std::chrono::duration<double>(d).count(); }

// Sleeps until `until` or a signal on `sigfd`; returns the signal or 0.
int SleepOrSignal(int sigfd, SteadyTime until) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - SteadyClock::now());
    if (left.count() <= 0) return 0;
    pollfd p{sigfd, POLLIN, 0};
    const int n = poll(&p, sigfd >= 0 ? 1 : 0, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    signalfd_siginfo si{};
    if (read(sigfd, &si, sizeof si) != static_cast<ssize_t>(sizeof si)) continue;
    // SIGCHLD (no child yet) and terminal noise do not end the wait.
    if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP ||
        si.ssi_signo == SIGQUIT) {
      return static_cast<int>(si.ssi_signo);
    }
  }
}

// Asks for the latest reading on its own thread, so a signal ends the wait
// even while a request is in flight.
struct Asked {
  Result<LiveReading> reading = Status::IOError("not asked");
  int signal = 0;
};
Asked AskLatest(LiveIntensity& live, int sigfd) {
  auto fut = std::async(std::launch::async, [&live] { return live.Latest(); });
  while (fut.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
    const int sig = SleepOrSignal(sigfd, SteadyClock::now() + std::chrono::milliseconds(50));
    if (sig != 0) {
      fut.wait();  // bounded by the request timeout
      return {Status::IOError("interrupted"), sig};
    }
  }
  return {fut.get(), 0};
}

void Say(const Config& cfg, const std::string& text) {
  if (!cfg.quiet) std::fprintf(stderr, "wattprint: %s\n", text.c_str());
}

}  // namespace

WaitOutcome WaitForLowIntensity(const Config& cfg, const WaitOptions& w, int sigfd) {
  const double threshold = *w.below_g_per_kwh;
  const SteadyTime start = SteadyClock::now();
  const SteadyTime deadline = start + *w.max_wait;
  const Location loc = ResolveLocation(MakeLocationOptions(cfg), *PosixFileSystem());
  std::shared_ptr<LiveIntensity> live = MakeLiveIntensity(cfg, loc, CacheDir());
  if (!live) {
    Say(cfg, fmt::format("no live intensity configured (set --live-intensity uk or electricitymaps); "
                         "starting now without waiting for < {} g CO2e/kWh", threshold));
    return {};
  }
  const std::chrono::milliseconds period = LivePollPeriod(cfg);
  bool seen = false;
  for (;;) {
    Asked a = AskLatest(*live, sigfd);
    const double waited = SecondsOf(SteadyClock::now() - start);
    if (a.signal != 0) return {a.signal};
    if (a.reading.ok()) {
      seen = true;
      const double g = a.reading->point.value.g_per_kwh();
      if (g < threshold) {
        Say(cfg, fmt::format("waited {:.0f} s: intensity {} g CO2e/kWh is below {} ({}, {}); starting",
                             waited, g, threshold, a.reading->zone, a.reading->source));
        return {};
      }
      if (SteadyClock::now() >= deadline) {
        Say(cfg, fmt::format("waited {:.0f} s: deadline passed with intensity {} g CO2e/kWh, not below {} "
                             "({}); starting", waited, g, threshold, a.reading->zone));
        return {};
      }
    } else if (!seen) {
      Say(cfg, fmt::format("no live intensity ({}); starting now without waiting", a.reading.status().message()));
      return {};
    } else if (SteadyClock::now() >= deadline) {
      Say(cfg, fmt::format("waited {:.0f} s: deadline passed ({}); starting", waited,
                           a.reading.status().message()));
      return {};
    }
    // A 429's Retry-After pushes the next ask back.
    SteadyTime next = SteadyClock::now() + period;
    if (std::optional<SystemTime> nb = live->retry_not_before()) {
      next = std::max(next, SteadyClock::now() + (*nb - std::chrono::system_clock::now()));
    }
    const int sig = SleepOrSignal(sigfd, std::min(next, deadline));
    if (sig != 0) return {sig};
  }
}

Result<Duration> ParseDuration(std::string_view text) {
  const std::string t(Trim(text));
  if (t.empty()) return Status::InvalidArgument("empty duration");
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < t.size()) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(t.substr(i), &used);
    } catch (const std::exception&) {
      return Status::InvalidArgument("bad duration '" + t + "' (use 90s, 30m, 2h or 1h30m)");
    }
    if (!(v >= 0) || !std::isfinite(v)) return Status::InvalidArgument("bad duration '" + t + "'");
    i += used;
    double unit = 1;
    if (i < t.size()) {
      const char u = t[i++];
      unit = u == 's' ? 1 : u == 'm' ? 60 : u == 'h' ? 3600 : u == 'd' ? 86400 : -1;
      if (unit < 0) return Status::InvalidArgument("bad duration '" + t + "' (use 90s, 30m, 2h or 1h30m)");
    } else if (any) {
      return Status::InvalidArgument("bad duration '" + t + "': a unit is missing after the last number");
    }
    total += v * unit;
    any = true;
  }
  // A week is the longest wait that makes sense for a job; beyond about 292
  // years the nanosecond count would overflow ("200000d" waited 0 s).
  constexpr double kMaxWaitS = 7 * 86400.0;
  if (total > kMaxWaitS) return Status::InvalidArgument("'" + t + "' is longer than the longest wait, 7d");
  return std::chrono::duration_cast<Duration>(Seconds(total));
}

}  // namespace wattprint::cli
