// launch_file_reader.cpp — the YAML side of parse_launch: syntax, keys,
// types and formats (see launch_file_reader.h).
//
// Thread rules: no shared state; each call builds its own reader.
#include "launch/launch_file_reader.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <exception>
#include <string_view>

#include "config/config_fields.h"
#include "launch/launch_formats.h"
#include "launch/launch_params.h"

namespace mmcfs::launch::detail {
namespace {

using config::detail::describe_node;
using config::detail::from_mark;
using config::detail::IntRange;
using config::detail::SourceText;

// String keys that may be written empty, and what empty means.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kMayBeEmpty = {{
    {"description", "no description"},
    {"gpu_type", "no GPUs"},
    {"commit", "the local HEAD"},
    {"config_name", "Hydra's default config"},
}};

bool may_be_empty(std::string_view key) {
  return std::any_of(kMayBeEmpty.begin(), kMayBeEmpty.end(),
                     [key](const auto& entry) { return entry.first == key; });
}

std::optional<long long> parse_integer(const std::string& text) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  std::size_t used = 0;
  try {
    const long long value = std::stoll(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

class Reader {
 public:
  Reader(const std::string& text, ProblemList& problems)
      : text_(text), source_(text), problems_(problems) {}

  FileValues read() {
    std::optional<YAML::Node> loaded = load_yaml(source_, problems_, "check that this is a launch.yaml file");
    if (!loaded) return std::move(values_);
    YAML::Node root = *loaded;
    if (root.IsNull()) {
      add(Position{}, "the file has no settings",
          "write at least `cluster:` and `name:` lines; see examples/launch-minimal.yaml");
      return std::move(values_);
    }
    if (!root.IsMap()) {
      add(source_.position_of(root), "the top level is " + describe_node(root) + ", not a map",
          "write one `key: value` per line, e.g. `name: lr-sweep`; see examples/launch.yaml");
      return std::move(values_);
    }
    values_.readable = true;
    values_.top = source_.position_of(root);
    read_pairs(root);
    return std::move(values_);
  }

 private:
  void add(Position where, std::string what, std::string fix) {
    problems_.add(where, std::move(what), std::move(fix));
  }
  Position at(const YAML::Node& key, const YAML::Node& value) const {
    return source_.position_of(value.IsNull() ? key : value);
  }
  // Reports a problem with key's value and marks the key invalid.
  void bad(const std::string& key, std::string what, std::string fix) {
    add(values_.where.at(key), std::move(what), std::move(fix));
    values_.invalid.insert(key);
  }
  void bad(const std::string& key, const FormatProblem& problem) {
    bad(key, problem.what, problem.fix);
  }

  void read_pairs(const YAML::Node& root) {
    std::map<std::string, Position> seen;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        add(source_.position_of(key), "a top-level key is " + describe_node(key) + ", not a word",
            "keys are plain words such as 'name' or 'cluster'");
        continue;
      }
      const std::string& name = key.Scalar();
      const std::vector<std::string>& keys = launch_keys();
      if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
        add(source_.position_of(key), fmt::format("unknown key '{}'", name),
            unknown_key_fix(name));
        continue;
      }
      if (auto [first, fresh] = seen.emplace(name, source_.position_of(key)); !fresh) {
        add(source_.position_of(key),
            fmt::format("key '{}' appears twice (first on line {})", name, first->second.line),
            "remove one of them");
        continue;
      }
      values_.where[name] = at(key, value);
      read_field(name, value);
    }
  }

  void read_field(const std::string& key, const YAML::Node& value) {
    FileValues& v = values_;
    if (key == "name") v.name = checked_string(key, value, check_name);
    if (key == "description") v.description = text_string(key, value, true);
    if (key == "cluster") v.cluster = read_string(key, value);
    if (key == "partition") v.partition = slurm_word(key, value);
    if (key == "gpu_type") v.gpu_type = slurm_word(key, value);
    if (key == "num_nodes") v.num_nodes = read_int(key, value, IntRange{1, 64});
    if (key == "gpus_per_node") v.gpus_per_node = read_int(key, value, IntRange{0, 16});
    if (key == "cpus_per_task") v.cpus_per_task = read_int(key, value, IntRange{1, 256});
    if (key == "memory") {
      v.memory = checked_string(key, value, check_memory);
      if (v.memory) v.memory = normalize_memory(*v.memory);
    }
    if (key == "time_limit") v.time_limit = checked_string(key, value, check_time_limit);
    if (key == "commit") v.commit = checked_string(key, value, check_commit);
    if (key == "config_name") v.config_name = checked_string(key, value, check_config_name);
    if (key == "params") read_params(value);
    if (key == "groups") read_groups(value);
    if (key == "sweep") read_sweep(value);
    if (key == "overrides") read_overrides(value);
    if (key == "env") read_env(value);
    // "mmcfs" is mmcfs's own record in a job's copy: ignored.
  }

  // -- single values ------------------------------------------------------------

  std::optional<std::string> read_string(const std::string& key, const YAML::Node& value) {
    if (value.IsNull() && may_be_empty(key)) return std::string();
    if (value.IsNull()) {
      bad(key, fmt::format("'{}' has no value", key),
          fmt::format("write it like `{}`, or remove the line for the default", example_line(key)));
      return std::nullopt;
    }
    if (!value.IsScalar()) {
      bad(key, fmt::format("'{}' should be text, not {}", key, describe_node(value)),
          fmt::format("write it like `{}`", example_line(key)));
      return std::nullopt;
    }
    if (value.Scalar().empty() && !may_be_empty(key) && key != "name") {
      bad(key, fmt::format("'{}' is empty", key),
          fmt::format("write it like `{}`, or remove the line for the default", example_line(key)));
      return std::nullopt;
    }
    return value.Scalar();
  }

  std::optional<std::string> checked_string(const std::string& key, const YAML::Node& value,
                                            FormatCheck (*check)(const std::string&)) {
    std::optional<std::string> text = read_string(key, value);
    if (!text) return std::nullopt;
    if (FormatCheck problem = check(*text)) {
      bad(key, *problem);
      return std::nullopt;
    }
    return text;
  }

  std::optional<std::string> text_string(const std::string& key, const YAML::Node& value,
                                         bool newlines_allowed) {
    std::optional<std::string> text = read_string(key, value);
    if (!text) return std::nullopt;
    if (FormatCheck problem = check_text(key, *text, newlines_allowed)) {
      bad(key, *problem);
      return std::nullopt;
    }
    return text;
  }

  std::optional<std::string> slurm_word(const std::string& key, const YAML::Node& value) {
    std::optional<std::string> text = read_string(key, value);
    if (!text || text->empty()) return text;  // gpu_type "": no GPUs
    if (FormatCheck problem = check_slurm_word(key, *text)) {
      bad(key, *problem);
      return std::nullopt;
    }
    return text;
  }

  std::optional<int> read_int(const std::string& key, const YAML::Node& value,
                              const IntRange& range) {
    std::optional<long long> number;
    if (value.IsScalar()) number = parse_integer(value.Scalar());
    if (!number || *number < range.min || *number > range.max) {
      bad(key,
          fmt::format("'{}' should be {}, not {}", key, range.describe(), describe_node(value)),
          fmt::format("write it like `{}`", example_line(key)));
      return std::nullopt;
    }
    return static_cast<int>(*number);
  }

  // -- params (launch_params.h) --------------------------------------------------------

  void read_params(const YAML::Node& value) {
    if (!value.IsNull() && !value.IsMap()) {
      const bool overrides_like = value.IsSequence();
      bad("params", "'params' should be a map of Hydra keys to values, not " + describe_node(value),
          overrides_like ? "write `key: value` lines under it; a list of \"key=value\" strings "
                           "belongs in overrides"
                         : "write it like `" + example_line("params") + "`");
      return;
    }
    // `params:` alone or `params: {}` means none (not the last-used ones).
    ParamsReader reader(source_, problems_);
    values_.params = reader.read(value);
    values_.param_at = reader.positions();
    if (!values_.params) values_.invalid.insert("params");
  }

  // -- sweep (launch_params.h, launch/sweep.h) ----------------------------------------

  void read_sweep(const YAML::Node& value) {
    if (!value.IsNull() && !value.IsMap()) {
      bad("sweep", "'sweep' should be a map of Hydra keys to lists of values, not " + describe_node(value),
          "write it like `sweep: {optimizer.lr: [1e-3, 1e-4], data.batch_size: [16, 32]}`");
      return;
    }
    ParamsReader reader(source_, problems_);
    values_.sweep = reader.read_sweep(value);
    values_.sweep_at = reader.positions();
    if (!values_.sweep) values_.invalid.insert("sweep");
  }

  // -- groups: Hydra group -> option -------------------------------------------------

  void read_groups(const YAML::Node& value) {
    if (!value.IsNull() && !value.IsMap()) {
      bad("groups", "'groups' should be a map of Hydra groups to options, not " + describe_node(value),
          "write it like `" + example_line("groups") + "`");
      return;
    }
    std::vector<std::pair<std::string, std::string>> groups;
    bool failed = false;
    for (auto it = value.begin(); it != value.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node option = it->second;
      const Position key_at = source_.position_of(key);
      if (!key.IsScalar() || check_group_name(key.Scalar())) {
        FormatCheck problem = key.IsScalar() ? check_group_name(key.Scalar()) : FormatCheck{};
        add(key_at, problem ? problem->what : "a groups key is " + describe_node(key),
            problem ? problem->fix : "write `group: option` lines, e.g. `model: transformer`");
        failed = true;
        continue;
      }
      const std::string& group = key.Scalar();
      if (values_.group_at.contains(group)) {
        add(key_at, fmt::format("group '{}' is given twice (first on line {})", group, values_.group_at[group].line),
            "remove one of them");
        failed = true;
        continue;
      }
      values_.group_at[group] = source_.position_of(option.IsNull() ? key : option);
      if (!option.IsScalar() || option.Scalar().empty() || check_group_name(option.Scalar())) {
        add(values_.group_at[group],
            fmt::format("the option of group '{}' should be an option name, not {}", group, describe_node(option)),
            fmt::format("write the name of a file in the group's directory without .yaml, e.g. `{}: NAME`", group));
        failed = true;
        continue;
      }
      groups.emplace_back(group, option.Scalar());
    }
    if (failed) {
      values_.invalid.insert("groups");
    } else {
      values_.groups = std::move(groups);
    }
  }

  // -- overrides and env ------------------------------------------------------------

  void read_overrides(const YAML::Node& value) {
    std::vector<std::string> overrides;
    if (!value.IsNull() && !value.IsSequence()) {
      bad("overrides", "'overrides' should be a list of strings, not " + describe_node(value),
          "write it like `" + example_line("overrides") + "`, one override per item");
      return;
    }
    int index = 0;
    for (const YAML::Node& item : value) {
      ++index;
      const Position where = source_.position_of(item);
      if (!item.IsScalar() || item.Scalar().empty()) {
        const bool empty = item.IsNull() || item.IsScalar();
        add(where,
            empty ? fmt::format("override #{} is empty", index)
                  : fmt::format("override #{} should be a string, not {}", index,
                                describe_node(item)),
            "write each override as a quoted string, e.g. `- \"+trainer.fast_dev_run=true\"`");
        values_.invalid.insert("overrides");
        continue;
      }
      if (FormatCheck problem = check_text(fmt::format("override #{}", index), item.Scalar(),
                                           false)) {
        add(where, problem->what, "write one override per item, each on one line");
        values_.invalid.insert("overrides");
        continue;
      }
      overrides.push_back(item.Scalar());
    }
    if (!values_.invalid.contains("overrides")) values_.overrides = std::move(overrides);
  }

  void read_env(const YAML::Node& value) {
    if (!value.IsNull() && !value.IsMap()) {
      bad("env", "'env' should be a map of variable names to values, not " + describe_node(value),
          "write it like `" + example_line("env") + "`");
      return;
    }
    std::vector<std::pair<std::string, std::string>> env;
    std::map<std::string, Position> seen;
    for (auto it = value.begin(); it != value.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node item = it->second;
      if (!env_entry_ok(key, item, seen)) {
        values_.invalid.insert("env");
        continue;
      }
      env.emplace_back(key.Scalar(), item.Scalar());
    }
    if (!values_.invalid.contains("env")) values_.env = std::move(env);
  }

  // True if one env entry is fine; else reports what is wrong with it.
  bool env_entry_ok(const YAML::Node& key, const YAML::Node& item,
                    std::map<std::string, Position>& seen) {
    const Position key_at = source_.position_of(key);
    auto report = [this](Position where, std::string what, std::string fix) {
      add(where, std::move(what), std::move(fix));
      return false;
    };
    if (!key.IsScalar()) {
      return report(key_at, "an env name is " + describe_node(key), "write `NAME: value` lines");
    }
    const std::string& name = key.Scalar();
    if (FormatCheck problem = check_env_name(name)) {
      return report(key_at, problem->what, problem->fix);
    }
    if (auto [first, fresh] = seen.emplace(name, key_at); !fresh) {
      return report(key_at,
                    fmt::format("env '{}' is given twice (first on line {})", name,
                                first->second.line),
                    "remove one of them");
    }
    if (item.IsNull()) {
      return report(key_at, fmt::format("env '{}' has no value", name),
                    fmt::format("write `{}: \"\"` for an empty value", name));
    }
    if (!item.IsScalar()) {
      return report(source_.position_of(item),
                    fmt::format("env '{}' should be text, not {}", name, describe_node(item)),
                    "write the value as one string");
    }
    if (FormatCheck problem = check_text(fmt::format("env '{}'", name), item.Scalar(), true)) {
      return report(source_.position_of(item), problem->what, problem->fix);
    }
    return true;
  }

  const std::string& text_;
  SourceText source_;
  ProblemList& problems_;
  FileValues values_;
};

}  // namespace

FileValues read_launch_file(const std::string& text, ProblemList& problems) {
  return Reader(text, problems).read();
}

}  // namespace mmcfs::launch::detail
