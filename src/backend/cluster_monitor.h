// cluster_monitor.h — keeps one cluster's health and GPU inventory fresh.
//
// A ClusterMonitor owns one background thread that checks its cluster: every
// gpu_cache_ttl while the cluster is up, and with exponential backoff (1 s,
// 2 s, ... capped at min(ttl, 30 s)) while it is down. A check connects if
// needed, times one cheap command for the round trip, then fetches nodes,
// partitions and pending jobs, and then the user's own queue (one
// `squeue --me`, user_queue.h; its failure does not make the cluster down,
// the last rows stay with the error beside them). Each check ends by publishing a new snapshot
// and calling the listener, so the filesystem can drop kernel caches.
//
// The filesystem reads snapshot(): a shared_ptr copy under a short lock,
// never a network call. Before the first check of a fresh start it may wait
// for it with wait_first_check(), bounded by the caller.
//
// Thread rules: snapshot(), wait_first_check(), refresh_now() are safe from
// any thread. check_once() runs on the monitor thread (or a test's thread);
// it calls the Remote without holding mu_. The listener runs on the monitor
// thread with no lock held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "backend/cluster_snapshot.h"
#include "backend/remote.h"
#include "backend/state_store.h"
#include "common/clock.h"
#include "config/cluster_config.h"

namespace mmcfs::backend {

class ClusterMonitor {
 public:
  using Listener = std::function<void(const std::string& cluster)>;

  // `store` may be null (no persistence). Loads the last persisted inventory.
  ClusterMonitor(config::ClusterConfig config, std::shared_ptr<Remote> remote,
                 const Clock& clock, StateStore* store);
  ~ClusterMonitor();
  ClusterMonitor(const ClusterMonitor&) = delete;
  ClusterMonitor& operator=(const ClusterMonitor&) = delete;

  void set_listener(Listener listener);  // before start()
  void start();
  void stop();          // joins the thread; idempotent
  void refresh_now();   // wakes the thread for an immediate check

  // One full check, synchronously. Returns the published snapshot.
  ClusterSnapshot check_once();

  ClusterSnapshot snapshot() const;
  // snapshot().health without copying the rest (read on every open of an
  // active job's status).
  ClusterHealth health() const;
  ClusterSnapshot wait_first_check(std::chrono::milliseconds max_wait) const;
  const config::ClusterConfig& config() const { return config_; }
  // Delay before the next check after `failures` consecutive failed checks.
  std::chrono::milliseconds next_delay(int failures) const;

 private:
  void run_loop();
  Result<CommandResult> run_checked(const std::vector<std::string>& argv);
  Result<RawInventory> fetch(int* round_trip_ms);
  void publish(ClusterHealth health, std::shared_ptr<const ClusterInventory> inventory,
               std::shared_ptr<const UserQueue> queue);
  // The user's queue after one more `squeue --me` (keeps `last`'s rows on failure).
  std::shared_ptr<const UserQueue> fetch_queue(const std::shared_ptr<const UserQueue>& last);

  const config::ClusterConfig config_;
  const std::shared_ptr<Remote> remote_;
  const Clock& clock_;
  StateStore* const store_;
  Listener listener_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  ClusterSnapshot snapshot_;     // GUARDED_BY(mu_)
  bool checked_once_ = false;    // GUARDED_BY(mu_)
  bool refresh_requested_ = false;  // GUARDED_BY(mu_)
  bool stopping_ = false;        // GUARDED_BY(mu_)
  int failures_ = 0;             // touched by the checking thread only
  std::thread thread_;
};

}  // namespace mmcfs::backend
