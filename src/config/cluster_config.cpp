// cluster_config.cpp — parses and validates clusters.yaml (see cluster_config.h).
//
// One ConfigParser walks the YAML tree in one pass, collecting every problem
// with its position; the problems are sorted by position and reported
// together, one per line. yaml-cpp exceptions are caught here and never leave.
//
// Thread rules: no shared state; each call builds its own parser.
#include "config/cluster_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <pwd.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
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

namespace mmcfs::config {
namespace {

constexpr std::size_t kMaxReportedProblems = 20;

constexpr std::array<std::string_view, 2> kTopLevelKeys = {"settings", "clusters"};
constexpr std::array<std::string_view, 3> kTimingKeys = {
    "gpu_cache_seconds", "connect_timeout_seconds", "command_timeout_seconds"};
// clang-format off
constexpr std::array<std::string_view, 16> kClusterKeys = {
    "name", "host", "port", "ssh_key_path", "known_hosts", "workspace",
    "allowed_partitions", "allowed_gpu_types",
    "requires_vpn", "vpn_protocol", "vpn_portal", "vpn_username", "vpn_gateway",
    "gpu_cache_seconds", "connect_timeout_seconds", "command_timeout_seconds"};
// clang-format on
constexpr std::array<std::string_view, 3> kRequiredClusterKeys = {"name", "host", "workspace"};

// The three kinds of map in the file, each with its own set of keys.
enum class Section { kTopLevel, kSettings, kCluster };

std::vector<std::string> valid_keys(Section section) {
  switch (section) {
    case Section::kTopLevel:
      return {kTopLevelKeys.begin(), kTopLevelKeys.end()};
    case Section::kSettings:
      return {kTimingKeys.begin(), kTimingKeys.end()};
    case Section::kCluster:
      return {kClusterKeys.begin(), kClusterKeys.end()};
  }
  return {};
}

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

bool contains(const std::vector<std::string>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// The hint for an unknown key: a close spelling, else where the key belongs
// if it is valid elsewhere in the file, else the list of valid keys.
std::string unknown_key_fix(const std::string& key, Section section) {
  const std::vector<std::string> valid = valid_keys(section);
  if (key == "<<") return "YAML merge keys are not supported; write the keys out in each entry";
  if (std::string suggestion = closest_match(key, valid); !suggestion.empty()) {
    return fmt::format("did you mean '{}'?", suggestion);
  }
  const bool timing_key = contains(kTimingKeys, key);
  if (section != Section::kCluster && contains(kClusterKeys, key) && !timing_key) {
    return fmt::format("'{}' belongs in a cluster entry under 'clusters:'", key);
  }
  if (section == Section::kTopLevel && timing_key) {
    return fmt::format("'{}' belongs under 'settings:' or in a cluster entry", key);
  }
  return fmt::format("valid keys here are: {}", fmt::join(valid, ", "));
}

// An example value per key, used in "write it like ..." hints.
std::string example_value(std::string_view key) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kExamples = {{
      {"name", "\"babel\""},
      {"host", "\"user@login.cluster.edu\""},
      {"port", "22"},
      {"ssh_key_path", "\"~/.ssh/id_ed25519\""},
      {"known_hosts", "\"~/.ssh/known_hosts\""},
      {"workspace", "\"/home/user/mlops-jobs\""},
      {"allowed_partitions", "[general, preempt]"},
      {"allowed_gpu_types", "[A6000, A100_40GB]"},
      {"requires_vpn", "false"},
      {"vpn_protocol", "\"gp\""},
      {"vpn_portal", "\"https://portal.example.edu\""},
      {"vpn_username", "\"user\""},
      {"vpn_gateway", "\"GATEWAY-NAME\""},
      {"gpu_cache_seconds", "60"},
      {"connect_timeout_seconds", "10"},
      {"command_timeout_seconds", "30"},
  }};
  for (const auto& [name, example] : kExamples) {
    if (name == key) return std::string(example);
  }
  return "...";
}

std::string write_it_like(std::string_view key) {
  return fmt::format("write it like `{}: {}`", key, example_value(key));
}

// ---------------------------------------------------------------------------
// Problems and where they are.

struct Position {
  int line = 1;    // 1-based
  int column = 1;  // 1-based
};

bool operator<(const Position& a, const Position& b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

Position from_mark(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return Position{};
  return Position{mark.line + 1, mark.column + 1};
}

struct Problem {
  Position where;
  std::string what;
  std::string fix;
};

class ProblemList {
 public:
  void add(Position where, std::string what, std::string fix) {
    problems_.push_back(Problem{where, std::move(what), std::move(fix)});
  }
  bool empty() const { return problems_.empty(); }

  // All problems, sorted by position, one "path:line:col: what — fix" per line.
  Error to_error(const std::string& path) const {
    std::vector<Problem> sorted = problems_;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Problem& a, const Problem& b) { return a.where < b.where; });
    std::string message;
    const std::size_t shown = std::min(sorted.size(), kMaxReportedProblems);
    for (std::size_t i = 0; i < shown; ++i) {
      if (i > 0) message += '\n';
      message += format_problem(path, sorted[i]);
    }
    if (sorted.size() > shown) {
      message += fmt::format("\n{}: ... and {} more problems", path, sorted.size() - shown);
    }
    return Error{Errc::kInvalidArgument, message};
  }

 private:
  static std::string format_problem(const std::string& path, const Problem& p) {
    std::string line = fmt::format("{}:{}:{}: {}", path, p.where.line, p.where.column, p.what);
    if (!p.fix.empty()) line += " — " + p.fix;
    return line;
  }

  std::vector<Problem> problems_;
};

// ---------------------------------------------------------------------------
// Small helpers over nodes and strings.

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", node.Scalar());
    default:
      return "nothing";
  }
}

bool is_name_start(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_name_char(char c) { return is_name_start(c) || c == '_' || c == '.' || c == '-'; }

// The first character not allowed in a cluster name, or nullopt if it is fine.
std::optional<char> bad_name_char(const std::string& name) {
  if (!is_name_start(name.front())) return name.front();
  for (char c : name) {
    if (!is_name_char(c)) return c;
  }
  return std::nullopt;
}

bool has_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

bool is_hostname(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

std::optional<long long> parse_integer(const std::string& text) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::string home_directory() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
  struct passwd entry {};
  struct passwd* found = nullptr;
  std::array<char, 4096> buffer{};
  if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_dir != nullptr) {
    return found->pw_dir;
  }
  return "";
}

// ---------------------------------------------------------------------------
// The parser.

struct IntRange {
  long long min;
  long long max;
  std::string describe() const {
    if (max == INT_MAX) return fmt::format("a whole number, at least {}", min);
    return fmt::format("a whole number from {} to {}", min, max);
  }
};

IntRange timing_range(std::string_view key) {
  if (key == "connect_timeout_seconds") return IntRange{1, 300};
  if (key == "command_timeout_seconds") return IntRange{1, 3600};
  return IntRange{1, INT_MAX};  // gpu_cache_seconds
}

// Seconds for the three timing keys; from `settings:`, overridden per cluster.
struct Timing {
  int gpu_cache_seconds = 60;
  int connect_timeout_seconds = 10;
  int command_timeout_seconds = 30;

  void set(std::string_view key, int seconds) {
    if (key == "gpu_cache_seconds") gpu_cache_seconds = seconds;
    if (key == "connect_timeout_seconds") connect_timeout_seconds = seconds;
    if (key == "command_timeout_seconds") command_timeout_seconds = seconds;
  }
};

// One `key: value` pair being read, and whose it is for messages.
struct Field {
  const YAML::Node& key;
  const YAML::Node& value;
  std::string name;   // the key's text
  std::string owner;  // "cluster 'babel'", "settings", "the top level"
};

// One cluster entry as read, with what later cross-entry checks need.
struct ParsedEntry {
  ClusterConfig config;
  std::optional<Position> name_position;  // set when the name was valid
};

class ConfigParser {
 public:
  ConfigParser(const std::string& text, const std::string& path) : text_(text), path_(path) {
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) lines_.push_back(line);
  }

  Result<Config> parse() {
    YAML::Node root;
    try {
      root = YAML::Load(text_);
    } catch (const YAML::ParserException& e) {
      problems_.add(from_mark(e.mark), "YAML syntax error: " + e.msg, syntax_error_fix(e.mark));
      return problems_.to_error(path_);
    } catch (const std::exception& e) {
      problems_.add(Position{}, std::string("cannot parse YAML: ") + e.what(),
                    "check that this is a clusters.yaml file");
      return problems_.to_error(path_);
    }
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
  std::string syntax_error_fix(const YAML::Mark& mark) const {
    const bool on_a_line = mark.line >= 0 && static_cast<std::size_t>(mark.line) < lines_.size();
    if (on_a_line && indented_with_tab(lines_[mark.line])) {
      return "indent with spaces: YAML does not allow tabs for indentation";
    }
    return "check the indentation and quoting on this line and the one before it";
  }

  static bool indented_with_tab(std::string_view line) {
    const std::size_t first = line.find_first_not_of(' ');
    return first != std::string_view::npos && line[first] == '\t';
  }

  // -- positions ------------------------------------------------------------

  // yaml-cpp marks an empty value (`- ` or `key:` with nothing after it) at
  // the next token, often on a later line. Walk back to the last thing
  // written before that mark: the `-` or `:` that introduced the empty value.
  Position position_of(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (!node.IsNull() || mark.is_null() || written_null_at(mark)) return from_mark(mark);
    for (int line = std::min<int>(mark.line, static_cast<int>(lines_.size()) - 1); line >= 0;
         --line) {
      std::string_view text = lines_[line];
      if (line == mark.line) text = text.substr(0, std::min<std::size_t>(mark.column, text.size()));
      const std::size_t last = last_written_column(text);
      if (last != std::string_view::npos) return Position{line + 1, static_cast<int>(last) + 1};
    }
    return from_mark(mark);
  }

  // True if the text at `mark` spells a null (~, null) rather than nothing.
  bool written_null_at(const YAML::Mark& mark) const {
    if (mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= text_.size()) return false;
    std::string_view rest = std::string_view(text_).substr(mark.pos);
    return rest.starts_with("~") || rest.starts_with("null") || rest.starts_with("Null") ||
           rest.starts_with("NULL");
  }

  // Column of the last character before any comment, or npos if none.
  static std::size_t last_written_column(std::string_view line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      const bool comment =
          line[i] == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(line[i - 1])));
      if (comment) {
        line = line.substr(0, i);
        break;
      }
    }
    return line.find_last_not_of(" \t\r");
  }

  // Where to point for a problem with a value: at the key if nothing is written.
  Position value_position(const Field& field) const {
    return field.value.IsNull() ? position_of(field.key) : position_of(field.value);
  }

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
      read_timing(Field{key, value, key.Scalar(), "settings"}, timing);
    }
    return timing;
  }

  void read_timing(const Field& field, Timing& timing) {
    if (std::optional<int> seconds = read_integer(field, timing_range(field.name))) {
      timing.set(field.name, *seconds);
    }
  }

  // -- clusters -----------------------------------------------------------------

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
    if (key == "name") return read_name(field, parsed);
    if (key == "host") return read_host(field, c);
    if (key == "port") c.port = read_integer(field, IntRange{1, 65535}).value_or(c.port);
    if (key == "ssh_key_path") return read_key_path(field, c);
    if (key == "known_hosts") c.known_hosts = read_local_path(field).value_or("");
    if (key == "workspace") return read_workspace(field, c);
    if (key == "allowed_partitions") c.allowed_partitions = read_string_list(field);
    if (key == "allowed_gpu_types") c.allowed_gpu_types = read_string_list(field);
    if (key == "requires_vpn") c.vpn.required = read_bool(field).value_or(false);
    if (key == "vpn_protocol") c.vpn.protocol = read_string(field).value_or("");
    if (key == "vpn_portal") c.vpn.portal = read_string(field).value_or("");
    if (key == "vpn_username") c.vpn.username = read_string(field).value_or("");
    if (key == "vpn_gateway") c.vpn.gateway = read_string(field).value_or("");
    if (contains(kTimingKeys, key)) read_timing(field, timing);
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
    c.connect_timeout = std::chrono::seconds(timing.connect_timeout_seconds);
    c.command_timeout = std::chrono::seconds(timing.command_timeout_seconds);
  }

  // -- the fields with their own rules ---------------------------------------------

  void read_name(const Field& field, ParsedEntry& parsed) {
    std::optional<std::string> name = read_nonempty_string(field);
    if (!name) return;
    parsed.config.name = *name;
    if (std::optional<char> bad = bad_name_char(*name)) {
      add(value_position(field), fmt::format("cluster name '{}' contains '{}'", *name, *bad),
          "use only letters, digits, '_', '.' and '-', starting with a letter or digit");
      return;
    }
    parsed.name_position = value_position(field);
  }

  void read_host(const Field& field, ClusterConfig& c) {
    std::optional<std::string> host = read_nonempty_string(field);
    if (!host) return;
    const std::size_t at = host->find('@');
    if (at == std::string::npos || at == 0) {
      add(value_position(field), fmt::format("host '{}' in {} has no user", *host, field.owner),
          fmt::format("write it as user@hostname, e.g. `host: \"user@{}\"`",
                      host->substr(at == 0 ? 1 : 0)));
      return;
    }
    c.user = host->substr(0, at);
    c.hostname = host->substr(at + 1);
    if (c.hostname.find(':') != std::string::npos) {
      add(value_position(field), fmt::format("host '{}' in {} includes a port", *host, field.owner),
          "write the host without ':port' and set `port:` on its own line");
    } else if (!is_hostname(c.hostname) || has_space(c.user) ||
               c.user.find(':') != std::string::npos) {
      add(value_position(field),
          fmt::format("host '{}' in {} is not user@hostname", *host, field.owner),
          "the hostname may hold only letters, digits, '.', '-' and '_', e.g. `host: "
          "\"user@login.cluster.edu\"`");
    }
  }

  void read_key_path(const Field& field, ClusterConfig& c) {
    std::optional<std::string> path = read_local_path(field);
    if (!path || path->empty()) return;  // empty: ssh-agent
    c.ssh_key_path = *path;
    std::error_code error;
    const auto status = std::filesystem::status(*path, error);
    const std::string given = field.value.Scalar();
    const std::string shown =
        given == *path ? "'" + given + "'" : fmt::format("'{}' ({})", *path, given);
    if (status.type() == std::filesystem::file_type::not_found) {
      add(value_position(field),
          fmt::format("ssh key file {} in {} does not exist", shown, field.owner),
          fmt::format("create one with `ssh-keygen -t ed25519 -f {}`, or remove ssh_key_path to "
                      "use ssh-agent",
                      *path));
    } else if (error) {
      add(value_position(field),
          fmt::format("ssh key file {} in {} cannot be checked: {}", shown, field.owner,
                      error.message()),
          "make the file readable, or remove ssh_key_path to use ssh-agent");
    } else if (!std::filesystem::is_regular_file(status)) {
      add(value_position(field),
          fmt::format("ssh key file {} in {} is not a regular file", shown, field.owner),
          "point ssh_key_path at a private key file such as ~/.ssh/id_ed25519");
    } else if (path->ends_with(".pub")) {
      add(value_position(field),
          fmt::format("ssh_key_path {} in {} is a public key", shown, field.owner),
          fmt::format("point it at the private key, e.g. '{}'", given.substr(0, given.size() - 4)));
    }
  }

  void read_workspace(const Field& field, ClusterConfig& c) {
    std::optional<std::string> workspace = read_nonempty_string(field);
    if (!workspace) return;
    c.workspace = *workspace;
    if (!workspace->starts_with('/') && !workspace->starts_with("~/")) {
      add(value_position(field),
          fmt::format("workspace '{}' in {} is a relative path", *workspace, field.owner),
          "give the remote directory as an absolute path or one starting with ~/, e.g. `workspace: "
          "\"~/mlops-jobs\"`");
    }
  }

  // A local file path, "~/" expanded; must then be absolute ("" allowed).
  std::optional<std::string> read_local_path(const Field& field) {
    std::optional<std::string> given = read_string(field);
    if (!given || given->empty()) return given;
    std::string path = expand_home(*given);
    if (!path.starts_with('/')) {
      add(value_position(field),
          fmt::format("{} '{}' in {} is a relative path", field.name, *given, field.owner),
          fmt::format("give an absolute path or one starting with ~/, e.g. `{}: {}`", field.name,
                      example_value(field.name)));
      return std::nullopt;
    }
    return path;
  }

  // -- typed readers: report and return nullopt on a wrong type ----------------------

  std::optional<std::string> read_string(const Field& field) {
    if (field.value.IsNull()) {
      add(value_position(field), fmt::format("'{}' in {} has no value", field.name, field.owner),
          contains(kRequiredClusterKeys, field.name)
              ? write_it_like(field.name)
              : write_it_like(field.name) + ", or remove the line");
      return std::nullopt;
    }
    if (!field.value.IsScalar()) {
      add(value_position(field),
          fmt::format("'{}' in {} should be a string, not {}", field.name, field.owner,
                      describe_node(field.value)),
          write_it_like(field.name));
      return std::nullopt;
    }
    return field.value.Scalar();
  }

  std::optional<std::string> read_nonempty_string(const Field& field) {
    std::optional<std::string> text = read_string(field);
    if (text && text->empty()) {
      add(value_position(field), fmt::format("'{}' in {} is empty", field.name, field.owner),
          write_it_like(field.name));
      return std::nullopt;
    }
    return text;
  }

  std::vector<std::string> read_string_list(const Field& field) {
    std::vector<std::string> items;
    if (field.value.IsNull()) return items;  // `allowed_partitions:` alone: all allowed
    if (!field.value.IsSequence()) {
      add(value_position(field),
          fmt::format("'{}' in {} should be a list of strings, not {}", field.name, field.owner,
                      describe_node(field.value)),
          write_it_like(field.name) + " (an empty list or no line at all allows every one)");
      return items;
    }
    int index = 0;
    for (const YAML::Node& item : field.value) {
      ++index;
      if (!item.IsScalar() || item.Scalar().empty()) {
        add(position_of(item),
            fmt::format("item #{} of '{}' in {} should be a non-empty string, not {}", index,
                        field.name, field.owner, item.IsScalar() ? "''" : describe_node(item)),
            write_it_like(field.name));
        continue;
      }
      items.push_back(item.Scalar());
    }
    return items;
  }

  std::optional<bool> read_bool(const Field& field) {
    bool value = false;
    if (!field.value.IsScalar() || !YAML::convert<bool>::decode(field.value, value)) {
      add(value_position(field),
          fmt::format("'{}' in {} should be true or false, not {}", field.name, field.owner,
                      describe_node(field.value)),
          write_it_like(field.name));
      return std::nullopt;
    }
    return value;
  }

  std::optional<int> read_integer(const Field& field, const IntRange& range) {
    std::optional<long long> value;
    if (field.value.IsScalar()) value = parse_integer(field.value.Scalar());
    if (!value || *value < range.min || *value > range.max) {
      add(value_position(field),
          fmt::format("'{}' in {} should be {}, not {}", field.name, field.owner, range.describe(),
                      describe_node(field.value)),
          write_it_like(field.name));
      return std::nullopt;
    }
    return static_cast<int>(*value);
  }

  const std::string& text_;
  const std::string& path_;
  std::vector<std::string> lines_;
  ProblemList problems_;
};

// ---------------------------------------------------------------------------
// to_yaml pieces.

void emit_string(YAML::Emitter& out, std::string_view key, const std::string& value) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted << value;
}

void emit_list(YAML::Emitter& out, std::string_view key, const std::vector<std::string>& values,
               std::string_view when_empty) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& value : values) out << YAML::DoubleQuoted << value;
  out << YAML::EndSeq;
  if (values.empty()) out << YAML::Comment(std::string(when_empty));
}

void emit_vpn(YAML::Emitter& out, const VpnConfig& vpn) {
  out << YAML::Key << "requires_vpn" << YAML::Value << vpn.required;
  const std::array<std::pair<std::string_view, const std::string*>, 4> fields = {{
      {"vpn_protocol", &vpn.protocol},
      {"vpn_portal", &vpn.portal},
      {"vpn_username", &vpn.username},
      {"vpn_gateway", &vpn.gateway},
  }};
  for (const auto& [key, value] : fields) {
    if (!value->empty()) emit_string(out, key, *value);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API.

std::string ClusterConfig::to_yaml() const {
  YAML::Emitter out;
  out << YAML::Comment(fmt::format(
      "cluster '{}' as loaded (clusters.yaml line {}), with effective values", name, source_line));
  out << YAML::BeginMap;
  emit_string(out, "name", name);
  emit_string(out, "host", user + "@" + hostname);
  out << YAML::Key << "port" << YAML::Value << port;
  emit_string(out, "ssh_key_path", ssh_key_path);
  if (ssh_key_path.empty()) out << YAML::Comment("empty: keys come from ssh-agent");
  emit_string(out, "known_hosts", known_hosts);
  emit_string(out, "workspace", workspace);
  emit_list(out, "allowed_partitions", allowed_partitions, "empty: every partition is allowed");
  emit_list(out, "allowed_gpu_types", allowed_gpu_types, "empty: every GPU type is allowed");
  emit_vpn(out, vpn);
  out << YAML::Key << "gpu_cache_seconds" << YAML::Value << gpu_cache_ttl.count();
  out << YAML::Key << "connect_timeout_seconds" << YAML::Value << connect_timeout.count();
  out << YAML::Key << "command_timeout_seconds" << YAML::Value << command_timeout.count();
  out << YAML::EndMap;
  if (!out.good())
    return fmt::format("# cannot write cluster '{}' as YAML: {}\n", name, out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

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
    Result<Config> result = ConfigParser(text, path).parse();
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

std::string expand_home(const std::string& path) {
  if (path != "~" && !path.starts_with("~/")) return path;
  const std::string home = home_directory();
  if (home.empty()) return path;
  return home + path.substr(1);
}

std::string default_config_path() { return expand_home("~/.config/mmcfs/clusters.yaml"); }

}  // namespace mmcfs::config
