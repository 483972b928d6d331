// mount_service.cpp — building and running the parts of a mount.
#include "app/mount_service.h"

#include <filesystem>

#include "app/job_freshness.h"
#include "app/mount_stats.h"
#include "common/log.h"
#include "fs/job_shelves.h"
#include "project/git_repo.h"

namespace mmcfs::app {
namespace {

// A project's launch trigger that, after a launch reached SLURM, wakes that
// cluster's job poller so jobs/<id>/status follows the new job at once.
class PollingLaunchTrigger final : public fs::LaunchTrigger {
 public:
  PollingLaunchTrigger(MountService& service, std::string project)
      : service_(service), inner_(service.launches(), std::move(project)) {}
  Result<Outcome> launch(const std::string& file_name, const std::string& text) override {
    auto outcome = inner_.launch(file_name, text);
    if (outcome.ok() && !outcome->in_doubt) {
      if (auto job = service_.job(outcome->job_id)) {
        if (JobPollLoop* poller = service_.job_poller(job->record.cluster)) poller->poll_now();
      }
    }
    return outcome;
  }

 private:
  MountService& service_;
  ProjectLaunchTrigger inner_;
};
// A file rendered at each open and served with direct I/O: its size changes
// all the time (counters), so the kernel must never trim a read to a stale size.
class LiveFile final : public fs::FileNode {
 public:
  using Render = std::function<std::string()>;
  LiveFile(Render render, const Clock& clock) : render_(std::move(render)), clock_(clock) {}
  Result<fs::FileContent> content() const override { return fs::FileContent{render_(), clock_.now()}; }
  Result<std::unique_ptr<fs::OpenFile>> open(const fs::OpenRequest& request) const override {
    if (request.write || request.truncate) return make_error(Errc::kReadOnly, "this file is read-only");
    return std::unique_ptr<fs::OpenFile>(std::make_unique<fs::SnapshotOpenFile>(render_(), true));
  }

 private:
  Render render_;
  const Clock& clock_;
};

}  // namespace

Result<std::unique_ptr<MountService>> MountService::create(config::Config config, const MountOptions& options,
                                                           const Clock& clock, const RemoteFactory& make_remote) {
  std::unique_ptr<MountService> service(new MountService(std::move(config), clock));
  MountService& s = *service;
  s.state_dir_ = options.state_dir;
  auto store = backend::StateStore::open(options.state_dir);
  if (!store.ok()) return store.error();
  s.store_ = std::move(*store);
  auto jobs = backend::JobStore::open(*s.store_, clock);
  if (!jobs.ok()) return jobs.error();
  s.jobs_ = std::move(*jobs);
  std::vector<backend::ProjectEntry> configured;
  for (const auto& p : s.config_.projects) configured.push_back(backend::ProjectEntry{p.name, p.path, true});
  auto projects = backend::ProjectStore::open(*s.store_, clock, std::move(configured));
  if (!projects.ok()) return projects.error();
  s.projects_ = std::move(*projects);

  for (const auto& cluster : s.config_.clusters) {
    std::shared_ptr<backend::Remote> remote =
        std::make_shared<backend::CountingRemote>(make_remote(cluster), cluster.name, s.counters_);
    s.remotes_.emplace(cluster.name, remote);
    auto monitor = std::make_unique<backend::ClusterMonitor>(cluster, remote, clock, s.store_.get());
    monitor->set_listener([raw = &s](const std::string& name) { raw->on_cluster_changed(name); });
    s.monitors_.emplace(cluster.name, std::move(monitor));
    // Only the changed jobs' files: no other listing shows a job's state.
    s.pollers_.emplace(cluster.name, std::make_unique<JobPollLoop>(
                                         cluster, remote, *s.jobs_, clock,
                                         [raw = &s](const std::vector<std::string>& ids) {
                                           raw->invalidate_jobs(ids);
                                           for (auto& [name, follower] : raw->followers_) follower->jobs_changed();
                                         }));
  }
  std::map<std::string, JobLogs::Cluster> log_clusters;
  for (const auto& cluster : s.config_.clusters) {
    // Sessions of their own for big log fetches, counted like the main one;
    // they connect on first use.
    std::vector<std::shared_ptr<backend::Remote>> bulk;
    for (int i = 0; i < kLogFetchSessions; ++i) {
      bulk.push_back(std::make_shared<backend::CountingRemote>(make_remote(cluster), cluster.name, s.counters_));
    }
    log_clusters.emplace(cluster.name, JobLogs::Cluster{cluster, s.remotes_[cluster.name], std::move(bulk)});
  }
  s.job_logs_ = std::make_unique<JobLogs>(options.state_dir + "/logs", std::move(log_clusters), [raw = &s](const std::string& name) {
    auto* monitor = raw->monitor(name);
    return monitor == nullptr || monitor->health().state != backend::Health::kDown;
  });
  for (const auto& cluster : s.config_.clusters) {
    s.followers_.emplace(
        cluster.name,
        std::make_unique<LogFollower>(
            cluster.name, *s.job_logs_,
            [raw = &s](const std::string& id) -> std::optional<backend::JobRecord> {
              auto summary = raw->jobs_->summary(id);  // no texts needed: no disk read
              if (!summary) return std::nullopt;
              return summary->record;
            },
            [raw = &s] { return raw->jobs_->summaries(/*include_archived=*/true); }, clock,
            [raw = &s](const std::string& id, bool files_changed) { raw->invalidate_job_log(id, files_changed); },
            std::chrono::duration_cast<std::chrono::milliseconds>(cluster.command_timeout)));
  }
  s.launches_ = std::make_unique<LaunchService>(s.config_, *s.projects_, *s.jobs_, s.remotes_,
                                                options.state_dir + "/dropzone", options.sbatch_template);

  std::map<std::string, JobControl::Cluster> controlled;
  for (const auto& cluster : s.config_.clusters) {
    controlled.emplace(cluster.name, JobControl::Cluster{cluster, s.remotes_.at(cluster.name),
                                                         s.pollers_.at(cluster.name).get()});
  }
  s.control_ = std::make_unique<JobControl>(
      *s.jobs_, clock, std::move(controlled),
      [raw = &s](const std::string& id, bool moved) { raw->invalidate_controlled(id, moved); });

  fs::TreeOptions tree{s.config_.path, options.state_dir, clock.now(), {}};
  tree.more.emplace_back("projects", fs::make_projects_dir(s, tree.mounted_at));
  tree.more.emplace_back(
      "jobs", fs::make_jobs_shelf(s, *s.control_, tree.mounted_at));
  tree.more.emplace_back("archive", fs::make_archive_shelf(s, *s.control_, tree.mounted_at));
  tree.more.emplace_back(
      ".mmcfs", std::make_shared<fs::StaticDir>(
                    std::vector<fs::DirNode::Child>{
                        {"stats", std::make_shared<LiveFile>([raw = &s] { return raw->stats_text(); }, clock)}},
                    tree.mounted_at));
  s.ns_ = std::make_unique<fs::Namespace>(fs::build_tree(s, clock, std::move(tree)));
  return service;
}

MountService::~MountService() { stop(); }

void MountService::set_invalidator(Invalidator invalidator, EntryInvalidator entries) {
  invalidator_ = std::move(invalidator);
  entry_invalidator_ = std::move(entries);
}

void MountService::start() {
  if (!jobs_->in_state(backend::job_state::kSubmitting).empty()) {
    int confirmed = launches_->reconcile("");
    log::info("reconciled {} launch(es) left in doubt by an earlier run", confirmed);
  }
  started_at_.store(std::chrono::steady_clock::now().time_since_epoch().count());
  for (auto& [name, monitor] : monitors_) monitor->start();
  for (auto& [name, poller] : pollers_) poller->start();
  for (auto& [name, follower] : followers_) follower->start();
  followers_started_ = true;
}

void MountService::stop() {
  for (auto& [name, follower] : followers_) follower->stop();
  if (followers_started_.exchange(false)) {
    auto stats = job_logs_->stats();
    log::info("job logs: {} ranged reads, {} bytes fetched from the clusters in this run", stats.remote_reads,
              stats.bytes_fetched);
  }
  for (auto& [name, poller] : pollers_) poller->stop();
  for (auto& [name, monitor] : monitors_) monitor->stop();
}

std::string MountService::stats_text() const {
  StatsInput in;
  in.commands = counters_->commands();
  in.read_bytes = counters_->read_bytes();
  for (const auto& [name, poller] : pollers_) in.polls[name] = poller->loop_stats();
  for (const auto& summary : jobs_->summaries(/*include_archived=*/true)) {
    const backend::JobRecord& job = summary->record;
    ++in.jobs_by_state[job.state];
    if (job.archived) ++in.jobs_archived;
  }
  return render_stats(in);
}

JobPollLoop* MountService::job_poller(const std::string& cluster) {
  auto it = pollers_.find(cluster);
  return it == pollers_.end() ? nullptr : it->second.get();
}

void MountService::invalidate_paths(const std::vector<std::string>& paths) {
  if (!invalidator_ || !ns_) return;
  for (const auto& path : paths) {
    for (fs::InodeId ino : ns_->known_inodes_under(path)) invalidator_(ino);
  }
}

void MountService::invalidate_jobs(const std::vector<std::string>& job_ids) {
  if (!invalidator_ || !ns_) return;
  for (const auto& id : job_ids) {
    for (fs::InodeId ino : ns_->known_inodes_under("jobs/" + id)) invalidator_(ino);
  }
}

void MountService::invalidate_controlled(const std::string& job_id, bool moved) {
  if (!invalidator_ || !ns_) return;
  if (!moved) {
    // ctl keeps long attribute lifetimes (it is read with direct I/O); its
    // size and mtime change with each outcome.
    for (const char* shelf : {"jobs/", "archive/"}) {
      if (auto ino = ns_->known_inode(shelf + job_id + "/ctl")) invalidator_(*ino);
    }
    return;
  }
  // The listings it left and joined, and the job's own files on both
  // shelves (not every inode under jobs/: 100,000 with 10,000 jobs).
  auto job = jobs_->summary(job_id);
  const std::string project_jobs = job ? "projects/" + job->record.project + "/jobs" : "";
  for (const std::string& listing : {std::string("jobs"), std::string("archive"), project_jobs}) {
    if (listing.empty()) continue;
    if (auto ino = ns_->known_inode(listing)) invalidator_(*ino);
  }
  invalidate_paths({"jobs/" + job_id, "archive/" + job_id});
  // The project's link to the job left (or rejoined) projects/<p>/jobs/, and
  // the kernel keeps a link's name for its long lifetime.
  if (!job || !entry_invalidator_) return;
  if (auto dir = ns_->known_inode(project_jobs)) entry_invalidator_(*dir, job_id);
}

std::vector<std::string> MountService::active_job_ids(const std::string& cluster) const {
  std::vector<std::string> ids;
  for (const auto& summary : jobs_->summaries()) {
    const backend::JobRecord& job = summary->record;
    if (job.cluster == cluster && !backend::job_state::is_final(job.state)) ids.push_back(job.id);
  }
  return ids;
}

std::string MountService::status_note(const backend::JobRecord& job) const {
  // A final job's state never goes stale (job_staleness_note says nothing
  // for it): spare every open of its status the clusters' health.
  if (backend::job_state::is_final(job.state)) return "";
  auto loop = pollers_.find(job.cluster);
  auto monitor = monitors_.find(job.cluster);
  if (loop == pollers_.end() || monitor == monitors_.end()) return "";
  auto outage = cluster_outage(loop->second->health(), monitor->second->health());
  return job_staleness_note(job, outage, clock_.now());
}

LogFollower* MountService::log_follower(const std::string& cluster) {
  auto it = followers_.find(cluster);
  return it == followers_.end() ? nullptr : it->second.get();
}

void MountService::invalidate_job_log(const std::string& job_id, bool files_changed) {
  if (!invalidator_ || !ns_) return;
  // A log that only grew needs nothing: its attribute lifetime is 0, and the
  // kernel drops the file's pages itself when it sees the new size, so the
  // pages of a log nobody rewrote stay for the next reader (keep_cache). A
  // rewrite at the same size is the one change it cannot see.
  std::vector<std::string> names;
  if (files_changed || job_logs_->log_view(job_id).rewritten) names.push_back("log");
  if (files_changed) names.insert(names.end(), {"links", "info.json"});
  for (const auto& name : names) {
    if (auto ino = ns_->known_inode("jobs/" + job_id + "/" + name)) invalidator_(*ino);
  }
}

backend::ClusterMonitor* MountService::monitor(const std::string& cluster) {
  auto it = monitors_.find(cluster);
  return it == monitors_.end() ? nullptr : it->second.get();
}

backend::ClusterSnapshot MountService::snapshot(const std::string& cluster) const {
  auto it = monitors_.find(cluster);
  if (it == monitors_.end()) return {};
  // Only a fresh start with nothing saved waits, and only for the first check.
  const auto& monitor = *it->second;
  auto snap = monitor.snapshot();
  auto started = started_at_.load();
  if (snap.health.state != backend::Health::kChecking || snap.inventory || started == 0) return snap;
  using Steady = std::chrono::steady_clock;
  auto deadline = Steady::time_point(Steady::duration(started)) + monitor.config().connect_timeout +
                  std::chrono::seconds(2);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
  return left.count() > 0 ? monitor.wait_first_check(left) : snap;
}

void MountService::on_cluster_changed(const std::string& cluster) {
  // A cluster that answers again may finish launches left in doubt.
  auto it = monitors_.find(cluster);
  if (it != monitors_.end() && it->second->health().state == backend::Health::kUp) {
    for (const auto& job : jobs_->in_state(backend::job_state::kSubmitting)) {
      if (job.cluster == cluster) {
        launches_->reconcile(cluster);
        break;
      }
    }
  }
  invalidate_paths(fs::paths_depending_on_cluster(cluster));
  // Active jobs' status notes say whether their cluster is reachable.
  if (it != monitors_.end()) {
    backend::Health now = it->second->health().state;
    bool flipped;
    {
      std::lock_guard lock(mu_);
      auto [prev, inserted] = last_health_.try_emplace(cluster, now);
      flipped = !inserted && prev->second != now;
      prev->second = now;
    }
    if (flipped) invalidate_jobs(active_job_ids(cluster));
  }
}

Status MountService::add_project(const std::string& name, const std::string& target) {
  if (target.empty() || target.front() != '/') {
    return make_error(Errc::kInvalidArgument, "link to the repository by its absolute path: ln -s /path/to/repo "
                                              "projects/" + name + " (got '" + target + "')");
  }
  auto repo = project::inspect_repo(target);
  if (!repo.ok()) return repo.error();
  std::error_code ec;
  std::string canonical = std::filesystem::weakly_canonical(target, ec).string();
  if (auto s = projects_->add(name, ec ? target : canonical); !s.ok()) return s;
  log::info("project {} added: {}", name, repo->path);
  return Status::Ok();
}

Status MountService::remove_project(const std::string& name) {
  if (auto s = projects_->remove(name); !s.ok()) return s;
  std::lock_guard lock(mu_);
  drop_zones_.erase(name);
  triggers_.erase(name);
  log::info("project {} removed (its repository and jobs are untouched)", name);
  return Status::Ok();
}

std::string MountService::launch_template(const std::string& project) const {
  return launches_->launch_template(project);
}

std::string MountService::launch_template(const std::string& project, const std::string& config_name) const {
  return launches_->launch_template(project, config_name);
}

std::vector<backend::JobSummaryRef> MountService::project_jobs(const std::string& project) const {
  return jobs_->project_summaries(project);
}

Result<std::shared_ptr<fs::DropZoneDir>> MountService::drop_zone(const std::string& project) {
  std::lock_guard lock(mu_);
  if (auto it = drop_zones_.find(project); it != drop_zones_.end()) return it->second;
  auto trigger = std::make_shared<PollingLaunchTrigger>(*this, project);
  auto zone = fs::DropZoneDir::open(launches_->dropzone_dir(project), trigger);
  if (!zone.ok()) return zone.error();
  triggers_[project] = trigger;
  drop_zones_[project] = *zone;
  return *zone;
}

}  // namespace mmcfs::app
