// The layered configuration for this process; see options.h.
#include "options.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

extern char** environ;

namespace wattprint::cli {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

Result<Config> ResolveConfig(std::vector<std::pair<std::string, std::string>> flags,
                             std::vector<std::string>* files) {
  ConfigInputs in;
  for (char** e = environ; e && *e; ++e) in.environment.emplace_back(*e);
  in.cwd = std::string(".");  // (operator=(const char*) trips GCC 12 -Wrestrict here)
  in.xdg_config_home = Env("XDG_CONFIG_HOME");
  in.home = Env("HOME");
  in.flags = std::move(flags);
  return LoadConfig(in, files);
}

int UsageError(const std::string& what) {
  std::fprintf(stderr, "wattprint: error: %s\n", what.c_str());
  return 2;
}

}  // namespace wattprint::cli
