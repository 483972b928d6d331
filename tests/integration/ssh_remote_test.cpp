// ssh_remote_test.cpp — SshRemote against a REAL sshd (see ssh_test_support.h):
// exact argv transport (no shell injection), exit codes, stderr, one
// handshake for many commands, timeouts that drop and re-open the session,
// host key refusal (changed / unknown / no file), hashed known_hosts, key and
// agent authentication, and connect failures (closed port, silent listener).
// ssh_input_test.cpp covers stdin; ssh_read_range_test.cpp covers SFTP reads.
//
// Thread rules: tests run sequentially; one test spawns threads of its own.
#include "integration/ssh_test_support.h"

namespace mmcfs::backend {
namespace {

using namespace mmcfs::backend::testing;
namespace fs = std::filesystem;

TEST_F(SshRemoteTest, ConnectsAndRunsEcho) {
  SshRemote remote(options_);
  Status st = remote.connect();
  ASSERT_TRUE(st.ok()) << st.error().describe();
  auto r = run(remote, {"echo", "hello"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, "hello\n");
  EXPECT_EQ(r->err, "");
}

TEST_F(SshRemoteTest, NastyArgumentsArriveByteForByteAndNothingRuns) {
  const std::string marker = "/tmp/mmcfs-pwned-" + std::to_string(getpid());
  const std::vector<std::string> nasty = {
      "plain",
      "",
      "two  spaces",
      "it's",
      "'; touch " + marker + "; '",
      "\"$(touch " + marker + ")\"",
      "$(touch " + marker + ")",
      "`touch " + marker + "`",
      "; touch " + marker,
      "a && touch " + marker + " || b | c &",
      "line1\nline2",
      "tab\tand\\backslash",
      "$HOME ${PATH} $1 $$",
      "*.txt ?",
      "~",
      "# not a comment",
      "<in >out 2>&1",
      "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x9a\x80",
      "\xff\xfe",
      "-n",
      "%s %d",
  };
  std::vector<std::string> argv = {"printf", "%s\\n"};
  std::string expected;
  for (const std::string& a : nasty) {
    argv.push_back(a);
    expected += a + "\n";
  }
  SshRemote remote(options_);
  auto r = run(remote, argv);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(r->out, expected);
  EXPECT_EQ(r->err, "");

  auto check = run(remote, {"test", "-e", marker});
  ASSERT_TRUE(check.ok()) << check.error().describe();
  EXPECT_EQ(check->exit_code, 1) << marker << " exists on the remote: an argument was executed";
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(SshRemoteTest, ReportsExitCodes) {
  SshRemote remote(options_);
  auto seven = run(remote, {"sh", "-c", "exit 7"});
  ASSERT_TRUE(seven.ok()) << seven.error().describe();
  EXPECT_EQ(seven->exit_code, 7);
  auto f = run(remote, {"false"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->exit_code, 1);
  auto killed = run(remote, {"sh", "-c", "kill -TERM $$"});
  ASSERT_TRUE(killed.ok()) << killed.error().describe();
  EXPECT_EQ(killed->exit_code, 128 + 15);
  auto missing = run(remote, {"mmcfs-no-such-command-here"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->exit_code, 127);
  EXPECT_NE(missing->err, "");
}

TEST_F(SshRemoteTest, CapturesStdoutAndStderrSeparately) {
  SshRemote remote(options_);
  auto r = run(remote, {"sh", "-c", "echo out; echo err >&2; echo out2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->out, "out\nout2\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
}

TEST_F(SshRemoteTest, ManyCommandsShareOneSession) {
  SshRemote remote(options_);
  ASSERT_TRUE(remote.connect().ok());
  for (int i = 0; i < 25; ++i) {
    auto r = run(remote, {"echo", std::to_string(i)});
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->out, std::to_string(i) + "\n");
  }
  EXPECT_TRUE(remote.connect().ok());  // already connected: no new handshake
  EXPECT_EQ(remote.connections_made(), 1);
}

TEST_F(SshRemoteTest, ConcurrentCallersShareOneSession) {
  SshRemote remote(options_);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        std::string word = std::to_string(t) + "-" + std::to_string(i);
        auto r = remote.run({"echo", word}, 20s);
        if (!r.ok() || r->out != word + "\n") ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(remote.connections_made(), 1);
}

TEST_F(SshRemoteTest, CallerWaitingForABusySessionGivesUpAtItsTimeout) {
  SshRemote remote(options_);
  ASSERT_TRUE(remote.connect().ok());
  std::thread slow([&] {
    auto r = remote.run({"sleep", "2"}, 10s);
    EXPECT_TRUE(r.ok()) << r.error().describe();
  });
  std::this_thread::sleep_for(300ms);
  auto start = Clock::now();
  auto r = remote.run({"echo", "impatient"}, 500ms);
  auto took = Clock::now() - start;
  slow.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kTimeout) << r.error().describe();
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(remote.connections_made(), 1);  // the slow command's session survived
}

TEST_F(SshRemoteTest, LargeOutputOnBothStreamsDoesNotDeadlock) {
  SshRemote remote(options_);
  auto big = run(remote, {"sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a"});
  ASSERT_TRUE(big.ok()) << big.error().describe();
  EXPECT_EQ(big->out, std::string(3000000, 'a'));
  // 2 MB on stderr before anything on stdout: fills the channel window unless
  // stderr is drained while waiting for stdout.
  auto err_first = run(remote, {"sh", "-c", "head -c 2000000 /dev/zero >&2; echo done"});
  ASSERT_TRUE(err_first.ok()) << err_first.error().describe();
  EXPECT_EQ(err_first->out, "done\n");
  EXPECT_EQ(err_first->err.size(), 2000000u);
}

TEST_F(SshRemoteTest, OutputOverTheCapIsAnErrorAndTheNextCommandWorks) {
  SshOptions o = options_;
  o.max_output_bytes = 1 << 20;
  SshRemote remote(o);
  auto r = run(remote, {"head", "-c", "2000000", "/dev/zero"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kRemoteFailed) << r.error().describe();
  auto next = run(remote, {"echo", "fine"});
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(next->out, "fine\n");
}

TEST_F(SshRemoteTest, TimeoutDropsTheSessionAndTheNextCommandReconnects) {
  SshRemote remote(options_);
  ASSERT_TRUE(remote.connect().ok());
  auto start = Clock::now();
  auto r = remote.run({"sleep", "10"}, 1s);
  auto took = Clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kTimeout) << r.error().describe();
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 2s);
  auto next = run(remote, {"echo", "alive"});
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(next->out, "alive\n");
  EXPECT_EQ(remote.connections_made(), 2);
}

// Shell snippet: the pid of the sshd process serving this session (the
// nearest ancestor named sshd; it runs as the logged-in user).
const std::string kFindSessionSshd =
    "p=$$; while [ \"$(cat /proc/$p/comm)\" != sshd ]; do p=$(cut -d' ' -f4 /proc/$p/stat); done; ";

TEST_F(SshRemoteTest, ConnectionKilledMidCommandIsIoAndTheNextCommandReconnects) {
  SshRemote remote(options_);
  auto start = Clock::now();
  auto r = remote.run({"sh", "-c", kFindSessionSshd + "kill -KILL $p; sleep 5"}, 10s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kIo) << r.error().describe();
  EXPECT_LT(Clock::now() - start, 3s);
  auto next = run(remote, {"echo", "back"});
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(next->out, "back\n");
  EXPECT_EQ(remote.connections_made(), 2);
}

TEST_F(SshRemoteTest, SessionThatDiedWhileIdleIsReopenedTransparently) {
  SshRemote remote(options_);
  // Kill our own session 0.3 s after this command has returned.
  auto r = run(remote, {"sh", "-c",
                        kFindSessionSshd + "(sleep 0.3; kill -KILL $p) </dev/null >/dev/null 2>&1 &"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  std::this_thread::sleep_for(1500ms);
  auto next = run(remote, {"echo", "transparent"});
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(next->out, "transparent\n");
  EXPECT_EQ(remote.connections_made(), 2);
}

TEST_F(SshRemoteTest, DisconnectThenRunReconnects) {
  SshRemote remote(options_);
  ASSERT_TRUE(run(remote, {"true"}).ok());
  remote.disconnect();
  remote.disconnect();  // idempotent
  auto r = run(remote, {"echo", "again"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(remote.connections_made(), 2);
}

TEST_F(SshRemoteTest, RejectsArgumentsWithNulAndEmptyArgv) {
  SshRemote remote(options_);
  auto nul = run(remote, {"echo", std::string("a\0b", 3)});
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, Errc::kInvalidArgument);
  auto empty = run(remote, {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(remote.connections_made(), 0);
}

TEST_F(SshRemoteTest, ChangedHostKeyIsRefused) {
  const std::string type = alpha_host_key_type();
  std::string keygen_args = "-t ed25519";
  if (type == "ssh-rsa") keygen_args = "-t rsa -b 2048";
  if (type.rfind("ecdsa-sha2-nistp", 0) == 0) keygen_args = "-t ecdsa -b " + type.substr(16);
  std::string impostor = fresh_key("impostor_host_key", keygen_args);
  std::istringstream pub(read_file(impostor + ".pub"));
  std::string key_type, key_blob;
  pub >> key_type >> key_blob;
  SshOptions o = options_;
  o.known_hosts = tmp_ + "/known_hosts";
  write_file(o.known_hosts, known_hosts_name(o) + " " + key_type + " " + key_blob + "\n");

  SshRemote remote(o);
  Status st = remote.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kHostKey) << st.error().describe();
  EXPECT_TRUE(contains(st.error().message, "CHANGED")) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, o.known_hosts)) << st.error().message;
  // The offered fingerprint is the real server's, as ssh-keygen computes it.
  std::string real_fingerprints = run_local("ssh-keygen -lf " + options_.known_hosts);
  std::size_t at = st.error().message.find("SHA256:");
  ASSERT_NE(at, std::string::npos) << st.error().message;
  std::string fingerprint = st.error().message.substr(at, 7 + 43);
  EXPECT_TRUE(contains(real_fingerprints, fingerprint))
      << fingerprint << " not in:\n" << real_fingerprints;
  auto r = run(remote, {"echo", "must not run"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kHostKey);
}

TEST_F(SshRemoteTest, UnknownHostKeyIsRefusedWithHowToFix) {
  SshOptions o = options_;
  o.known_hosts = tmp_ + "/known_hosts";
  // A valid file with a valid key, but for another host name.
  std::istringstream pub(read_file(fresh_key("other_host_key") + ".pub"));
  std::string key_type, key_blob;
  pub >> key_type >> key_blob;
  write_file(o.known_hosts, "# test\n[elsewhere.invalid]:2222 " + key_type + " " + key_blob + "\n");
  SshRemote remote(o);
  Status st = remote.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kHostKey) << st.error().describe();
  EXPECT_TRUE(contains(st.error().message, "is not in " + o.known_hosts)) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, known_hosts_name(o))) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, "SHA256:")) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, "ssh-keyscan")) << st.error().message;
}

TEST_F(SshRemoteTest, MissingKnownHostsFileIsRefused) {
  SshOptions o = options_;
  o.known_hosts = tmp_ + "/no_such_known_hosts";
  SshRemote remote(o);
  Status st = remote.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kHostKey) << st.error().describe();
  EXPECT_TRUE(contains(st.error().message, "does not exist")) << st.error().message;
}

TEST_F(SshRemoteTest, HashedKnownHostsEntriesMatch) {
  SshOptions o = options_;
  o.known_hosts = tmp_ + "/hashed_known_hosts";
  write_file(o.known_hosts, read_file(options_.known_hosts));
  run_local("ssh-keygen -q -H -f " + o.known_hosts + " >/dev/null 2>&1");
  ASSERT_TRUE(contains(read_file(o.known_hosts), "|1|")) << "ssh-keygen -H did not hash";
  SshRemote remote(o);
  Status st = remote.connect();
  EXPECT_TRUE(st.ok()) << st.error().describe();
}

TEST_F(SshRemoteTest, WrongUserKeyFailsAuthentication) {
  SshOptions o = options_;
  o.key_path = fresh_key("stranger_key");
  SshRemote remote(o);
  Status st = remote.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kAuthFailed) << st.error().describe();
  EXPECT_TRUE(contains(st.error().message, o.key_path)) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, o.user)) << st.error().message;
  EXPECT_TRUE(contains(st.error().message, "authorized_keys")) << st.error().message;
}

TEST_F(SshRemoteTest, MissingUserKeyFileFailsAuthentication) {
  SshOptions o = options_;
  o.key_path = tmp_ + "/no_such_key";
  SshRemote remote(o);
  Status st = remote.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kAuthFailed) << st.error().describe();
  EXPECT_TRUE(contains(st.error().message, o.key_path)) << st.error().message;
}

// Starts an ssh-agent on a socket in tmp_ for the test's duration.
class AgentScope {
 public:
  explicit AgentScope(const std::string& dir) : socket_(dir + "/agent.sock") {
    std::string out = run_local("ssh-agent -a " + socket_ + " -s");
    std::size_t at = out.find("SSH_AGENT_PID=");
    if (at != std::string::npos) pid_ = std::atoi(out.c_str() + at + 14);
    const char* old = std::getenv("SSH_AUTH_SOCK");
    if (old != nullptr) saved_ = old;
    had_ = old != nullptr;
    setenv("SSH_AUTH_SOCK", socket_.c_str(), 1);
  }
  ~AgentScope() {
    if (had_) setenv("SSH_AUTH_SOCK", saved_.c_str(), 1); else unsetenv("SSH_AUTH_SOCK");
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    // Wait until it has removed its socket, so the fixture can delete tmp_.
    for (int i = 0; i < 200 && kill(pid_, 0) == 0; ++i) std::this_thread::sleep_for(10ms);
  }
  bool running() const { return pid_ > 0; }
  void add(const std::string& key) {
    run_local("SSH_AUTH_SOCK=" + socket_ + " ssh-add -q " + key + " 2>&1");
  }

 private:
  std::string socket_;
  std::string saved_;
  bool had_ = false;
  pid_t pid_ = -1;
};

TEST_F(SshRemoteTest, AuthenticatesThroughSshAgent) {
  AgentScope agent(tmp_);
  ASSERT_TRUE(agent.running()) << "could not start ssh-agent";
  agent.add(fresh_key("unrelated_key"));  // tried first, refused
  agent.add(options_.key_path);
  SshOptions o = options_;
  o.key_path.clear();
  SshRemote remote(o);
  auto r = run(remote, {"echo", "via-agent"});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->out, "via-agent\n");
}

TEST_F(SshRemoteTest, EmptyAgentFailsAuthentication) {
  AgentScope agent(tmp_);
  ASSERT_TRUE(agent.running()) << "could not start ssh-agent";
  SshOptions o = options_;
  o.key_path.clear();
  SshRemote remote(o);
  Status st = remote.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kAuthFailed) << st.error().describe();
}

// A 127.0.0.1 port that nobody listens on (bound, then released).
int closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

TEST_F(SshRemoteTest, ClosedPortIsUnreachable) {
  SshOptions o = options_;
  o.port = closed_port();
  SshRemote remote(o);
  auto start = Clock::now();
  Status st = remote.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kUnreachable) << st.error().describe();
  EXPECT_TRUE(contains(st.error().message, "refused")) << st.error().message;
  EXPECT_LT(Clock::now() - start, 1s);
}

TEST_F(SshRemoteTest, ListenerThatNeverSpeaksSshTimesOut) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener, 4), 0);  // the kernel accepts; we never answer
  socklen_t len = sizeof a;
  getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);

  SshOptions o = options_;
  o.port = ntohs(a.sin_port);
  o.connect_timeout = 1s;
  SshRemote remote(o);
  auto start = Clock::now();
  Status st = remote.connect();
  auto took = Clock::now() - start;
  close(listener);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kTimeout) << st.error().describe();
  EXPECT_TRUE(contains(st.error().message, "handshake")) << st.error().message;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, o.connect_timeout + 1s);

  // run() is bounded by its own timeout too, even with a longer connect timeout.
  o.connect_timeout = 10s;
  int listener2 = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(bind(listener2, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(listener2, 4), 0);
  SshRemote remote2(o);
  start = Clock::now();
  auto r = remote2.run({"true"}, 1s);
  took = Clock::now() - start;
  close(listener2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kTimeout) << r.error().describe();
  EXPECT_LT(took, 2s);
}

TEST_F(SshRemoteTest, UnresolvableHostFailsWithinTheConnectTimeout) {
  SshOptions o = options_;
  o.hostname = "mmcfs-no-such-host.invalid";
  o.connect_timeout = 2s;
  SshRemote remote(o);
  auto start = Clock::now();
  Status st = remote.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().code == Errc::kUnreachable || st.error().code == Errc::kTimeout)
      << st.error().describe();
  EXPECT_LT(Clock::now() - start, o.connect_timeout + 1s);
}


}  // namespace
}  // namespace mmcfs::backend
