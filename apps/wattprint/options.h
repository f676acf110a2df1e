// The step that layers the command-line flags over the environment and
// config files (wattprint/config.h), and the usage-error exit. The flags
// themselves are registered in main.cpp, the only file that includes CLI11
// (each file that does pays for its validator objects at start-up).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "wattprint/config.h"

namespace wattprint::cli {

// Loads the layered configuration for this process (environment, cwd,
// XDG_CONFIG_HOME/HOME) with `flags` on top. `files` receives the config
// files that existed and were applied. `flags` are (key, raw value) pairs.
Result<Config> ResolveConfig(std::vector<std::pair<std::string, std::string>> flags,
                             std::vector<std::string>* files);

// Prints "wattprint: error: <what>" on stderr and returns 2, the exit code
// for usage and configuration errors.
int UsageError(const std::string& what);

}  // namespace wattprint::cli
