// log_follower.h — the background thread that keeps one cluster's job logs
// fresh, so `tail -f jobs/<id>/log` follows a running job.
//
// Every 0.5 s (kFollowInterval: with tail's own 1 s polling of a FUSE file,
// a new line shows within about 1.5 s) one tick:
//   1. refreshes (ranged reads of the new bytes only) every log of this
//      cluster that a reader holds open and that is not complete, and every
//      finished job's log that is not complete yet (found at start and after
//      each job poll that changed states: jobs_changed()), which fetches its
//      end once more and marks it complete (LogCache) — after that it is never
//      fetched again, across restarts too;
//   2. for every log that changed (here or on an open), scans the new bytes
//      for tracker links and calls `invalidate(job_id, files_changed)` so the
//      kernel drops what it cached of the files that need it (MountService:
//      the log only when it was rewritten or its completeness changed, since
//      a log that only grew is dropped by the kernel itself; links and
//      info.json when the links or completeness changed). That call happens
//      on this thread, never inside a FUSE request.
// A failing cluster is retried with backoff (1 s, 2 s, 4 s ... 30 s) measured
// on the injected clock; a finished job that never wrote a log (cancelled
// while pending) is tried once per run.
//
// Thread rules: start()/stop() from the owner; jobs_changed() from any
// thread; tick() runs on the follower thread (or a test's). No lock is held
// while a remote is called or `invalidate` runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "app/job_logs.h"
#include "backend/job_store.h"
#include "common/clock.h"

namespace mmcfs::app {

inline constexpr std::chrono::milliseconds kFollowInterval{500};
inline constexpr std::chrono::milliseconds kFollowMaxBackoff{30'000};

class LogFollower {
 public:
  using GetJob = std::function<std::optional<backend::JobRecord>(const std::string& id)>;
  using ListJobs = std::function<std::vector<backend::JobRecord>()>;
  using Invalidate = std::function<void(const std::string& job_id, bool files_changed)>;

  // `bound` limits each refresh (the cluster's command timeout in production).
  LogFollower(std::string cluster, JobLogs& logs, GetJob get_job, ListJobs list_jobs, const Clock& clock,
              Invalidate invalidate, std::chrono::milliseconds bound);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  void start();
  void stop();
  // Job states changed: look again for finished jobs whose log is not complete.
  void jobs_changed();

  struct TickStats {
    int refreshed = 0;     // logs asked for new bytes
    int failed = 0;        // refreshes that failed (other than "no log yet")
    int invalidated = 0;   // logs whose kernel caches were dropped
    bool backing_off = false;  // the cluster failed recently: no refresh this tick
  };
  // One round (the thread calls it every kFollowInterval; tests call it).
  TickStats tick();
  // Finished jobs whose log still has to be completed.
  std::set<std::string> pending_final() const;

 private:
  void run();
  void rescan_jobs();  // follower thread only

  const std::string cluster_;
  JobLogs& logs_;
  const GetJob get_job_;
  const ListJobs list_jobs_;
  const Clock& clock_;
  const Invalidate invalidate_;
  const std::chrono::milliseconds bound_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;             // GUARDED_BY(mu_)
  bool rescan_ = true;                // GUARDED_BY(mu_)
  bool woken_ = false;                // GUARDED_BY(mu_)
  std::set<std::string> pending_;     // GUARDED_BY(mu_): finished, log not complete
  std::set<std::string> absent_;      // GUARDED_BY(mu_): finished without a log file
  int failures_ = 0;                  // tick() only
  WallTime retry_at_{};               // tick() only
  std::thread thread_;
};

}  // namespace mmcfs::app
