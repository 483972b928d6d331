// launch_params.cpp — the params: map as Hydra key/value pairs (see
// launch_params.h).
//
// Thread rules: no shared state; a ParamsReader is used by one call.
#include "launch/launch_params.h"

#include <fmt/format.h>

#include <utility>

#include "launch/launch_formats.h"
#include "launch/launch_hydra_list.h"

namespace mmcfs::launch::detail {
namespace {

using config::detail::describe_node;
using config::detail::Position;

// A scalar written in quotes (or as a block, or tagged !!str) is a string to
// YAML; yaml-cpp gives plain scalars the non-specific tag "?".
bool written_as_string(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

}  // namespace

std::optional<std::vector<LaunchSpec::Param>> ParamsReader::read(const YAML::Node& value) {
  params_.clear();
  seen_.clear();
  failed_ = false;
  if (value.IsMap()) flatten(value, "");
  if (failed_) return std::nullopt;
  return std::move(params_);
}

std::optional<std::vector<LaunchSpec::SweepAxis>> ParamsReader::read_sweep(const YAML::Node& value) {
  axes_.clear();
  seen_.clear();
  failed_ = false;
  sweep_mode_ = true;
  if (value.IsMap()) flatten(value, "");
  sweep_mode_ = false;
  if (failed_) return std::nullopt;
  return std::move(axes_);
}

void ParamsReader::problem(Position where, std::string what, std::string fix) {
  problems_.add(where, std::move(what), std::move(fix));
  failed_ = true;
}

void ParamsReader::flatten(const YAML::Node& map, const std::string& prefix) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    const Position key_at = source_.position_of(key);
    if (!key.IsScalar()) {
      problem(key_at, "a params key is " + describe_node(key),
              "keys are Hydra names such as `optimizer.lr`");
      continue;
    }
    if (FormatCheck bad = check_param_key(key.Scalar(), prefix.empty())) {
      problem(key_at, bad->what, bad->fix);
      continue;
    }
    const std::string full = prefix.empty() ? key.Scalar() : prefix + "." + key.Scalar();
    if (value.IsMap() && value.size() > 0) {
      flatten(value, full);
      continue;
    }
    if (auto [first, fresh] = seen_.emplace(full, key_at); !fresh) {
      problem(key_at,
              fmt::format("{} key '{}' is given twice (first on line {})", sweep_mode_ ? "sweep" : "params",
                          full, first->second.line),
              "remove one of them");
      continue;
    }
    if (sweep_mode_) {
      read_axis(full, key_at, value);
      continue;
    }
    if (std::optional<LaunchSpec::Param> param = read_param(full, value)) {
      params_.push_back(std::move(*param));
    }
  }
}

void ParamsReader::read_axis(const std::string& full, Position key_at, const YAML::Node& value) {
  const Position value_at = value.IsNull() ? key_at : source_.position_of(value);
  if (!value.IsSequence() || value.size() == 0) {
    problem(value_at,
            fmt::format("sweep '{}' is {}, but a sweep key needs a non-empty list of values", full,
                        value.IsSequence() ? "an empty list" : describe_node(value)),
            fmt::format("write it like `{}: [1e-3, 1e-4]` (one run per value); a single value belongs in params",
                        full));
    return;
  }
  LaunchSpec::SweepAxis axis{full, {}};
  for (const YAML::Node& item : value) {
    if (item.IsMap()) {
      problem(source_.position_of(item), fmt::format("a value of sweep '{}' is a map", full),
              "sweep values are scalars or lists; set the map's keys as separate sweep keys");
      continue;
    }
    if (std::optional<LaunchSpec::Param> param = read_param(full, item)) axis.values.push_back(std::move(*param));
  }
  axes_.push_back(std::move(axis));
}

std::optional<LaunchSpec::Param> ParamsReader::read_param(const std::string& full,
                                                          const YAML::Node& value) {
  if (value.IsNull()) return LaunchSpec::Param{full, "null", false, true};
  const Position value_at = source_.position_of(value);
  if (value.IsMap()) {
    problem(value_at, fmt::format("params '{}' is an empty map", full),
            "give it a value, or remove it");
    return std::nullopt;
  }
  if (value.IsSequence()) {
    std::vector<ListProblem> list_problems;
    std::string text = hydra_list_text(value, list_problems);
    for (const ListProblem& p : list_problems) {
      problem(source_.position_of(p.where), p.what, p.fix);
    }
    if (!list_problems.empty()) return std::nullopt;
    return LaunchSpec::Param{full, std::move(text), false, false};
  }
  if (value.Scalar().find('\0') != std::string::npos) {
    problem(value_at, fmt::format("params '{}' contains a NUL character", full),
            "remove the \\0 escape: a command-line argument cannot hold one");
    return std::nullopt;
  }
  return LaunchSpec::Param{full, value.Scalar(), written_as_string(value), false};
}

}  // namespace mmcfs::launch::detail
