// ssh_input_test.cpp — SshRemote::run_with_input against a REAL sshd: bytes
// on stdin then EOF, exactly, without deadlocks or hangs.
//
// Thread rules: tests run sequentially.
#include "integration/ssh_test_support.h"

namespace mmcfs::backend {
namespace {

using namespace mmcfs::backend::testing;
namespace fs = std::filesystem;

// ---- run_with_input: bytes on stdin, then EOF ----

TEST_F(SshRemoteTest, OneMegabyteOfInputComesBackThroughCatExactly) {
  std::string input;
  input.reserve(1 << 20);
  for (std::size_t i = 0; input.size() < (std::size_t{1} << 20); ++i) {
    input += "line " + std::to_string(i) + " of the input\n";
  }
  input.resize(std::size_t{1} << 20);
  SshRemote remote(options_);
  auto r = remote.run_with_input({"cat"}, input, 30s);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(r->out.size(), input.size());
  EXPECT_TRUE(r->out == input) << "the echoed bytes differ from the input";
}

TEST_F(SshRemoteTest, InputWithNulsAndEveryByteValueArrivesExactly) {
  std::string input;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) input += static_cast<char>(b);
  }
  input += std::string(3, '\0');
  SshRemote remote(options_);
  auto echoed = remote.run_with_input({"cat"}, input, 20s);
  ASSERT_TRUE(echoed.ok()) << echoed.error().describe();
  EXPECT_TRUE(echoed->out == input);
  // And as the remote sees it: its length and checksum.
  auto counted = remote.run_with_input({"wc", "-c"}, input, 20s);
  ASSERT_TRUE(counted.ok()) << counted.error().describe();
  EXPECT_EQ(std::atoi(counted->out.c_str()), static_cast<int>(input.size()));
}

TEST_F(SshRemoteTest, EmptyInputIsAnImmediateEof) {
  SshRemote remote(options_);
  auto r = remote.run_with_input({"sh", "-c", "wc -c; echo done"}, "", 10s);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->out, "0\ndone\n");
  // run() gives stdin EOF too: a command reading stdin does not hang.
  auto plain = run(remote, {"cat"}, 5s);
  ASSERT_TRUE(plain.ok()) << plain.error().describe();
  EXPECT_EQ(plain->out, "");
}

TEST_F(SshRemoteTest, LargeInputAndLargeOutputTogetherDoNotDeadlock) {
  // 3 MB in, 6 MB out (each byte doubled), 2 MB on stderr first: every window
  // fills unless input and both outputs are pumped together.
  std::string input(3'000'000, 'x');
  SshRemote remote(options_);
  auto r = remote.run_with_input(
      {"sh", "-c", "head -c 2000000 /dev/zero >&2; sed 's/x/xx/g'"}, input, 60s);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out.size(), 6'000'000u);
  EXPECT_EQ(r->err.size(), 2'000'000u);
}

TEST_F(SshRemoteTest, CommandThatIgnoresItsInputStillSucceeds) {
  SshRemote remote(options_);
  auto r = remote.run_with_input({"sh", "-c", "echo ignored; exit 4"}, std::string(4'000'000, 'z'),
                                 30s);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(r->out, "ignored\n");
  auto next = run(remote, {"echo", "still fine"});
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(next->out, "still fine\n");
}

TEST_F(SshRemoteTest, InputToACommandThatNeverFinishesTimesOut) {
  SshRemote remote(options_);
  auto start = Clock::now();
  auto r = remote.run_with_input({"sh", "-c", "cat >/dev/null; sleep 10"}, "data", 1s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kTimeout) << r.error().describe();
  EXPECT_LT(Clock::now() - start, 2s);
  auto next = run(remote, {"echo", "back"});
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(next->out, "back\n");
}


}  // namespace
}  // namespace mmcfs::backend
