// test_clusters.h — how integration tests find the local test clusters: the
// clusters.yaml that $MMCFS_TEST_CLUSTERS points at (printed by
// `tests/cluster/testcluster.sh up`; tests/run.sh exports it). Without the
// variable a test skips with kNoTestClusters as its reason; a variable that
// points at a broken file is a failure.
//
// Thread rules: reads the environment and a file; call from test set-up.
#pragma once

#include <cstdlib>
#include <string>

#include "common/result.h"
#include "config/cluster_config.h"

namespace mmcfs::integration {

inline constexpr const char* kNoTestClusters =
    "MMCFS_TEST_CLUSTERS is unset: start the test clusters with `tests/cluster/testcluster.sh up` and "
    "export MMCFS_TEST_CLUSTERS=<the clusters.yaml path it prints>";

inline bool have_test_clusters() {
  const char* path = std::getenv("MMCFS_TEST_CLUSTERS");
  return path != nullptr && *path != '\0';
}

// The cluster `name` of the test clusters' config (call when have_test_clusters()).
inline Result<config::ClusterConfig> load_test_cluster(const std::string& name) {
  const char* path = std::getenv("MMCFS_TEST_CLUSTERS");
  if (path == nullptr || *path == '\0') return make_error(Errc::kNotFound, kNoTestClusters);
  auto config = config::load_config_file(path);
  if (!config.ok()) return config.error();
  const config::ClusterConfig* cluster = config->find(name);
  if (cluster == nullptr) return make_error(Errc::kNotFound, "no cluster named " + name + " in " + path);
  return *cluster;
}

}  // namespace mmcfs::integration
