// config_schema.cpp — key sets, examples and unknown-key hints (see config_schema.h).
//
// Thread rules: constants and pure functions; safe from any thread.
#include "config/config_schema.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <utility>

#include "common/suggest.h"

namespace mmcfs::config::detail {

std::vector<std::string> valid_keys(Section section) {
  switch (section) {
    case Section::kTopLevel:
      return {kTopLevelKeys.begin(), kTopLevelKeys.end()};
    case Section::kSettings:
      return {kTimingKeys.begin(), kTimingKeys.end()};
    case Section::kCluster:
      return {kClusterKeys.begin(), kClusterKeys.end()};
    case Section::kProject:
      return {kProjectKeys.begin(), kProjectKeys.end()};
  }
  return {};
}

bool contains(const std::vector<std::string>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

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

std::string example_value(std::string_view key) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kExamples = {{
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
      {"max_sweep_runs", "256"},
  }};
  for (const auto& [name, example] : kExamples) {
    if (name == key) return std::string(example);
  }
  return "...";
}

std::string write_it_like(std::string_view key) {
  return fmt::format("write it like `{}: {}`", key, example_value(key));
}

}  // namespace mmcfs::config::detail
