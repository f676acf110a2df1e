#include "wattprint/status.h"

#include <cerrno>
#include <cstring>

namespace wattprint {

const char* Status::CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "NotFound";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kNotSupported: return "NotSupported";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kIOError: return "IOError";
    case Code::kCorrupt: return "Corrupt";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + msg_;
}

Status Status::FromErrno(int err, const std::string& context) {
  std::string m = context + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENODEV:
    case ENXIO: return NotFound(m);
    case EACCES:
    case EPERM: return PermissionDenied(m);
    case EOPNOTSUPP: return NotSupported(m);
    case EINVAL: return InvalidArgument(m);
    default: return IOError(m);
  }
}

}  // namespace wattprint
