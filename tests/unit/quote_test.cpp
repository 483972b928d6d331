// quote_test.cpp — shell_quote/shell_join, checked by expected strings and by
// a round trip through the real /bin/sh (the exact bytes must come back).
#include "common/quote.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

namespace mmcfs {
namespace {

// Runs /bin/sh -c "printf '%s\0' <shell_join(argv)>" and splits its stdout on
// NUL. Returns the arguments as the shell saw them.
std::vector<std::string> round_trip(const std::vector<std::string>& argv) {
  std::string script = "printf '%s\\0' " + shell_join(argv);
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << script;

  std::vector<std::string> args;
  size_t start = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\0') {
      args.push_back(out.substr(start, i - start));
      start = i + 1;
    }
  }
  EXPECT_EQ(start, out.size()) << "output not NUL-terminated";
  return args;
}

TEST(ShellQuote, SafeWordsAreUnquoted) {
  EXPECT_EQ(shell_quote("abc"), "abc");
  EXPECT_EQ(shell_quote("abc-1_./=:,@%+"), "abc-1_./=:,@%+");
  EXPECT_EQ(shell_quote("--parsable2"), "--parsable2");
  EXPECT_EQ(shell_quote("/home/u/mmcfs-jobs/42"), "/home/u/mmcfs-jobs/42");
}

TEST(ShellQuote, EmptyBecomesTwoQuotes) { EXPECT_EQ(shell_quote(""), "''"); }

TEST(ShellQuote, SingleQuotesAreClosedEscapedReopened) {
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("'"), "''\\'''");
}

TEST(ShellQuote, MetacharactersAreWrapped) {
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("$(touch /tmp/x)"), "'$(touch /tmp/x)'");
  EXPECT_EQ(shell_quote("`id`"), "'`id`'");
  EXPECT_EQ(shell_quote("a;b"), "'a;b'");
  EXPECT_EQ(shell_quote("a\nb"), "'a\nb'");
  EXPECT_EQ(shell_quote("*"), "'*'");
  EXPECT_EQ(shell_quote("~"), "'~'");
  EXPECT_EQ(shell_quote("\"x\""), "'\"x\"'");
  EXPECT_EQ(shell_quote("a\\b"), "'a\\b'");
  EXPECT_EQ(shell_quote("h\xc3\xa9llo"), "'h\xc3\xa9llo'");
}

TEST(ShellJoin, JoinsWithSpaces) {
  EXPECT_EQ(shell_join({}), "");
  EXPECT_EQ(shell_join({"squeue", "-h", "-o", "%i %T"}), "squeue -h -o '%i %T'");
  EXPECT_EQ(shell_join({"", "x"}), "'' x");
}

TEST(ShellJoin, RoundTripsNastyArgumentsThroughSh) {
  const std::vector<std::string> nasty = {
      "plain",
      "",
      "two words",
      "it's",
      "''",
      "\"double\"",
      "$(touch /tmp/mmcfs-quote-test-pwned)",
      "`touch /tmp/mmcfs-quote-test-pwned`",
      "a; touch /tmp/mmcfs-quote-test-pwned",
      "a && b || c | d & e",
      "line1\nline2\n",
      "tab\there",
      "$HOME ${HOME} $1 $@ $*",
      "\\ \\\\ \\'",
      "*.txt ? [a-z]",
      "~root",
      "#not a comment",
      "<in >out 2>&1",
      "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x9a\x80",
      "\xff\xfe invalid utf-8",
      "-n",
      "--",
      "%s %d \\0",
      "!event",
      "{a,b}",
      "=",
  };
  EXPECT_EQ(round_trip(nasty), nasty);
  EXPECT_NE(access("/tmp/mmcfs-quote-test-pwned", F_OK), 0) << "something was executed";
}

TEST(ShellJoin, RoundTripsEveryByteValue) {
  std::vector<std::string> argv;
  for (int c = 1; c < 256; ++c) argv.emplace_back(1, static_cast<char>(c));
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  argv.push_back(all);
  EXPECT_EQ(round_trip(argv), argv);
}

TEST(ShellJoin, RoundTripsRandomStrings) {
  std::mt19937 rng(12345);  // fixed seed: reproducible
  std::uniform_int_distribution<int> byte(1, 255);
  std::uniform_int_distribution<int> length(0, 40);
  std::vector<std::string> argv;
  for (int i = 0; i < 200; ++i) {
    std::string s;
    int n = length(rng);
    for (int j = 0; j < n; ++j) s += static_cast<char>(byte(rng));
    argv.push_back(s);
  }
  EXPECT_EQ(round_trip(argv), argv);
}

}  // namespace
}  // namespace mmcfs
