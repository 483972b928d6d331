// cluster_snapshot.cpp — turning persisted/fetched raw text into an inventory.
#include "backend/cluster_snapshot.h"

#include "backend/slurm_parsers.h"

namespace mmcfs::backend {

Result<ClusterInventory> parse_inventory(const RawInventory& raw) {
  ClusterInventory inv;
  inv.fetched_at = raw.fetched_at;
  auto version = parse_slurm_version(raw.version);
  if (!version.ok()) return version.error();
  inv.slurm_version = *version;
  auto nodes = parse_scontrol_nodes(raw.nodes);
  if (!nodes.ok()) return nodes.error();
  inv.nodes = std::move(*nodes);
  auto partitions = parse_scontrol_partitions(raw.partitions);
  if (!partitions.ok()) return partitions.error();
  inv.partitions = std::move(*partitions);
  auto pending = parse_squeue_pending(raw.pending);
  if (!pending.ok()) return pending.error();
  inv.pending = std::move(*pending);
  return inv;
}

}  // namespace mmcfs::backend
