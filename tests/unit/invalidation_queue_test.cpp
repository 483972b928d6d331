// invalidation_queue_test.cpp — the adapter's invalidation queue without FUSE:
// callers never wait for the sender, duplicates collapse, the bound holds,
// and stop() ends cleanly with work still queued.
#include "fs/invalidation_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <vector>

namespace mmcfs::fs {
namespace {

using namespace std::chrono_literals;

// A sender that blocks until released, as the kernel does while a request on
// the inode is being served.
class GatedSender {
 public:
  void operator()(const Invalidation& what) {
    {
      std::lock_guard lock(mu_);
      entered_ = true;
      cv_.notify_all();
    }
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
    sent_.push_back(what);
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait_entered(std::chrono::milliseconds max) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, max, [this] { return entered_; });
  }
  std::vector<Invalidation> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  bool entered_ = false;
  std::vector<Invalidation> sent_;
};

TEST(InvalidationQueueTest, EnqueueNeverWaitsForTheSender) {
  GatedSender gate;
  InvalidationQueue queue([&gate](const Invalidation& w) { gate(w); });
  queue.start();
  queue.enqueue({7, ""});
  ASSERT_TRUE(gate.wait_entered(5s)) << "the sender thread picks the first one up";
  // The sender is stuck (as inside the kernel); callers still return at once.
  auto caller = std::async(std::launch::async, [&queue] {
    for (int i = 0; i < 100; ++i) queue.enqueue({static_cast<std::uint64_t>(100 + i), ""});
  });
  EXPECT_EQ(caller.wait_for(5s), std::future_status::ready) << "enqueue blocked behind a stuck sender";
  gate.open();
  EXPECT_TRUE(queue.wait_idle(5s));
  EXPECT_EQ(gate.sent().size(), 101u);
  queue.stop();
}

TEST(InvalidationQueueTest, DuplicatesWaitingAreSentOnce) {
  GatedSender gate;
  InvalidationQueue queue([&gate](const Invalidation& w) { gate(w); });
  queue.start();
  queue.enqueue({1, ""});
  ASSERT_TRUE(gate.wait_entered(5s));
  for (int i = 0; i < 10; ++i) {
    queue.enqueue({2, ""});
    queue.enqueue({3, "status"});
    queue.enqueue({3, "ctl"});
  }
  gate.open();
  ASSERT_TRUE(queue.wait_idle(5s));
  auto sent = gate.sent();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0], (Invalidation{1, ""}));
  EXPECT_EQ(sent[1], (Invalidation{2, ""}));
  EXPECT_EQ(sent[2], (Invalidation{3, "status"}));
  EXPECT_EQ(sent[3], (Invalidation{3, "ctl"}));
}

TEST(InvalidationQueueTest, ARequestArrivingDuringItsOwnSendIsSentAgain) {
  GatedSender gate;
  InvalidationQueue queue([&gate](const Invalidation& w) { gate(w); });
  queue.start();
  queue.enqueue({5, ""});
  ASSERT_TRUE(gate.wait_entered(5s));
  queue.enqueue({5, ""});  // a change after the kernel began dropping: must drop again
  gate.open();
  ASSERT_TRUE(queue.wait_idle(5s));
  EXPECT_EQ(gate.sent().size(), 2u);
}

TEST(InvalidationQueueTest, BoundedWhileTheSenderIsStuck) {
  GatedSender gate;
  InvalidationQueue queue([&gate](const Invalidation& w) { gate(w); });
  queue.start();
  queue.enqueue({1, ""});
  ASSERT_TRUE(gate.wait_entered(5s));
  for (std::uint64_t i = 0; i < InvalidationQueue::kMaxPending + 50; ++i) queue.enqueue({1000 + i, ""});
  EXPECT_EQ(queue.dropped(), 50u);
  gate.open();
  ASSERT_TRUE(queue.wait_idle(10s));
  EXPECT_EQ(gate.sent().size(), InvalidationQueue::kMaxPending + 1);
}

TEST(InvalidationQueueTest, StopDiscardsWhatWaitsAndIgnoresLaterRequests) {
  std::atomic<int> sent{0};
  GatedSender gate;
  InvalidationQueue queue([&](const Invalidation& w) {
    gate(w);
    ++sent;
  });
  queue.enqueue({1, ""});  // before start: ignored
  queue.start();
  queue.enqueue({2, ""});
  ASSERT_TRUE(gate.wait_entered(5s));
  queue.enqueue({3, ""});
  auto stopper = std::async(std::launch::async, [&queue] { queue.stop(); });
  EXPECT_EQ(stopper.wait_for(200ms), std::future_status::timeout) << "stop waits for the send in flight";
  gate.open();
  EXPECT_EQ(stopper.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(sent.load(), 1) << "only the send in flight finished; {3} was discarded";
  queue.enqueue({4, ""});
  EXPECT_EQ(sent.load(), 1);
}

}  // namespace
}  // namespace mmcfs::fs
