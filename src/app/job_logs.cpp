// job_logs.cpp — the log cache, tracker links and reader registry behind
// jobs/<id>/log and jobs/<id>/links (see job_logs.h).
#include "app/job_logs.h"

#include <utility>

#include "common/log.h"

namespace mmcfs::app {

JobLogs::JobLogs(std::string dir, std::map<std::string, Cluster> clusters, ClusterReachable reachable)
    : dir_(std::move(dir)),
      clusters_(std::move(clusters)),
      reachable_(std::move(reachable)),
      cache_(dir_),
      links_(dir_) {}

const JobLogs::Cluster* JobLogs::cluster_of(const backend::JobRecord& job) const {
  auto it = clusters_.find(job.cluster);
  return it == clusters_.end() ? nullptr : &it->second;
}

fs::LogView JobLogs::log_view(const std::string& job_id) const {
  const backend::LogCache::LocalLog local = cache_.local(job_id);
  return fs::LogView{local.size, local.complete, local.modified, local.rewritten};
}

Result<std::string> JobLogs::read_log(const std::string& job_id, std::uint64_t offset, std::size_t n) const {
  return cache_.read(job_id, offset, n);
}

std::vector<backend::TrackerLink> JobLogs::tracker_links(const std::string& job_id) const {
  return links_.links(job_id);
}

Result<backend::LogState> JobLogs::refresh(const backend::JobRecord& job, std::chrono::milliseconds bound,
                                           std::chrono::milliseconds backlog_bound) {
  const Cluster* cluster = cluster_of(job);
  if (cluster == nullptr) return make_error(Errc::kNotFound, "job " + job.id + ": no cluster " + job.cluster);
  const std::uint64_t before = cache_.size(job.id);
  const bool was_complete = cache_.complete(job.id);
  std::vector<backend::Remote*> bulk;
  for (const auto& remote : cluster->bulk) bulk.push_back(remote.get());
  auto state = cache_.refresh(*cluster->remote, job, cluster->config, bound, backlog_bound, bulk);
  const std::uint64_t after = cache_.size(job.id);
  if (after != before || cache_.complete(job.id) != was_complete) mark_dirty(job);
  return state;
}

void JobLogs::refresh_for_open(const backend::JobRecord& job) {
  const Cluster* cluster = cluster_of(job);
  if (cluster == nullptr || job.slurm_id.empty()) return;  // no log yet
  if (reachable_ && !reachable_(job.cluster)) return;    // known down: serve what is here
  const bool final = backend::job_state::is_final(job.state);
  const auto whole = std::chrono::duration_cast<std::chrono::milliseconds>(cluster->config.command_timeout);
  auto state = refresh(job, final ? whole : kOpenRefreshBound, whole);
  if (!state.ok() && state.error().code != Errc::kNotFound) {
    log::debug("{}: log not refreshed on open: {}", job.id, state.error().describe());
  }
}

Result<bool> JobLogs::update_links(const std::string& job_id) {
  return links_.update(job_id, cache_.size(job_id), cache_.complete(job_id),
                       [&](std::uint64_t offset, std::size_t n) { return cache_.read(job_id, offset, n); });
}

void JobLogs::hold(const std::string& job_id) {
  std::lock_guard lock(mu_);
  ++readers_[job_id];
}

void JobLogs::release(const std::string& job_id) {
  std::lock_guard lock(mu_);
  auto it = readers_.find(job_id);
  if (it != readers_.end() && --it->second <= 0) readers_.erase(it);
}

std::vector<std::string> JobLogs::held() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, count] : readers_) out.push_back(id);
  return out;
}

std::set<std::string> JobLogs::take_dirty(const std::string& cluster) {
  std::lock_guard lock(mu_);
  auto it = dirty_.find(cluster);
  if (it == dirty_.end()) return {};
  std::set<std::string> out = std::move(it->second);
  dirty_.erase(it);
  return out;
}

void JobLogs::mark_dirty(const backend::JobRecord& job) {
  std::lock_guard lock(mu_);
  dirty_[job.cluster].insert(job.id);
}

}  // namespace mmcfs::app
