// failing_remote_test.cpp — FakeRemote (the test double) and FailingRemote
// (fault injection by wrapping).
#include "backend/failing_remote.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "fakes/fake_remote.h"

namespace mmcfs::backend {
namespace {

using std::chrono::milliseconds;
using testing::FakeRemote;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kSqueue = {"squeue", "-h", "-o", "%i %T"};
const std::vector<std::string> kSinfo = {"sinfo", "-h"};

TEST(FakeRemote, AnswersScriptedCommandsAndRecordsCalls) {
  FakeRemote fake;
  fake.answer_ok(kSqueue, "42 RUNNING\n");
  fake.answer(kSinfo, CommandResult{1, "", "sinfo: error\n"});

  auto a = fake.run(kSqueue, milliseconds(100));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->exit_code, 0);
  EXPECT_EQ(a->out, "42 RUNNING\n");
  auto b = fake.run(kSinfo, milliseconds(100));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->exit_code, 1);
  EXPECT_EQ(b->err, "sinfo: error\n");

  EXPECT_EQ(fake.calls(), (std::vector<std::vector<std::string>>{kSqueue, kSinfo}));
  EXPECT_EQ(fake.connect_count(), 1);
}

TEST(FakeRemote, KeyIsTheExactArgvNotAJoinedString) {
  FakeRemote fake;
  fake.answer_ok({"echo", "a b"}, "x");
  auto r = fake.run({"echo", "a", "b"}, milliseconds(100));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kInternal);
  EXPECT_NE(r.error().message.find("echo a b"), std::string::npos);
}

TEST(FakeRemote, ScriptedErrors) {
  FakeRemote fake;
  fake.answer(kSqueue, make_error(Errc::kRemoteFailed, "squeue: slurmctld down"));
  auto r = fake.run(kSqueue, milliseconds(100));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kRemoteFailed);
}

TEST(FakeRemote, ConnectResultGovernsRun) {
  FakeRemote fake;
  fake.answer_ok(kSqueue, "");
  fake.set_connect_result(make_error(Errc::kHostKey, "changed"));
  Status st = fake.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kHostKey);
  auto r = fake.run(kSqueue, milliseconds(100));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kHostKey);
  EXPECT_FALSE(fake.connected());

  fake.set_connect_result(Status::Ok());
  EXPECT_TRUE(fake.run(kSqueue, milliseconds(100)).ok());
  EXPECT_TRUE(fake.connected());
  fake.disconnect();
  EXPECT_FALSE(fake.connected());
  EXPECT_EQ(fake.calls().size(), 2u);
}

TEST(FakeRemote, RunWithInputRecordsTheInputAndAnswersAsRun) {
  FakeRemote fake;
  fake.answer_ok({"cat"}, "echoed\n");
  const std::string input("a\0b\n\xff", 5);
  auto r = fake.run_with_input({"cat"}, input, milliseconds(100));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "echoed\n");
  EXPECT_TRUE(fake.run({"cat"}, milliseconds(100)).ok());
  EXPECT_EQ(fake.calls(), (std::vector<std::vector<std::string>>{{"cat"}, {"cat"}}));
  EXPECT_EQ(fake.inputs(), (std::vector<std::string>{input, ""}));
  auto missing = fake.run_with_input({"tee"}, "x", milliseconds(100));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::kInternal);
}

TEST(FailingRemote, PassesThroughWithoutFaults) {
  FakeRemote fake;
  fake.answer_ok(kSqueue, "ok\n");
  FailingRemote failing(fake);
  EXPECT_TRUE(failing.connect().ok());
  auto r = failing.run(kSqueue, milliseconds(100));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "ok\n");
  EXPECT_EQ(failing.run_calls(), 1);
  EXPECT_EQ(failing.connect_calls(), 1);
  EXPECT_EQ(fake.calls().size(), 1u);
}

TEST(FailingRemote, FailsExactlyTheNthCall) {
  FakeRemote fake;
  fake.answer_ok(kSqueue, "ok\n");
  FailingRemote failing(fake);
  failing.fail_call(3, make_error(Errc::kIo, "injected: link dropped"));
  for (int i = 1; i <= 5; ++i) {
    auto r = failing.run(kSqueue, milliseconds(100));
    if (i == 3) {
      ASSERT_FALSE(r.ok()) << i;
      EXPECT_EQ(r.error().code, Errc::kIo);
      EXPECT_EQ(r.error().message, "injected: link dropped");
    } else {
      EXPECT_TRUE(r.ok()) << i;
    }
  }
  EXPECT_EQ(failing.run_calls(), 5);
  EXPECT_EQ(fake.calls().size(), 4u);  // the failed call never reached the inner remote
}

TEST(FailingRemote, RunWithInputPassesTheInputThrough) {
  FakeRemote fake;
  fake.answer_ok({"cat"}, "ok");
  FailingRemote failing(fake);
  auto r = failing.run_with_input({"cat"}, "script text", milliseconds(100));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "ok");
  EXPECT_EQ(fake.inputs(), (std::vector<std::string>{"script text"}));
  EXPECT_EQ(failing.run_calls(), 1);
}

TEST(FailingRemote, RunWithInputCountsAsARunCall) {
  FakeRemote fake;
  fake.answer_ok(kSqueue, "ok\n");
  fake.answer_ok({"cat"}, "ok");
  FailingRemote failing(fake);
  failing.fail_call(2, make_error(Errc::kIo, "injected: link dropped"));
  failing.hang_call(3, std::chrono::seconds(30));
  EXPECT_TRUE(failing.run(kSqueue, milliseconds(100)).ok());                   // call 1
  auto second = failing.run_with_input({"cat"}, "in", milliseconds(100));      // call 2
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::kIo);
  auto start = Clock::now();
  auto third = failing.run_with_input({"cat"}, "in", milliseconds(50));        // call 3
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, Errc::kTimeout);
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  EXPECT_TRUE(failing.run_with_input({"cat"}, "in", milliseconds(100)).ok());  // call 4
  EXPECT_EQ(failing.run_calls(), 4);
  EXPECT_EQ(fake.inputs(), (std::vector<std::string>{"", "in"}));  // faulted calls never arrived

  failing.fail_all(make_error(Errc::kUnreachable, "down"));
  auto down = failing.run_with_input({"cat"}, "in", milliseconds(100));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, Errc::kUnreachable);
  EXPECT_EQ(failing.run_calls(), 5);
}

TEST(FailingRemote, FailAllUntilHealed) {
  FakeRemote fake;
  fake.answer_ok(kSqueue, "ok\n");
  FailingRemote failing(fake);
  EXPECT_TRUE(failing.run(kSqueue, milliseconds(100)).ok());
  failing.fail_all(make_error(Errc::kUnreachable, "injected: cluster down"));
  for (int i = 0; i < 3; ++i) {
    auto r = failing.run(kSqueue, milliseconds(100));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::kUnreachable);
  }
  Status st = failing.connect();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::kUnreachable);
  failing.heal();
  EXPECT_TRUE(failing.connect().ok());
  EXPECT_TRUE(failing.run(kSqueue, milliseconds(100)).ok());
  EXPECT_EQ(failing.run_calls(), 5);
}

TEST(FailingRemote, NthFaultTakesPrecedenceOverFailAll) {
  FakeRemote fake;
  FailingRemote failing(fake);
  failing.fail_all(make_error(Errc::kUnreachable, "down"));
  failing.fail_call(2, make_error(Errc::kAuthFailed, "key"));
  EXPECT_EQ(failing.run(kSqueue, milliseconds(100)).error().code, Errc::kUnreachable);
  EXPECT_EQ(failing.run(kSqueue, milliseconds(100)).error().code, Errc::kAuthFailed);
  EXPECT_EQ(failing.run(kSqueue, milliseconds(100)).error().code, Errc::kUnreachable);
}

TEST(FailingRemote, HangIsBoundedByTheCallersTimeout) {
  FakeRemote fake;
  fake.answer_ok(kSqueue, "ok\n");
  FailingRemote failing(fake);
  failing.hang_call(1, std::chrono::seconds(30));
  auto start = Clock::now();
  auto r = failing.run(kSqueue, milliseconds(50));
  auto took = Clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kTimeout);
  EXPECT_GE(took, milliseconds(50));
  EXPECT_LT(took, milliseconds(2000));
  EXPECT_TRUE(failing.run(kSqueue, milliseconds(50)).ok());  // only call 1 hangs
  EXPECT_EQ(fake.calls().size(), 1u);
}

TEST(FailingRemote, HangLastsItsDurationWhenShorterThanTimeout) {
  FakeRemote fake;
  FailingRemote failing(fake);
  failing.hang_all(milliseconds(30));
  auto start = Clock::now();
  auto r = failing.run(kSqueue, std::chrono::seconds(30));
  auto took = Clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kTimeout);
  EXPECT_GE(took, milliseconds(30));
  EXPECT_LT(took, milliseconds(2000));
}

TEST(FailingRemote, HealWakesHungCalls) {
  FakeRemote fake;
  FailingRemote failing(fake);
  failing.hang_all(std::chrono::seconds(30));
  auto start = Clock::now();
  std::thread healer([&] {
    std::this_thread::sleep_for(milliseconds(50));
    failing.heal();
  });
  auto r = failing.run(kSqueue, std::chrono::seconds(30));
  healer.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kTimeout);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST(FailingRemote, CountsCallsFromManyThreads) {
  FakeRemote fake;
  fake.answer_ok(kSqueue, "ok\n");
  FailingRemote failing(fake);
  failing.fail_call(10, make_error(Errc::kIo, "x"));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (!failing.run(kSqueue, milliseconds(100)).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failing.run_calls(), 100);
  EXPECT_EQ(failures.load(), 1);
  EXPECT_EQ(fake.calls().size(), 99u);
}

}  // namespace
}  // namespace mmcfs::backend
