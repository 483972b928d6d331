// ssh_remote.h — Remote over SSH (libssh2), one persistent session per cluster.
//
// SshRemote keeps ONE authenticated libssh2 session open and runs every
// command on its own exec channel in that session (read_range() uses one SFTP
// channel in the same session, opened on first use and kept), so the TCP connect, key
// exchange and authentication happen once, not per command. Everything is
// bounded in time: connect() by SshOptions::connect_timeout (DNS, TCP, SSH
// banner, key exchange, host key check, authentication together), run() and
// run_with_input() and read_range() by their `timeout` argument (waiting for the session,
// connecting if needed, and the command itself, its input included). run()
// sends EOF on stdin at once; run_with_input() writes its input while reading
// the output (so no window can fill up and deadlock), then sends EOF. The host
// key must match an entry of known_hosts; there is no "accept new key" mode.
//
// Errors beyond Remote's: run() and run_with_input() return kInvalidArgument
// for an empty argv or an argument containing NUL (the input may hold NULs),
// and kRemoteFailed when stdout+stderr exceed SshOptions::max_output_bytes.
// read_range() returns kInvalidArgument for an empty path or one holding NUL,
// kIsDirectory for a directory, and kRemoteFailed when the server has no SFTP
// subsystem; "~/x" is read as "x" relative to the SFTP login directory (the
// remote home).
//
// Failure handling: a run() that times out or sees the connection break
// drops the session (it may be wedged) and returns kTimeout / kIo; the next
// call reconnects (a read_range() failing with kNotFound and the like keeps
// the session). If a reused session turns out to be dead before the command
// was started (channel open fails), the session is re-opened once and the
// command sent on the fresh one: nothing has run yet, so this is safe. A
// read_range() that finds a reused session broken is retried once on a fresh
// one (reading is idempotent).
//
// Thread rules: every public method is safe from any thread. Use of the
// session is serialised (one command at a time per SshRemote); a caller
// waiting for its turn gives up (kTimeout) when its own timeout passes.
// Calls block on the network, so call them only from background threads
// (poller, actions), never from filesystem threads, and never while holding a
// lock that filesystem threads take.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/remote.h"
#include "config/cluster_config.h"

namespace mmcfs::backend {

struct SshOptions {
  std::string cluster_name;    // for messages: "ssh alpha: ..."
  std::string user;
  std::string hostname;
  int port = 22;
  std::string key_path;        // private key; empty: use ssh-agent
  std::string known_hosts;     // OpenSSH known_hosts file; must exist
  std::chrono::milliseconds connect_timeout{10'000};
  // Cap on stdout+stderr captured from one command; past it run() fails.
  std::size_t max_output_bytes = std::size_t{64} << 20;
};

SshOptions ssh_options_for(const config::ClusterConfig& cluster);

class SshSession;  // ssh_session.h: one connected, authenticated session

class SshRemote final : public Remote {
 public:
  explicit SshRemote(SshOptions options);
  ~SshRemote() override;  // disconnects
  SshRemote(const SshRemote&) = delete;
  SshRemote& operator=(const SshRemote&) = delete;

  Status connect() override;
  // Says goodbye to the server (at most 0.5 s) and closes the session. Waits
  // for a command that is running to finish (up to that command's timeout).
  void disconnect() override;
  Result<CommandResult> run(const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout) override;
  Result<CommandResult> run_with_input(const std::vector<std::string>& argv,
                                       std::string_view input,
                                       std::chrono::milliseconds timeout) override;
  Result<FileChunk> read_range(const std::string& path, std::uint64_t offset,
                               std::size_t max_bytes, std::chrono::milliseconds timeout) override;

  // Number of sessions opened so far (each one is a full SSH handshake).
  int connections_made() const { return connections_made_.load(); }
  const SshOptions& options() const { return options_; }

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  class Turn;  // RAII: holds the session for one caller (ssh_remote.cpp)

  // Waits for the session to be free and takes it; false if the deadline
  // (none: wait as long as needed) passed first. (A flag and a condition
  // variable rather than std::timed_mutex, whose try_lock_until
  // ThreadSanitizer cannot see.)
  bool take_turn(std::optional<Deadline> deadline);
  void end_turn();

  // run() and run_with_input(): validate, take the turn, connect, exec.
  Result<CommandResult> run_command(const std::vector<std::string>& argv, std::string_view input,
                                    std::chrono::milliseconds timeout);

  // Both only while holding the turn.
  Status ensure_connected(Deadline deadline);
  void drop_session(bool graceful);

  const SshOptions options_;
  std::atomic<int> connections_made_{0};
  std::mutex mu_;
  std::condition_variable turn_ended_cv_;
  bool busy_ = false;                    // GUARDED_BY(mu_): someone holds the turn
  std::unique_ptr<SshSession> session_;  // only the turn holder; null: not connected
};

}  // namespace mmcfs::backend
