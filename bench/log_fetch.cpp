// log_fetch.cpp — the fetch of bench/logread's first read, in-process: one
// LogCache::refresh of a remote log into an empty directory over SshRemote,
// with 0..N bulk sessions, timed (wall and this process's CPU). A profiling
// and A/B harness for the log fetch without FUSE, cat or scp. Not part of
// mmcfs: built only on request (`cmake --build build --target mmcfs_log_fetch`).
//
//   mmcfs_log_fetch --config clusters.yaml --cluster NAME --path REMOTE_FILE
//                   [--sessions N] [--repeat R] [--connect-first]
//
// Each repetition makes fresh remotes (the main one connected before timing,
// as a mount's is when its cluster says `up`; the bulk ones connect inside
// the timed fetch, as in a mount, unless --connect-first) and a fresh cache
// directory, fetches the whole file, and prints wall ms, CPU ms and MiB/s.
//
// Thread rules: single-threaded (LogCache runs the bulk threads).
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "backend/log_cache.h"
#include "backend/ssh_remote.h"
#include "config/cluster_config.h"

namespace {

using namespace mmcfs;

double cpu_ms() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

int usage() {
  std::fprintf(stderr,
               "usage: mmcfs_log_fetch --config clusters.yaml --cluster NAME --path REMOTE_FILE "
               "[--sessions N] [--repeat R] [--connect-first]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path, cluster_name, path;
  int sessions = 2, repeat = 3;
  bool connect_first = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--config") config_path = value();
    else if (arg == "--cluster") cluster_name = value();
    else if (arg == "--path") path = value();
    else if (arg == "--sessions") sessions = std::atoi(value().c_str());
    else if (arg == "--repeat") repeat = std::atoi(value().c_str());
    else if (arg == "--connect-first") connect_first = true;
    else return usage();
  }
  if (config_path.empty() || cluster_name.empty() || path.empty() || sessions < 0 || repeat < 1) return usage();
  auto config = config::load_config_file(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "mmcfs_log_fetch: %s\n", config.error().message.c_str());
    return 2;
  }
  const config::ClusterConfig* cluster = nullptr;
  for (const auto& c : config->clusters) {
    if (c.name == cluster_name) cluster = &c;
  }
  if (cluster == nullptr) {
    std::fprintf(stderr, "mmcfs_log_fetch: no cluster %s in %s\n", cluster_name.c_str(), config_path.c_str());
    return 2;
  }
  // A record whose remote log path is `path` is not needed: refresh() asks
  // for remote_log_path(job), so the job's fields are set to match a
  // workspace path only when the caller gives one; here the path is given
  // directly through a cluster whose workspace makes it.
  const std::filesystem::path remote(path);
  const std::string file = remote.filename().string();  // slurm-<id>.out
  if (!file.starts_with("slurm-") || !file.ends_with(".out")) {
    std::fprintf(stderr, "mmcfs_log_fetch: --path must end in slurm-<id>.out (a job's log)\n");
    return 2;
  }
  backend::JobRecord job;
  job.id = "bench-log-fetch";
  job.cluster = cluster->name;
  job.slurm_id = file.substr(6, file.size() - 6 - 4);
  job.token = remote.parent_path().filename().string();
  job.state = backend::job_state::kRunning;
  config::ClusterConfig where = *cluster;
  where.workspace = remote.parent_path().parent_path().parent_path().string();  // <ws>/jobs/<token>
  if (backend::LogCache::remote_log_path(job, where) != path) {
    std::fprintf(stderr, "mmcfs_log_fetch: %s is not <workspace>/jobs/<token>/slurm-<id>.out\n", path.c_str());
    return 2;
  }

  for (int r = 0; r < repeat; ++r) {
    char dir[] = "/var/tmp/mmcfs-log-fetch-XXXXXX";
    if (::mkdtemp(dir) == nullptr) return 1;
    backend::SshRemote main_remote(backend::ssh_options_for(*cluster));
    if (Status st = main_remote.connect(); !st.ok()) {
      std::fprintf(stderr, "mmcfs_log_fetch: %s\n", st.error().describe().c_str());
      return 1;
    }
    std::vector<std::unique_ptr<backend::SshRemote>> owned;
    std::vector<backend::Remote*> bulk;
    for (int i = 0; i < sessions; ++i) {
      owned.push_back(std::make_unique<backend::SshRemote>(backend::ssh_options_for(*cluster)));
      if (connect_first) (void)owned.back()->connect();
      bulk.push_back(owned.back().get());
    }
    backend::LogCache cache(std::string(dir) + "/logs");
    const double cpu0 = cpu_ms();
    const auto t0 = std::chrono::steady_clock::now();
    auto state = cache.refresh(main_remote, job, where, std::chrono::seconds(60), std::chrono::seconds(120), bulk);
    const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = cpu_ms() - cpu0;
    std::filesystem::remove_all(dir);
    if (!state.ok()) {
      std::fprintf(stderr, "mmcfs_log_fetch: %s\n", state.error().describe().c_str());
      return 1;
    }
    std::printf("%s", fmt::format("sessions {} : {:.0f} ms wall, {:.0f} ms CPU, {:.0f} MiB/s, {} bytes{}\n", sessions,
                                  wall, cpu, static_cast<double>(state->size) / 1048576.0 / (wall / 1e3), state->size,
                                  state->caught_up ? "" : " (NOT caught up)")
                          .c_str());
  }
  return 0;
}
