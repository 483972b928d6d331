// launch_hydra_check.h — a launch checked against the project's Hydra config
// directory before anything reaches the cluster (internal to src/launch;
// parse_launch runs it when ParseContext::hydra_conf is set).
//
// With no conf directory nothing is checked. Otherwise:
//   - config_name must be a primary config (the error lists them); "" means
//     the default config (conf/config.yaml; without one, config_name is
//     required). It chooses the schema for the other checks.
//   - groups: each group must exist, its option must be one of the group's
//     files (the error lists them, with the default), and the config's
//     defaults list must select the group (Hydra refuses `g=o` otherwise:
//     use `+g=o` in overrides). Choices equal to the default selection are
//     dropped; the rest become `group=option` on the command line. A params
//     key that names a selected group (`params: {model: transformer}`) is a
//     group choice too.
//   - params: each key must be a key of the config composed with those group
//     choices (Hydra refuses unknown keys without `+`; the error names the
//     closest keys); a key that is a map is refused (set its keys); the
//     value must fit the key's type: int <- int; float <- int or float;
//     bool <- true/false; string <- any scalar; list <- a list; null and
//     `???` keys take anything; null fits every key.
//   - sweep: each key and every one of its values are checked as params are
//     (a key naming a group is not a group choice here: it must be a
//     schema key).
//   - experiment_suffix: when the schema has that key and neither params nor
//     overrides set it, the description (if any) fills it.
// overrides are raw and unchecked: they come last and win.
// Problems go to the launch's ProblemList with the position of the value
// concerned (or of `params:`/`groups:`, or the top, for inherited values).
//
// Thread rules: pure function over its arguments.
#pragma once

#include <map>
#include <set>
#include <string>

#include "config/yaml_diagnostics.h"
#include "hydra/conf_source.h"
#include "launch/launch_spec.h"

namespace mmcfs::launch::detail {

// Where the launch file wrote what the checks look at.
struct HydraPositions {
  std::map<std::string, config::detail::Position> where;     // top-level key -> value
  std::map<std::string, config::detail::Position> param_at;  // params key -> key
  std::map<std::string, config::detail::Position> group_at;  // groups key -> option
  std::map<std::string, config::detail::Position> sweep_at;  // sweep key -> key
  config::detail::Position top;
  std::set<std::string> invalid;  // top-level keys already reported as wrong
};

void check_hydra(LaunchSpec& spec, const HydraPositions& at, const hydra::ConfSource& conf,
                 config::detail::ProblemList& problems);

}  // namespace mmcfs::launch::detail
