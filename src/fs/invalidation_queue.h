// invalidation_queue.h — kernel cache invalidations, sent from one thread of
// their own.
//
// Telling the kernel to drop a cached inode or entry (libfuse's
// fuse_lowlevel_notify_inval_*) may block until requests on that inode end.
// Sent from inside a FUSE request handler (a ctl write that polls, a rename
// that archives a job) it deadlocks the kernel. So callers only enqueue, from
// any thread, and one sender thread delivers. The queue:
//   - deduplicates: an inode (or parent+name) already waiting is not queued
//     twice;
//   - is bounded (kMaxPending): when full, further requests are dropped and
//     counted (dropped()); the kernel's attribute lifetimes (1 s for
//     changing files) bound how stale a dropped one can leave a file;
//   - stops cleanly: stop() discards what is still waiting, waits for the one
//     notification in flight (if any) and joins the thread. Requests after
//     stop() are ignored.
// The sender function knows nothing of this queue; FuseAdapter passes one
// that calls libfuse, and tests pass a recorder.
//
// Thread rules: enqueue() and dropped()/sent() from any thread; start() and
// stop() from the owner. The sender runs on the queue's thread with no lock
// held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

namespace mmcfs::fs {

// One thing to drop: an inode's attributes and data (name empty), or the
// entry `name` in directory `ino`.
struct Invalidation {
  std::uint64_t ino = 0;
  std::string name;
  bool operator<(const Invalidation& o) const { return std::tie(ino, name) < std::tie(o.ino, o.name); }
  bool operator==(const Invalidation& o) const { return ino == o.ino && name == o.name; }
};

class InvalidationQueue {
 public:
  static constexpr std::size_t kMaxPending = 4096;
  using Sender = std::function<void(const Invalidation&)>;

  explicit InvalidationQueue(Sender send) : send_(std::move(send)) {}
  ~InvalidationQueue() { stop(); }
  InvalidationQueue(const InvalidationQueue&) = delete;
  InvalidationQueue& operator=(const InvalidationQueue&) = delete;

  void start();
  void stop();
  // Queues one invalidation (a no-op if it is already waiting, or the queue
  // is stopped). Never blocks on the kernel.
  void enqueue(Invalidation what);

  std::uint64_t sent() const;
  std::uint64_t dropped() const;
  // Waits until nothing is queued or in flight (tests), at most `max_wait`.
  bool wait_idle(std::chrono::milliseconds max_wait) const;

 private:
  void run();

  const Sender send_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<Invalidation> queue_;    // GUARDED_BY(mu_), in arrival order
  std::set<Invalidation> waiting_;    // GUARDED_BY(mu_), the same items
  bool running_ = false;              // GUARDED_BY(mu_)
  bool in_flight_ = false;            // GUARDED_BY(mu_)
  std::uint64_t sent_ = 0;            // GUARDED_BY(mu_)
  std::uint64_t dropped_ = 0;         // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace mmcfs::fs
