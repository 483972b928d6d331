// job_poll_loop.cpp — scheduling JobPoller cycles for one cluster.
#include "app/job_poll_loop.h"

#include <algorithm>

#include "common/log.h"

namespace mmcfs::app {

JobPollLoop::JobPollLoop(config::ClusterConfig cluster, std::shared_ptr<backend::Remote> remote,
                         backend::JobStore& jobs, const Clock& clock, std::function<void()> on_change)
    : cluster_(std::move(cluster)), remote_(std::move(remote)), poller_(jobs, clock), on_change_(std::move(on_change)) {}

JobPollLoop::~JobPollLoop() { stop(); }

void JobPollLoop::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void JobPollLoop::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    running_ = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<backend::PollStats> JobPollLoop::poll_now_and_wait(std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mu_);
  if (!running_) return std::nullopt;
  // A cycle already under way may have read the jobs before this call: wait
  // for the one after it.
  std::uint64_t target = cycles_begun_ + 1;
  requested_ = true;
  cv_.notify_all();
  bool done = cv_.wait_for(lock, max_wait, [&] { return stopping_ || totals_.cycles >= target; });
  if (!done || totals_.cycles < target) return std::nullopt;
  return last_;
}

void JobPollLoop::poll_now() {
  {
    std::lock_guard lock(mu_);
    requested_ = true;
  }
  cv_.notify_all();
}

backend::PollStats JobPollLoop::poll_once() {
  {
    std::lock_guard lock(mu_);
    ++cycles_begun_;
    requested_ = false;  // this cycle serves every request made before it began
  }
  auto began = std::chrono::steady_clock::now();
  backend::PollStats stats = poller_.poll(*remote_, cluster_);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  if (!stats.error.empty()) {
    ++failures_;
    log::debug("{}: job poll: {}", cluster_.name, stats.error);
  } else {
    failures_ = 0;
  }
  if (stats.jobs_updated > 0 && on_change_) on_change_();
  {
    std::lock_guard lock(mu_);
    last_ = stats;
    totals_.last = stats;
    ++totals_.cycles;
    totals_.last_duration = took;
    totals_.total_duration += took;
  }
  cv_.notify_all();  // poll_now_and_wait()
  return stats;
}

backend::PollStats JobPollLoop::last_stats() const {
  std::lock_guard lock(mu_);
  return last_;
}

PollLoopStats JobPollLoop::loop_stats() const {
  std::lock_guard lock(mu_);
  return totals_;
}

void JobPollLoop::run() {
  while (true) {
    poll_once();
    // Backoff while the cluster fails: 1 s, 2 s, 4 s ... capped at the interval.
    std::chrono::milliseconds delay = cluster_.job_poll_interval;
    if (failures_ > 0) {
      delay = std::min<std::chrono::milliseconds>(delay, std::chrono::seconds(1) * (1 << std::min(failures_ - 1, 10)));
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, delay, [this] { return stopping_ || requested_; });
    if (stopping_) return;
    requested_ = false;
  }
}

}  // namespace mmcfs::app
