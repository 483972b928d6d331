// result.h — the one typed error of mmcfs and the Result<T> that carries it.
//
// Every layer below the FUSE adapter reports failure as an Error: a code from
// the closed set Errc plus a human sentence saying what went wrong and, where
// it helps, how to fix it. Nothing below src/fs/fuse_adapter.cpp mentions errno;
// the adapter maps Errc to errno in exactly one place (src/fs/errno_map.cpp).
//
// Thread rules: value types, no shared state; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace mmcfs {

enum class Errc {
  kNotFound,          // no such entry / object
  kExists,            // already exists
  kNotDirectory,      // a directory was expected
  kIsDirectory,       // a file was expected
  kReadOnly,          // this part of the tree is never writable
  kPermissionDenied,  // writable in principle, not by this caller / this way
  kInvalidArgument,   // the input was malformed or failed validation
  kNotEmpty,          // directory not empty
  kUnreachable,       // the remote host could not be reached (TCP, DNS, VPN)
  kTimeout,           // the remote did not answer within the bound
  kHostKey,           // SSH host key unknown or changed: refused to connect
  kAuthFailed,        // SSH authentication was rejected
  kRemoteFailed,      // a remote command ran and failed
  kIo,                // local I/O failure (disk, SQLite)
  kCrossDevice,       // a rename across parts of the tree that cannot share files
  kBusy,              // the same action is already under way
  kNotSupported,      // an operation this part of the tree does not offer
  kInternal,          // a bug: an invariant did not hold
};

// A short stable name for logs and tests ("not-found", "timeout", ...).
const char* errc_name(Errc code);

struct Error {
  Errc code;
  std::string message;

  // "timeout: ssh alpha: no answer within 10 s"
  std::string describe() const;
};

inline Error make_error(Errc code, std::string message) {
  return Error{code, std::move(message)};
}

// Result<T>: either a T or an Error. Result<void> is spelled Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}        // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design
  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { assert(!ok()); return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace mmcfs
