// invalidation_queue.cpp — the sender thread (see invalidation_queue.h).
#include "fs/invalidation_queue.h"

#include <chrono>

#include "common/log.h"

namespace mmcfs::fs {

void InvalidationQueue::start() {
  std::lock_guard lock(mu_);
  if (running_) return;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void InvalidationQueue::stop() {
  {
    std::lock_guard lock(mu_);
    running_ = false;
    queue_.clear();
    waiting_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void InvalidationQueue::enqueue(Invalidation what) {
  {
    std::lock_guard lock(mu_);
    if (!running_ || waiting_.count(what) > 0) return;
    if (queue_.size() >= kMaxPending) {
      if (dropped_++ == 0) {
        log::warn("kernel cache invalidations are arriving faster than the kernel takes them; dropping some "
                  "(files stay stale at most their attribute lifetime)");
      }
      return;
    }
    waiting_.insert(what);
    queue_.push_back(std::move(what));
  }
  cv_.notify_all();
}

std::uint64_t InvalidationQueue::sent() const {
  std::lock_guard lock(mu_);
  return sent_;
}

std::uint64_t InvalidationQueue::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

bool InvalidationQueue::wait_idle(std::chrono::milliseconds max_wait) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, max_wait, [this] { return queue_.empty() && !in_flight_; });
}

void InvalidationQueue::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return !running_ || !queue_.empty(); });
    if (!running_) return;
    Invalidation next = std::move(queue_.front());
    queue_.pop_front();
    // Leaves the waiting set before sending: a request arriving while this
    // one is in flight is queued again, so the kernel drops what came after.
    waiting_.erase(next);
    in_flight_ = true;
    lock.unlock();
    send_(next);
    lock.lock();
    in_flight_ = false;
    ++sent_;
    cv_.notify_all();
  }
}

}  // namespace mmcfs::fs
