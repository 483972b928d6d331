// config_fields.cpp — reads and validates single clusters.yaml values (see
// config_fields.h).
//
// Thread rules: no shared state; a FieldReader is used by one loader call.
#include "config/config_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <filesystem>
#include <system_error>
#include <utility>

#include "config/config_schema.h"

namespace mmcfs::config::detail {
namespace {

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

}  // namespace

std::string IntRange::describe() const {
  if (max == INT_MAX) return fmt::format("a whole number, at least {}", min);
  return fmt::format("a whole number from {} to {}", min, max);
}

IntRange timing_range(std::string_view key) {
  if (key == "connect_timeout_seconds") return IntRange{1, 300};
  if (key == "command_timeout_seconds") return IntRange{1, 3600};
  if (key == "max_sweep_runs") return IntRange{1, 100000};
  return IntRange{1, INT_MAX};  // gpu_cache_seconds, job_poll_seconds
}

void Timing::set(std::string_view key, int seconds) {
  if (key == "gpu_cache_seconds") gpu_cache_seconds = seconds;
  if (key == "job_poll_seconds") job_poll_seconds = seconds;
  if (key == "connect_timeout_seconds") connect_timeout_seconds = seconds;
  if (key == "command_timeout_seconds") command_timeout_seconds = seconds;
  if (key == "max_sweep_runs") max_sweep_runs = seconds;
}

// ---------------------------------------------------------------------------
// FieldReader

Position FieldReader::value_position(const Field& field) const {
  return field.value.IsNull() ? source_.position_of(field.key) : source_.position_of(field.value);
}

void FieldReader::add(Position where, std::string what, std::string fix) {
  problems_.add(where, std::move(what), std::move(fix));
}

void FieldReader::read_timing(const Field& field, Timing& timing) {
  if (std::optional<int> seconds = read_integer(field, timing_range(field.name))) {
    timing.set(field.name, *seconds);
  }
}

std::optional<Position> FieldReader::read_name(const Field& field, ClusterConfig& c) {
  std::optional<std::string> name = read_nonempty_string(field);
  if (!name) return std::nullopt;
  c.name = *name;
  if (std::optional<char> bad = bad_name_char(*name)) {
    add(value_position(field), fmt::format("cluster name '{}' contains '{}'", *name, *bad),
        "use only letters, digits, '_', '.' and '-', starting with a letter or digit");
    return std::nullopt;
  }
  return value_position(field);
}

void FieldReader::read_host(const Field& field, ClusterConfig& c) {
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

void FieldReader::read_key_path(const Field& field, ClusterConfig& c) {
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

void FieldReader::read_workspace(const Field& field, ClusterConfig& c) {
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

std::optional<std::string> FieldReader::read_local_path(const Field& field) {
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

std::optional<std::string> FieldReader::read_string(const Field& field) {
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

std::optional<std::string> FieldReader::read_nonempty_string(const Field& field) {
  std::optional<std::string> text = read_string(field);
  if (text && text->empty()) {
    add(value_position(field), fmt::format("'{}' in {} is empty", field.name, field.owner),
        write_it_like(field.name));
    return std::nullopt;
  }
  return text;
}

std::vector<std::string> FieldReader::read_string_list(const Field& field) {
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
      add(source_.position_of(item),
          fmt::format("item #{} of '{}' in {} should be a non-empty string, not {}", index,
                      field.name, field.owner, item.IsScalar() ? "''" : describe_node(item)),
          write_it_like(field.name));
      continue;
    }
    items.push_back(item.Scalar());
  }
  return items;
}

std::optional<bool> FieldReader::read_bool(const Field& field) {
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

std::optional<int> FieldReader::read_integer(const Field& field, const IntRange& range) {
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

}  // namespace mmcfs::config::detail
