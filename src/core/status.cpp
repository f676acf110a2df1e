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
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kUnavailable: return "Unavailable";
    case Code::kResourceExhausted: return "ResourceExhausted";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + msg_;
}

Status Status::FromErrno(int err, const std::string& context) {
  // The untranslated description: no message-catalogue lookup per failed
  // open (a probe that finds nothing fails several), and the same words in
  // every locale, as logs and tests expect.
  const char* desc = strerrordesc_np(err);
  std::string m = context + ": " + (desc != nullptr ? desc : std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENODEV:
    case ENXIO: return NotFound(m);
    case EACCES:
    case EPERM: return PermissionDenied(m);
    case EOPNOTSUPP: return NotSupported(m);
    case EINVAL: return InvalidArgument(m);
    case EEXIST: return AlreadyExists(m);
    case ENOSPC:
    case EDQUOT: return ResourceExhausted(m);
    default: return IOError(m);
  }
}

}  // namespace wattprint
