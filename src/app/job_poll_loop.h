// job_poll_loop.h — the background thread that keeps one cluster's job
// states fresh: every job_poll_seconds (30 s by default), while the cluster
// has active jobs, one JobPoller cycle (a bounded, constant number of remote
// commands however many jobs there are), then a notification so the
// filesystem drops cached status files. poll_now() (echo refresh > ctl, a
// launch) wakes it early. A cluster that does not answer is retried with the
// monitor's backoff and never delays other clusters (each has its own loop).
//
// Thread rules: start()/stop() from the owner; poll_now() and stats() from any
// thread. The remote is called with no lock held.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "backend/job_poller.h"
#include "backend/remote.h"
#include "config/cluster_config.h"

namespace mmcfs::app {

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
  // One cycle on the calling thread (tests; the loop).
  backend::PollStats poll_once();
  backend::PollStats last_stats() const;

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
  int failures_ = 0;           // poll thread only
  std::thread thread_;
};

}  // namespace mmcfs::app
