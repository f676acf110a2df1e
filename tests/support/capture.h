// The standard output of a shell command line, for benchmarks that drive
// the wattprint binary (`wattprint admin ...` answers in JSON).
#pragma once

#include <cstdio>
#include <string>

namespace wattprint::testing {

inline std::string Capture(const std::string& command_line) {
  FILE* p = popen(command_line.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (p != nullptr) pclose(p);
  return out;
}

}  // namespace wattprint::testing
