// job_logs.h — job logs for the mount: the local LogCache (<state>/logs), the
// tracker links found in them, which logs readers hold open, and which logs
// changed since the follower last looked.
//
// It is the jobs tree's JobLogSource. Reads, sizes and links come from local
// state only. The network is reached by refresh() (the LogFollower's
// background refreshes) and by refresh_for_open() (bounded: 2 s for a job
// that may still write, the cluster's command timeout for the one fetch of a
// finished job's whole log, or of a running job's backlog once its bytes are
// arriving, so a first `cat` of a long log returns all of it; skipped while
// the cluster's monitor says it is down). A big backlog is fetched over the
// cluster's bulk sessions in parallel (LogCache). Logs whose size changed are
// remembered as dirty so the follower can scan them for links and drop the
// kernel's caches of their files from its own thread (never from inside a
// FUSE request).
//
// Thread rules: every method is safe from any thread. mu_ guards the reader
// counts and the dirty set, never held while calling the cache or a remote.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "backend/job_store.h"
#include "backend/log_cache.h"
#include "backend/remote.h"
#include "backend/tracker_link_index.h"
#include "config/cluster_config.h"
#include "fs/job_log_file.h"

namespace mmcfs::app {

// How long an open of a log that may still grow waits for the cluster's
// answer. Once bytes arrive, the open goes on until it has all the log had
// (up to the cluster's command timeout).
inline constexpr std::chrono::milliseconds kOpenRefreshBound{2000};
// How many extra sessions per cluster share a big log backlog (see Cluster::bulk).
inline constexpr int kLogFetchSessions = 2;

class JobLogs final : public fs::JobLogSource {
 public:
  struct Cluster {
    config::ClusterConfig config;
    std::shared_ptr<backend::Remote> remote;
    // Extra sessions that share a big backlog (LogCache::refresh's `bulk`);
    // may be empty. They serve nothing else, so a long fetch leaves `remote`
    // to the poller and launches for all but its first and last chunk.
    std::vector<std::shared_ptr<backend::Remote>> bulk;
  };
  // True unless the cluster is known to be down (opens then skip the network).
  using ClusterReachable = std::function<bool(const std::string& cluster)>;

  JobLogs(std::string dir, std::map<std::string, Cluster> clusters, ClusterReachable reachable);

  // fs::JobLogSource
  fs::LogView log_view(const std::string& job_id) const override;
  Result<std::string> read_log(const std::string& job_id, std::uint64_t offset, std::size_t n) const override;
  std::vector<backend::TrackerLink> tracker_links(const std::string& job_id) const override;
  void refresh_for_open(const backend::JobRecord& job) override;
  void hold(const std::string& job_id) override;
  void release(const std::string& job_id) override;

  // Fetches the job's new log bytes within `bound`, or `backlog_bound` while
  // a backlog is arriving (LogCache::refresh); a change of size marks the log
  // dirty. kNotFound also for an unknown cluster.
  Result<backend::LogState> refresh(const backend::JobRecord& job, std::chrono::milliseconds bound,
                                    std::chrono::milliseconds backlog_bound = std::chrono::milliseconds(0));
  // Scans the log's new bytes for tracker links (local); true if they changed.
  Result<bool> update_links(const std::string& job_id);

  // The log has bytes not yet scanned for links.
  bool links_behind(const std::string& job_id) const { return links_.scanned(job_id) < cache_.size(job_id); }

  // Ids of logs held open by readers.
  std::vector<std::string> held() const;
  // Takes the logs of `cluster`'s jobs that changed since the last call.
  std::set<std::string> take_dirty(const std::string& cluster);
  void mark_dirty(const backend::JobRecord& job);

  bool complete(const std::string& job_id) const { return cache_.complete(job_id); }
  backend::LogCache::Stats stats() const { return cache_.stats(); }

 private:
  const Cluster* cluster_of(const backend::JobRecord& job) const;

  const std::string dir_;
  const std::map<std::string, Cluster> clusters_;
  const ClusterReachable reachable_;
  backend::LogCache cache_;
  backend::TrackerLinkIndex links_;

  mutable std::mutex mu_;
  std::map<std::string, int> readers_;  // GUARDED_BY(mu_): job id -> open handles
  std::map<std::string, std::set<std::string>> dirty_;  // GUARDED_BY(mu_): cluster -> job ids
};

}  // namespace mmcfs::app
