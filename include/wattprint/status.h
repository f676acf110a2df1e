// Errors as values (after leveldb's Status), and Result<T> = value or Status.
//
// The library never throws for expected failures (a file that cannot be
// read, a counter that went backwards); it returns a Status with a code and
// a message carrying context. Exceptions are used only at the edges (CLI
// parsing, config, Python).
//
// Thread safety: value types.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace wattprint {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,
    kPermissionDenied,
    kNotSupported,
    kInvalidArgument,
    kIOError,
    kCorrupt,
    kAlreadyExists,      // a unique name or id is taken
    kUnavailable,        // a server or database cannot be reached now; retry later
    kResourceExhausted,  // a disk is full, a limit is reached
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status PermissionDenied(std::string m) { return Status(Code::kPermissionDenied, std::move(m)); }
  static Status NotSupported(std::string m) { return Status(Code::kNotSupported, std::move(m)); }
  static Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status IOError(std::string m) { return Status(Code::kIOError, std::move(m)); }
  static Status Corrupt(std::string m) { return Status(Code::kCorrupt, std::move(m)); }
  static Status AlreadyExists(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status ResourceExhausted(std::string m) { return Status(Code::kResourceExhausted, std::move(m)); }
  // Maps an errno value from a failed system call to a Status.
  static Status FromErrno(int err, const std::string& context);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  // "PermissionDenied: /sys/.../energy_uj: Permission denied"
  std::string ToString() const;
  static const char* CodeName(Code c);

 private:
  Status(Code c, std::string m) : code_(c), msg_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string msg_;
};

template <typename T>
class Result {
 public:
  Result(T v) : v_(std::move(v)) {}                 // NOLINT: implicit by design
  Result(Status s) : v_(std::move(s)) {}            // NOLINT: must not be Ok
  bool ok() const { return v_.index() == 0; }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  T value_or(T fallback) const { return ok() ? value() : fallback; }

 private:
  std::variant<T, Status> v_;
};

}  // namespace wattprint
