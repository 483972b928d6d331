// mmcfs_tree.cpp — wiring renderers into directory and file nodes.
#include "fs/mmcfs_tree.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/text.h"
#include "fs/cluster_views.h"
#include "fs/queue_view.h"

namespace mmcfs::fs {
namespace {

std::vector<ClusterView> all_views(const ClusterStateSource& source) {
  std::vector<ClusterView> views;
  for (const auto& cfg : source.clusters()) views.push_back(ClusterView{&cfg, source.snapshot(cfg.name)});
  return views;
}

// A file of one cluster, rendered from its snapshot; mtime from `time_of`.
std::shared_ptr<Node> cluster_file(const ClusterStateSource& source, const Clock& clock,
                                   const config::ClusterConfig& cfg,
                                   std::string (*render)(const ClusterView&, WallTime),
                                   WallTime (*time_of)(const ClusterView&)) {
  return std::make_shared<GeneratedFile>([&source, &clock, &cfg, render, time_of]() -> Result<FileContent> {
    ClusterView view{&cfg, source.snapshot(cfg.name)};
    return FileContent{render(view, clock.now()), time_of(view)};
  });
}

std::string status_text(const ClusterView& v, WallTime) { return render_status(v); }
std::string json_text(const ClusterView& v, WallTime) { return render_gpus_json(v); }

std::shared_ptr<DirNode> cluster_dir(const ClusterStateSource& source, const Clock& clock,
                                     const config::ClusterConfig& cfg, WallTime mounted_at) {
  std::vector<DirNode::Child> files = {
      {"status", cluster_file(source, clock, cfg, status_text, status_time)},
      {"config.yaml", std::make_shared<StaticFile>(cfg.to_yaml(), mounted_at)},
      {"partitions", cluster_file(source, clock, cfg, render_partitions, figures_time)},
      {"gpus", cluster_file(source, clock, cfg, render_gpus_table, figures_time)},
      {"gpus.json", cluster_file(source, clock, cfg, json_text, figures_time)},
      {"queue", cluster_file(source, clock, cfg, render_queue, queue_time)},
  };
  return std::make_shared<StaticDir>(std::move(files), mounted_at);
}

std::shared_ptr<Node> gpu_type_file(const ClusterStateSource& source, const Clock& clock, std::string type) {
  return std::make_shared<GeneratedFile>([&source, &clock, type]() -> Result<FileContent> {
    auto views = all_views(source);
    WallTime newest{};
    for (const auto& v : views) newest = std::max(newest, figures_time(v));
    return FileContent{render_gpu_type(type, views, clock.now()), newest};
  });
}

std::shared_ptr<DirNode> gpus_dir(const ClusterStateSource& source, const Clock& clock, WallTime mounted_at) {
  auto list = [&source, &clock]() {
    std::vector<DirNode::Child> out;
    for (auto& name : gpu_type_names(all_views(source))) {
      out.emplace_back(name, gpu_type_file(source, clock, name));
    }
    return out;
  };
  // Exact names first; a name differing only in case (gpus/h100) also works.
  auto find = [&source, &clock](std::string_view name) -> Result<std::shared_ptr<Node>> {
    for (auto& type : gpu_type_names(all_views(source))) {
      if (iequals(type, name)) return std::shared_ptr<Node>(gpu_type_file(source, clock, type));
    }
    return make_error(Errc::kNotFound, "no GPU type '" + std::string(name) + "' on any cluster");
  };
  return std::make_shared<GeneratedDir>(list, find, [mounted_at] { return mounted_at; });
}

std::string readme_text(const ClusterStateSource& source, const TreeOptions& options) {
  std::string names;
  for (const auto& c : source.clusters()) names += (names.empty() ? "" : ", ") + c.name;
  return fmt::format(
      R"(mmcfs — SLURM GPU clusters as files

This mount shows the clusters configured in
  {config}
({clusters}). Everything here is read from local state that background
threads keep fresh; reading a file never waits on the network.

  clusters/<name>/status       up (round trip, SLURM version), down: <reason>,
                               or how to connect the VPN; mtime = last check
  clusters/<name>/config.yaml  the cluster's entry as loaded
  clusters/<name>/partitions   allowed partitions: state, nodes, time limit
  clusters/<name>/gpus         TYPE TOTAL USED FREE PENDING UNAVAILABLE FREE_ON
  clusters/<name>/gpus.json    the same as JSON (try: jq . clusters/*/gpus.json)
  clusters/<name>/queue        your whole queue there, with pending reasons
  gpus/<TYPE>                  one GPU type on every cluster

Try:
  cat clusters/*/status
  cat gpus/*
  jq '.gpus[] | select(.free > 0)' clusters/*/gpus.json

GPU figures are cached (gpu_cache_seconds, 60 s by default). Down or drained
nodes are never counted as free. When a cluster is down its last figures stay
readable and say how old they are.

State: {state}
Unmount: fusermount3 -u <mountpoint>
)",
      fmt::arg("config", options.config_path), fmt::arg("clusters", names.empty() ? "none" : names),
      fmt::arg("state", options.state_dir));
}

}  // namespace

std::shared_ptr<DirNode> build_tree(const ClusterStateSource& source, const Clock& clock, TreeOptions options) {
  std::vector<DirNode::Child> clusters;
  for (const auto& cfg : source.clusters()) {
    clusters.emplace_back(cfg.name, cluster_dir(source, clock, cfg, options.mounted_at));
  }
  std::vector<DirNode::Child> root = {
      {"README", std::make_shared<StaticFile>(readme_text(source, options), options.mounted_at)},
      {"clusters", std::make_shared<StaticDir>(std::move(clusters), options.mounted_at)},
      {"gpus", gpus_dir(source, clock, options.mounted_at)},
  };
  for (auto& child : options.more) root.push_back(std::move(child));
  std::sort(root.begin(), root.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return std::make_shared<StaticDir>(std::move(root), options.mounted_at);
}

std::vector<std::string> paths_depending_on_cluster(const std::string& cluster) {
  return {"clusters/" + cluster, "gpus"};
}

}  // namespace mmcfs::fs
