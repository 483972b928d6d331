// ssh_session.cpp — connect, authenticate, exec and SFTP range reads over one
// non-blocking libssh2 session, every step bounded by a deadline (see
// ssh_session.h).
#include "backend/ssh_session.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>

#include "backend/ssh_knownhosts.h"
#include "backend/ssh_socket.h"
#include "common/log.h"

namespace mmcfs::backend {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

void init_libssh2_once() {
  static std::once_flag once;  // libssh2_init is process-wide and not thread-safe
  std::call_once(once, [] { libssh2_init(0); });
}

// Exit code for a command killed by a signal (names as in RFC 4254 6.10).
int exit_code_for_signal(const std::string& name) {
  static constexpr struct { const char* name; int number; } kSignals[] = {
      {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"FPE", SIGFPE},   {"HUP", SIGHUP},
      {"ILL", SIGILL},   {"INT", SIGINT},   {"KILL", SIGKILL}, {"PIPE", SIGPIPE},
      {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV}, {"TERM", SIGTERM}, {"USR1", SIGUSR1},
      {"USR2", SIGUSR2}, {"BUS", SIGBUS},   {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
  };
  for (const auto& s : kSignals) {
    if (name == s.name) return 128 + s.number;
  }
  return 255;
}

std::string excerpt(const std::string& command) {
  constexpr std::size_t kMax = 120;
  return command.size() <= kMax ? command : command.substr(0, kMax) + "...";
}

}  // namespace

Error ssh_error(const SshOptions& options, Errc code, const std::string& message) {
  return make_error(code, "ssh " + options.cluster_name + ": " + message);
}

std::string ssh_destination(const SshOptions& o) {
  return o.user + "@" + o.hostname + ":" + std::to_string(o.port);
}

milliseconds time_left(SshDeadline deadline) {
  return std::chrono::ceil<milliseconds>(deadline - Clock::now());
}

std::string describe_duration(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

SshSession::SshSession(const SshOptions& options, LIBSSH2_SESSION* session)
    : options_(options), session_(session) {}

SshSession::~SshSession() {
  // Cut the socket first: libssh2 then cannot block (or EAGAIN) on it while
  // freeing channels that were left half-way.
  if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
  // SFTP state is not freed with the session: release it first (with the
  // socket cut these calls fail fast instead of waiting for the server).
  for (int i = 0; open_file_ != nullptr && i < 100; ++i) {
    if (libssh2_sftp_close_handle(open_file_) != LIBSSH2_ERROR_EAGAIN) break;
  }
  for (int i = 0; sftp_ != nullptr && i < 100; ++i) {
    if (libssh2_sftp_shutdown(sftp_) != LIBSSH2_ERROR_EAGAIN) break;
  }
  for (int i = 0; i < 100 && libssh2_session_free(session_) == LIBSSH2_ERROR_EAGAIN; ++i) {
  }
  if (fd_ >= 0) close(fd_);
}

std::string SshSession::last_error() const {
  char* msg = nullptr;
  libssh2_session_last_error(session_, &msg, nullptr, 0);
  return msg != nullptr && *msg != '\0' ? msg : "unknown libssh2 error";
}

bool SshSession::wait_socket(SshDeadline deadline) {
  return wait_socket(deadline, libssh2_session_block_directions(session_));
}

bool SshSession::wait_socket(SshDeadline deadline, int directions) {
  pollfd p{fd_, 0, 0};
  if (directions & LIBSSH2_SESSION_BLOCK_INBOUND) p.events |= POLLIN;
  if (directions & LIBSSH2_SESSION_BLOCK_OUTBOUND) p.events |= POLLOUT;
  if (p.events == 0) p.events = POLLIN;
  for (;;) {
    milliseconds left = time_left(deadline);
    if (left.count() <= 0) return false;
    int rc = poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0) return true;  // ready, or an error libssh2 will now report
    if (rc == 0) return Clock::now() < deadline;
    if (errno != EINTR) return true;
  }
}

template <typename Step>
int SshSession::retry(Step step, SshDeadline deadline) {
  for (;;) {
    int rc = step();
    if (rc != LIBSSH2_ERROR_EAGAIN) return rc;
    if (!wait_socket(deadline)) return kDeadlinePassed;
  }
}

Result<std::unique_ptr<SshSession>> SshSession::open(const SshOptions& o, SshDeadline deadline) {
  init_libssh2_once();
  LIBSSH2_SESSION* raw = libssh2_session_init();
  if (raw == nullptr) return ssh_error(o, Errc::kInternal, "libssh2_session_init failed");
  std::unique_ptr<SshSession> session(new SshSession(o, raw));
  libssh2_session_set_blocking(raw, 0);

  // known_hosts first: with no usable file there is no point in connecting.
  auto known = KnownHosts::load(raw, o);
  if (!known.ok()) return known.error();
  std::string algorithms = (*known)->known_key_algorithms();
  if (!algorithms.empty()) {
    libssh2_session_method_pref(raw, LIBSSH2_METHOD_HOSTKEY, algorithms.c_str());
  }

  milliseconds bound = std::max(time_left(deadline), milliseconds(0));
  auto fd = tcp_connect(o, deadline, bound);
  if (!fd.ok()) return fd.error();
  session->fd_ = *fd;

  int rc = session->retry([&] { return libssh2_session_handshake(raw, session->fd_); }, deadline);
  if (rc == kDeadlinePassed) {
    return ssh_error(o, Errc::kTimeout,
                     o.hostname + ":" + std::to_string(o.port) +
                         " accepted the TCP connection but did not complete the SSH handshake "
                         "within " + describe_duration(bound) +
                         " (is an SSH server listening on that port? is the host overloaded?)");
  }
  if (rc != 0) {
    return ssh_error(o, Errc::kUnreachable,
                     "SSH handshake with " + o.hostname + ":" + std::to_string(o.port) +
                         " failed: " + session->last_error());
  }
  Status verified = (*known)->verify(raw);
  if (!verified.ok()) return verified.error();
  auto method = [raw](int type) -> std::string {
    const char* name = libssh2_session_methods(raw, type);
    return name != nullptr ? name : "?";
  };
  log::debug("ssh {}: kex {}, cipher {}, mac {}", o.cluster_name, method(LIBSSH2_METHOD_KEX),
             method(LIBSSH2_METHOD_CRYPT_SC), method(LIBSSH2_METHOD_MAC_SC));

  Status authenticated = session->authenticate(deadline);
  if (!authenticated.ok()) return authenticated.error();
  return session;
}

Status SshSession::authenticate(SshDeadline deadline) {
  Status st = options_.key_path.empty() ? authenticate_with_agent(deadline)
                                        : authenticate_with_key(deadline);
  if (st.ok() && !libssh2_userauth_authenticated(session_)) {
    return ssh_error(options_, Errc::kAuthFailed, "server did not confirm authentication");
  }
  return st;
}

Status SshSession::authenticate_with_key(SshDeadline deadline) {
  const std::string& key = options_.key_path;
  const std::string pub = key + ".pub";
  const bool have_pub = access(pub.c_str(), R_OK) == 0;
  if (access(key.c_str(), R_OK) != 0) {
    return ssh_error(options_, Errc::kAuthFailed,
                     "cannot read private key " + key + ": " + std::strerror(errno) +
                         " (check ssh_key_path in clusters.yaml)");
  }
  int rc = retry([&] {
    return libssh2_userauth_publickey_fromfile_ex(
        session_, options_.user.c_str(), static_cast<unsigned>(options_.user.size()),
        have_pub ? pub.c_str() : nullptr, key.c_str(), nullptr);
  }, deadline);
  if (rc == 0) return Status::Ok();
  if (rc == kDeadlinePassed) {
    return ssh_error(options_, Errc::kTimeout,
                     "authentication at " + ssh_destination(options_) + " did not finish in time");
  }
  if (rc == LIBSSH2_ERROR_FILE) {
    return ssh_error(options_, Errc::kAuthFailed,
                     "cannot use private key " + key + ": " + last_error() +
                         " (a passphrase-protected key must be loaded into ssh-agent instead: "
                         "ssh-add it and leave ssh_key_path empty)");
  }
  if (rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED || rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED) {
    return ssh_error(options_, Errc::kAuthFailed,
                     "server refused key " + key + " for user " + options_.user + " at " +
                         options_.hostname + ":" + std::to_string(options_.port) +
                         "; is the public key in ~" + options_.user +
                         "/.ssh/authorized_keys on the server? (RSA keys are signed with "
                         "SHA-1 by libssh2 1.10, which OpenSSH >= 8.8 refuses: prefer ed25519)");
  }
  return ssh_error(options_, Errc::kUnreachable,
                   "connection failed during authentication at " + ssh_destination(options_) +
                       ": " + last_error());
}

Status SshSession::authenticate_with_agent(SshDeadline deadline) {
  LIBSSH2_AGENT* agent = libssh2_agent_init(session_);
  if (agent == nullptr) return ssh_error(options_, Errc::kInternal, "libssh2_agent_init failed");
  struct AgentCloser {
    LIBSSH2_AGENT* agent;
    ~AgentCloser() {
      libssh2_agent_disconnect(agent);
      libssh2_agent_free(agent);
    }
  } closer{agent};

  const char* sock = std::getenv("SSH_AUTH_SOCK");
  if (libssh2_agent_connect(agent) != 0 || libssh2_agent_list_identities(agent) != 0) {
    return ssh_error(options_, Errc::kAuthFailed,
                     "no ssh_key_path is configured and ssh-agent is not usable (SSH_AUTH_SOCK=" +
                         std::string(sock != nullptr ? sock : "unset") + ": " + last_error() +
                         "); set ssh_key_path in clusters.yaml or start ssh-agent and ssh-add "
                         "your key");
  }
  std::string tried;
  int count = 0;
  libssh2_agent_publickey* identity = nullptr;
  libssh2_agent_publickey* previous = nullptr;
  while (libssh2_agent_get_identity(agent, &identity, previous) == 0) {
    previous = identity;
    int rc = retry([&] { return libssh2_agent_userauth(agent, options_.user.c_str(), identity); },
                   deadline);
    if (rc == 0) return Status::Ok();
    if (rc == kDeadlinePassed) {
      return ssh_error(options_, Errc::kTimeout,
                       "authentication at " + ssh_destination(options_) + " did not finish in time");
    }
    if (rc != LIBSSH2_ERROR_AUTHENTICATION_FAILED && rc != LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED &&
        libssh2_session_last_errno(session_) != LIBSSH2_ERROR_AGENT_PROTOCOL) {
      return ssh_error(options_, Errc::kUnreachable,
                       "connection failed during authentication at " + ssh_destination(options_) +
                           ": " + last_error());
    }
    ++count;
    tried += tried.empty() ? "" : ", ";
    tried += identity->comment != nullptr && *identity->comment != '\0' ? identity->comment : "?";
  }
  if (count == 0) {
    return ssh_error(options_, Errc::kAuthFailed,
                     "ssh-agent holds no keys; ssh-add the key for user " + options_.user +
                         " at " + options_.hostname + ", or set ssh_key_path in clusters.yaml");
  }
  return ssh_error(options_, Errc::kAuthFailed,
                   "server refused all " + std::to_string(count) + " ssh-agent keys (" + tried +
                       ") for user " + options_.user + " at " + options_.hostname + ":" +
                       std::to_string(options_.port) +
                       "; is one of them in ~/.ssh/authorized_keys on the server?");
}

Result<CommandResult> SshSession::exec(const std::string& command, std::string_view input,
                                       SshDeadline deadline, bool& sent) {
  sent = false;
  auto timed_out = [&] {
    return ssh_error(options_, Errc::kTimeout, "`" + excerpt(command) + "` did not finish in time");
  };
  auto broken = [&](const char* during) {
    return ssh_error(options_, Errc::kIo, std::string("connection to ") + ssh_destination(options_) +
                                              " broke while " + during + ": " + last_error());
  };

  // On error paths the channel is left to the session's destructor.
  LIBSSH2_CHANNEL* channel = nullptr;
  while ((channel = libssh2_channel_open_session(session_)) == nullptr) {
    if (libssh2_session_last_errno(session_) != LIBSSH2_ERROR_EAGAIN) {
      return broken("opening a channel");
    }
    if (!wait_socket(deadline)) return timed_out();
  }
  sent = true;
  int rc = retry([&] { return libssh2_channel_exec(channel, command.c_str()); }, deadline);
  if (rc == kDeadlinePassed) return timed_out();
  if (rc != 0) return broken("starting the command");

  // Three steps take turns until the command's output ends: feed stdin (then
  // EOF), drain stdout, drain stderr. Each runs until it would block, so no
  // window can fill up while we wait on another stream. libssh2 can hold only
  // one half-sent packet per session (a data packet, or the window adjustment
  // a read sends), and only the step that started it may finish it: while one
  // is pending that step goes alone.
  enum Step { kStdin, kStdout, kStderr, kNoStep };
  enum class Outcome { kIdle, kWouldBlock };
  CommandResult result;
  char buffer[32 * 1024];
  std::size_t written = 0;    // bytes of `input` the channel has taken
  bool input_done = false;    // EOF sent, or the command stopped reading
  bool progress = false;      // some step moved bytes in this pass
  std::optional<Error> failure;

  auto feed_stdin = [&]() -> Outcome {
    while (!input_done) {
      const bool all_written = written == input.size();
      ssize_t n = all_written
                      ? libssh2_channel_send_eof(channel)
                      : libssh2_channel_write_ex(channel, 0, input.data() + written,
                                                 std::min(input.size() - written, sizeof buffer));
      if (n == LIBSSH2_ERROR_EAGAIN) return Outcome::kWouldBlock;
      if (n == LIBSSH2_ERROR_CHANNEL_CLOSED || n == LIBSSH2_ERROR_CHANNEL_EOF_SENT) {
        input_done = true;  // the command is gone or closed its stdin: drop the rest
        break;
      }
      if (n < 0) {
        failure = broken(all_written ? "sending end of input" : "writing input");
        break;
      }
      if (!all_written && n == 0) return Outcome::kWouldBlock;  // window closed for now
      progress = true;
      if (all_written) {
        input_done = true;
      } else {
        written += static_cast<std::size_t>(n);
      }
    }
    return Outcome::kIdle;
  };
  auto drain = [&](int stream) -> Outcome {
    std::string& sink = stream == 0 ? result.out : result.err;
    for (;;) {
      ssize_t n = libssh2_channel_read_ex(channel, stream, buffer, sizeof buffer);
      if (n == LIBSSH2_ERROR_EAGAIN) return Outcome::kWouldBlock;
      if (n == 0) return Outcome::kIdle;
      if (n < 0) {
        failure = broken("reading output");
        return Outcome::kIdle;
      }
      if (result.out.size() + result.err.size() + static_cast<size_t>(n) > options_.max_output_bytes) {
        failure = ssh_error(options_, Errc::kRemoteFailed,
                            "`" + excerpt(command) + "` printed more than " +
                                std::to_string(options_.max_output_bytes >> 20) +
                                " MiB; output discarded");
        return Outcome::kIdle;
      }
      sink.append(buffer, static_cast<size_t>(n));
      progress = true;
    }
  };

  Step half_sent = kNoStep;  // the step whose packet is partly on the wire
  while (!libssh2_channel_eof(channel) || half_sent != kNoStep) {
    progress = false;
    int blocked_on = 0;  // socket directions the steps that would block wait for
    Step order[] = {kStdin, kStdout, kStderr};
    if (half_sent != kNoStep) std::swap(order[0], order[half_sent]);
    for (Step step : order) {
      Outcome outcome = step == kStdin    ? feed_stdin()
                        : step == kStdout ? drain(0)
                                          : drain(SSH_EXTENDED_DATA_STDERR);
      if (failure) return *failure;
      if (outcome == Outcome::kIdle) {
        if (half_sent == step) half_sent = kNoStep;
        continue;
      }
      int directions = libssh2_session_block_directions(session_);
      if (directions == 0) directions = LIBSSH2_SESSION_BLOCK_INBOUND;
      blocked_on |= directions;
      if (directions & LIBSSH2_SESSION_BLOCK_OUTBOUND) {
        half_sent = step;  // nobody else may send until this one is out
        break;
      }
      if (half_sent == step) half_sent = kNoStep;
    }
    if (Clock::now() >= deadline) return timed_out();
    if (!progress && (half_sent != kNoStep || !libssh2_channel_eof(channel)) &&
        !wait_socket(deadline, blocked_on)) {
      return timed_out();
    }
  }

  rc = retry([&] { return libssh2_channel_close(channel); }, deadline);
  if (rc == 0) rc = retry([&] { return libssh2_channel_wait_closed(channel); }, deadline);
  if (rc == kDeadlinePassed) return timed_out();
  if (rc != 0) return broken("closing the channel");

  result.exit_code = libssh2_channel_get_exit_status(channel);
  char* signal_name = nullptr;
  std::size_t signal_len = 0;
  libssh2_channel_get_exit_signal(channel, &signal_name, &signal_len, nullptr, nullptr, nullptr,
                                  nullptr);
  if (signal_name != nullptr) {
    std::string name(signal_name, signal_len);
    libssh2_free(session_, signal_name);
    result.exit_code = exit_code_for_signal(name);
    log::debug("ssh {}: `{}` killed by signal {}", options_.cluster_name, excerpt(command), name);
  }
  rc = retry([&] { return libssh2_channel_free(channel); }, deadline);
  if (rc == kDeadlinePassed) return timed_out();
  if (rc != 0) return broken("freeing the channel");
  return result;
}

Status SshSession::ensure_sftp(SshDeadline deadline) {
  while (sftp_ == nullptr) {
    sftp_ = libssh2_sftp_init(session_);
    if (sftp_ != nullptr) break;
    const int err = libssh2_session_last_errno(session_);
    if (err == LIBSSH2_ERROR_EAGAIN) {
      if (!wait_socket(deadline)) {
        return ssh_error(options_, Errc::kTimeout, "opening the SFTP channel did not finish in time");
      }
      continue;
    }
    if (err == LIBSSH2_ERROR_CHANNEL_FAILURE || err == LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED) {
      return ssh_error(options_, Errc::kRemoteFailed,
                       "the server at " + ssh_destination(options_) +
                           " refused the SFTP subsystem (" + last_error() +
                           "); log files are read over SFTP: enable `Subsystem sftp` in sshd_config");
    }
    return ssh_error(options_, Errc::kIo, "connection to " + ssh_destination(options_) +
                                               " broke while opening the SFTP channel: " +
                                               last_error());
  }
  return Status::Ok();
}

Error SshSession::sftp_failure(int rc, const std::string& doing, const std::string& path) const {
  if (rc == kDeadlinePassed) {
    return ssh_error(options_, Errc::kTimeout, doing + " " + path + " over SFTP did not finish in time");
  }
  if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) {
    const unsigned long status = libssh2_sftp_last_error(sftp_);
    switch (status) {
      case LIBSSH2_FX_NO_SUCH_FILE:
      case LIBSSH2_FX_NO_SUCH_PATH:
        return ssh_error(options_, Errc::kNotFound, "no such file: " + path);
      case LIBSSH2_FX_PERMISSION_DENIED:
        return ssh_error(options_, Errc::kPermissionDenied, "permission denied: " + path);
      default:
        return ssh_error(options_, Errc::kRemoteFailed,
                         doing + " " + path + " failed (SFTP status " + std::to_string(status) + ")");
    }
  }
  return ssh_error(options_, Errc::kIo, "connection to " + ssh_destination(options_) +
                                             " broke while " + doing + " " + path + ": " +
                                             last_error());
}

Result<FileChunk> SshSession::read_range(const std::string& path, std::uint64_t offset,
                                         std::size_t max_bytes, SshDeadline deadline) {
  Status sftp_ready = ensure_sftp(deadline);
  if (!sftp_ready.ok()) return sftp_ready.error();

  LIBSSH2_SFTP_HANDLE* file = nullptr;
  while ((file = libssh2_sftp_open_ex(sftp_, path.data(), static_cast<unsigned>(path.size()),
                                      LIBSSH2_FXF_READ, 0, LIBSSH2_SFTP_OPENFILE)) == nullptr) {
    const int err = libssh2_session_last_errno(session_);
    if (err != LIBSSH2_ERROR_EAGAIN) return sftp_failure(err, "opening", path);
    if (!wait_socket(deadline)) return sftp_failure(kDeadlinePassed, "opening", path);
  }
  open_file_ = file;
  // Closes the file; a failure to close is the result when nothing failed before.
  auto close_then = [&](Result<FileChunk> result) -> Result<FileChunk> {
    int rc = retry([&] { return libssh2_sftp_close_handle(file); }, deadline);
    // libssh2 frees the handle once the server answered, whatever the answer.
    if (rc == 0 || rc == LIBSSH2_ERROR_SFTP_PROTOCOL) open_file_ = nullptr;
    if (rc == 0 || rc == LIBSSH2_ERROR_SFTP_PROTOCOL || !result.ok()) return result;
    return sftp_failure(rc, "closing", path);
  };

  LIBSSH2_SFTP_ATTRIBUTES attrs{};
  int rc = retry([&] { return libssh2_sftp_fstat_ex(file, &attrs, 0); }, deadline);
  if (rc == kDeadlinePassed || (rc < 0 && rc != LIBSSH2_ERROR_SFTP_PROTOCOL)) {
    return sftp_failure(rc, "reading the size of", path);  // session is dropped: no close
  }
  if (rc < 0) return close_then(sftp_failure(rc, "reading the size of", path));
  if ((attrs.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS) && LIBSSH2_SFTP_S_ISDIR(attrs.permissions)) {
    return close_then(ssh_error(options_, Errc::kIsDirectory, path + " is a directory"));
  }
  if (!(attrs.flags & LIBSSH2_SFTP_ATTR_SIZE)) {
    return close_then(ssh_error(options_, Errc::kRemoteFailed,
                                "the SFTP server did not report the size of " + path));
  }

  FileChunk chunk;
  chunk.file_size = attrs.filesize;
  const std::size_t want =
      offset >= attrs.filesize
          ? 0
          : static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, attrs.filesize - offset));
  chunk.bytes.resize(want);
  libssh2_sftp_seek64(file, offset);
  std::size_t got = 0;
  while (got < want) {
    // libssh2 keeps up to 4x the buffer it is given in read requests ahead of
    // the reader; asking for a quarter of what is left keeps that pipeline
    // deep without requesting much past the end of the range.
    constexpr std::size_t kMinAsk = 64 * 1024;
    constexpr std::size_t kMaxAsk = 2 * 1024 * 1024;
    const std::size_t left = want - got;
    const std::size_t ask = std::min(left, std::clamp(left / 4, kMinAsk, kMaxAsk));
    ssize_t n = libssh2_sftp_read(file, chunk.bytes.data() + got, ask);
    if (n == LIBSSH2_ERROR_EAGAIN) {
      if (!wait_socket(deadline)) return sftp_failure(kDeadlinePassed, "reading", path);
      continue;
    }
    if (n == 0) {  // the file shrank since fstat
      chunk.file_size = offset + got;
      break;
    }
    if (n == LIBSSH2_ERROR_SFTP_PROTOCOL) {
      return close_then(sftp_failure(static_cast<int>(n), "reading", path));
    }
    if (n < 0) return sftp_failure(static_cast<int>(n), "reading", path);
    got += static_cast<std::size_t>(n);
    if (got < want && Clock::now() >= deadline) {
      return sftp_failure(kDeadlinePassed, "reading", path);
    }
  }
  chunk.bytes.resize(got);
  return close_then(std::move(chunk));
}

void SshSession::say_goodbye(SshDeadline deadline) {
  (void)retry([&] {
    return libssh2_session_disconnect_ex(session_, SSH_DISCONNECT_BY_APPLICATION, "mmcfs disconnecting", "");
  }, deadline);
}

}  // namespace mmcfs::backend
