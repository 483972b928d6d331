// launch_spec.cpp — parse_launch: the file's values (launch_file_reader.h)
// completed from the defaults and checked against the configured clusters:
// which cluster, an allowed partition, an allowed GPU type in its configured
// spelling, and a GPU count that agrees with it. The default rules are in
// launch_spec.h; to_launch_yaml is in launch_yaml_writer.cpp.
//
// Thread rules: no shared state; each call builds its own resolver.
#include "launch/launch_spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "common/suggest.h"
#include "config/yaml_diagnostics.h"
#include "launch/launch_file_reader.h"
#include "launch/launch_hydra_check.h"
#include "launch/sweep.h"

namespace mmcfs::launch {
namespace {

using config::ClusterConfig;
using detail::FileValues;
using detail::Position;
using detail::ProblemList;

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// "did you mean 'x'? " when a candidate is close, then "<label>: a, b".
std::string choices_fix(const std::string& given, const std::vector<std::string>& choices,
                        const std::string& label) {
  std::string fix;
  if (std::string close = closest_match(given, choices); !close.empty()) {
    fix = fmt::format("did you mean '{}'? ", close);
  }
  return fix + fmt::format("{}: {}", label, fmt::join(choices, ", "));
}

class Resolver {
 public:
  Resolver(FileValues file, const ParseContext& context, ProblemList& problems)
      : file_(std::move(file)),
        last_(context.defaults.last_used ? &*context.defaults.last_used : nullptr),
        last_for_config_(context.defaults.last_for_config),
        problems_(problems) {
    if (context.clusters) clusters_ = context.clusters;
  }

  LaunchSpec resolve() {
    LaunchSpec spec;
    cluster_ = choose_cluster();
    if (cluster_) spec.cluster = cluster_->name;
    if (cluster_) spec.partition = choose_partition();
    choose_gpus(spec);
    const LaunchSpec builtin;
    auto inherited = [this, &builtin](auto member) {
      return last_ ? last_->*member : builtin.*member;
    };
    spec.num_nodes = file_.num_nodes.value_or(inherited(&LaunchSpec::num_nodes));
    spec.cpus_per_task = file_.cpus_per_task.value_or(inherited(&LaunchSpec::cpus_per_task));
    spec.memory = file_.memory.value_or(inherited(&LaunchSpec::memory));
    spec.time_limit = file_.time_limit.value_or(inherited(&LaunchSpec::time_limit));
    spec.config_name = file_.config_name.value_or(inherited(&LaunchSpec::config_name));
    const bool hydra_written = file_.params || file_.groups;
    std::optional<LaunchSpec> same_config;
    if (!hydra_written && last_for_config_) same_config = last_for_config_(spec.config_name);
    if (!hydra_written && !same_config && last_ && last_->config_name == spec.config_name) same_config = *last_;
    spec.params = file_.params.value_or(same_config ? inherited_params(*same_config) : std::vector<LaunchSpec::Param>{});
    spec.groups = file_.groups.value_or(same_config ? same_config->groups : decltype(spec.groups){});
    spec.name = file_.name.value_or(spec.config_name.empty() ? kDefaultJobName : spec.config_name);
    spec.description = file_.description.value_or("");
    spec.commit = file_.commit.value_or("");
    spec.overrides = file_.overrides.value_or(std::vector<std::string>{});
    spec.sweep = file_.sweep.value_or(std::vector<LaunchSpec::SweepAxis>{});
    check_sweep_size(spec);
    spec.env = file_.env.value_or(std::vector<std::pair<std::string, std::string>>{});
    return spec;
  }

 private:
  bool written(const std::string& key) const { return file_.where.contains(key); }
  bool invalid(const std::string& key) const { return file_.invalid.contains(key); }
  // Where a key's value is, else the top of the file.
  Position where(const std::string& key) const {
    auto it = file_.where.find(key);
    return it == file_.where.end() ? file_.top : it->second;
  }
  void add(Position at, std::string what, std::string fix) {
    problems_.add(at, std::move(what), std::move(fix));
  }

  // A sweep expands to at most the cluster's max_sweep_runs runs.
  void check_sweep_size(const LaunchSpec& spec) {
    if (spec.sweep.empty()) return;
    const std::size_t runs = sweep_run_count(spec);
    const int limit = cluster_ ? cluster_->max_sweep_runs : config::ClusterConfig{}.max_sweep_runs;
    if (runs <= static_cast<std::size_t>(limit)) return;
    std::string sizes;
    for (const LaunchSpec::SweepAxis& axis : spec.sweep) {
      sizes += fmt::format("{}{} {}", sizes.empty() ? "" : " x ", axis.values.size(), axis.key);
    }
    add(where("sweep"),
        fmt::format("sweep expands to {} runs ({}), more than the limit of {} for cluster '{}'",
                    runs == kSweepTooLarge ? std::string("over a billion") : std::to_string(runs), sizes, limit,
                    spec.cluster),
        fmt::format("sweep fewer values, or raise max_sweep_runs for that cluster in clusters.yaml "
                    "(see config/clusters.yaml.example)"));
  }

  // The last launch's params, less an experiment_suffix filled from its description.
  static std::vector<LaunchSpec::Param> inherited_params(const LaunchSpec& last) {
    std::vector<LaunchSpec::Param> params;
    for (const LaunchSpec::Param& p : last.params) {
      if (p.key == "experiment_suffix" && p.value == last.description) continue;
      params.push_back(p);
    }
    return params;
  }

  std::vector<std::string> cluster_names() const {
    std::vector<std::string> names;
    for (const ClusterConfig& c : *clusters_) names.push_back(c.name);
    return names;
  }
  const ClusterConfig* find_cluster(const std::string& name) const {
    auto it = std::find_if(clusters_->begin(), clusters_->end(),
                           [&name](const ClusterConfig& c) { return c.name == name; });
    return it == clusters_->end() ? nullptr : &*it;
  }
  std::string none_configured_fix() const {
    return "no clusters are configured: add one to clusters.yaml (see "
           "config/clusters.yaml.example)";
  }

  const ClusterConfig* choose_cluster() {
    if (invalid("cluster")) return nullptr;
    if (file_.cluster) {
      if (const ClusterConfig* found = find_cluster(*file_.cluster)) return found;
      add(where("cluster"), fmt::format("cluster '{}' is not configured", *file_.cluster),
          clusters_->empty() ? none_configured_fix()
                             : choices_fix(*file_.cluster, cluster_names(), "configured clusters"));
      return nullptr;
    }
    if (last_) {
      if (const ClusterConfig* found = find_cluster(last_->cluster)) return found;
    }
    if (clusters_->size() == 1) return &clusters_->front();
    add(file_.top, "cluster is missing",
        clusters_->empty() ? none_configured_fix()
                           : fmt::format("add `cluster: NAME`, one of: {}",
                                         fmt::join(cluster_names(), ", ")));
    return nullptr;
  }

  // The last launch's partition or GPU type may follow to this cluster if it
  // was on the same one (and is still allowed) or this one lists it.
  bool may_inherit(const std::string& value, const std::vector<std::string>& allowed) const {
    return !value.empty() && (contains(allowed, value) ||
                              (last_->cluster == cluster_->name && allowed.empty()));
  }

  std::string choose_partition() {
    const std::vector<std::string>& allowed = cluster_->allowed_partitions;
    if (file_.partition) {
      if (!cluster_->partition_allowed(*file_.partition)) {
        add(where("partition"),
            fmt::format("partition '{}' is not allowed on cluster '{}'", *file_.partition,
                        cluster_->name),
            choices_fix(*file_.partition, allowed, "allowed partitions"));
      }
      return *file_.partition;
    }
    if (invalid("partition")) return "";
    if (last_ && may_inherit(last_->partition, allowed)) return last_->partition;
    if (!allowed.empty()) return allowed.front();
    add(where("cluster"),
        fmt::format("partition is missing and cluster '{}' has no allowed_partitions to take a "
                    "default from",
                    cluster_->name),
        "add `partition: NAME` with a partition of that cluster");
    return "";
  }

  // gpu_type in its configured spelling (file, else inherited), and a GPU
  // count that agrees with it; see launch_spec.h for the rules.
  void choose_gpus(LaunchSpec& spec) {
    if (invalid("gpu_type") || invalid("gpus_per_node")) return;
    std::string gpu = file_.gpu_type ? file_gpu_type() : inherited_gpu_type();
    int count = file_.gpus_per_node.value_or(last_ ? last_->gpus_per_node : 0);
    if (file_.gpus_per_node && count == 0 && file_.gpu_type && !gpu.empty()) {
      add(where("gpus_per_node"), fmt::format("gpus_per_node is 0 but gpu_type is '{}'", gpu),
          "set gpus_per_node to 1 or more, or set `gpu_type: \"\"` for a job without GPUs");
    } else if (!file_.gpus_per_node && file_.gpu_type) {
      if (gpu.empty()) count = 0;
      if (!gpu.empty() && count == 0) count = 1;
    } else if (count == 0) {
      gpu.clear();  // `gpus_per_node: 0` (or none inherited): no GPUs
    } else if (gpu.empty() && !(file_.gpu_type && invalid_gpu_)) {
      report_missing_gpu_type(count);
    }
    spec.gpu_type = gpu;
    spec.gpus_per_node = count;
  }

  std::string file_gpu_type() {
    const std::string& given = *file_.gpu_type;
    if (given.empty() || !cluster_) return given;
    std::string spelling = cluster_->allowed_gpu_spelling(given);
    if (spelling.empty()) {
      invalid_gpu_ = true;
      add(where("gpu_type"),
          fmt::format("gpu_type '{}' is not allowed on cluster '{}'", given, cluster_->name),
          choices_fix(given, cluster_->allowed_gpu_types, "allowed GPU types") +
              " (or `gpu_type: \"\"` for no GPUs)");
    }
    return spelling;
  }

  std::string inherited_gpu_type() const {
    if (!last_ || !cluster_ || last_->gpu_type.empty()) return "";
    const std::string spelling = cluster_->allowed_gpu_spelling(last_->gpu_type);
    return may_inherit(spelling, cluster_->allowed_gpu_types) ? spelling : "";
  }

  void report_missing_gpu_type(int count) {
    const std::string key = written("gpus_per_node") ? "gpus_per_node" : "cluster";
    std::string fix = "add `gpu_type: NAME`";
    if (cluster_ && !cluster_->allowed_gpu_types.empty()) {
      fix = fmt::format("add `gpu_type: {}` (allowed on '{}': {})",
                        cluster_->allowed_gpu_types.front(), cluster_->name,
                        fmt::join(cluster_->allowed_gpu_types, ", "));
    }
    add(where(key),
        fmt::format("gpus_per_node is {}{} but no gpu_type is set", count,
                    written("gpus_per_node") ? "" : " (from the last launch)"),
        fix + ", or set `gpus_per_node: 0`");
  }

  FileValues file_;
  const LaunchSpec* last_;
  std::function<std::optional<LaunchSpec>(const std::string&)> last_for_config_;
  ProblemList& problems_;
  const std::vector<ClusterConfig> no_clusters_;
  const std::vector<ClusterConfig>* clusters_ = &no_clusters_;
  const ClusterConfig* cluster_ = nullptr;
  bool invalid_gpu_ = false;  // gpu_type given but not allowed (already reported)
};

}  // namespace

Result<LaunchSpec> parse_launch(const std::string& text, const ParseContext& context) {
  try {
    ProblemList problems;
    FileValues file = detail::read_launch_file(text, problems);
    if (!file.readable) return problems.to_error(context.file_name);
    const detail::HydraPositions positions{file.where, file.param_at, file.group_at, file.sweep_at, file.top,
                                           file.invalid};
    LaunchSpec spec = Resolver(std::move(file), context, problems).resolve();
    if (context.hydra_conf != nullptr) detail::check_hydra(spec, positions, *context.hydra_conf, problems);
    if (!problems.empty()) return problems.to_error(context.file_name);
    return spec;
  } catch (const std::exception& e) {  // a yaml-cpp accessor or bad_alloc
    return Error{Errc::kInternal,
                 fmt::format("{}: cannot read the launch file: {}", context.file_name, e.what())};
  }
}

const std::vector<std::string>& launch_keys() {
  static const std::vector<std::string> kKeys = {
      "name",          "description", "cluster",    "partition", "gpu_type",
      "num_nodes",     "gpus_per_node", "cpus_per_task", "memory", "time_limit",
      "commit",        "config_name", "groups",     "params",    "sweep",     "overrides",
      "env",           "mmcfs"};
  return kKeys;
}

}  // namespace mmcfs::launch
