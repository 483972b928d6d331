// log_follower.cpp — refreshing held and finished logs of one cluster in the
// background (see log_follower.h).
#include "app/log_follower.h"

#include <algorithm>

#include "common/log.h"

namespace mmcfs::app {

LogFollower::LogFollower(std::string cluster, JobLogs& logs, GetJob get_job, ListJobs list_jobs, const Clock& clock,
                         Invalidate invalidate, std::chrono::milliseconds bound)
    : cluster_(std::move(cluster)),
      logs_(logs),
      get_job_(std::move(get_job)),
      list_jobs_(std::move(list_jobs)),
      clock_(clock),
      invalidate_(std::move(invalidate)),
      bound_(bound) {}

LogFollower::~LogFollower() { stop(); }

void LogFollower::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void LogFollower::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogFollower::jobs_changed() {
  {
    std::lock_guard lock(mu_);
    rescan_ = true;
    woken_ = true;
  }
  cv_.notify_all();
}

std::set<std::string> LogFollower::pending_final() const {
  std::lock_guard lock(mu_);
  return pending_;
}

void LogFollower::rescan_jobs() {
  std::set<std::string> pending;
  for (const auto& summary : list_jobs_()) {
    const backend::JobRecord& job = summary->record;
    if (job.cluster != cluster_ || job.slurm_id.empty()) continue;
    if (backend::job_state::is_final(job.state) && !logs_.complete(job.id)) pending.insert(job.id);
    // Links not scanned up to the cached size (a run stopped before it): scan.
    if (logs_.links_behind(job.id)) logs_.mark_dirty(job);
  }
  std::lock_guard lock(mu_);
  for (const auto& id : absent_) pending.erase(id);
  pending_ = std::move(pending);
}

LogFollower::TickStats LogFollower::tick() {
  TickStats stats;
  bool rescan = false;
  {
    std::lock_guard lock(mu_);
    rescan = std::exchange(rescan_, false);
  }
  if (rescan) rescan_jobs();

  const WallTime now = clock_.now();
  if (now < retry_at_) {
    stats.backing_off = true;
  } else {
    std::set<std::string> targets;
    {
      std::lock_guard lock(mu_);
      targets = pending_;
    }
    for (const auto& id : logs_.held()) targets.insert(id);
    bool failed = false;
    for (const auto& id : targets) {
      auto job = get_job_(id);
      if (!job || job->cluster != cluster_ || job->slurm_id.empty()) continue;
      const bool final = backend::job_state::is_final(job->state);
      if (final && logs_.complete(id)) {
        std::lock_guard lock(mu_);
        pending_.erase(id);
        continue;
      }
      ++stats.refreshed;
      auto state = logs_.refresh(*job, bound_);
      if (state.ok()) {
        if (state->complete) {
          std::lock_guard lock(mu_);
          pending_.erase(id);
        } else if (final) {
          std::lock_guard lock(mu_);
          pending_.insert(id);  // not all of it within the bound: more next tick
        }
        continue;
      }
      if (state.error().code == Errc::kNotFound) {
        if (final) {  // it ended without ever writing a log (cancelled while pending)
          std::lock_guard lock(mu_);
          pending_.erase(id);
          absent_.insert(id);
        }
        continue;
      }
      ++stats.failed;
      failed = true;
      log::debug("{}: log of {} not refreshed: {}", cluster_, id, state.error().describe());
      break;  // the cluster is failing: back off rather than try every log
    }
    if (failed) {
      ++failures_;
      auto delay = std::min<std::chrono::milliseconds>(kFollowMaxBackoff,
                                                       std::chrono::seconds(1) * (1 << std::min(failures_ - 1, 10)));
      retry_at_ = now + delay;
    } else {
      failures_ = 0;
    }
  }

  for (const auto& id : logs_.take_dirty(cluster_)) {
    auto links = logs_.update_links(id);
    if (!links.ok()) log::warn("{}: tracker links not scanned: {}", id, links.error().describe());
    const bool files_changed = (links.ok() && *links) || logs_.complete(id);
    if (invalidate_) invalidate_(id, files_changed);
    ++stats.invalidated;
  }
  return stats;
}

void LogFollower::run() {
  while (true) {
    tick();
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kFollowInterval, [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace mmcfs::app
