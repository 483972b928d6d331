// job_poll_loop.h — the background thread that keeps one cluster's job
// states fresh: every job_poll_seconds (30 s by default), while the cluster
// has active jobs, one JobPoller cycle (a bounded, constant number of remote
// commands however many jobs there are), then a notification so the
// filesystem drops cached status files. poll_now() (echo refresh > ctl, a
// launch) wakes it early. A cluster that does not answer is retried with the
// monitor's backoff and never delays other clusters (each has its own loop).
//
// Thread rules: start()/stop() from the owner; poll_now(), poll_now_and_wait()
// and the stats from any thread. The remote is called with no lock held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <thread>

#include "backend/job_poller.h"
#include "backend/remote.h"
#include "config/cluster_config.h"

namespace mmcfs::app {

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
  JobPollLoop(config::ClusterConfig cluster, std::shared_ptr<backend::Remote> remote, backend::JobStore& jobs,
              const Clock& clock, std::function<void()> on_change);
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
  PollLoopStats loop_stats() const;

 private:
  void run();

  const config::ClusterConfig cluster_;
  const std::shared_ptr<backend::Remote> remote_;
  backend::JobPoller poller_;
  const std::function<void()> on_change_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;      // GUARDED_BY(mu_)
  bool requested_ = false;     // GUARDED_BY(mu_)
  backend::PollStats last_;    // GUARDED_BY(mu_)
  PollLoopStats totals_;       // GUARDED_BY(mu_)
  std::uint64_t cycles_begun_ = 0;  // GUARDED_BY(mu_)
  bool running_ = false;       // GUARDED_BY(mu_): the thread is looping
  int failures_ = 0;           // poll thread only
  std::thread thread_;
};

}  // namespace mmcfs::app
