// The text format of the fuzzers' file trees, readable so that seeds can be
// written by hand:
//
//   @sys/class/powercap/intel-rapl:0/energy_uj     a file (path below "/")
//   1234567                                        its bytes, to the next '@' line
//   @>sys/class/hwmon/hwmon0/device ../../x        a symbolic link and its target
//   @@                                             the next round: the lines
//                                                  after it change the tree
//                                                  between polls ("@-path"
//                                                  removes a file)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mem_fs.h"

namespace wattprint::fuzz {

struct TreeEdit {
  enum Kind { kFile, kLink, kRemove } kind;
  std::string path;
  std::string value;
};
using TreeRound = std::vector<TreeEdit>;

// At most `max_rounds` rounds; the first is the initial tree.
inline std::vector<TreeRound> ParseTree(std::string_view text, size_t max_rounds = 8) {
  std::vector<TreeRound> rounds(1);
  TreeEdit* open = nullptr;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    const bool last = end == text.size();
    if (line == "@@") {
      if (rounds.size() == max_rounds) break;
      rounds.emplace_back();
      open = nullptr;
    } else if (line.starts_with("@>")) {
      const size_t sp = line.find(' ');
      if (sp != std::string_view::npos) {
        rounds.back().push_back({TreeEdit::kLink, "/" + std::string(line.substr(2, sp - 2)),
                                 std::string(line.substr(sp + 1))});
      }
      open = nullptr;
    } else if (line.starts_with("@-")) {
      rounds.back().push_back({TreeEdit::kRemove, "/" + std::string(line.substr(2)), ""});
      open = nullptr;
    } else if (line.starts_with("@")) {
      rounds.back().push_back({TreeEdit::kFile, "/" + std::string(line.substr(1)), ""});
      open = &rounds.back().back();
    } else if (open != nullptr) {
      open->value.append(line);
      if (!last) open->value += '\n';
    }
    pos = end + 1;
  }
  return rounds;
}

inline void Apply(const TreeRound& round, MemFs* fs) {
  for (const TreeEdit& e : round) {
    if (e.kind == TreeEdit::kFile) fs->Set(e.path, e.value);
    else if (e.kind == TreeEdit::kLink) fs->Link(e.path, e.value);
    else fs->Remove(e.path);
  }
}

}  // namespace wattprint::fuzz
