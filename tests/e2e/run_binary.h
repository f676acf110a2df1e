// Runs the real `wattprint` binary for end-to-end tests and captures its
// exit status, stdout and stderr.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace wattprint::testing {

struct BinaryResult {
  int exit_code = -1;      // WEXITSTATUS, or 128+signal if killed
  std::string out;
  std::string err;
};

// Runs WATTPRINT_BINARY with `args`, in `cwd` (empty = current), with `env`
// added to a minimal environment (PATH, HOME=cwd unless given). Fails the
// test if it does not finish within `timeout_s`.
BinaryResult RunWattprint(const std::vector<std::string>& args, const std::string& cwd = "",
                          const std::map<std::string, std::string>& env = {},
                          double timeout_s = 60);

// The general form: also sends `signal` to wattprint `signal_after_s`
// seconds after it starts (0 = never), e.g. SIGINT to stop `monitor`.
struct RunSpec {
  std::vector<std::string> args;
  std::string cwd;
  std::map<std::string, std::string> env;
  double timeout_s = 60;
  int signal = 0;
  double signal_after_s = 0;
  // When not empty, the signal also waits until stdout holds this text (the
  // tracked command saying it is ready), so slow machines do not race.
  std::string signal_when_stdout_has;
};
BinaryResult RunWattprint(const RunSpec& spec);

}  // namespace wattprint::testing
