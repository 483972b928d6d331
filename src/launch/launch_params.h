// launch_params.h — reads the `params:` map of a launch.yaml into Hydra
// key/value pairs (internal to src/launch).
//
// Nested maps are flattened to dotted keys in file order (`optimizer: {lr: 1}`
// is `optimizer.lr: 1`); each key is checked (check_param_key) and may appear
// once. A value keeps its scalar text and whether YAML saw it as a string
// (quoted, a block scalar, or tagged !!str); a null is is_null; a list is
// Hydra list text (launch_hydra_list.h).
//
// read_sweep reads the `sweep:` map the same way, except that each leaf must
// be a non-empty YAML list whose items are values as above (one run each).
//
// Thread rules: a ParamsReader belongs to the one parse_launch call that made
// it; the SourceText and ProblemList it refers to must outlive it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/yaml_diagnostics.h"
#include "launch/launch_spec.h"

namespace mmcfs::launch::detail {

class ParamsReader {
 public:
  ParamsReader(const config::detail::SourceText& source, config::detail::ProblemList& problems)
      : source_(source), problems_(problems) {}

  // The params of a map node (empty for a null node). nullopt if anything in
  // it was wrong (reported, with its position). `value` must be a map or null.
  std::optional<std::vector<LaunchSpec::Param>> read(const YAML::Node& value);
  // The sweep axes of a map node (empty for a null node); nullopt if anything
  // in it was wrong (reported). Uses the same key rules as read().
  std::optional<std::vector<LaunchSpec::SweepAxis>> read_sweep(const YAML::Node& value);
  // Where each key read so far is written.
  const std::map<std::string, config::detail::Position>& positions() const { return seen_; }

 private:
  void flatten(const YAML::Node& map, const std::string& prefix);
  void read_axis(const std::string& full, config::detail::Position key_at, const YAML::Node& value);
  std::optional<LaunchSpec::Param> read_param(const std::string& full, const YAML::Node& value);
  void problem(config::detail::Position where, std::string what, std::string fix);

  const config::detail::SourceText& source_;
  config::detail::ProblemList& problems_;
  std::vector<LaunchSpec::Param> params_;
  bool sweep_mode_ = false;
  std::vector<LaunchSpec::SweepAxis> axes_;
  std::map<std::string, config::detail::Position> seen_;  // full key -> where
  bool failed_ = false;
};

}  // namespace mmcfs::launch::detail
