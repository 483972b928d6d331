// remote.h — the narrow interface to a cluster's login node.
//
// Everything mmcfs does on a cluster goes through Remote: run a command given
// as an argument vector (quoted for POSIX sh by the implementation, never
// pasted into a string), with a bounded time, optionally feeding it bytes on
// stdin (how a script is uploaded), and read a byte range of a remote file
// (how job logs are followed without refetching them). Implementations:
//   SshRemote      (ssh_remote.h)      libssh2, one persistent session
//   FakeRemote     (tests/fakes)       canned answers keyed by argv
//   FailingRemote  (failing_remote.h)  wraps another, injects faults
//
// Thread rules: implementations are safe to call from several threads; calls
// may be serialised internally. Callers must not hold locks that filesystem
// threads take while calling in (a call can block up to its timeout).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mmcfs::backend {

struct CommandResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

// A byte range of a remote file and the file's size when it was read.
struct FileChunk {
  std::string bytes;           // up to max_bytes from the offset asked for
  std::uint64_t file_size = 0;
};

class Remote {
 public:
  virtual ~Remote() = default;

  // Opens (or re-opens) the connection: TCP, handshake, host key check,
  // authentication, all within the connect timeout. Ok if already connected.
  // Errors: kUnreachable, kTimeout, kHostKey, kAuthFailed.
  virtual Status connect() = 0;

  // Drops the connection (next run() or connect() reconnects).
  virtual void disconnect() = 0;

  // Runs argv on the remote host and waits at most `timeout` for it to
  // finish. A non-zero exit is not an Error: it is reported in exit_code.
  // Connects first if needed. Errors: as connect(), plus kTimeout and kIo
  // (the connection broke; the implementation drops it so the next call
  // reconnects).
  // The command's stdin is empty (at EOF).
  virtual Result<CommandResult> run(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout) = 0;

  // As run(), with `input` (any bytes, NULs included) written to the
  // command's stdin, then EOF. Input and output flow together, so neither a
  // large input nor a large output can deadlock; a command that exits
  // without reading all of its input is not an error. The timeout covers
  // the whole exchange.
  virtual Result<CommandResult> run_with_input(const std::vector<std::string>& argv,
                                               std::string_view input,
                                               std::chrono::milliseconds timeout) = 0;

  // Reads up to `max_bytes` of the file at `path` starting at `offset`, and
  // the file's current size, within `timeout`. Fewer bytes than asked come
  // back only at the end of the file (none when offset >= file_size). A path
  // starting with "~/" is relative to the remote home; others as given
  // (absolute paths are expected). Connects first if needed.
  // Errors: as run(), plus kNotFound (no such file) and kPermissionDenied.
  virtual Result<FileChunk> read_range(const std::string& path, std::uint64_t offset,
                                       std::size_t max_bytes,
                                       std::chrono::milliseconds timeout) = 0;
};

}  // namespace mmcfs::backend
