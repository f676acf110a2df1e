// A temporary directory tree for tests: write files (sysfs/procfs values),
// change them mid-run, and remove everything on destruction.
#pragma once

#include <string>
#include <string_view>

namespace wattprint::testing {

class TempTree {
 public:
  TempTree();  // creates a fresh directory under $TMPDIR (or /tmp)
  ~TempTree();
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }
  std::string Path(std::string_view rel) const;
  // Writes `content` to root/rel atomically (write + rename), creating parents.
  void Write(std::string_view rel, std::string_view content) const;
  void Mkdir(std::string_view rel) const;
  void Symlink(std::string_view target, std::string_view rel) const;
  void Remove(std::string_view rel) const;
  // Copies a directory tree (e.g. a fixture) into root/rel.
  void CopyFrom(const std::string& src_dir, std::string_view rel = "") const;

 private:
  std::string root_;
};

}  // namespace wattprint::testing
