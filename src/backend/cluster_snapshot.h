// cluster_snapshot.h — what mmcfs currently knows about one cluster.
//
// The ClusterMonitor publishes a new ClusterSnapshot after every check; the
// filesystem renders files from the latest one without touching the network.
// The inventory keeps the last good figures even while the cluster is down,
// so a reader still gets an answer (marked with its age).
//
// Thread rules: immutable values shared by shared_ptr<const ...>.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/slurm_model.h"
#include "backend/user_queue.h"
#include "common/clock.h"
#include "common/result.h"

namespace mmcfs::backend {

enum class Health {
  kChecking,  // no check has finished yet since start
  kUp,        // SSH and SLURM answered at the last check
  kDown,      // the last check failed; `reason` says why
};

struct ClusterHealth {
  Health state = Health::kChecking;
  std::string reason;           // for kDown: one line, what failed
  Errc error = Errc::kInternal; // for kDown: the kind of failure
  int round_trip_ms = 0;        // for kUp: time of one remote command
  std::string slurm_version;    // for kUp
  WallTime checked_at{};        // when the last check finished
  WallTime since{};             // when `state` last changed
};

// The raw text SLURM printed, as fetched and as persisted; parsed on load.
struct RawInventory {
  WallTime fetched_at{};
  std::string version;
  std::string nodes;
  std::string partitions;
  std::string pending;
};

struct ClusterInventory {
  WallTime fetched_at{};
  std::string slurm_version;
  std::vector<SlurmPartition> partitions;
  std::vector<SlurmNode> nodes;
  std::vector<PendingGpuRequest> pending;
};

struct ClusterSnapshot {
  ClusterHealth health;
  std::shared_ptr<const ClusterInventory> inventory;  // null until the first good fetch
  // The user's whole queue (user_queue.h); null until first fetched since
  // mmcfs started (it is not kept across restarts: it says when it was taken).
  std::shared_ptr<const UserQueue> queue;
};

// Parses every part of a raw inventory; the first parser error wins.
Result<ClusterInventory> parse_inventory(const RawInventory& raw);

}  // namespace mmcfs::backend
