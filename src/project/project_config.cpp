// project_config.cpp — loads, validates and renders .mlops-config.yaml (see
// project_config.h).
//
// One ProjectConfigParser walks the YAML tree once, collecting every problem
// with its position in a ProblemList (config/yaml_diagnostics.h), which sorts
// and formats them as "path:line:column: what — fix". yaml-cpp exceptions are
// caught here and never leave.
//
// Thread rules: no shared state; each call builds its own parser.
#include "project/project_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/suggest.h"
#include "config/yaml_diagnostics.h"

namespace mmcfs::project {
namespace {

namespace fs = std::filesystem;
using config::detail::describe_node;
using config::detail::from_mark;
using config::detail::Position;
using config::detail::ProblemList;
using config::detail::SourceText;

constexpr std::uintmax_t kMaxFileBytes = 1 << 20;  // a config, not a data file

constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kKeyExamples = {{
    {"conda_env", "\"pytorch\""},
    {"train_script", "\"scripts/train.py\""},
    {"python", "\"python3\""},
    {"env_setup", "[\"module load cuda/12.1\"]"},
    {"hydra_config_dir", "\"conf\""},
}};

std::vector<std::string> valid_keys() {
  std::vector<std::string> keys;
  for (const auto& [key, example] : kKeyExamples) keys.emplace_back(key);
  return keys;
}

// "`train_script: "scripts/train.py"`"
std::string example_line(std::string_view key) {
  for (const auto& [name, example] : kKeyExamples) {
    if (name == key) return fmt::format("`{}: {}`", key, example);
  }
  return "";
}

std::string write_it_like(std::string_view key) { return "write it like " + example_line(key); }

std::string unknown_key_fix(const std::string& key) {
  if (key == "<<") return "YAML merge keys are not supported; write the keys out";
  if (std::string suggestion = closest_match(key, valid_keys()); !suggestion.empty()) {
    return fmt::format("did you mean '{}'?", suggestion);
  }
  return fmt::format("valid keys are: {}", fmt::join(valid_keys(), ", "));
}

bool has_control(std::string_view s, bool allow_tab) {
  return std::any_of(s.begin(), s.end(), [&](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && !(allow_tab && c == '\t')) || u == 0x7f;
  });
}

bool has_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

bool has_dotdot(const std::string& path) {
  for (const fs::path& part : fs::path(path)) {
    if (part == "..") return true;
  }
  return false;
}

// One `key: value` of the file.
struct Entry {
  const YAML::Node& key;
  const YAML::Node& value;
  std::string name;
};

class ProjectConfigParser {
 public:
  ProjectConfigParser(const std::string& text, const std::string& path)
      : text_(text), path_(path), source_(text) {}

  Result<ProjectConfig> parse() {
    std::optional<YAML::Node> loaded =
        load_yaml(source_, problems_, "check that this is a .mlops-config.yaml file");
    if (!loaded) return problems_.to_error(path_);
    YAML::Node root = *loaded;
    ProjectConfig config;
    config.from_file = true;
    try {
      read_root(root, config);
      if (problems_.empty()) return config;
    } catch (const std::exception& e) {  // a yaml-cpp accessor we did not expect to throw
      problems_.add(Position{}, std::string("cannot read the file: ") + e.what(),
                    "please report this as a bug in mmcfs");
    }
    return problems_.to_error(path_);
  }

 private:
  void add(Position where, std::string what, std::string fix) {
    problems_.add(where, std::move(what), std::move(fix));
  }
  Position position_of(const YAML::Node& node) const { return source_.position_of(node); }
  // Where to point for a problem with a value: at the key if nothing is written.
  Position where(const Entry& e) const {
    return e.value.IsNull() ? position_of(e.key) : position_of(e.value);
  }

  // -- structure --------------------------------------------------------------

  void read_root(const YAML::Node& root, ProjectConfig& config) {
    if (root.IsNull()) return;  // empty or comments only: every default applies
    if (!root.IsMap()) {
      add(position_of(root), "the top level is " + describe_node(root) + ", not a map",
          "write one `key: value` per line, e.g. `conda_env: \"pytorch\"`; see "
          "config/mlops-config.yaml.example");
      return;
    }
    std::map<std::string, Position> seen;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!checked_key(key, seen)) continue;
      read_entry(Entry{key, value, key.Scalar()}, config);
    }
  }

  // True if `key` is a known key not seen before; reports it otherwise.
  bool checked_key(const YAML::Node& key, std::map<std::string, Position>& seen) {
    if (!key.IsScalar()) {
      add(position_of(key), "a key is " + describe_node(key) + ", not a word",
          "keys are plain words such as 'conda_env' or 'train_script'");
      return false;
    }
    const std::string& name = key.Scalar();
    const std::vector<std::string> keys = valid_keys();
    if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
      add(position_of(key), fmt::format("unknown key '{}'", name), unknown_key_fix(name));
      return false;
    }
    if (auto [first, inserted] = seen.emplace(name, position_of(key)); !inserted) {
      add(position_of(key),
          fmt::format("key '{}' appears twice (first on line {})", name, first->second.line),
          "remove one of them");
      return false;
    }
    return true;
  }

  void read_entry(const Entry& e, ProjectConfig& config) {
    if (e.name == "conda_env") read_conda_env(e, config.conda_env);
    if (e.name == "train_script") read_inside_path(e, "the training script", config.train_script);
    if (e.name == "python") read_python(e, config.python);
    if (e.name == "env_setup") read_env_setup(e, config.env_setup);
    if (e.name == "hydra_config_dir") {
      read_inside_path(e, "the Hydra config directory", config.hydra_config_dir);
    }
  }

  // -- typed values -----------------------------------------------------------

  // A string without control characters; reports and returns nullopt otherwise.
  std::optional<std::string> read_string(const Entry& e) {
    if (e.value.IsNull()) {
      add(where(e), fmt::format("'{}' has no value", e.name),
          write_it_like(e.name) + ", or remove the line to use the default");
      return std::nullopt;
    }
    if (!e.value.IsScalar()) {
      add(where(e), fmt::format("'{}' should be a string, not {}", e.name, describe_node(e.value)),
          write_it_like(e.name));
      return std::nullopt;
    }
    if (has_control(e.value.Scalar(), false)) {
      add(where(e), fmt::format("'{}' contains a control character (newline, tab, ...)", e.name),
          write_it_like(e.name) + " on one line");
      return std::nullopt;
    }
    return e.value.Scalar();
  }

  std::optional<std::string> read_nonempty_string(const Entry& e) {
    std::optional<std::string> text = read_string(e);
    if (text && text->empty()) {
      add(where(e), fmt::format("'{}' is empty", e.name),
          write_it_like(e.name) + ", or remove the line to use the default");
      return std::nullopt;
    }
    return text;
  }

  // conda_env: "" (none), an environment name, or an absolute prefix path.
  void read_conda_env(const Entry& e, std::string& target) {
    std::optional<std::string> env = read_string(e);
    if (!env) return;
    const bool is_path = env->starts_with('/');
    const bool bad_name = !is_path && env->find_first_of("/:#") != std::string::npos;
    if (has_space(*env) || env->starts_with('-') || bad_name) {
      add(where(e), fmt::format("conda_env '{}' is not a conda environment name", *env),
          "give the name `conda env list` shows on the cluster (letters, digits, '_', '.', '-', "
          "no spaces), or the environment's absolute path; \"\" activates none");
      return;
    }
    target = *env;
  }

  // A path relative to the repository's top that stays inside it.
  void read_inside_path(const Entry& e, std::string_view what, std::string& target) {
    std::optional<std::string> path = read_nonempty_string(e);
    if (!path) return;
    if (path->starts_with('/') || path->starts_with('~')) {
      add(where(e), fmt::format("{} '{}' is not relative to the repository", e.name, *path),
          fmt::format("give {} relative to the repository's top directory, e.g. {}", what,
                      example_line(e.name)));
      return;
    }
    if (has_dotdot(*path)) {
      add(where(e), fmt::format("{} '{}' leaves the repository through '..'", e.name, *path),
          fmt::format("{} must be inside the repository (the cluster has only the clone); "
                      "give its path from the repository's top directory",
                      what));
      return;
    }
    target = *path;
  }

  // python: an interpreter name on the cluster's PATH, or an absolute path.
  void read_python(const Entry& e, std::string& target) {
    std::optional<std::string> python = read_nonempty_string(e);
    if (!python) return;
    if (has_space(*python) || python->starts_with('-')) {
      add(where(e), fmt::format("python '{}' is not a single interpreter", *python),
          "give only the interpreter, e.g. `python: \"python3\"`; options for the script "
          "belong in the launch's parameters");
      return;
    }
    if (python->find('/') != std::string::npos && !python->starts_with('/')) {
      add(where(e), fmt::format("python '{}' is a relative path", *python),
          "give a name found on the cluster's PATH such as `python: \"python3\"`, or an "
          "absolute path such as `python: \"/opt/conda/envs/pytorch/bin/python\"`");
      return;
    }
    target = *python;
  }

  // env_setup: a list of one-line shell commands; absent or null = none.
  void read_env_setup(const Entry& e, std::vector<std::string>& target) {
    if (e.value.IsNull()) return;
    if (!e.value.IsSequence()) {
      add(where(e),
          fmt::format("'env_setup' should be a list of shell lines, not {}",
                      describe_node(e.value)),
          "write each line as a list item: `env_setup:` then `  - \"module load cuda/12.1\"` "
          "on the next line");
      return;
    }
    std::vector<std::string> lines;
    int index = 0;
    for (const YAML::Node& item : e.value) {
      ++index;
      if (std::optional<std::string> line = read_env_setup_item(item, index)) {
        lines.push_back(*line);
      }
    }
    target = std::move(lines);
  }

  std::optional<std::string> read_env_setup_item(const YAML::Node& item, int index) {
    const Position at = position_of(item);
    if (item.IsMap()) {
      add(at, fmt::format("item #{} of 'env_setup' is a map, not a shell line", index),
          "YAML reads `word: value` as a map; put the whole line in quotes, e.g. "
          "`- \"echo step: 1\"`");
      return std::nullopt;
    }
    if (!item.IsScalar() || item.Scalar().empty()) {
      add(at,
          fmt::format("item #{} of 'env_setup' should be a shell line, not {}", index,
                      item.IsScalar() ? "''" : describe_node(item)),
          "write a command such as `- \"module load cuda/12.1\"`, or remove the item");
      return std::nullopt;
    }
    if (has_control(item.Scalar(), true)) {
      add(at, fmt::format("item #{} of 'env_setup' spans several lines", index),
          "give each command its own list item");
      return std::nullopt;
    }
    return item.Scalar();
  }

  const std::string& text_;
  const std::string& path_;
  SourceText source_;
  ProblemList problems_;
};

// -- rendering ------------------------------------------------------------------

// A YAML double-quoted scalar: \ and " escaped, control bytes as \xNN.
std::string yaml_quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string render_header(bool from_file) {
  std::string header =
      "# The effective configuration of this project: its .mlops-config.yaml with\n"
      "# every default filled in.\n";
  if (from_file) {
    header += "# Source: .mlops-config.yaml at the top of the repository.\n";
  } else {
    header +=
        "# Source: none. The repository has no .mlops-config.yaml, so every value below\n"
        "# is a default. To change one, copy this text to .mlops-config.yaml at the top\n"
        "# of the repository, edit it, commit and push it.\n";
  }
  return header +
         "# All keys are optional; mmcfs's config/mlops-config.yaml.example explains them.\n";
}

std::string render_env_setup(const std::vector<std::string>& lines) {
  if (lines.empty()) return "env_setup: []\n";
  std::string out = "env_setup:\n";
  for (const std::string& line : lines) out += "  - " + yaml_quoted(line) + "\n";
  return out;
}

}  // namespace

Result<ProjectConfig> parse_project_config(const std::string& text, const std::string& path) {
  ProjectConfigParser parser(text, path);
  return parser.parse();
}

Result<ProjectConfig> load_project_config(const std::string& repo_path) {
  const std::string path = (fs::path(repo_path) / kProjectConfigFileName).string();
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (status.type() == fs::file_type::not_found) return ProjectConfig{};
  if (error)
    return make_error(Errc::kIo, fmt::format("cannot look at {}: {}", path, error.message()));
  if (!fs::is_regular_file(status)) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{} is not a regular file — make it a YAML file, or remove it "
                                  "to use the defaults",
                                  path));
  }
  if (fs::file_size(path, error) > kMaxFileBytes && !error) {
    return make_error(Errc::kInvalidArgument,
                      fmt::format("{} is larger than 1 MiB — it should hold a few keys; see "
                                  "config/mlops-config.yaml.example",
                                  path));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in.is_open()) text << in.rdbuf();
  if (!in.is_open() || in.bad()) {
    return make_error(Errc::kIo, fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  }
  return parse_project_config(text.str(), path);
}

std::string render_project_config(const ProjectConfig& config) {
  std::string out = render_header(config.from_file);
  out +=
      "\n# Conda environment activated before training (conda activate <env>): a name\n"
      "# from `conda env list` on the cluster, or an absolute prefix path. \"\" = none.\n";
  out += "conda_env: " + yaml_quoted(config.conda_env) + "\n";
  out +=
      "\n# The training script, relative to the repository's top directory; it runs\n"
      "# as <python> <train_script> <Hydra overrides> in the job's clone.\n";
  out += "train_script: " + yaml_quoted(config.train_script) + "\n";
  out +=
      "\n# The interpreter: a name looked up on the cluster's PATH (inside the conda\n"
      "# environment if one is set), or an absolute path.\n";
  out += "python: " + yaml_quoted(config.python) + "\n";
  out +=
      "\n# Shell lines run in order, exactly as written, before training (e.g.\n"
      "# module load cuda/12.1). They are the project's own code, like train_script:\n"
      "# mmcfs neither quotes nor checks them.\n";
  out += render_env_setup(config.env_setup);
  out += "\n# Hydra's config directory, relative to the repository's top directory.\n";
  out += "hydra_config_dir: " + yaml_quoted(config.hydra_config_dir) + "\n";
  return out;
}

}  // namespace mmcfs::project
