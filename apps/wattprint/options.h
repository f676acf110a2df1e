// Command-line flags for the shared configuration keys, and the step that
// layers them over the environment and config files (wattprint/config.h).
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "wattprint/config.h"

namespace wattprint::cli {

// The flags one subcommand registered, and where CLI11 stores their values.
class SharedFlags {
 public:
  // Registers a flag for every key in ConfigKeys(); save_interval only when
  // `with_save_interval` (monitor).
  void Register(CLI::App* cmd, bool with_save_interval);
  // Registers flags for only these keys (commands that take a location).
  void RegisterKeys(CLI::App* cmd, std::initializer_list<std::string_view> keys);
  // The flags actually given, as (key, raw value) for LoadConfig.
  std::vector<std::pair<std::string, std::string>> Given() const;

 private:
  struct Entry {
    std::string key;
    CLI::Option* option = nullptr;
    bool is_bool = false;
  };
  void Add(CLI::App* cmd, const ConfigKey& k);
  std::vector<Entry> entries_;
  std::map<std::string, std::string> values_;  // key -> raw text (node-stable)
  std::map<std::string, bool> bools_;
};

// Loads the layered configuration for this process (environment, cwd,
// XDG_CONFIG_HOME/HOME) with `flags` on top. `files` receives the config
// files that existed and were applied.
Result<Config> ResolveConfig(const SharedFlags& flags, std::vector<std::string>* files);

// Prints "wattprint: error: <what>" on stderr and returns 2, the exit code
// for usage and configuration errors.
int UsageError(const std::string& what);

}  // namespace wattprint::cli
