// job_poll_loop.h — the background thread that keeps one cluster's job
// states fresh: every job_poll_seconds (30 s by default), while the cluster
// has active jobs, one JobPoller cycle (a bounded, constant number of remote
// commands however many jobs there are), then a notification naming the
// jobs whose records changed, so the filesystem drops exactly their cached
// files. poll_now() (echo refresh > ctl, a launch) wakes it early.
//
// A cluster that does not answer is retried with backoff (next_delay()) and
// never delays other clusters: each cluster has its own loop and thread.
// While cycles fail, health() says since when (on the injected clock) and
// why, so status files can say how old their state is.
//
// Thread rules: start()/stop() from the owner; poll_now(), poll_now_and_wait(),
// last_stats(), loop_stats() and health() from any thread. The remote is
// called with no lock held; the listener runs on the loop's thread (or
// poll_once()'s caller) with no lock held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backend/job_poller.h"
#include "backend/remote.h"
#include "config/cluster_config.h"

namespace mmcfs::app {

// Whether the last poll cycles of a cluster reached SLURM.
struct PollHealth {
  std::optional<WallTime> failing_since;  // first failed cycle of the current run of failures
  std::string error;                      // the last failure ("" while cycles succeed)
  std::optional<WallTime> last_success;   // end of the last cycle that reached SLURM
};

// The loop's running totals, for .mmcfs/stats. Durations are wall time on
// the steady clock (what a cycle cost, not a TTL).
struct PollLoopStats {
  backend::PollStats last;
  std::uint64_t cycles = 0;
  std::chrono::milliseconds last_duration{0};
  std::chrono::milliseconds total_duration{0};
};

class JobPollLoop {
 public:
  // Called with the ids of the jobs whose records a cycle changed, and, when
  // cycles start or stop failing, of every active job of the cluster (their
  // status files say whether the cluster is reachable).
  using Listener = std::function<void(const std::vector<std::string>& changed_ids)>;

  JobPollLoop(config::ClusterConfig cluster, std::shared_ptr<backend::Remote> remote, backend::JobStore& jobs,
              const Clock& clock, Listener on_change);
  ~JobPollLoop();
  JobPollLoop(const JobPollLoop&) = delete;
  JobPollLoop& operator=(const JobPollLoop&) = delete;

  void start();
  void stop();
  void poll_now();
  // Wakes the loop and waits until a cycle that began after this call has
  // ended, at most `max_wait`. Returns that cycle's stats, or nullopt if it
  // did not end in time (or the loop is not running).
  std::optional<backend::PollStats> poll_now_and_wait(std::chrono::milliseconds max_wait);
  // One cycle on the calling thread (tests; the loop).
  backend::PollStats poll_once();
  backend::PollStats last_stats() const;
  PollHealth health() const;
  const std::string& cluster_name() const { return cluster_.name; }

  // The wait before the next cycle after `failures` consecutive failed
  // cycles: the interval while healthy; 1 s, 2 s, 4 s ... capped at the
  // interval while failing (a dead cluster is retried soon after it comes
  // back, and never more often than once a second).
  static std::chrono::milliseconds next_delay(std::chrono::milliseconds interval, int failures);
  PollLoopStats loop_stats() const;

 private:
  void run();

  const config::ClusterConfig cluster_;
  const std::shared_ptr<backend::Remote> remote_;
  backend::JobStore& jobs_;
  const Clock& clock_;
  backend::JobPoller poller_;
  const Listener on_change_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;      // GUARDED_BY(mu_)
  bool requested_ = false;     // GUARDED_BY(mu_)
  backend::PollStats last_;    // GUARDED_BY(mu_)
  PollHealth health_;          // GUARDED_BY(mu_)
  PollLoopStats totals_;       // GUARDED_BY(mu_)
  std::uint64_t cycles_begun_ = 0;  // GUARDED_BY(mu_)
  bool running_ = false;       // GUARDED_BY(mu_): the thread is looping
  int failures_ = 0;           // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace mmcfs::app
