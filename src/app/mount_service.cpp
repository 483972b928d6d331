// mount_service.cpp — building and running the parts of a mount.
#include "app/mount_service.h"

#include <filesystem>

#include "common/log.h"
#include "launch/sbatch_script.h"
#include "project/git_repo.h"

namespace mmcfs::app {
namespace {
constexpr std::chrono::seconds kLogFetchBound{10};

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
    auto remote = make_remote(cluster);
    s.remotes_.emplace(cluster.name, remote);
    auto monitor = std::make_unique<backend::ClusterMonitor>(cluster, remote, clock, s.store_.get());
    monitor->set_listener([raw = &s](const std::string& name) { raw->on_cluster_changed(name); });
    s.monitors_.emplace(cluster.name, std::move(monitor));
    s.pollers_.emplace(cluster.name, std::make_unique<JobPollLoop>(cluster, remote, *s.jobs_, clock, [raw = &s] {
                         raw->invalidate_paths({"jobs", "projects"});
                       }));
  }
  s.launches_ = std::make_unique<LaunchService>(s.config_, *s.projects_, *s.jobs_, s.remotes_,
                                                options.state_dir + "/dropzone", options.sbatch_template);

  fs::TreeOptions tree{s.config_.path, options.state_dir, clock.now(), {}};
  tree.more.emplace_back("projects", fs::make_projects_dir(s, tree.mounted_at));
  tree.more.emplace_back("jobs", fs::make_jobs_dir(s, tree.mounted_at));
  s.ns_ = std::make_unique<fs::Namespace>(fs::build_tree(s, clock, std::move(tree)));
  return service;
}

MountService::~MountService() { stop(); }

void MountService::set_invalidator(Invalidator invalidator) { invalidator_ = std::move(invalidator); }

void MountService::start() {
  if (!jobs_->in_state(backend::job_state::kSubmitting).empty()) {
    int confirmed = launches_->reconcile("");
    log::info("reconciled {} launch(es) left in doubt by an earlier run", confirmed);
  }
  started_at_.store(std::chrono::steady_clock::now().time_since_epoch().count());
  for (auto& [name, monitor] : monitors_) monitor->start();
  for (auto& [name, poller] : pollers_) poller->start();
}

void MountService::stop() {
  for (auto& [name, poller] : pollers_) poller->stop();
  for (auto& [name, monitor] : monitors_) monitor->stop();
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
  if (it != monitors_.end() && it->second->snapshot().health.state == backend::Health::kUp) {
    for (const auto& job : jobs_->in_state(backend::job_state::kSubmitting)) {
      if (job.cluster == cluster) {
        launches_->reconcile(cluster);
        break;
      }
    }
  }
  invalidate_paths(fs::paths_depending_on_cluster(cluster));
}

Result<std::string> MountService::fetch_log(const backend::JobRecord& job) {
  auto cached = [&]() {
    std::lock_guard lock(mu_);
    auto it = logs_.find(job.id);
    return it == logs_.end() ? std::string() : it->second;
  };
  const config::ClusterConfig* cluster = config_.find(job.cluster);
  auto remote = remotes_.find(job.cluster);
  if (job.slurm_id.empty() || cluster == nullptr || remote == remotes_.end()) return cached();
  std::string path = launch::job_dir(cluster->workspace, job.token) + "/slurm-" + job.slurm_id + ".out";
  std::vector<std::string> argv = {"cat", "--", path};
  if (path.rfind("~/", 0) == 0) argv = {"sh", "-c", "cd && exec cat -- \"$1\"", "sh", path.substr(2)};
  auto bound = std::min<std::chrono::milliseconds>(cluster->command_timeout, kLogFetchBound);
  auto result = remote->second->run(argv, bound);
  if (!result.ok()) {
    log::debug("{}: log not fetched: {}", job.id, result.error().message);
    return cached();
  }
  if (result->exit_code != 0) return cached();  // not written yet (pending)
  std::lock_guard lock(mu_);
  logs_[job.id] = result->out;
  return result->out;
}

std::uint64_t MountService::cached_log_size(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = logs_.find(id);
  return it == logs_.end() ? 0 : it->second.size();
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
