// mount_service.h — the composition root: config, state, one Remote and one
// ClusterMonitor per cluster, the job and project stores, the launch service,
// and the Namespace built over all of them.
//
// It implements the sources the tree renders from (clusters, jobs, projects)
// and tells the FUSE layer (through the invalidator) which inodes to drop
// from kernel caches when a monitor publishes a new snapshot. Job logs live
// in <state>/logs (JobLogs), kept fresh by one LogFollower per cluster. It knows
// nothing of FUSE itself, so the whole service runs in unit tests with fake
// remotes.
//
// Thread rules: create() and start()/stop() from the main thread; the
// sources and the Namespace from any thread. The invalidator is called with
// no lock held, on monitor and poller threads and on FUSE threads (a ctl
// write, an mv to archive/): it must only queue (FuseAdapter::invalidate
// does); so must the entry invalidator.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/job_control.h"
#include "app/job_poll_loop.h"
#include "app/job_logs.h"
#include "app/launch_service.h"
#include "app/log_follower.h"
#include "backend/cluster_monitor.h"
#include "backend/counting_remote.h"
#include "backend/job_store.h"
#include "backend/project_store.h"
#include "backend/remote.h"
#include "backend/state_store.h"
#include "common/clock.h"
#include "config/cluster_config.h"
#include "fs/jobs_tree.h"
#include "fs/mmcfs_tree.h"
#include "fs/namespace.h"
#include "fs/projects_tree.h"

namespace mmcfs::app {

using RemoteFactory = std::function<std::shared_ptr<backend::Remote>(const config::ClusterConfig&)>;
using Invalidator = std::function<void(fs::InodeId)>;
// Drops a name from the kernel's cache of `parent` (a link that left a
// listing while the kernel may still hold it: projects/<p>/jobs/<id>).
using EntryInvalidator = std::function<void(fs::InodeId parent, const std::string& name)>;

struct MountOptions {
  std::string state_dir;
  std::string sbatch_template;  // the template's text
};

class MountService final : public fs::ClusterStateSource, public fs::JobSource, public fs::ProjectSource {
 public:
  static Result<std::unique_ptr<MountService>> create(config::Config config, const MountOptions& options,
                                                      const Clock& clock, const RemoteFactory& make_remote);
  ~MountService() override;

  void set_invalidator(Invalidator invalidator, EntryInvalidator entries = {});  // before start()
  // Finishes launches left in doubt by an earlier run (bounded by each
  // cluster's timeouts), then starts the monitors. Until each cluster's first
  // check ends (bounded by its connect timeout + 2 s from here) reads of its
  // files wait for it, unless figures saved by an earlier run exist.
  void start();
  void stop();

  fs::Namespace& ns() { return *ns_; }
  backend::ClusterMonitor* monitor(const std::string& cluster);
  JobPollLoop* job_poller(const std::string& cluster);
  LogFollower* log_follower(const std::string& cluster);
  JobLogs& job_logs() { return *job_logs_; }
  LaunchService& launches() { return *launches_; }
  backend::JobStore& job_store() { return *jobs_; }
  JobControl& job_control() { return *control_; }
  // .mmcfs/stats (mount_stats.h): remote commands, poll cycles, jobs by state.
  std::string stats_text() const;

  // ClusterStateSource
  const std::vector<config::ClusterConfig>& clusters() const override { return config_.clusters; }
  backend::ClusterSnapshot snapshot(const std::string& cluster) const override;
  // JobSource
  std::vector<backend::JobSummaryRef> jobs() const override { return jobs_->summaries(); }
  backend::JobSummaryRef job(const std::string& id) const override { return jobs_->summary(id); }
  std::optional<backend::JobRecord> job_record(const std::string& id) const override { return jobs_->get(id); }
  std::string status_note(const backend::JobRecord& job) const override;
  fs::JobLogSource& logs() override { return *job_logs_; }
  // ProjectSource
  std::vector<backend::ProjectEntry> projects() const override { return projects_->list(); }
  Status add_project(const std::string& name, const std::string& target) override;
  Status remove_project(const std::string& name) override;
  std::string launch_template(const std::string& project) const override;
  std::string launch_template(const std::string& project, const std::string& config_name) const override;
  std::vector<backend::JobSummaryRef> project_jobs(const std::string& project) const override;
  Result<std::shared_ptr<fs::DropZoneDir>> drop_zone(const std::string& project) override;

 private:
  MountService(config::Config config, const Clock& clock) : config_(std::move(config)), clock_(clock) {}
  void on_cluster_changed(const std::string& cluster);
  void invalidate_paths(const std::vector<std::string>& paths);
  // Drops the kernel's cache of these jobs' files (jobs/<id>/...).
  void invalidate_jobs(const std::vector<std::string>& job_ids);
  // After a ctl outcome (moved false) or an mv between jobs/ and archive/.
  void invalidate_controlled(const std::string& job_id, bool moved);
  // The active jobs of a cluster (their status notes follow its health).
  std::vector<std::string> active_job_ids(const std::string& cluster) const;
  // Drops the kernel's caches of jobs/<id>/log (and links, info.json).
  void invalidate_job_log(const std::string& job_id, bool files_changed);

  const config::Config config_;
  const Clock& clock_;
  std::string state_dir_;
  std::unique_ptr<backend::StateStore> store_;
  std::unique_ptr<backend::JobStore> jobs_;
  std::unique_ptr<backend::ProjectStore> projects_;
  // Every cluster's Remote is a CountingRemote over the factory's, counting here.
  std::shared_ptr<backend::RemoteCounters> counters_ = std::make_shared<backend::RemoteCounters>();
  std::map<std::string, std::shared_ptr<backend::Remote>> remotes_;
  std::map<std::string, std::unique_ptr<backend::ClusterMonitor>> monitors_;
  std::map<std::string, std::unique_ptr<JobPollLoop>> pollers_;
  std::unique_ptr<JobLogs> job_logs_;
  std::map<std::string, std::unique_ptr<LogFollower>> followers_;
  std::atomic<bool> followers_started_{false};
  std::unique_ptr<LaunchService> launches_;
  std::unique_ptr<JobControl> control_;  // after pollers_: it points at them
  std::unique_ptr<fs::Namespace> ns_;
  Invalidator invalidator_;
  EntryInvalidator entry_invalidator_;
  // Reads wait for a cluster's first check only until this steady-clock time
  // (start() + that cluster's connect timeout + 2 s); zero before start().
  std::atomic<std::chrono::steady_clock::rep> started_at_{0};

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<fs::DropZoneDir>> drop_zones_;  // GUARDED_BY(mu_)
  std::map<std::string, std::shared_ptr<fs::LaunchTrigger>> triggers_;  // GUARDED_BY(mu_)
  std::map<std::string, backend::Health> last_health_;                  // GUARDED_BY(mu_): by cluster
};

}  // namespace mmcfs::app
