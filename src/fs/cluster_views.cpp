// cluster_views.cpp — rendering cluster state as text and JSON.
#include "fs/cluster_views.h"

#include <fmt/format.h>

#include <algorithm>

#include "backend/gpu_inventory.h"
#include "common/text.h"

namespace mmcfs::fs {
namespace {

using backend::ClusterSnapshot;
using backend::GpuTypeSummary;
using backend::Health;

std::string free_on_text(const GpuTypeSummary& row) {
  std::string s;
  for (const auto& [node, count] : row.free_on) {
    if (!s.empty()) s += ',';
    s += fmt::format("{}:{}", node, count);
  }
  return s.empty() ? "-" : s;
}

std::vector<GpuTypeSummary> summarize(const ClusterView& view) {
  if (!view.snapshot.inventory) return {};
  return backend::summarize_gpus(view.snapshot.inventory->nodes, view.snapshot.inventory->pending,
                                 *view.config);
}

std::string vpn_instructions(const config::VpnConfig& vpn) {
  std::string cmd = "sudo openconnect";
  if (!vpn.protocol.empty()) cmd += " --protocol=" + vpn.protocol;
  if (!vpn.username.empty()) cmd += " --user=" + vpn.username;
  if (!vpn.gateway.empty()) cmd += " --authgroup=" + vpn.gateway;
  cmd += " " + vpn.portal;
  return fmt::format(
      "This cluster is reachable only through a VPN{}.\n"
      "Connect to it first, for example with:\n"
      "  {}\n"
      "{}"
      "mmcfs keeps retrying and shows 'up' here once the cluster answers.\n",
      vpn.protocol.empty() ? "" : " (" + vpn.protocol + ")", cmd,
      vpn.gateway.empty() ? "" : "and choose the gateway " + vpn.gateway + " if asked.\n");
}

// Comment lines placed above a table whose figures are not fresh.
std::string staleness_note(const ClusterView& view, WallTime now) {
  const auto& health = view.snapshot.health;
  const auto& inv = view.snapshot.inventory;
  if (health.state == Health::kUp) return "";
  std::string why = health.state == Health::kChecking
                        ? "first check of " + view.config->name + " in progress"
                        : view.config->name + " is down: " + health.reason;
  if (!inv) return fmt::format("# no figures yet: {}\n", why);
  return fmt::format("# {}\n# figures below are from {} ({} ago)\n", why, clock_time_local(inv->fetched_at),
                     format_age(now - inv->fetched_at));
}

std::string status_word(const ClusterView& view, WallTime now) {
  const auto& health = view.snapshot.health;
  const auto& inv = view.snapshot.inventory;
  switch (health.state) {
    case Health::kUp: return "up";
    case Health::kChecking:
      return inv ? fmt::format("checking (figures {} old)", format_age(now - inv->fetched_at)) : "checking";
    case Health::kDown:
      return inv ? fmt::format("down (figures {} old)", format_age(now - inv->fetched_at)) : "down";
  }
  return "?";
}

}  // namespace

WallTime status_time(const ClusterView& view) {
  const auto& h = view.snapshot.health;
  return h.state == Health::kChecking ? h.since : h.checked_at;
}

WallTime figures_time(const ClusterView& view) {
  if (view.snapshot.inventory) return view.snapshot.inventory->fetched_at;
  return status_time(view);
}

std::string render_status(const ClusterView& view) {
  const auto& health = view.snapshot.health;
  const auto& cfg = *view.config;
  switch (health.state) {
    case Health::kUp:
      return fmt::format("up: {} ms round trip, SLURM {}\n", health.round_trip_ms, health.slurm_version);
    case Health::kChecking:
      return fmt::format("checking: first connection to {}@{}:{} in progress\n", cfg.user, cfg.hostname,
                         cfg.port);
    case Health::kDown: {
      std::string text = fmt::format("down: {}\n", health.reason);
      if (cfg.vpn.required) text += vpn_instructions(cfg.vpn);
      return text;
    }
  }
  return "unknown\n";
}

std::string render_partitions(const ClusterView& view, WallTime now) {
  std::vector<std::vector<std::string>> rows = {{"PARTITION", "STATE", "NODES", "TIMELIMIT", "DEFAULT"}};
  const auto& inv = view.snapshot.inventory;
  std::vector<std::string> wanted = view.config->allowed_partitions;
  if (wanted.empty() && inv) {
    for (const auto& p : inv->partitions) wanted.push_back(p.name);
  }
  for (const auto& name : wanted) {
    const backend::SlurmPartition* found = nullptr;
    if (inv) {
      for (const auto& p : inv->partitions) {
        if (p.name == name) found = &p;
      }
    }
    if (found) {
      rows.push_back({found->name, to_lower(found->state), std::to_string(found->total_nodes), found->max_time,
                      found->is_default ? "yes" : "no"});
    } else {
      rows.push_back({name, inv ? "missing" : "unknown", "-", "-", "-"});
    }
  }
  return staleness_note(view, now) + format_table(rows);
}

std::string render_gpus_table(const ClusterView& view, WallTime now) {
  std::vector<std::vector<std::string>> rows = {
      {"TYPE", "TOTAL", "USED", "FREE", "PENDING", "UNAVAILABLE", "FREE_ON"}};
  for (const auto& row : summarize(view)) {
    rows.push_back({row.type, std::to_string(row.total), std::to_string(row.used), std::to_string(row.free),
                    std::to_string(row.pending), std::to_string(row.unavailable), free_on_text(row)});
  }
  std::string note;
  if (view.snapshot.inventory) {
    int untyped = backend::count_untyped_pending(view.snapshot.inventory->pending, *view.config);
    if (untyped > 0) note = fmt::format("# {} more GPUs are wanted by pending jobs that name no GPU type\n", untyped);
  }
  return staleness_note(view, now) + format_table(rows) + note;
}

std::string render_gpus_json(const ClusterView& view) {
  const auto& snap = view.snapshot;
  std::string out = "{\n";
  out += fmt::format("  \"cluster\": {},\n", json_string(view.config->name));
  out += fmt::format("  \"status\": {},\n",
                     json_string(snap.health.state == Health::kUp     ? "up"
                                 : snap.health.state == Health::kDown ? "down"
                                                                      : "checking"));
  if (snap.health.state == Health::kDown) out += fmt::format("  \"reason\": {},\n", json_string(snap.health.reason));
  out += fmt::format("  \"checked_at\": {},\n",
                     snap.health.state == Health::kChecking ? "null" : json_string(iso8601_utc(snap.health.checked_at)));
  out += fmt::format("  \"figures_at\": {},\n",
                     snap.inventory ? json_string(iso8601_utc(snap.inventory->fetched_at)) : "null");
  out += fmt::format("  \"stale\": {},\n", snap.health.state == Health::kUp ? "false" : "true");
  int untyped = snap.inventory ? backend::count_untyped_pending(snap.inventory->pending, *view.config) : 0;
  out += fmt::format("  \"pending_untyped\": {},\n", untyped);
  out += "  \"gpus\": [";
  bool first = true;
  for (const auto& row : summarize(view)) {
    std::string free_on;
    for (const auto& [node, count] : row.free_on) {
      if (!free_on.empty()) free_on += ", ";
      free_on += fmt::format("{}: {}", json_string(node), count);
    }
    out += first ? "\n" : ",\n";
    first = false;
    out += fmt::format(
        "    {{\"type\": {}, \"slurm_type\": {}, \"total\": {}, \"used\": {}, \"free\": {}, "
        "\"pending\": {}, \"unavailable\": {}, \"free_on\": {{{}}}}}",
        json_string(row.type), json_string(row.slurm_type), row.total, row.used, row.free, row.pending,
        row.unavailable, free_on);
  }
  out += first ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::vector<std::string> gpu_type_names(const std::vector<ClusterView>& views) {
  std::vector<std::string> names;
  auto add = [&names](const std::string& name) {
    for (const auto& n : names) {
      if (iequals(n, name)) return;
    }
    names.push_back(name);
  };
  for (const auto& view : views) {
    for (const auto& t : view.config->allowed_gpu_types) add(t);
  }
  for (const auto& view : views) {
    for (const auto& row : summarize(view)) add(row.type);
  }
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return to_lower(a) < to_lower(b);
  });
  return names;
}

std::string render_gpu_type(const std::string& type, const std::vector<ClusterView>& views, WallTime now) {
  std::vector<std::vector<std::string>> rows = {
      {"CLUSTER", "TOTAL", "USED", "FREE", "PENDING", "UNAVAILABLE", "FREE_ON", "STATUS"}};
  for (const auto& view : views) {
    bool offered = view.config->allowed_gpu_types.empty() || !view.config->allowed_gpu_spelling(to_lower(type)).empty();
    if (!offered) continue;
    const GpuTypeSummary* found = nullptr;
    auto summary = summarize(view);
    for (const auto& row : summary) {
      if (iequals(row.type, type)) found = &row;
    }
    if (found) {
      rows.push_back({view.config->name, std::to_string(found->total), std::to_string(found->used),
                      std::to_string(found->free), std::to_string(found->pending),
                      std::to_string(found->unavailable), free_on_text(*found), status_word(view, now)});
    } else if (view.snapshot.inventory || !view.config->allowed_gpu_types.empty()) {
      if (!view.snapshot.inventory) {
        rows.push_back({view.config->name, "-", "-", "-", "-", "-", "-", status_word(view, now)});
      } else if (!view.config->allowed_gpu_types.empty()) {
        rows.push_back({view.config->name, "0", "0", "0", "0", "0", "-", status_word(view, now)});
      }
    }
  }
  return format_table(rows);
}

}  // namespace mmcfs::fs
