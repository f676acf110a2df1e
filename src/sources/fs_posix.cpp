// The real filesystem behind the FileSystem interface, and the small parsers
// every sysfs/procfs reader shares.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "wattprint/fs.h"

namespace wattprint {
namespace {

constexpr size_t kMaxFileBytes = 4 << 20;

class PosixHandle final : public FileHandle {
 public:
  PosixHandle(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixHandle() override { ::close(fd_); }

  bool Stale() const override {
    struct stat now {}, held {};
    if (::stat(path_.c_str(), &now) != 0) return true;
    if (::fstat(fd_, &held) != 0) return true;
    return now.st_ino != held.st_ino || now.st_dev != held.st_dev;
  }

  Status Read(std::string* out) override {
    out->clear();
    char buf[4096];
    off_t off = 0;
    for (;;) {
      // Bounded: a value, a /proc file or a config file is far smaller; a
      // file that keeps growing must not take the memory with it.
      if (out->size() >= kMaxFileBytes) return Status::Corrupt(path_ + ": larger than 4 MiB");
      ssize_t n = ::pread(fd_, buf, sizeof buf, off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, path_);
      }
      if (n == 0) return Status::Ok();
      out->append(buf, static_cast<size_t>(n));
      off += n;
      // sysfs attributes are at most one page; a short read means we are done.
      if (static_cast<size_t>(n) < sizeof buf) return Status::Ok();
    }
  }

 private:
  int fd_;
  std::string path_;
};

class PosixFs final : public FileSystem {
 public:
  // Non-blocking, so a FIFO in place of a file cannot stall the open, and
  // only regular files: sysfs attributes and /proc files are, while a FIFO,
  // a device (a symlink to /dev/zero never ends) or a directory is refused.
  Result<std::unique_ptr<FileHandle>> Open(const std::string& path) const override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return Status::FromErrno(errno, path);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return Status::FromErrno(err, path);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::InvalidArgument(path + ": not a regular file");
    }
    return std::unique_ptr<FileHandle>(new PosixHandle(fd, path));
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) const override { return Names(path, false); }

  Result<std::vector<std::string>> ListSubdirs(const std::string& path) const override { return Names(path, true); }

  Result<std::string> ReadLink(const std::string& path) const override {
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n < 0) return Status::FromErrno(errno, path);
    return std::string(buf, static_cast<size_t>(n));
  }

 private:
  // The entries of a directory, sorted; with dirs_only, its subdirectories
  // (from the entry types, or a stat where the filesystem gives none).
  static Result<std::vector<std::string>> Names(const std::string& path, bool dirs_only) {
    DIR* d = ::opendir(path.c_str());
    if (!d) return Status::FromErrno(errno, path);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n == "." || n == "..") continue;
      if (dirs_only && e->d_type != DT_DIR) {
        struct stat st{};
        const bool dir = e->d_type == DT_UNKNOWN && ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                         S_ISDIR(st.st_mode);
        if (!dir) continue;
      }
      names.emplace_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }
};

}  // namespace

Result<std::vector<std::string>> FileSystem::ListSubdirs(const std::string& path) const {
  auto all = ListDir(path);
  if (!all.ok()) return all.status();
  std::vector<std::string> dirs;
  for (const std::string& name : *all) {
    if (ListDir(path + "/" + name).ok()) dirs.push_back(name);
  }
  return dirs;
}

Result<std::string> FileSystem::ReadFile(const std::string& path) const {
  auto h = Open(path);
  if (!h.ok()) return h.status();
  std::string out;
  Status s = h.value()->Read(&out);
  if (!s.ok()) return s;
  return out;
}

std::shared_ptr<FileSystem> PosixFileSystem() {
  static const std::shared_ptr<FileSystem> fs = std::make_shared<PosixFs>();  // stateless
  return fs;
}

std::string SystemRoots::Join(std::string_view root, std::string_view rel) {
  std::string out(root);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  if (rel.empty()) return out;
  if (out != "/") out += '/';
  out += rel;
  return out;
}

std::string_view Trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\0'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

Result<unsigned long long> ParseUnsigned(std::string_view text, const std::string& what) {
  std::string_view t = Trim(text);
  if (t.empty()) return Status::Corrupt(what + ": empty value");
  unsigned long long v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec == std::errc::result_out_of_range) return Status::Corrupt(what + ": value out of range");
  if (ec != std::errc() || p != t.data() + t.size())
    return Status::Corrupt(what + ": not an unsigned integer: \"" + std::string(t.substr(0, 32)) + "\"");
  return v;
}

Result<double> ParseDouble(std::string_view text, const std::string& what) {
  std::string t(Trim(text));
  if (t.empty()) return Status::Corrupt(what + ": empty value");
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || errno == ERANGE || !std::isfinite(v))
    return Status::Corrupt(what + ": not a number: \"" + t.substr(0, 32) + "\"");
  return v;
}

}  // namespace wattprint
