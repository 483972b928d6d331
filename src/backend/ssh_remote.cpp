// ssh_remote.cpp — SshRemote: one persistent session, reconnect on demand,
// every call bounded in time (see ssh_remote.h).
#include "backend/ssh_remote.h"

#include <algorithm>

#include "backend/ssh_session.h"
#include "common/log.h"
#include "common/quote.h"

namespace mmcfs::backend {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kGoodbyeTimeout{500};

}  // namespace

SshOptions ssh_options_for(const config::ClusterConfig& cluster) {
  SshOptions o;
  o.cluster_name = cluster.name;
  o.user = cluster.user;
  o.hostname = cluster.hostname;
  o.port = cluster.port;
  o.key_path = cluster.ssh_key_path;
  o.known_hosts = cluster.known_hosts;
  o.connect_timeout = cluster.connect_timeout;
  return o;
}

class SshRemote::Turn {
 public:
  Turn(SshRemote& remote, std::optional<Deadline> deadline)
      : remote_(remote), held_(remote.take_turn(deadline)) {}
  ~Turn() {
    if (held_) remote_.end_turn();
  }
  Turn(const Turn&) = delete;
  Turn& operator=(const Turn&) = delete;
  bool held() const { return held_; }

 private:
  SshRemote& remote_;
  const bool held_;
};

bool SshRemote::take_turn(std::optional<Deadline> deadline) {
  std::unique_lock lock(mu_);
  auto free = [&] { return !busy_; };
  if (!deadline) {
    turn_ended_cv_.wait(lock, free);
  } else if (!turn_ended_cv_.wait_until(lock, *deadline, free)) {
    return false;
  }
  busy_ = true;
  return true;
}

void SshRemote::end_turn() {
  {
    std::lock_guard lock(mu_);
    busy_ = false;
  }
  turn_ended_cv_.notify_one();
}

SshRemote::SshRemote(SshOptions options) : options_(std::move(options)) {}

SshRemote::~SshRemote() { disconnect(); }

Status SshRemote::connect() {
  Deadline deadline = Clock::now() + options_.connect_timeout;
  Turn turn(*this, deadline);
  if (!turn.held()) {
    return ssh_error(options_, Errc::kTimeout,
                     "the session stayed busy with another command for " +
                         describe_duration(options_.connect_timeout));
  }
  return ensure_connected(deadline);
}

void SshRemote::disconnect() {
  Turn turn(*this, std::nullopt);
  drop_session(/*graceful=*/true);
}

Result<CommandResult> SshRemote::run(const std::vector<std::string>& argv,
                                     std::chrono::milliseconds timeout) {
  return run_command(argv, std::string_view(), timeout);
}

Result<CommandResult> SshRemote::run_with_input(const std::vector<std::string>& argv,
                                                std::string_view input,
                                                std::chrono::milliseconds timeout) {
  return run_command(argv, input, timeout);
}

Result<CommandResult> SshRemote::run_command(const std::vector<std::string>& argv,
                                             std::string_view input,
                                             std::chrono::milliseconds timeout) {
  const Deadline deadline = Clock::now() + timeout;
  if (argv.empty()) return ssh_error(options_, Errc::kInvalidArgument, "empty command");
  for (const std::string& arg : argv) {
    if (arg.find('\0') != std::string::npos) {
      return ssh_error(options_, Errc::kInvalidArgument,
                       "an argument of `" + argv[0] + "` contains a NUL byte");
    }
  }
  const std::string command = shell_join(argv);
  // One line per command asked for (bench/meta counts them with --debug).
  log::debug("ssh {}: remote command `{}`", options_.cluster_name, command.substr(0, 120));

  Turn turn(*this, deadline);
  if (!turn.held()) {
    return ssh_error(options_, Errc::kTimeout,
                     "`" + argv[0] + "` could not start within " + describe_duration(timeout) +
                         ": the session stayed busy with another command");
  }
  for (int attempt = 1;; ++attempt) {
    const bool reused = session_ != nullptr;
    Status connected = ensure_connected(deadline);
    if (!connected.ok()) return connected.error();

    bool sent = false;
    Result<CommandResult> result = session_->exec(command, input, deadline, sent);
    if (result.ok()) return result;
    drop_session(/*graceful=*/false);  // may be wedged mid-channel
    if (attempt == 1 && reused && !sent && result.error().code == Errc::kIo) {
      // The idle session had died (server restart, NAT timeout); nothing ran.
      log::debug("ssh {}: stale session ({}), reconnecting", options_.cluster_name,
                 result.error().message);
      continue;
    }
    if (result.error().code == Errc::kTimeout) {
      return ssh_error(options_, Errc::kTimeout,
                       "`" + command.substr(0, 120) + "` did not finish within " +
                           describe_duration(timeout) + "; the connection was dropped and "
                           "will be re-opened by the next command");
    }
    return result.error();
  }
}

Result<FileChunk> SshRemote::read_range(const std::string& path, std::uint64_t offset,
                                        std::size_t max_bytes,
                                        std::chrono::milliseconds timeout) {
  const Deadline deadline = Clock::now() + timeout;
  if (path.empty() || path.find('\0') != std::string::npos) {
    return ssh_error(options_, Errc::kInvalidArgument, "read_range: empty path or a path with NUL");
  }
  // SFTP resolves relative paths against the login directory, the home.
  std::string sftp_path = path;
  if (sftp_path == "~" || sftp_path == "~/") {
    sftp_path = ".";
  } else if (sftp_path.starts_with("~/")) {
    sftp_path.erase(0, 2);
  }

  log::debug("ssh {}: remote command `sftp read {} at {}`", options_.cluster_name, path, offset);

  Turn turn(*this, deadline);
  if (!turn.held()) {
    return ssh_error(options_, Errc::kTimeout,
                     "reading " + path + " could not start within " + describe_duration(timeout) +
                         ": the session stayed busy with another command");
  }
  for (int attempt = 1;; ++attempt) {
    const bool reused = session_ != nullptr;
    Status connected = ensure_connected(deadline);
    if (!connected.ok()) return connected.error();

    Result<FileChunk> chunk = session_->read_range(sftp_path, offset, max_bytes, deadline);
    if (chunk.ok()) return chunk;
    const Errc code = chunk.error().code;
    if (code != Errc::kTimeout && code != Errc::kIo) return chunk;  // the session is fine
    drop_session(/*graceful=*/false);  // may be wedged mid-request
    if (attempt == 1 && reused && code == Errc::kIo) {
      log::debug("ssh {}: stale session ({}), reconnecting", options_.cluster_name,
                 chunk.error().message);
      continue;
    }
    if (code == Errc::kTimeout) {
      return ssh_error(options_, Errc::kTimeout,
                       "reading " + path + " did not finish within " + describe_duration(timeout) +
                           "; the connection was dropped and will be re-opened by the next "
                           "command");
    }
    return chunk;
  }
}

Status SshRemote::ensure_connected(Deadline deadline) {
  if (session_ != nullptr) return Status::Ok();
  deadline = std::min(deadline, Clock::now() + options_.connect_timeout);
  auto session = SshSession::open(options_, deadline);
  if (!session.ok()) {
    log::debug("{}", session.error().describe());
    return session.error();
  }
  session_ = std::move(*session);
  connections_made_.fetch_add(1);
  log::debug("ssh {}: connected to {}", options_.cluster_name, ssh_destination(options_));
  return Status::Ok();
}

void SshRemote::drop_session(bool graceful) {
  if (session_ == nullptr) return;
  if (graceful) session_->say_goodbye(Clock::now() + kGoodbyeTimeout);
  session_.reset();
}

}  // namespace mmcfs::backend
