// cluster_config.h — the clusters.yaml model and its loader.
//
// The format is the seeds' (name, host as user@host, ssh_key_path, workspace,
// allowed_partitions, allowed_gpu_types, requires_vpn and vpn_*), plus port,
// known_hosts and timing settings. config/clusters.yaml.example documents
// every field. Loading never throws.
//
// Errors: a file that does not validate gives Errc::kInvalidArgument listing
// EVERY problem found, sorted by position, one per line (at most 20, then
// "... and N more problems"), each as
//   path:line:column: what is wrong — how to fix it
// with 1-based line and column, e.g.
//   clusters.yaml:4:5: unknown key 'alowed_partitions' in cluster 'alpha' — did you mean 'allowed_partitions'?
// A missing required key points at its entry's first line. A file that cannot
// be read gives kNotFound (absent), kIsDirectory or kIo, not kInvalidArgument.
//
// Thread rules: plain values; immutable after load.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"

namespace mmcfs::config {

struct VpnConfig {
  bool required = false;
  std::string protocol;   // e.g. "gp" (GlobalProtect), "anyconnect"
  std::string portal;     // e.g. "https://portal.example.edu"
  std::string username;
  std::string gateway;
};

struct ClusterConfig {
  std::string name;                      // [A-Za-z0-9][A-Za-z0-9_.-]*, unique
  std::string user;                      // from host: user@hostname
  std::string hostname;
  int port = 22;
  std::string ssh_key_path;              // private key, ~ expanded, exists; empty: ssh-agent
  std::string known_hosts;               // ~ expanded; default ~/.ssh/known_hosts
  std::string workspace;                 // remote directory for jobs: /abs or ~/ (remote ~, kept)
  std::vector<std::string> allowed_partitions;  // empty: all partitions
  std::vector<std::string> allowed_gpu_types;   // empty: all types; spelling kept
  VpnConfig vpn;
  std::chrono::seconds gpu_cache_ttl{60};
  std::chrono::seconds job_poll_interval{30};  // how often active jobs are polled
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds command_timeout{30};
  // The most runs one launch's `sweep:` may expand to (max_sweep_runs; 1..100000).
  int max_sweep_runs = 256;
  int source_line = 0;                   // 1-based line of the entry in the file

  // The entry as it was loaded, re-serialised as YAML (for clusters/<n>/config.yaml).
  std::string to_yaml() const;
  // True if the partition is allowed (allowed_partitions empty means all).
  bool partition_allowed(const std::string& partition) const;
  // The configured spelling of a GPU type that matches SLURM's gres type
  // without regard to case, or "" if the type is not allowed. With an empty
  // allowed list every type is allowed and SLURM's spelling is returned.
  std::string allowed_gpu_spelling(const std::string& slurm_type) const;
};

// A project from the `projects:` list: a local git repository.
struct ProjectRef {
  std::string name;   // [A-Za-z0-9][A-Za-z0-9_.-]*, unique; becomes projects/<name>/
  std::string path;   // absolute (~ expanded) path of the repository's work tree
};

struct Config {
  std::string path;                      // where it was loaded from
  std::vector<ClusterConfig> clusters;
  std::vector<ProjectRef> projects;      // optional; more can be added from the shell
  const ClusterConfig* find(const std::string& name) const;
};

// Loads and validates a clusters.yaml. `path` is used in messages.
Result<Config> load_config_file(const std::string& path);
// Same, from text (tests; `path` names the origin in messages).
Result<Config> parse_config(const std::string& text, const std::string& path);

// "~/x" -> "$HOME/x" and "~" -> "$HOME" (the passwd entry if HOME is unset);
// other paths, including "~user/x", unchanged.
std::string expand_home(const std::string& path);
// Default config location: ~/.config/mmcfs/clusters.yaml
std::string default_config_path();

}  // namespace mmcfs::config
