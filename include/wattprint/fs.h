// A small filesystem interface that every hardware and procfs reader goes
// through, so tests can point readers at fixture trees and inject faults
// (EACCES, EIO, empty reads, values going backwards), after leveldb's Env.
//
// Paths handed to a FileSystem are absolute host paths already joined with
// the configured root (see SystemRoots). Open() keeps a handle that can be
// re-read from offset 0 without reopening, which is how sysfs and procfs
// files are meant to be polled cheaply.
//
// Thread safety: a FileSystem is safe to share between threads. A FileHandle
// is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wattprint/status.h"

namespace wattprint {

class FileHandle {
 public:
  virtual ~FileHandle() = default;
  // Re-reads the whole file from offset 0 into *out (replacing its content).
  virtual Status Read(std::string* out) = 0;
  // The path now names another file than the one held open (replaced by a
  // rename, or removed): the caller should open it again. One stat(2).
  virtual bool Stale() const { return false; }
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual Result<std::unique_ptr<FileHandle>> Open(const std::string& path) const = 0;
  // Reads a whole (small) file once. The default opens, reads and closes.
  virtual Result<std::string> ReadFile(const std::string& path) const;
  // Names of the entries in a directory (without "." and ".."), sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) const = 0;
  // Names of the subdirectories of a directory, sorted. The default lists
  // it and tries each entry as a directory; the real filesystem reads the
  // entry types instead (one getdents for a cgroup of 40 files).
  virtual Result<std::vector<std::string>> ListSubdirs(const std::string& path) const;
  // Target of a symbolic link (used for hwmon "device" links).
  virtual Result<std::string> ReadLink(const std::string& path) const = 0;
};

// The real filesystem (open/pread/opendir). Stateless; one instance may be
// shared by any number of readers.
std::shared_ptr<FileSystem> PosixFileSystem();

// Where sysfs and procfs are mounted. Containers often mount the host's /sys
// somewhere else; tests point these at fixture trees.
struct SystemRoots {
  std::string sysfs = "/sys";
  std::string procfs = "/proc";
  std::string Sys(std::string_view rel) const { return Join(sysfs, rel); }
  std::string Proc(std::string_view rel) const { return Join(procfs, rel); }
  static std::string Join(std::string_view root, std::string_view rel);
};

// Reads a file holding one unsigned decimal integer (sysfs style, trailing
// newline allowed). Empty, non-numeric and out-of-range content is Corrupt.
Result<unsigned long long> ParseUnsigned(std::string_view text, const std::string& what);
Result<double> ParseDouble(std::string_view text, const std::string& what);
// Trims ASCII whitespace from both ends.
std::string_view Trim(std::string_view s);

}  // namespace wattprint
