// A FileSystem that wraps another and injects faults by path: EACCES, EIO,
// empty reads, or a fixed replacement value (e.g. a counter going backwards).
// After leveldb's fault-injecting Env.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "wattprint/fs.h"

namespace wattprint::testing {

class FaultFs final : public FileSystem {
 public:
  enum class Fault { kNone, kPermissionDenied, kIOError, kEmpty, kReplace };

  explicit FaultFs(std::shared_ptr<FileSystem> base);
  // Faults apply to opens and to every later read through handles of `path`.
  void Set(const std::string& path, Fault f, std::string replacement = "");
  void Clear(const std::string& path);

  Result<std::unique_ptr<FileHandle>> Open(const std::string& path) const override;
  Result<std::vector<std::string>> ListDir(const std::string& path) const override;
  Result<std::string> ReadLink(const std::string& path) const override;

  // Used by handles: the fault for a path right now.
  std::pair<Fault, std::string> Lookup(const std::string& path) const;

 private:
  std::shared_ptr<FileSystem> base_;
  mutable std::mutex mu_;
  std::map<std::string, std::pair<Fault, std::string>> faults_;
};

}  // namespace wattprint::testing
