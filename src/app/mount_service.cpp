// mount_service.cpp — building and running the parts of a mount.
#include "app/mount_service.h"

namespace mmcfs::app {

Result<std::unique_ptr<MountService>> MountService::create(config::Config config, const std::string& state_dir,
                                                           const Clock& clock, const RemoteFactory& make_remote) {
  std::unique_ptr<MountService> service(new MountService(std::move(config), clock));
  auto store = backend::StateStore::open(state_dir);
  if (!store.ok()) return store.error();
  service->store_ = std::move(*store);
  for (const auto& cluster : service->config_.clusters) {
    auto monitor = std::make_unique<backend::ClusterMonitor>(cluster, make_remote(cluster), clock,
                                                             service->store_.get());
    monitor->set_listener([raw = service.get()](const std::string& name) { raw->on_cluster_changed(name); });
    service->monitors_.emplace(cluster.name, std::move(monitor));
  }
  fs::TreeOptions options{service->config_.path, state_dir, clock.now()};
  service->ns_ = std::make_unique<fs::Namespace>(fs::build_tree(*service, clock, options));
  return service;
}

MountService::~MountService() { stop(); }

void MountService::set_invalidator(Invalidator invalidator) { invalidator_ = std::move(invalidator); }

void MountService::start() {
  started_at_.store(std::chrono::steady_clock::now().time_since_epoch().count());
  for (auto& [name, monitor] : monitors_) monitor->start();
}

void MountService::stop() {
  for (auto& [name, monitor] : monitors_) monitor->stop();
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
  if (!invalidator_ || !ns_) return;
  for (const auto& path : fs::paths_depending_on_cluster(cluster)) {
    for (fs::InodeId ino : ns_->known_inodes_under(path)) invalidator_(ino);
  }
}

}  // namespace mmcfs::app
