// cluster_views.h — the text of clusters/<name>/* and gpus/<TYPE>.
//
// Pure functions from a cluster's configuration and its latest snapshot (and
// the current time, for ages) to file contents. Formats:
//   status      one line: "up: 12 ms round trip, SLURM 22.05.8",
//               "down: <reason>" (plus VPN instructions for requires_vpn
//               clusters), or "checking: ..." before the first check.
//   partitions  table PARTITION STATE NODES TIMELIMIT DEFAULT, allowed only.
//   gpus        table TYPE TOTAL USED FREE PENDING UNAVAILABLE FREE_ON, allowed
//               types only; '#' comment lines first when figures are stale.
//   gpus.json   the same as one JSON object.
//   gpus/<T>    table CLUSTER TOTAL USED FREE PENDING UNAVAILABLE FREE_ON STATUS.
// Figures shown for a cluster that is down are the last good ones, and say
// how old they are.
//
// Thread rules: pure functions.
#pragma once

#include <string>
#include <vector>

#include "backend/cluster_snapshot.h"
#include "common/clock.h"
#include "config/cluster_config.h"

namespace mmcfs::fs {

struct ClusterView {
  const config::ClusterConfig* config;
  backend::ClusterSnapshot snapshot;
};

std::string render_status(const ClusterView& view);
std::string render_partitions(const ClusterView& view, WallTime now);
std::string render_gpus_table(const ClusterView& view, WallTime now);
std::string render_gpus_json(const ClusterView& view);
std::string render_gpu_type(const std::string& type, const std::vector<ClusterView>& views, WallTime now);

// The GPU type names shown under gpus/: every allowed type of every cluster
// plus, for clusters that allow all types, those they have. Names that differ
// only in case are one type (first configured spelling wins). Sorted.
std::vector<std::string> gpu_type_names(const std::vector<ClusterView>& views);

// When a cluster's figures last changed, for mtimes (the start time if never).
WallTime figures_time(const ClusterView& view);
WallTime status_time(const ClusterView& view);

}  // namespace mmcfs::fs
