// mmcfs_tree.h — the shape of the mount, built from Nodes:
//
//   README                       what this mount is and how to use it
//   clusters/<name>/status       health (see cluster_views.h for formats)
//   clusters/<name>/config.yaml  the cluster's entry as loaded
//   clusters/<name>/partitions   allowed partitions
//   clusters/<name>/gpus         GPU table
//   clusters/<name>/gpus.json    the same as JSON
//   clusters/<name>/queue        the user's whole queue (queue_view.h)
//   gpus/<TYPE>                  that GPU type on every cluster
//
// Every file renders from a ClusterStateSource; nothing here touches the
// network.
//
// Thread rules: the nodes are safe to call from any thread as long as the
// source is.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/cluster_snapshot.h"
#include "common/clock.h"
#include "config/cluster_config.h"
#include "fs/node.h"

namespace mmcfs::fs {

// Where the tree gets cluster state from (in production: the monitors).
class ClusterStateSource {
 public:
  virtual ~ClusterStateSource() = default;
  virtual const std::vector<config::ClusterConfig>& clusters() const = 0;
  // The latest snapshot. Before a fresh start's first check has finished it
  // may wait for it, for a bounded time; it never calls the network itself.
  virtual backend::ClusterSnapshot snapshot(const std::string& cluster) const = 0;
};

struct TreeOptions {
  std::string config_path;   // shown in README
  std::string state_dir;     // shown in README
  WallTime mounted_at;
  std::vector<DirNode::Child> more;  // further top-level entries (projects/, jobs/)
};

std::shared_ptr<DirNode> build_tree(const ClusterStateSource& source, const Clock& clock, TreeOptions options);

// Paths whose contents depend on a cluster's snapshot (for cache invalidation).
std::vector<std::string> paths_depending_on_cluster(const std::string& cluster);

}  // namespace mmcfs::fs
