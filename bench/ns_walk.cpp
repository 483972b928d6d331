// ns_walk.cpp — the walks of bench/meta driven in-process against the
// Namespace, without FUSE or a kernel: a profiling harness (perf record,
// valgrind --tool=callgrind) for the metadata paths. Not part of mmcfs:
// built only on request (`cmake --build build --target mmcfs_ns_walk`).
//
//   mmcfs_ns_walk --state DIR [--passes N]
//
// DIR is a state directory filled by mmcfs_seed_jobs. The mount is built as
// mmcfs builds it (MountService), over two clusters whose remotes refuse
// every call and count them; monitors and pollers are not started. Each pass:
//   ls -lR:  readdir of every directory, lookup + getattr of every entry,
//            readlink of every symlink (what the kernel asks for `ls -lR`
//            without readdirplus)
//   cat:     readdir jobs/, then for each job lookup <id> and status, open,
//            read, release
// Prints the time of each pass, the remote calls, and VmRSS/VmHWM.
//
// Thread rules: single-threaded.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "app/mount_service.h"
#include "backend/remote.h"

namespace {

using namespace mmcfs;

// A cluster that cannot be reached, counting every attempt.
class CountingDeadRemote final : public backend::Remote {
 public:
  explicit CountingDeadRemote(int& calls) : calls_(calls) {}
  Status connect() override { return refuse(); }
  void disconnect() override {}
  Result<backend::CommandResult> run(const std::vector<std::string>&, std::chrono::milliseconds) override {
    return refuse();
  }
  Result<backend::CommandResult> run_with_input(const std::vector<std::string>&, std::string_view,
                                                std::chrono::milliseconds) override {
    return refuse();
  }
  Result<backend::FileChunk> read_range(const std::string&, std::uint64_t, std::size_t,
                                        std::chrono::milliseconds) override {
    return refuse();
  }

 private:
  Error refuse() {
    ++calls_;
    return make_error(Errc::kUnreachable, "mmcfs_ns_walk: no network here");
  }
  int& calls_;
};

std::string proc_status(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return line.substr(line.find_first_not_of(" \t", std::string(key).size()));
  }
  return "?";
}

struct Counts {
  long entries = 0, errors = 0, bytes = 0;
};

void walk(fs::Namespace& ns, fs::InodeId dir, Counts& counts) {
  auto entries = ns.readdir(dir);
  if (!entries.ok()) {
    ++counts.errors;
    return;
  }
  for (const auto& e : *entries) {
    auto attr = ns.lookup(dir, e.name);
    if (!attr.ok()) {
      ++counts.errors;
      continue;
    }
    ++counts.entries;
    if (attr->kind == fs::NodeKind::kSymlink) {
      if (!ns.readlink(attr->ino).ok()) ++counts.errors;
    }
    if (attr->kind == fs::NodeKind::kDirectory) walk(ns, attr->ino, counts);
  }
}

void cat_statuses(fs::Namespace& ns, Counts& counts) {
  auto jobs = ns.lookup(fs::kRootInode, "jobs");
  if (!jobs.ok()) {
    ++counts.errors;
    return;
  }
  auto entries = ns.readdir(jobs->ino);
  if (!entries.ok()) {
    ++counts.errors;
    return;
  }
  for (const auto& e : *entries) {
    auto dir = ns.lookup(jobs->ino, e.name);
    if (!dir.ok()) {
      ++counts.errors;
      continue;
    }
    auto status = ns.lookup(dir->ino, "status");
    if (!status.ok()) {
      ++counts.errors;
      continue;
    }
    auto opened = ns.open(status->ino, fs::OpenRequest{});
    if (!opened.ok()) {
      ++counts.errors;
      continue;
    }
    auto bytes = ns.read(opened->handle, 0, 131072);
    if (bytes.ok()) counts.bytes += static_cast<long>(bytes->size());
    ns.release(opened->handle);
    ++counts.entries;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string state_dir;
  int passes = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--state" && i + 1 < argc) {
      state_dir = argv[++i];
    } else if (a == "--passes" && i + 1 < argc) {
      passes = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: mmcfs_ns_walk --state DIR [--passes N]\n");
      return 2;
    }
  }
  if (state_dir.empty() || passes <= 0) {
    std::fprintf(stderr, "usage: mmcfs_ns_walk --state DIR [--passes N]\n");
    return 2;
  }
  config::Config config;
  config.path = "(mmcfs_ns_walk)";
  for (const char* name : {"alpha", "beta"}) {
    config::ClusterConfig c;
    c.name = name;
    c.user = "nobody";
    c.hostname = "127.0.0.1";
    c.workspace = "/tmp/w";
    config.clusters.push_back(c);
  }
  int remote_calls = 0;
  SystemClock clock;
  auto started = std::chrono::steady_clock::now();
  auto service = app::MountService::create(config, app::MountOptions{state_dir, "#!/bin/bash\n"}, clock,
                                           [&](const config::ClusterConfig&) -> std::shared_ptr<backend::Remote> {
                                             return std::make_shared<CountingDeadRemote>(remote_calls);
                                           });
  if (!service.ok()) {
    std::fprintf(stderr, "mmcfs_ns_walk: %s\n", service.error().describe().c_str());
    return 1;
  }
  auto ms_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  };
  std::printf("loaded %zu jobs in %.1f ms; VmRSS %s\n", (*service)->job_store().size(), ms_since(started),
              proc_status("VmRSS:").c_str());
  fs::Namespace& ns = (*service)->ns();
  for (int p = 1; p <= passes; ++p) {
    Counts walked, catted;
    auto t0 = std::chrono::steady_clock::now();
    walk(ns, fs::kRootInode, walked);
    double walk_ms = ms_since(t0);
    auto t1 = std::chrono::steady_clock::now();
    cat_statuses(ns, catted);
    double cat_ms = ms_since(t1);
    std::printf("pass %d: ls -lR %.1f ms (%ld entries, %ld errors); cat status %.1f ms (%ld files, %ld bytes, %ld errors)\n",
                p, walk_ms, walked.entries, walked.errors, cat_ms, catted.entries, catted.bytes, catted.errors);
  }
  std::printf("remote calls: %d; VmRSS %s, VmHWM %s\n", remote_calls, proc_status("VmRSS:").c_str(),
              proc_status("VmHWM:").c_str());
  return 0;
}
