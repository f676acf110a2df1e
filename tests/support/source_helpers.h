// Small helpers shared by the source tests: options rooted at a fixture,
// one poll, the channel ids.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "wattprint/sources.h"

namespace wattprint::testing {

inline SourceOptions OptionsFor(const std::string& root,
                                std::shared_ptr<FileSystem> fs = PosixFileSystem()) {
  SourceOptions o;
  o.roots.sysfs = root + "/sys";
  o.roots.procfs = root + "/proc";
  o.fs = std::move(fs);
  return o;
}

inline std::vector<Reading> PollOnce(Source& s) {
  std::vector<Reading> out(s.channels().size());
  s.Poll(SteadyClock::now(), ActivitySnapshot{}, out);
  return out;
}

inline std::vector<std::string> Ids(const Source& s) {
  std::vector<std::string> ids;
  for (const ChannelInfo& c : s.channels()) ids.push_back(c.id);
  return ids;
}

}  // namespace wattprint::testing
