// launch_file_reader.h — reads a launch.yaml's text into the values it
// writes, checking the YAML, the keys, each value's type and format
// (internal to src/launch).
//
// What the file leaves out stays unset here; defaults and the checks that
// need the configured clusters (cluster, partition, gpu_type, the GPU
// count) are parse_launch's (launch_spec.cpp). A key whose value was wrong
// is reported, listed in `invalid`, and left unset, so that no default
// hides the mistake and no later check repeats it.
//
// Thread rules: plain values; a reader belongs to the one parse_launch call
// that made it. The text must outlive it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/yaml_diagnostics.h"
#include "launch/launch_spec.h"

namespace mmcfs::launch::detail {

using config::detail::Position;
using config::detail::ProblemList;

// The launch.yaml as written: each field set only if the file gives it.
struct FileValues {
  std::optional<std::string> name, description, cluster, partition, gpu_type, memory, time_limit,
      commit, config_name;
  std::optional<int> num_nodes, gpus_per_node, cpus_per_task;
  std::optional<std::vector<LaunchSpec::Param>> params;
  std::optional<std::vector<std::pair<std::string, std::string>>> groups;
  std::map<std::string, Position> param_at;  // params key -> where it is written
  std::optional<std::vector<LaunchSpec::SweepAxis>> sweep;
  std::map<std::string, Position> sweep_at;  // sweep key -> where it is written
  std::map<std::string, Position> group_at;  // groups key -> where its option is written
  std::optional<std::vector<std::string>> overrides;
  std::optional<std::vector<std::pair<std::string, std::string>>> env;

  std::map<std::string, Position> where;  // key -> its value (or the key if empty)
  std::set<std::string> invalid;          // keys written with a wrong value
  Position top;                           // the first key of the file
  bool readable = false;                  // a map at the top level: worth resolving
};

// Reads `text`; problems go to `problems`.
FileValues read_launch_file(const std::string& text, ProblemList& problems);

}  // namespace mmcfs::launch::detail
