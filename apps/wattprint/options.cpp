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
  if (const std::string site = Env("WATTPRINT_SITE_CONFIG"); !site.empty()) in.site_config = site;
  in.flags = std::move(flags);
  return LoadConfig(in, files);
}

// One line, whatever the message holds: a value with a newline or another
// control character is shown escaped.
int UsageError(const std::string& what) {
  std::string line;
  for (const char c : what) {
    if (c == '\n') {
      line += "\\n";
    } else if (c == '\r') {
      line += "\\r";
    } else if (c == '\t') {
      line += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      line += buf;
    } else {
      line += c;
    }
  }
  std::fprintf(stderr, "wattprint: error: %s\n", line.c_str());
  return 2;
}

}  // namespace wattprint::cli
