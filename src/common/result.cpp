// result.cpp — names for error codes.
#include "common/result.h"

namespace mmcfs {

const char* errc_name(Errc code) {
  switch (code) {
    case Errc::kNotFound: return "not-found";
    case Errc::kExists: return "exists";
    case Errc::kNotDirectory: return "not-a-directory";
    case Errc::kIsDirectory: return "is-a-directory";
    case Errc::kReadOnly: return "read-only";
    case Errc::kPermissionDenied: return "permission-denied";
    case Errc::kInvalidArgument: return "invalid-argument";
    case Errc::kNotEmpty: return "not-empty";
    case Errc::kUnreachable: return "unreachable";
    case Errc::kTimeout: return "timeout";
    case Errc::kHostKey: return "host-key";
    case Errc::kAuthFailed: return "auth-failed";
    case Errc::kRemoteFailed: return "remote-failed";
    case Errc::kIo: return "io";
    case Errc::kCrossDevice: return "cross-device";
    case Errc::kBusy: return "busy";
    case Errc::kNotSupported: return "not-supported";
    case Errc::kInternal: return "internal";
  }
  return "unknown";
}

std::string Error::describe() const {
  return std::string(errc_name(code)) + ": " + message;
}

}  // namespace mmcfs
