// cluster_config_yaml.cpp — ClusterConfig::to_yaml: one loaded cluster entry
// written back as YAML with its effective values (for clusters/<n>/config.yaml).
//
// The output uses the clusters.yaml keys, so it can be pasted back into the
// file; comments say what an empty value means.
//
// Thread rules: no shared state; to_yaml only reads its ClusterConfig.
#include "config/cluster_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mmcfs::config {
namespace {

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
  out << YAML::Key << "job_poll_seconds" << YAML::Value << job_poll_interval.count();
  out << YAML::Key << "connect_timeout_seconds" << YAML::Value << connect_timeout.count();
  out << YAML::Key << "command_timeout_seconds" << YAML::Value << command_timeout.count();
  out << YAML::Key << "max_sweep_runs" << YAML::Value << max_sweep_runs;
  out << YAML::EndMap;
  if (!out.good())
    return fmt::format("# cannot write cluster '{}' as YAML: {}\n", name, out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

}  // namespace mmcfs::config
