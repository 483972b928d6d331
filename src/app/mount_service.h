// mount_service.h — the composition root: config, state store, one Remote and
// one ClusterMonitor per cluster, and the Namespace built over them.
//
// It implements fs::ClusterStateSource for the tree and tells the FUSE layer
// (through the invalidator) which inodes to drop from kernel caches when a
// monitor publishes a new snapshot. It knows nothing of FUSE itself, so the
// whole service runs in unit tests with fake remotes.
//
// Thread rules: create() and start()/stop() from the main thread; snapshot()
// and the Namespace from any thread. The invalidator is called on monitor
// threads with no lock held.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backend/cluster_monitor.h"
#include "backend/remote.h"
#include "backend/state_store.h"
#include "common/clock.h"
#include "config/cluster_config.h"
#include "fs/mmcfs_tree.h"
#include "fs/namespace.h"

namespace mmcfs::app {

using RemoteFactory = std::function<std::shared_ptr<backend::Remote>(const config::ClusterConfig&)>;
using Invalidator = std::function<void(fs::InodeId)>;

class MountService final : public fs::ClusterStateSource {
 public:
  static Result<std::unique_ptr<MountService>> create(config::Config config, const std::string& state_dir,
                                                      const Clock& clock, const RemoteFactory& make_remote);
  ~MountService() override;

  void set_invalidator(Invalidator invalidator);  // before start()
  // Starts the monitors. Until each cluster's first check ends (bounded by
  // its connect timeout + 2 s from here) reads of its files wait for it,
  // unless figures saved by an earlier run exist.
  void start();
  void stop();

  fs::Namespace& ns() { return *ns_; }
  backend::ClusterMonitor* monitor(const std::string& cluster);

  const std::vector<config::ClusterConfig>& clusters() const override { return config_.clusters; }
  backend::ClusterSnapshot snapshot(const std::string& cluster) const override;

 private:
  MountService(config::Config config, const Clock& clock) : config_(std::move(config)), clock_(clock) {}
  void on_cluster_changed(const std::string& cluster);

  const config::Config config_;
  const Clock& clock_;
  // Reads wait for a cluster's first check only until this steady-clock time
  // (start() + that cluster's connect timeout + 2 s); zero before start().
  std::atomic<std::chrono::steady_clock::rep> started_at_{0};
  std::unique_ptr<backend::StateStore> store_;
  std::map<std::string, std::unique_ptr<backend::ClusterMonitor>> monitors_;
  std::unique_ptr<fs::Namespace> ns_;
  Invalidator invalidator_;
};

}  // namespace mmcfs::app
