// errno_map.cpp — Errc -> errno.
#include "fs/errno_map.h"

#include <cerrno>

namespace mmcfs::fs {

int to_errno(Errc code) {
  switch (code) {
    case Errc::kNotFound: return ENOENT;
    case Errc::kExists: return EEXIST;
    case Errc::kNotDirectory: return ENOTDIR;
    case Errc::kIsDirectory: return EISDIR;
    case Errc::kReadOnly: return EROFS;
    case Errc::kPermissionDenied: return EACCES;
    case Errc::kInvalidArgument: return EINVAL;
    case Errc::kNotEmpty: return ENOTEMPTY;
    case Errc::kUnreachable: return EHOSTUNREACH;
    case Errc::kTimeout: return ETIMEDOUT;
    case Errc::kHostKey: return EHOSTUNREACH;
    case Errc::kAuthFailed: return EACCES;
    case Errc::kRemoteFailed: return EIO;
    case Errc::kIo: return EIO;
    case Errc::kCrossDevice: return EXDEV;
    case Errc::kBusy: return EBUSY;
    case Errc::kNotSupported: return ENOTSUP;
    case Errc::kInternal: return EIO;
  }
  return EIO;
}

bool is_routine(Errc code) { return code == Errc::kNotFound; }

}  // namespace mmcfs::fs
