// cluster_config.cpp — loads clusters.yaml (see cluster_config.h): the file's
// structure (top level, settings, the clusters list, each entry), the checks
// that span fields or entries, and the small queries on the loaded model.
//
// One ConfigParser walks the YAML tree in one pass, collecting every problem
// with its position; the problems are sorted by position and reported
// together, one per line. Single values are read by FieldReader
// (config_fields.h), valid keys come from config_schema.h, positions and the
// message format from yaml_diagnostics.h; to_yaml is in cluster_config_yaml.cpp
// and expand_home in config_paths.cpp. yaml-cpp exceptions are caught here and
// never leave.
//
// Thread rules: no shared state; each call builds its own parser.
#include "config/cluster_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/text.h"
#include "config/config_fields.h"
#include "config/config_schema.h"
#include "config/yaml_diagnostics.h"

namespace mmcfs::config {
namespace detail {
namespace {

// One cluster entry as read, with what later cross-entry checks need.
struct ParsedEntry {
  ClusterConfig config;
  std::optional<Position> name_position;  // set when the name was valid
};

class ConfigParser {
 public:
  ConfigParser(const std::string& text, const std::string& path)
      : text_(text), path_(path), source_(text) {}

  Result<Config> parse() {
    std::optional<YAML::Node> loaded = load_yaml(source_, problems_, "check that this is a clusters.yaml file");
    if (!loaded) return problems_.to_error(path_);
    YAML::Node root = *loaded;
    try {
      Config config = parse_root(root);
      if (problems_.empty()) return config;
    } catch (const std::exception& e) {  // a yaml-cpp accessor we did not expect to throw
      problems_.add(Position{}, std::string("cannot read the file: ") + e.what(),
                    "please report this as a bug in mmcfs");
    }
    return problems_.to_error(path_);
  }

 private:
  Position position_of(const YAML::Node& node) const { return source_.position_of(node); }
  Position value_position(const Field& field) const { return fields_.value_position(field); }
  void add(Position where, std::string what, std::string fix) {
    problems_.add(where, std::move(what), std::move(fix));
  }

  // -- top level --------------------------------------------------------------

  Config parse_root(const YAML::Node& root) {
    Config config;
    if (root.IsNull()) {
      add(Position{}, "the file has no content",
          "add a 'clusters:' list; see config/clusters.yaml.example");
      return config;
    }
    if (!root.IsMap()) {
      add(position_of(root), "the top level is " + describe_node(root) + ", not a map",
          "start the file with 'clusters:' (and optionally 'settings:'); see "
          "config/clusters.yaml.example");
      return config;
    }
    std::optional<std::pair<YAML::Node, YAML::Node>> clusters;  // key, value
    Timing defaults;
    for (const auto& [key, value] : checked_pairs(root, "the top level", Section::kTopLevel)) {
      if (key.Scalar() == "settings") {
        defaults = parse_settings(Field{key, value, "settings", "the top level"});
      }
      if (key.Scalar() == "clusters") clusters.emplace(key, value);
      if (key.Scalar() == "projects") config.projects = parse_projects(Field{key, value, "projects", "the top level"});
    }
    if (!clusters) {
      add(position_of(root), "there is no 'clusters' list",
          "add 'clusters:' with at least one entry; see config/clusters.yaml.example");
      return config;
    }
    config.clusters = parse_clusters(
        Field{clusters->first, clusters->second, "clusters", "the top level"}, defaults);
    return config;
  }

  // The map's pairs whose keys are known, after reporting keys that are not
  // plain words, unknown to `section`, or given twice.
  std::vector<std::pair<YAML::Node, YAML::Node>> checked_pairs(const YAML::Node& map,
                                                               const std::string& owner,
                                                               Section section) {
    const std::vector<std::string> valid = valid_keys(section);
    std::vector<std::pair<YAML::Node, YAML::Node>> pairs;
    std::map<std::string, Position> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) {
        add(position_of(key),
            fmt::format("a key in {} is {}, not a word", owner, describe_node(key)),
            "keys are plain words such as 'name' or 'host'");
        continue;
      }
      const std::string& name = key.Scalar();
      if (!contains(valid, name)) {
        add(position_of(key), fmt::format("unknown key '{}' in {}", name, owner),
            unknown_key_fix(name, section));
        continue;
      }
      if (auto [first, inserted] = seen.emplace(name, position_of(key)); !inserted) {
        add(position_of(key),
            fmt::format("key '{}' appears twice in {} (first on line {})", name, owner,
                        first->second.line),
            "remove one of them");
        continue;
      }
      pairs.emplace_back(key, it->second);
    }
    return pairs;
  }

  // -- settings -----------------------------------------------------------------

  Timing parse_settings(const Field& field) {
    Timing timing;
    if (field.value.IsNull()) return timing;  // `settings:` alone: all defaults
    if (!field.value.IsMap()) {
      add(value_position(field), "'settings' is " + describe_node(field.value) + ", not a map",
          "indent the settings under it, e.g. `settings:` then `  gpu_cache_seconds: 60`");
      return timing;
    }
    for (const auto& [key, value] : checked_pairs(field.value, "settings", Section::kSettings)) {
      fields_.read_timing(Field{key, value, key.Scalar(), "settings"}, timing);
    }
    return timing;
  }

  // -- clusters -----------------------------------------------------------------

  // -- projects -----------------------------------------------------------------

  std::vector<ProjectRef> parse_projects(const Field& field) {
    std::vector<ProjectRef> projects;
    if (field.value.IsNull()) return projects;
    if (!field.value.IsSequence()) {
      add(position_of(field.value), "'projects' is " + describe_node(field.value) + ", not a list",
          "write one '- name: ...' / '  path: ...' entry per project");
      return projects;
    }
    std::map<std::string, int> seen;  // name -> line
    for (const auto& entry : field.value) {
      if (!entry.IsMap()) {
        add(position_of(entry), "a project entry is " + describe_node(entry) + ", not a map",
            "write '- name: myproject' and '  path: /path/to/repo'");
        continue;
      }
      ProjectRef p;
      for (const auto& [key, value] : checked_pairs(entry, "a project entry", Section::kProject)) {
        auto text = fields_.read_string(Field{key, value, key.Scalar(), "a project entry"});
        if (!text) continue;
        if (key.Scalar() == "name") p.name = *text;
        if (key.Scalar() == "path") p.path = expand_home(*text);
        if (key.Scalar() == "name" && !is_simple_name(*text)) {
          add(position_of(value), "project name '" + *text + "' has characters that cannot name a directory",
              "use letters, digits, '_', '.' and '-', starting with a letter or digit");
        }
        if (key.Scalar() == "path" && (p.path.empty() || p.path.front() != '/')) {
          add(position_of(value), "project path '" + *text + "' is not absolute",
              "give the repository's absolute path (or one starting with ~/)");
        } else if (key.Scalar() == "path" && !std::filesystem::is_directory(p.path)) {
          add(position_of(value), "project path " + p.path + " is not a directory",
              "point it at the top directory of the git repository");
        }
      }
      if (p.name.empty() || p.path.empty()) {
        add(position_of(entry), "a project entry needs both 'name' and 'path'",
            "write '- name: myproject' and '  path: /path/to/repo'");
        continue;
      }
      if (auto [it, inserted] = seen.emplace(p.name, position_of(entry).line); !inserted) {
        add(position_of(entry), fmt::format("project '{}' appears twice (first on line {})", p.name, it->second),
            "give each project its own name");
        continue;
      }
      projects.push_back(std::move(p));
    }
    return projects;
  }

  std::vector<ClusterConfig> parse_clusters(const Field& field, const Timing& defaults) {
    std::vector<ClusterConfig> clusters;
    if (field.value.IsNull() || (field.value.IsSequence() && field.value.size() == 0)) {
      add(value_position(field), "'clusters' is empty",
          "add at least one entry, e.g. `  - name: \"babel\"` with host and workspace");
      return clusters;
    }
    if (!field.value.IsSequence()) {
      add(value_position(field), "'clusters' is " + describe_node(field.value) + ", not a list",
          "write each cluster as a list item starting with `- name: ...`");
      return clusters;
    }
    std::map<std::string, int> first_line_by_name;
    int index = 0;
    for (const YAML::Node& entry : field.value) {
      ++index;
      ParsedEntry parsed = parse_entry(entry, index, defaults);
      if (parsed.name_position) check_unique_name(parsed, first_line_by_name);
      clusters.push_back(std::move(parsed.config));
    }
    return clusters;
  }

  void check_unique_name(const ParsedEntry& parsed,
                         std::map<std::string, int>& first_line_by_name) {
    const std::string& name = parsed.config.name;
    auto [first, inserted] = first_line_by_name.emplace(name, parsed.name_position->line);
    if (!inserted) {
      add(*parsed.name_position,
          fmt::format("cluster name '{}' is used twice (first on line {})", name, first->second),
          "give each cluster a different name");
    }
  }

  ParsedEntry parse_entry(const YAML::Node& entry, int index, const Timing& defaults) {
    ParsedEntry parsed;
    const Position entry_position = position_of(entry);
    parsed.config.source_line = entry_position.line;
    if (!entry.IsMap()) {
      const std::string what = entry.IsNull() ? fmt::format("cluster entry #{} is empty", index)
                                              : fmt::format("cluster entry #{} is {}, not a map",
                                                            index, describe_node(entry));
      add(entry_position, what,
          "write it as `- name: \"babel\"` followed by host and workspace lines, indented alike");
      return parsed;
    }
    const std::string owner = entry_label(entry, index);
    Timing timing = defaults;
    std::optional<Position> requires_vpn_position;
    for (const auto& [key, value] : checked_pairs(entry, owner, Section::kCluster)) {
      const Field field{key, value, key.Scalar(), owner};
      if (field.name == "requires_vpn") requires_vpn_position = value_position(field);
      read_cluster_field(field, parsed, timing);
    }
    check_required_keys(entry, owner, entry_position);
    check_vpn(parsed.config, owner, requires_vpn_position);
    apply_defaults(parsed.config, timing);
    return parsed;
  }

  static std::string entry_label(const YAML::Node& entry, int index) {
    const YAML::Node name = entry["name"];
    if (name && name.IsScalar() && !name.Scalar().empty()) {
      return fmt::format("cluster '{}'", name.Scalar());
    }
    return fmt::format("cluster entry #{}", index);
  }

  void read_cluster_field(const Field& field, ParsedEntry& parsed, Timing& timing) {
    ClusterConfig& c = parsed.config;
    const std::string& key = field.name;
    if (key == "name") parsed.name_position = fields_.read_name(field, c);
    if (key == "host") return fields_.read_host(field, c);
    if (key == "port") c.port = fields_.read_integer(field, IntRange{1, 65535}).value_or(c.port);
    if (key == "ssh_key_path") return fields_.read_key_path(field, c);
    if (key == "known_hosts") c.known_hosts = fields_.read_local_path(field).value_or("");
    if (key == "workspace") return fields_.read_workspace(field, c);
    if (key == "allowed_partitions") c.allowed_partitions = fields_.read_string_list(field);
    if (key == "allowed_gpu_types") c.allowed_gpu_types = fields_.read_string_list(field);
    if (key == "requires_vpn") c.vpn.required = fields_.read_bool(field).value_or(false);
    if (key == "vpn_protocol") c.vpn.protocol = fields_.read_string(field).value_or("");
    if (key == "vpn_portal") c.vpn.portal = fields_.read_string(field).value_or("");
    if (key == "vpn_username") c.vpn.username = fields_.read_string(field).value_or("");
    if (key == "vpn_gateway") c.vpn.gateway = fields_.read_string(field).value_or("");
    if (contains(kTimingKeys, key)) fields_.read_timing(field, timing);
  }

  void check_required_keys(const YAML::Node& entry, const std::string& owner,
                           Position entry_position) {
    for (std::string_view key : kRequiredClusterKeys) {
      if (!entry[std::string(key)]) {
        add(entry_position, fmt::format("{} has no '{}' (required)", owner, key),
            fmt::format("add `{}: {}`", key, example_value(key)));
      }
    }
  }

  void check_vpn(const ClusterConfig& c, const std::string& owner,
                 std::optional<Position> requires_vpn_position) {
    if (c.vpn.required && c.vpn.portal.empty() && requires_vpn_position) {
      add(*requires_vpn_position,
          fmt::format("{} sets requires_vpn: true but has no vpn_portal", owner),
          fmt::format("add `vpn_portal: {}`, or set requires_vpn: false",
                      example_value("vpn_portal")));
    }
  }

  static void apply_defaults(ClusterConfig& c, const Timing& timing) {
    if (c.known_hosts.empty()) c.known_hosts = expand_home("~/.ssh/known_hosts");
    c.gpu_cache_ttl = std::chrono::seconds(timing.gpu_cache_seconds);
    c.job_poll_interval = std::chrono::seconds(timing.job_poll_seconds);
    c.connect_timeout = std::chrono::seconds(timing.connect_timeout_seconds);
    c.command_timeout = std::chrono::seconds(timing.command_timeout_seconds);
    c.max_sweep_runs = timing.max_sweep_runs;
  }

  const std::string& text_;
  const std::string& path_;
  SourceText source_;
  ProblemList problems_;
  FieldReader fields_{source_, problems_};
};

}  // namespace
}  // namespace detail

// ---------------------------------------------------------------------------
// Public API.

bool ClusterConfig::partition_allowed(const std::string& partition) const {
  return allowed_partitions.empty() ||
         std::find(allowed_partitions.begin(), allowed_partitions.end(), partition) !=
             allowed_partitions.end();
}

std::string ClusterConfig::allowed_gpu_spelling(const std::string& slurm_type) const {
  if (allowed_gpu_types.empty()) return slurm_type;
  auto same_ignoring_case = [&slurm_type](const std::string& configured) {
    return configured.size() == slurm_type.size() &&
           std::equal(configured.begin(), configured.end(), slurm_type.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  };
  auto it = std::find_if(allowed_gpu_types.begin(), allowed_gpu_types.end(), same_ignoring_case);
  return it == allowed_gpu_types.end() ? std::string() : *it;
}

const ClusterConfig* Config::find(const std::string& name) const {
  auto it = std::find_if(clusters.begin(), clusters.end(),
                         [&name](const ClusterConfig& c) { return c.name == name; });
  return it == clusters.end() ? nullptr : &*it;
}

Result<Config> parse_config(const std::string& text, const std::string& path) {
  try {
    Result<Config> result = detail::ConfigParser(text, path).parse();
    if (result.ok()) result->path = path;
    return result;
  } catch (const std::exception& e) {  // only std::bad_alloc is expected here
    return Error{Errc::kInternal, fmt::format("{}: cannot load: {}", path, e.what())};
  }
}

Result<Config> load_config_file(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return Error{
        Errc::kNotFound,
        fmt::format("{}: no such file — copy config/clusters.yaml.example there and edit it",
                    path)};
  }
  if (std::filesystem::is_directory(path, error)) {
    return Error{Errc::kIsDirectory,
                 fmt::format("{}: is a directory — give the path of the clusters.yaml file", path)};
  }
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) {
    return Error{Errc::kIo, fmt::format("{}: cannot open: {} — check its permissions", path,
                                        std::strerror(errno))};
  }
  std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  if (file.bad()) {
    return Error{Errc::kIo,
                 fmt::format("{}: cannot read: {} — check the disk", path, std::strerror(errno))};
  }
  return parse_config(text, path);
}

}  // namespace mmcfs::config
