// launch_hydra_check.cpp — config_name, groups and params checked against the
// Hydra conf directory (see launch_hydra_check.h for the rules).
//
// Thread rules: no shared state.
#include "launch/launch_hydra_check.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <vector>

#include "common/suggest.h"
#include "hydra/conf_tree.h"
#include "hydra/override_writer.h"

namespace mmcfs::launch::detail {
namespace {

using config::detail::Position;
using config::detail::ProblemList;
using hydra::ValueType;

constexpr std::size_t kMaxListed = 30;  // choices listed in a message

std::string listing(const std::vector<std::string>& items) {
  if (items.size() <= kMaxListed) return fmt::format("{}", fmt::join(items, ", "));
  std::vector<std::string> head(items.begin(), items.begin() + kMaxListed);
  return fmt::format("{}, ... ({} in all)", fmt::join(head, ", "), items.size());
}

std::string choices_fix(const std::string& given, const std::vector<std::string>& choices, const std::string& label) {
  std::string fix;
  if (std::string close = closest_match(given, choices); !close.empty()) fix = fmt::format("did you mean '{}'? ", close);
  return fix + label + ": " + listing(choices);
}

std::string last_segment(const std::string& key) {
  auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

// Up to three schema keys close to `key`: by edit distance over the whole
// key, then keys ending in the same (or a close) last segment.
std::vector<std::string> closest_keys(const std::string& key, const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& k) {
    if (!k.empty() && out.size() < 3 && std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  };
  add(closest_match(key, keys));
  const std::string tail = last_segment(key);
  for (const std::string& k : keys) {
    if (last_segment(k) == tail) add(k);
  }
  std::vector<std::string> tails;
  for (const std::string& k : keys) tails.push_back(last_segment(k));
  const std::string close_tail = closest_match(tail, tails);
  for (const std::string& k : keys) {
    if (!close_tail.empty() && last_segment(k) == close_tail) add(k);
  }
  return out;
}

// "keys under 'optimizer': optimizer.lr, ... " for a key whose parent exists.
std::string siblings_hint(const std::string& key, const std::vector<std::string>& keys) {
  auto dot = key.rfind('.');
  if (dot == std::string::npos) return "";
  const std::string prefix = key.substr(0, dot + 1);
  std::vector<std::string> under;
  for (const std::string& k : keys) {
    if (k.starts_with(prefix)) under.push_back(k);
  }
  if (under.empty()) return "";
  return fmt::format("keys under '{}': {}. ", key.substr(0, dot), listing(under));
}

// What a launch value is, as Hydra will read what override_writer writes.
ValueType value_kind(const LaunchSpec::Param& p) {
  if (p.is_null) return ValueType::kNull;
  if (p.quoted) return ValueType::kString;
  if (p.value.starts_with('[')) return ValueType::kList;
  const std::string written = hydra::write_value(p.value, false, false);
  if (written == "null") return ValueType::kNull;
  if (written == "true" || written == "false") return ValueType::kBool;
  if (auto number = hydra::yaml_number_as_hydra(p.value)) {
    return number->find_first_of(".ein") == std::string::npos ? ValueType::kInt : ValueType::kFloat;
  }
  return ValueType::kString;
}

bool fits(ValueType schema, ValueType value) {
  if (value == ValueType::kNull) return true;
  switch (schema) {
    case ValueType::kNull:
    case ValueType::kMissing: return true;
    case ValueType::kInt: return value == ValueType::kInt;
    case ValueType::kFloat: return value == ValueType::kInt || value == ValueType::kFloat;
    case ValueType::kBool: return value == ValueType::kBool;
    case ValueType::kString: return value != ValueType::kList;
    case ValueType::kList: return value == ValueType::kList;
    case ValueType::kMap: return false;
  }
  return false;
}

std::string type_fix(const hydra::ParamInfo& info) {
  switch (info.type) {
    case ValueType::kInt: return fmt::format("write a whole number without quotes, like the default {}", info.default_text);
    case ValueType::kFloat: return fmt::format("write a number without quotes, like the default {}", info.default_text);
    case ValueType::kBool: return "write true or false without quotes";
    case ValueType::kString: return "write text (in quotes if it looks like something else)";
    case ValueType::kList: return fmt::format("write a YAML list, like the default {}", info.default_text);
    case ValueType::kMap: return "set its keys one by one (e.g. `" + info.key + ".x: 1`), or write a dict in overrides";
    default: return "";
  }
}

std::string describe_value(const LaunchSpec::Param& p, ValueType kind) {
  return fmt::format("{} ({})", p.is_null ? "null" : "'" + p.value + "'", hydra::type_name(kind));
}

class Checker {
 public:
  Checker(LaunchSpec& spec, const HydraPositions& at, const hydra::ConfSource& conf, ProblemList& problems)
      : spec_(spec), at_(at), conf_(conf), problems_(problems) {}

  void run() {
    if (at_.invalid.contains("config_name")) return;
    const hydra::ConfTree tree = hydra::load_conf_tree(conf_);
    if (!tree.found) return;
    const std::string config = spec_.config_name.empty() ? tree.default_config : spec_.config_name;
    if (!spec_.config_name.empty() && !tree.has_config(config)) {
      add(where("config_name"),
          fmt::format("config_name '{}' is not a primary config of the project ({}/{}.yaml does not exist)", config,
                      conf_.label(), config),
          choices_fix(config, tree.configs, "primary configs"));
      return;
    }
    if (config.empty()) {
      add(at_.top, fmt::format("config_name is not set and {}/ has no config.yaml (no default config)", conf_.label()),
          "add `config_name: NAME` with one of: " + listing(tree.configs));
      return;
    }
    config_ = config;
    const hydra::Composition* base = tree.composition(config);
    if (base == nullptr) return;
    if (!at_.invalid.contains("params") && !at_.invalid.contains("groups")) {
      std::map<std::string, std::string> choices = check_groups(tree, *base);
      if (choices.empty()) {
        check_params(*base);
      } else {
        check_params(hydra::compose(conf_, config, choices));
      }
    }
  }

 private:
  void add(Position at, std::string what, std::string fix) { problems_.add(at, std::move(what), std::move(fix)); }
  Position where(const std::string& key) const {
    auto it = at_.where.find(key);
    return it == at_.where.end() ? at_.top : it->second;
  }
  Position param_where(const std::string& key) const {
    auto it = at_.param_at.find(key);
    return it == at_.param_at.end() ? where("params") : it->second;
  }
  Position group_where(const std::string& group) const {
    auto it = at_.group_at.find(group);
    if (it != at_.group_at.end()) return it->second;
    return at_.param_at.contains(group) ? param_where(group) : where("groups");
  }

  // Group choices (from groups, and params keys naming selected groups),
  // checked; spec_.groups keeps those that differ from the default selection.
  std::map<std::string, std::string> check_groups(const hydra::ConfTree& tree, const hydra::Composition& base) {
    std::vector<std::pair<std::string, std::string>> wanted = spec_.groups;
    std::vector<LaunchSpec::Param> params;
    for (const LaunchSpec::Param& p : spec_.params) {
      const bool names_group = base.find_param(p.key) == nullptr && base.selected(p.key) != nullptr &&
                               !p.is_null && !p.value.starts_with('[');
      const bool already = std::any_of(wanted.begin(), wanted.end(), [&p](const auto& g) { return g.first == p.key; });
      if (names_group && !already) {
        wanted.emplace_back(p.key, p.value);
      } else {
        params.push_back(p);
      }
    }
    spec_.params = std::move(params);
    std::vector<std::string> group_paths;
    for (const hydra::ConfGroup& g : tree.groups) group_paths.push_back(g.path);
    std::map<std::string, std::string> choices;
    std::vector<std::pair<std::string, std::string>> differing;
    for (const auto& [group, option] : wanted) {
      const Position at = group_where(group);
      const hydra::ConfGroup* found = tree.find_group(group);
      if (found == nullptr) {
        add(at, fmt::format("there is no group '{}' in {}/", group, conf_.label()),
            choices_fix(group, group_paths, "groups"));
        continue;
      }
      const std::string* selected = base.selected(group);
      if (std::find(found->options.begin(), found->options.end(), option) == found->options.end()) {
        add(at, fmt::format("group '{}' has no option '{}'", group, option),
            choices_fix(option, found->options, "options") +
                (selected ? fmt::format(" (default: {})", selected->empty() ? "none" : *selected) : ""));
        continue;
      }
      if (selected == nullptr) {
        add(at,
            fmt::format("config '{}' does not select group '{}' in its defaults list, so Hydra refuses `{}={}`",
                        config_, group, group, option),
            fmt::format("to add it, write `overrides: [\"+{}={}\"]`", group, option));
        continue;
      }
      choices[group] = option;
      if (*selected != option) differing.emplace_back(group, option);
    }
    spec_.groups = std::move(differing);
    return choices;
  }

  void check_params(const hydra::Composition& schema) {
    std::string with;
    for (const auto& [group, option] : spec_.groups) with += fmt::format("{}{}={}", with.empty() ? "" : " ", group, option);
    const std::string config_label =
        fmt::format("config '{}'{}", config_, with.empty() ? "" : " (with " + with + ")");
    const std::vector<std::string> keys = schema.param_keys();
    for (const LaunchSpec::Param& p : spec_.params) check_value(p, param_where(p.key), "params", schema, keys, config_label);
    for (const LaunchSpec::SweepAxis& axis : spec_.sweep) {
      auto it = at_.sweep_at.find(axis.key);
      const Position at = it == at_.sweep_at.end() ? where("sweep") : it->second;
      if (schema.find_param(axis.key) == nullptr) {  // one message per key, not per value
        check_value(axis.values.front(), at, "sweep", schema, keys, config_label);
        continue;
      }
      for (const LaunchSpec::Param& p : axis.values) check_value(p, at, "sweep", schema, keys, config_label);
    }
    fill_experiment_suffix(schema);
  }

  // One value for a schema key: the key must exist and the value fit its type.
  // `what` is the launch key it came from ("params" or "sweep").
  void check_value(const LaunchSpec::Param& p, Position at, const char* what, const hydra::Composition& schema,
                   const std::vector<std::string>& keys, const std::string& config_label) {
    const hydra::ParamInfo* info = schema.find_param(p.key);
    if (info == nullptr) {
      report_unknown(p, at, keys, config_label, what);
      return;
    }
    const ValueType kind = value_kind(p);
    if (info->type == ValueType::kMap) {
      add(at, fmt::format("{} '{}' is a map in {}", what, p.key, config_label), type_fix(*info));
    } else if (!fits(info->type, kind)) {
      add(at,
          fmt::format("{} '{}' {} {} but {} has {} {} there (default {})", what, p.key,
                      std::string_view(what) == "sweep" ? "has a value that is" : "is", describe_value(p, kind),
                      config_label, info->type == ValueType::kInt ? "an" : "a", hydra::type_name(info->type),
                      info->default_text),
          type_fix(*info));
    }
  }

  void report_unknown(const LaunchSpec::Param& p, Position at, const std::vector<std::string>& keys,
                      const std::string& config_label, const char* what) {
    // A key above leaves: `model` when model.* exist.
    const std::string prefix = p.key + ".";
    std::vector<std::string> below;
    for (const std::string& k : keys) {
      if (k.starts_with(prefix)) below.push_back(k);
    }
    if (!below.empty()) {
      add(at, fmt::format("{} '{}' is a map in {}", what, p.key, config_label),
          fmt::format("set its keys one by one, e.g. `{}`", below.front()));
      return;
    }
    std::vector<std::string> close = closest_keys(p.key, keys);
    std::string fix = close.empty() ? "" : fmt::format("did you mean {}? ", fmt::join(close, ", "));
    if (close.empty()) fix = siblings_hint(p.key, keys);
    fix += fmt::format(
        "Hydra refuses keys that are not in the config; to add a new one, write `overrides: [\"+{}=...\"]` "
        "(see projects/<p>/hydra/params)",
        p.key);
    add(at, fmt::format("{} key '{}' is not in {}", what, p.key, config_label), fix);
  }

  void fill_experiment_suffix(const hydra::Composition& schema) {
    static const std::string kKey = "experiment_suffix";
    if (spec_.description.empty() || schema.find_param(kKey) == nullptr) return;
    for (const LaunchSpec::Param& p : spec_.params) {
      if (p.key == kKey) return;
    }
    for (const std::string& o : spec_.overrides) {
      std::string_view v = o;
      while (v.starts_with('+') || v.starts_with('~')) v.remove_prefix(1);
      if (v.starts_with(kKey + "=") || v == kKey) return;
    }
    spec_.params.push_back(LaunchSpec::Param{kKey, spec_.description, true, false});
  }

  LaunchSpec& spec_;
  const HydraPositions& at_;
  const hydra::ConfSource& conf_;
  ProblemList& problems_;
  std::string config_;
};

}  // namespace

void check_hydra(LaunchSpec& spec, const HydraPositions& at, const hydra::ConfSource& conf, ProblemList& problems) {
  Checker(spec, at, conf, problems).run();
}

}  // namespace mmcfs::launch::detail
