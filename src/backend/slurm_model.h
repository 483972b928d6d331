// slurm_model.h — plain values describing what SLURM told us.
//
// Produced by the pure parsers in slurm_parsers.h from command output
// captured on a real cluster; consumed by gpu_inventory.h and the renderers.
//
// Thread rules: plain values.
#pragma once

#include <string>
#include <vector>

namespace mmcfs::backend {

// A count of GPUs of one gres type. `type` is SLURM's spelling, lower-cased
// as SLURM prints it ("a100"); empty for untyped "gpu:2".
struct GpuCount {
  std::string type;
  int count = 0;
  bool operator==(const GpuCount&) const = default;
};

struct SlurmNode {
  std::string name;
  std::string state;                    // raw State=, e.g. "IDLE", "MIXED+DRAIN", "DOWN*"
  std::string reason;                   // Reason= (may be empty)
  std::vector<std::string> partitions;  // Partitions=
  std::vector<GpuCount> gpus;           // from Gres=
  std::vector<GpuCount> gpus_used;      // from GresUsed=
  // True when the node can start new jobs: not DOWN, DRAIN(ED/ING), FAIL,
  // NOT_RESPONDING ('*'), MAINT, POWERED_DOWN, REBOOT, FUTURE...
  bool schedulable() const;
};

struct SlurmPartition {
  std::string name;
  std::string state;       // "UP", "DOWN", "DRAIN", "INACTIVE"
  bool is_default = false;
  int total_nodes = 0;
  std::string max_time;    // "UNLIMITED", "1-00:00:00", ...
  std::string nodes;       // node list expression as SLURM prints it
};

// GPUs wanted by one pending job (already multiplied by its node count).
struct PendingGpuRequest {
  std::string partition;
  std::string type;        // "" when the job did not name a type
  int count = 0;
  std::string job_id;      // as squeue prints it ("34", "12_[1-4]")
  std::string reason;      // why it waits ("Resources", "JobHeldUser", ...)
};

}  // namespace mmcfs::backend
