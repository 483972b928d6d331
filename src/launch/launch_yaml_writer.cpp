// launch_yaml_writer.cpp — to_launch_yaml: a LaunchSpec written back as a
// commented launch.yaml (see launch_spec.h).
//
// Every field is written, in launch_keys() order, under a comment naming
// its allowed values and what it becomes. Strings are double-quoted by
// yaml-cpp's emitter (which escapes quotes, backslashes, control characters
// and line breaks), so any text survives the trip; params keep their YAML
// type: quoted values quoted, plain values plain, nulls null, and Hydra list
// text as a YAML flow list. parse_launch reads the result back into an
// equal spec.
//
// Thread rules: pure function over its arguments.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <sstream>
#include <string>

#include "launch/launch_hydra_list.h"
#include "launch/launch_spec.h"

namespace mmcfs::launch {
namespace {

std::string quoted(const std::string& text) {
  YAML::Emitter out;
  out << YAML::DoubleQuoted << text;
  return out.c_str();
}

std::string plain(const std::string& text) {
  YAML::Emitter out;
  out << text;
  return out.c_str();
}

std::string param_value(const LaunchSpec::Param& param) {
  if (param.is_null) return "null";
  if (param.quoted) return quoted(param.value);
  if (detail::is_hydra_list_value(param.value, param.quoted, param.is_null)) {
    YAML::Emitter out;
    if (detail::emit_hydra_list(out, param.value) && out.good()) return out.c_str();
    return quoted(param.value);  // not list text mmcfs wrote: keep it as a string
  }
  return plain(param.value);
}

void comment(std::ostringstream& out, const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    out << (line.empty() ? "#" : "# " + line) << '\n';
  }
}

void write_where(std::ostringstream& out, const LaunchSpec& spec) {
  out << "\n# Where it runs: a cluster from clusters.yaml and one of its allowed partitions\n"
         "# (#SBATCH --partition).\n";
  out << "cluster: " << quoted(spec.cluster) << '\n';
  out << "partition: " << quoted(spec.partition) << '\n';
}

void write_resources(std::ostringstream& out, const LaunchSpec& spec) {
  out << "\n# Resources. gpu_type: one of the cluster's allowed GPU types, any case; \"\" = no\n"
         "# GPUs (#SBATCH --gres=gpu:TYPE:N). num_nodes 1-64 (#SBATCH --nodes; more than 1\n"
         "# starts one task per node with srun), gpus_per_node 0-16, cpus_per_task 1-256\n"
         "# (#SBATCH --cpus-per-task, default 8).\n";
  out << "gpu_type: " << quoted(spec.gpu_type) << '\n';
  out << "num_nodes: " << spec.num_nodes << '\n';
  out << "gpus_per_node: " << spec.gpus_per_node << '\n';
  out << "cpus_per_task: " << spec.cpus_per_task << '\n';
  out << "# Memory per node (#SBATCH --mem): digits and K, M, G or T; default 64G.\n";
  out << "memory: " << quoted(spec.memory) << '\n';
  out << "# Time limit (#SBATCH --time): MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS.\n";
  out << "time_limit: " << quoted(spec.time_limit) << '\n';
}

void write_code(std::ostringstream& out, const LaunchSpec& spec) {
  out << "\n# The code: a commit SHA (4-40 hex digits) or a branch or tag pushed to the\n"
         "# project's remote. \"\" or no line = the local HEAD at launch.\n";
  out << "commit: " << quoted(spec.commit) << '\n';
  out << "\n# Hydra: --config-name (a file in the config directory, without .yaml);\n"
         "# \"\" = the project's default config.\n";
  out << "config_name: " << quoted(spec.config_name) << '\n';
  out << "# Hydra groups: group: option (nested groups as model/encoder); only choices that\n"
         "# differ from the config's defaults list reach the command line.\n";
  if (spec.groups.empty()) {
    out << "groups: {}\n";
  } else {
    out << "groups:\n";
    for (const auto& [group, option] : spec.groups) out << "  " << plain(group) << ": " << quoted(option) << '\n';
  }
  out << "# Hydra parameters, each passed as key=value (nested maps mean dotted keys).\n";
  if (spec.params.empty()) {
    out << "params: {}\n";
  } else {
    out << "params:\n";
    for (const LaunchSpec::Param& param : spec.params) {
      out << "  " << plain(param.key) << ": " << param_value(param) << '\n';
    }
  }
  out << "# A sweep: Hydra key -> list of values; the cartesian product runs as ONE SLURM\n"
         "# job array, one run per combination (jobs/<id>.<n>), e.g.\n"
         "#   sweep: {optimizer.lr: [1e-3, 1e-4], data.batch_size: [16, 32]}   (4 runs)\n";
  if (spec.sweep.empty()) {
    out << "sweep: {}\n";
  } else {
    out << "sweep:\n";
    for (const LaunchSpec::SweepAxis& axis : spec.sweep) {
      out << "  " << plain(axis.key) << ":\n";
      for (const LaunchSpec::Param& value : axis.values) out << "    - " << param_value(value) << '\n';
    }
  }
  out << "# Raw Hydra overrides (+key=value, ~key, group=option), applied after params.\n";
  if (spec.overrides.empty()) {
    out << "overrides: []\n";
  } else {
    out << "overrides:\n";
    for (const std::string& override_text : spec.overrides) {
      out << "  - " << quoted(override_text) << '\n';
    }
  }
  out << "# Extra environment variables for the job (not SLURM_*, MMCFS_*, PATH, HOME, USER).\n";
  if (spec.env.empty()) {
    out << "env: {}\n";
  } else {
    out << "env:\n";
    for (const auto& [name, value] : spec.env) out << "  " << name << ": " << quoted(value) << '\n';
  }
}

}  // namespace

std::string to_launch_yaml(const LaunchSpec& spec, const std::string& header_comment) {
  std::ostringstream out;
  if (!header_comment.empty()) comment(out, header_comment);
  out << "# An mmcfs launch file: copy it into projects/<project>/new/ to run the job.\n"
         "# See examples/launch.yaml for every field.\n\n";
  out << "# The job's name and description: free text, passed to the job as data.\n";
  out << "name: " << quoted(spec.name) << '\n';
  out << "description: " << quoted(spec.description) << '\n';
  write_where(out, spec);
  write_resources(out, spec);
  write_code(out, spec);
  return out.str();
}

}  // namespace mmcfs::launch
