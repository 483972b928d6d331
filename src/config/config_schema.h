// config_schema.h — which keys clusters.yaml allows where, an example value
// for each, and the hint for an unknown key (internal to src/config).
//
// The three kinds of map are the top level (settings, clusters), `settings:`
// (the timing keys) and a cluster entry. config/clusters.yaml.example is the
// user-facing description of the same keys; keep them in step.
//
// Thread rules: constants and pure functions; safe from any thread.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mmcfs::config::detail {

inline constexpr std::array<std::string_view, 3> kTopLevelKeys = {"settings", "clusters", "projects"};
inline constexpr std::array<std::string_view, 2> kProjectKeys = {"name", "path"};
inline constexpr std::array<std::string_view, 5> kTimingKeys = {
    "gpu_cache_seconds", "job_poll_seconds", "connect_timeout_seconds", "command_timeout_seconds",
    "max_sweep_runs"};
// clang-format off
inline constexpr std::array<std::string_view, 18> kClusterKeys = {
    "name", "host", "port", "ssh_key_path", "known_hosts", "workspace",
    "allowed_partitions", "allowed_gpu_types",
    "requires_vpn", "vpn_protocol", "vpn_portal", "vpn_username", "vpn_gateway",
    "gpu_cache_seconds", "job_poll_seconds", "connect_timeout_seconds", "command_timeout_seconds",
    "max_sweep_runs"};
// clang-format on
inline constexpr std::array<std::string_view, 3> kRequiredClusterKeys = {"name", "host",
                                                                         "workspace"};

// The three kinds of map in the file, each with its own set of keys.
enum class Section { kTopLevel, kSettings, kCluster, kProject };

std::vector<std::string> valid_keys(Section section);

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

bool contains(const std::vector<std::string>& keys, std::string_view key);

// The hint for an unknown key: a close spelling, else where the key belongs
// if it is valid elsewhere in the file, else the list of valid keys.
std::string unknown_key_fix(const std::string& key, Section section);

// An example value for a key, e.g. "22" for port; "..." for an unknown key.
std::string example_value(std::string_view key);

// "write it like `key: example`".
std::string write_it_like(std::string_view key);

}  // namespace mmcfs::config::detail
