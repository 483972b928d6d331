// gpu_inventory.h — per-GPU-type availability of one cluster, as the user sees it.
//
// Pure function from parsed SLURM values (slurm_parsers.h) and the cluster's
// configuration to one row per GPU type:
//   - Only nodes in at least one allowed partition count
//     (ClusterConfig::partition_allowed; an empty list allows all).
//   - Only allowed GPU types are shown, under the configured spelling
//     (ClusterConfig::allowed_gpu_spelling; an empty list shows every type
//     under SLURM's spelling). Types match without regard to case.
//   - total       = GPUs of the type on counted nodes.
//   - used        = GPUs in use (GresUsed), at most total per node.
//   - free        = total - used on schedulable nodes only: a down, drained,
//                   not-responding... node is never free (SlurmNode::schedulable()).
//   - unavailable = total - used on nodes that are not schedulable.
//     So total == used + free + unavailable.
//   - pending     = GPUs of the type wanted by pending jobs in an allowed
//                   partition (a job pending in "a,b" counts if either is).
//   - An allowed type the cluster has none of is listed with zeros.
//   - Rows sorted by type name (case-insensitive); free_on sorted by node
//     name in natural order (node2 before node10).
// Untyped GPUs ("gpu:2"): on nodes they are shown as type "gpu" when every
// type is allowed, and left out otherwise (they cannot be matched to a
// configured type). Pending untyped requests are not attributed to any type
// (the scheduler may place them on any GPU); count_untyped_pending() gives
// their total so a renderer can show it on a line of its own.
//
// Thread rules: pure functions over their arguments.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "backend/slurm_model.h"
#include "config/cluster_config.h"

namespace mmcfs::backend {

// The row name of untyped GPUs when every type is allowed.
inline constexpr const char* kUntypedGpuName = "gpu";

struct GpuTypeSummary {
  std::string type;        // configured spelling, e.g. "A6000"
  std::string slurm_type;  // SLURM's gres type, e.g. "a6000" ("" for untyped)
  int total = 0;
  int used = 0;
  int free = 0;
  int pending = 0;
  int unavailable = 0;
  std::vector<std::pair<std::string, int>> free_on;  // node, free count; by node
};

std::vector<GpuTypeSummary> summarize_gpus(const std::vector<SlurmNode>& nodes,
                                           const std::vector<PendingGpuRequest>& pending,
                                           const config::ClusterConfig& cluster);

// GPUs wanted by pending jobs in allowed partitions that named no type.
int count_untyped_pending(const std::vector<PendingGpuRequest>& pending,
                          const config::ClusterConfig& cluster);

}  // namespace mmcfs::backend
