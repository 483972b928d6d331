// ssh_session.h — one connected, authenticated libssh2 session (SshRemote's
// internals; nothing else should include this).
//
// SshSession owns a TCP socket and a LIBSSH2_SESSION in non-blocking mode,
// plus (from the first read_range() on) one SFTP subsystem channel in it.
// Every operation takes an absolute deadline and waits on the socket with
// poll() until it, so nothing here can block past the deadline (for DNS and
// TCP see ssh_socket.h).
// After any failed exec(), and any read_range() that failed with kTimeout or
// kIo, the session must be destroyed: it may be wedged
// half-way through a channel; the destructor cuts the socket first, so
// destroying a wedged session never blocks.
//
// Thread rules: none inside; one thread at a time (SshRemote's mutex).
#pragma once

#include <libssh2.h>

#include <libssh2_sftp.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "backend/remote.h"
#include "backend/ssh_remote.h"
#include "common/result.h"

namespace mmcfs::backend {

using SshDeadline = std::chrono::steady_clock::time_point;

// "ssh alpha: <message>" with the given code.
Error ssh_error(const SshOptions& options, Errc code, const std::string& message);
// "user@host:port" for messages.
std::string ssh_destination(const SshOptions& options);
// "2.5 s" for messages.
std::string describe_duration(std::chrono::milliseconds d);
// Time until the deadline, rounded up (negative once it passed).
std::chrono::milliseconds time_left(SshDeadline deadline);

class SshSession {
 public:
  // Resolves, connects, handshakes, verifies the host key against
  // known_hosts and authenticates, all before `deadline`.
  // Errors: kUnreachable, kTimeout, kHostKey, kAuthFailed.
  static Result<std::unique_ptr<SshSession>> open(const SshOptions& options,
                                                  SshDeadline deadline);
  ~SshSession();  // cuts the connection; never blocks
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  // Runs `command` on a new exec channel, writes `input` to its stdin and
  // then EOF (interleaved with reading, so nothing can deadlock; input the
  // command does not read is dropped), and collects its output and exit
  // status before `deadline`. `sent` tells whether the command may have
  // reached the server (false: it certainly did not run). Errors: kTimeout,
  // kIo (connection broken), kRemoteFailed (output over the cap); after any
  // error the caller must destroy the session.
  Result<CommandResult> exec(const std::string& command, std::string_view input,
                             SshDeadline deadline, bool& sent);

  // Reads up to max_bytes of the file at `path` (an SFTP path: relative paths
  // start at the login directory) from `offset`, and its size, before
  // `deadline`, over the session's SFTP channel (opened on first use).
  // Errors that leave the session usable: kNotFound, kPermissionDenied,
  // kIsDirectory, kRemoteFailed (other SFTP status, or no SFTP subsystem).
  // After kTimeout or kIo the caller must destroy the session.
  Result<FileChunk> read_range(const std::string& path, std::uint64_t offset,
                               std::size_t max_bytes, SshDeadline deadline);

  // Sends SSH_MSG_DISCONNECT, waiting at most until `deadline`.
  void say_goodbye(SshDeadline deadline);

 private:
  SshSession(const SshOptions& options, LIBSSH2_SESSION* session);

  Status handshake(SshDeadline deadline);
  Status authenticate(SshDeadline deadline);
  Status authenticate_with_key(SshDeadline deadline);
  Status authenticate_with_agent(SshDeadline deadline);

  // Calls `step` until it stops returning LIBSSH2_ERROR_EAGAIN, waiting on
  // the socket in between; returns kDeadlinePassed if the deadline came first.
  template <typename Step>
  int retry(Step step, SshDeadline deadline);
  static constexpr int kDeadlinePassed = -100000;
  // Waits until the socket is ready the way libssh2 is blocked on it.
  // False when the deadline passed first.
  bool wait_socket(SshDeadline deadline);
  // Same, for the given LIBSSH2_SESSION_BLOCK_* directions (0: inbound).
  bool wait_socket(SshDeadline deadline, int directions);
  std::string last_error() const;  // libssh2's message for the last failure
  // Opens the SFTP channel if it is not open yet.
  Status ensure_sftp(SshDeadline deadline);
  // The error for a failed SFTP call that returned `rc` while `doing`
  // something to `path` (SFTP status codes mapped; others kIo).
  Error sftp_failure(int rc, const std::string& doing, const std::string& path) const;

  const SshOptions& options_;  // owned by the SshRemote, which outlives us
  LIBSSH2_SESSION* session_;
  int fd_ = -1;
  LIBSSH2_SFTP* sftp_ = nullptr;              // null until the first read_range()
  LIBSSH2_SFTP_HANDLE* open_file_ = nullptr;  // set while read_range() has a file open
};

}  // namespace mmcfs::backend
