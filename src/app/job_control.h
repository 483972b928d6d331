// job_control.h — the actions behind jobs/<id>/ctl and mv to archive/:
// refresh (poll the job's cluster now and wait for that cycle), cancel
// (scancel, then polls until SLURM reports the job ended, within the same
// bound, so the next `cat status` shows CANCELLED),
// archive and unarchive (a flag in the job store; nothing reaches the
// cluster). Each action's outcome, refusals included, is remembered per job
// (in memory) for `cat ctl`.
//
// Cancelling a job that already ended is not an error: the job is where the
// user wanted it, and ctl says so. Identity: scancel is sent only for a job
// the store still holds as active (not final, SLURM id known), so a SLURM id
// reused after the job ended is never cancelled by mistake.
//
// Thread rules: every method is safe from any thread (FUSE handlers
// included). No lock is held across a remote call or a wait for the poller;
// mu_ guards only the outcomes. Remote commands are bounded (kScancelBound
// and the cluster's command timeout); waits for a poll cycle by
// refresh_bound.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "app/job_poll_loop.h"
#include "backend/job_store.h"
#include "backend/remote.h"
#include "common/clock.h"
#include "config/cluster_config.h"
#include "fs/job_ctl_file.h"

namespace mmcfs::app {

class JobControl final : public fs::JobController {
 public:
  static constexpr std::chrono::seconds kRefreshBound{5};
  static constexpr std::chrono::seconds kScancelBound{10};

  struct Cluster {
    config::ClusterConfig config;
    std::shared_ptr<backend::Remote> remote;
    JobPollLoop* poller = nullptr;  // owned by the caller; outlives this
  };
  // Called (with no lock held) after a job's ctl text changed (an outcome
  // was remembered; moved false) and after it moved between jobs/ and
  // archive/ (moved true), so that the mount drops what the kernel cached.
  using OnChanged = std::function<void(const std::string& job_id, bool moved)>;

  JobControl(backend::JobStore& jobs, const Clock& clock, std::map<std::string, Cluster> clusters, OnChanged on_changed,
             std::chrono::milliseconds refresh_bound = kRefreshBound);

  Status control(const std::string& job_id, const std::string& word) override;
  Status set_archived(const std::string& job_id, bool archived) override;
  void note_refusal(const std::string& job_id, const std::string& request, const Error& why) override;
  std::vector<fs::ControlOutcome> recent_outcomes(const std::string& job_id) const override;
  static constexpr std::size_t kRecentOutcomes = 5;  // kept per job for `cat ctl`
  // Between polls while a cancelled job is still finishing (COMPLETING).
  static constexpr std::chrono::milliseconds kCancelRecheck{500};
  std::vector<std::string> archived_jobs() const override;

 private:
  Status refresh(const backend::JobRecord& job, const Cluster& cluster);
  Status cancel(const backend::JobRecord& job, const Cluster& cluster);
  // Wakes the job's poller and waits (at most max_wait) for a cycle; "" or
  // why it did not answer.
  std::string wait_for_cycle(const Cluster& cluster, std::chrono::milliseconds max_wait);
  Status done(const std::string& job_id, const std::string& request, std::string message);
  Status refused(const std::string& job_id, const std::string& request, Error why);
  std::string state_of(const std::string& job_id) const;
  void remember(const std::string& job_id, fs::ControlOutcome outcome);

  backend::JobStore& jobs_;
  const Clock& clock_;
  const std::map<std::string, Cluster> clusters_;
  const OnChanged on_changed_;
  const std::chrono::milliseconds refresh_bound_;

  mutable std::mutex mu_;
  std::map<std::string, std::deque<fs::ControlOutcome>> outcomes_;  // GUARDED_BY(mu_), by job id
};

}  // namespace mmcfs::app
