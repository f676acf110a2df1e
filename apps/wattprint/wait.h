// Carbon-aware start (cmd_run_wait.cpp), used by `wattprint run`.
#pragma once

#include "commands.h"

namespace wattprint::cli {

struct WaitOutcome {
  int signal = 0;  // SIGINT/SIGTERM/... ended the wait: do not start
};

// Polls the live provider every LivePollPeriod until its intensity is below
// the threshold or max_wait has passed, and says on stderr how long it
// waited and why it stopped. Without live data it returns at once, with a
// note. `sigfd` is a signalfd of the blocked signals.
WaitOutcome WaitForLowIntensity(const Config& cfg, const WaitOptions& wait, int sigfd);

}  // namespace wattprint::cli
