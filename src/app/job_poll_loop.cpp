// job_poll_loop.cpp — scheduling JobPoller cycles for one cluster.
//
// Thread rules: as job_poll_loop.h; mu_ is never held across a cycle.
#include "app/job_poll_loop.h"

#include <algorithm>

#include "common/log.h"

namespace mmcfs::app {

JobPollLoop::JobPollLoop(config::ClusterConfig cluster, std::shared_ptr<backend::Remote> remote,
                         backend::JobStore& jobs, const Clock& clock, Listener on_change)
    : cluster_(std::move(cluster)),
      remote_(std::move(remote)),
      jobs_(jobs),
      clock_(clock),
      poller_(jobs, clock),
      on_change_(std::move(on_change)) {}

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

std::chrono::milliseconds JobPollLoop::next_delay(std::chrono::milliseconds interval, int failures) {
  if (failures <= 0) return interval;
  return std::min<std::chrono::milliseconds>(interval, std::chrono::seconds(1) * (1 << std::min(failures - 1, 10)));
}

backend::PollStats JobPollLoop::poll_once() {
  {
    std::lock_guard lock(mu_);
    ++cycles_begun_;
    requested_ = false;  // this cycle serves every request made before it began
  }
  WallTime started = clock_.now();
  auto began = std::chrono::steady_clock::now();
  backend::PollStats stats = poller_.poll(*remote_, cluster_);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  bool health_flipped = false;
  {
    std::lock_guard lock(mu_);
    health_flipped = stats.error.empty() == (failures_ > 0);
    if (!stats.error.empty()) {
      if (failures_++ == 0) {
        health_.failing_since = started;
        log::info("{}: job poll failed, retrying with backoff: {}", cluster_.name, stats.error);
      } else {
        log::debug("{}: job poll: {}", cluster_.name, stats.error);
      }
      health_.error = stats.error;
    } else {
      if (failures_ > 0) log::info("{}: job poll reaches SLURM again", cluster_.name);
      failures_ = 0;
      health_.failing_since.reset();
      health_.error.clear();
      if (stats.active_jobs > 0) health_.last_success = clock_.now();
    }
    last_ = stats;
    totals_.last = stats;
    ++totals_.cycles;
    totals_.last_duration = took;
    totals_.total_duration += took;
  }
  std::vector<std::string> changed = stats.changed_ids;
  if (health_flipped) {
    for (const auto& job : jobs_.list(/*include_archived=*/true)) {
      if (job.cluster == cluster_.name && !backend::job_state::is_final(job.state)) changed.push_back(job.id);
    }
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  }
  if (!changed.empty() && on_change_) on_change_(changed);
  cv_.notify_all();  // poll_now_and_wait()
  return stats;
}

backend::PollStats JobPollLoop::last_stats() const {
  std::lock_guard lock(mu_);
  return last_;
}

PollHealth JobPollLoop::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

PollLoopStats JobPollLoop::loop_stats() const {
  std::lock_guard lock(mu_);
  return totals_;
}

void JobPollLoop::run() {
  while (true) {
    poll_once();
    std::unique_lock lock(mu_);
    auto delay = next_delay(cluster_.job_poll_interval, failures_);
    cv_.wait_for(lock, delay, [this] { return stopping_ || requested_; });
    if (stopping_) return;
    requested_ = false;
  }
}

}  // namespace mmcfs::app
