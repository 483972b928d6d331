// launch_spec.h — a launch.yaml, parsed and validated.
//
// Field names follow the seeds' job model. parse_launch() checks the YAML,
// unknown keys (suggesting the closest valid name), formats, and the chosen
// cluster's allowed partitions and GPU types; every message names
// file:line:column. Missing fields are filled from LaunchDefaults (the
// project's last-used values, then the cluster's first allowed partition).
// Whether the commit exists and is pushed is checked later by the submitter
// (it needs the repository).
//
// Defaults, field by field, for a key the file leaves out: the project's
// last launch (cluster, partition, gpu_type, num_nodes, gpus_per_node,
// cpus_per_task, memory, time_limit, config_name, params — never name,
// description, commit, overrides or env), then the built-in values below.
// A last-used partition or GPU type is kept only if the chosen cluster
// allows it; otherwise the cluster's first allowed partition is used. With
// no cluster anywhere and exactly one configured, that one is used. A
// missing name becomes config_name, or "run" without one. `groups` are
// inherited with `params` (and only when the file gives neither), from the
// last launch with the same config_name (LaunchDefaults::last_for_config;
// without it, from the last launch if its config_name is the same); an inherited
// `experiment_suffix` param equal to the last launch's description is not
// inherited (it was filled from that description). gpu_type with no
// GPU count means 1 GPU; `gpus_per_node: 0` drops an inherited gpu_type.
// `sweep:` is read like params (nested maps flattened), each leaf a non-empty
// list of values; it is never inherited, and its run count (the product of
// the list lengths) must not exceed the cluster's max_sweep_runs.
// `params` nested maps are flattened to dotted keys; a list value becomes
// Hydra list text such as `[1,2,'a b']` (quoted = false). A top-level
// `mmcfs:` map (what mmcfs records in jobs/<id>/launch.yaml) is ignored, so
// a recorded launch.yaml can be dropped into new/ as it is.
//
// Thread rules: pure functions over their arguments.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "config/cluster_config.h"

namespace mmcfs::hydra {
class ConfSource;  // hydra/conf_source.h
}  // namespace mmcfs::hydra

namespace mmcfs::launch {

struct LaunchSpec {
  std::string name;                 // job name (free text; reaches the job as data)
  std::string description;          // free text
  std::string cluster;              // a configured cluster
  std::string partition;            // an allowed partition of that cluster
  std::string gpu_type;             // configured spelling ("A100"); "" = no GPUs
  int num_nodes = 1;                // 1..64
  int gpus_per_node = 0;            // 0..16; >0 requires gpu_type
  int cpus_per_task = 8;            // 1..256
  std::string memory = "64G";       // SLURM --mem: digits + optional K/M/G/T
  std::string time_limit = "24:00:00";  // HH:MM:SS or D-HH:MM:SS (also MM:SS, D-HH)
  std::string commit;               // "" = the local HEAD at launch; else a SHA or ref
  std::string config_name;          // Hydra --config-name; "" = the default config
  // Hydra group -> option (`model: transformer`, `model/encoder: small`), in
  // file order. After the Hydra checks only choices that differ from the
  // config's default selection remain (no redundant overrides).
  std::vector<std::pair<std::string, std::string>> groups;
  // Hydra key -> value, in file order; values kept as YAML scalars' text with
  // their YAML type so that the command line can be written faithfully.
  struct Param {
    std::string key;
    std::string value;       // the scalar's text ("1e-5", "true", "hello world")
    bool quoted = false;     // it was a quoted YAML string ("1e-5" in quotes)
    bool is_null = false;
    friend bool operator==(const Param&, const Param&) = default;
  };
  std::vector<Param> params;
  // `sweep:` — Hydra key -> the values to try, in file order (launch/sweep.h).
  // Each value is a Param whose key is the axis key. Checked like params;
  // never inherited from the last launch. Empty = one plain job.
  struct SweepAxis {
    std::string key;
    std::vector<Param> values;  // non-empty
    friend bool operator==(const SweepAxis&, const SweepAxis&) = default;
  };
  std::vector<SweepAxis> sweep;
  std::vector<std::string> overrides;  // raw Hydra overrides, applied last
  std::vector<std::pair<std::string, std::string>> env;  // NAME -> value, in file order

  friend bool operator==(const LaunchSpec&, const LaunchSpec&) = default;
};

// The job name used when the file gives none and config_name is empty.
inline constexpr const char* kDefaultJobName = "run";

// What fills fields the file leaves out.
struct LaunchDefaults {
  std::optional<LaunchSpec> last_used;  // the project's previous launch, if any
  // The project's previous launch with a given config_name ("" = default
  // config), if any: params and groups are inherited from it (see above).
  std::function<std::optional<LaunchSpec>(const std::string& config_name)> last_for_config;
};

struct ParseContext {
  std::string file_name;                             // used in messages
  const std::vector<config::ClusterConfig>* clusters;  // configured clusters
  LaunchDefaults defaults;
  // The project's Hydra config directory; nullptr (or a directory that does
  // not exist) = no Hydra checks. See launch_hydra_check.h for the checks.
  const hydra::ConfSource* hydra_conf = nullptr;
};

// Parses and validates. Errors: kInvalidArgument, message lines of the form
// "file:line:column: what is wrong — how to fix it" (all problems, one per line).
Result<LaunchSpec> parse_launch(const std::string& text, const ParseContext& context);

// The spec as a launch.yaml (every field, comments naming the allowed values),
// parseable by parse_launch into an equal spec. `header_comment`, if not
// empty, comes first as `#` lines.
std::string to_launch_yaml(const LaunchSpec& spec, const std::string& header_comment = "");

// Every accepted top-level key, in documentation order; the last is `mmcfs`
// (mmcfs's own record in a job's copy, accepted and ignored).
const std::vector<std::string>& launch_keys();

}  // namespace mmcfs::launch
