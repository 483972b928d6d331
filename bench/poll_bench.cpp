// poll_bench.cpp — the driver of bench/poll: one poll cycle with many active
// jobs across the test clusters, counting the remote commands of a cycle
// and measuring mmcfs's CPU time for it, in the same run. Not a test: it
// prints figures with their goals and exits 0 whatever they are (non-zero
// only when something failed). See bench/README.md.
//
//   mmcfs_bench_poll CLUSTERS_YAML [--jobs N] [--cycles N]
//
// What it does: holds N jobs (default 1000) PENDING with `sbatch --hold`,
// split evenly over every cluster of CLUSTERS_YAML (one remote command per
// cluster submits its share, reading the tokens on stdin), records them in a
// JobStore on a temporary state directory, then runs cycles as mmcfs does
// (one JobPoller::poll per cluster, each on its own thread, over the real
// SshRemote). The first cycle writes every job (the held reason is news);
// the timed cycles are the steady state: every job confirmed (one SQLite
// transaction per cluster), none changed. At the end it cancels every job
// it submitted (one scancel per cluster) and removes the state directory.
//
// CPU time is the process's (CLOCK_PROCESS_CPUTIME_ID): parsing, matching,
// SQLite, and libssh2's crypto for the bytes of the answers; the clusters'
// own work (sshd, squeue) is not mmcfs's and is not counted.
//
// Thread rules: main thread, plus one thread per cluster during a cycle.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backend/job_poller.h"
#include "backend/ssh_remote.h"
#include "backend/state_store.h"
#include "common/log.h"
#include "config/cluster_config.h"

using namespace mmcfs;
using namespace std::chrono_literals;

namespace {

// Counts the commands that cross the wire.
class CountingRemote final : public backend::Remote {
 public:
  explicit CountingRemote(backend::Remote& inner) : inner_(inner) {}
  Status connect() override { return inner_.connect(); }
  void disconnect() override { inner_.disconnect(); }
  Result<backend::CommandResult> run(const std::vector<std::string>& argv, std::chrono::milliseconds t) override {
    ++calls;
    return inner_.run(argv, t);
  }
  Result<backend::CommandResult> run_with_input(const std::vector<std::string>& argv, std::string_view input,
                                                std::chrono::milliseconds t) override {
    ++calls;
    return inner_.run_with_input(argv, input, t);
  }
  Result<backend::FileChunk> read_range(const std::string& path, std::uint64_t offset, std::size_t max_bytes,
                                        std::chrono::milliseconds t) override {
    ++calls;
    return inner_.read_range(path, offset, max_bytes, t);
  }
  std::atomic<int> calls{0};

 private:
  backend::Remote& inner_;
};

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Cluster {
  config::ClusterConfig config;
  std::unique_ptr<backend::SshRemote> ssh;
  std::unique_ptr<CountingRemote> remote;
  std::vector<std::string> submitted;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "mmcfs_bench_poll: %s\n", what.c_str());
  std::exit(1);
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  std::size_t rank = static_cast<std::size_t>(p * static_cast<double>(v.size()) + 0.999999);
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: mmcfs_bench_poll CLUSTERS_YAML [--jobs N] [--cycles N]");
  std::string yaml = argv[1];
  int n_jobs = 1000, n_cycles = 10;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--jobs") n_jobs = std::atoi(argv[i + 1]);
    else if (flag == "--cycles") n_cycles = std::atoi(argv[i + 1]);
    else die("unknown option " + flag);
  }
  if (n_jobs < 1 || n_cycles < 1) die("--jobs and --cycles must be positive");
  log::set_level(log::Level::kWarn);

  auto config = config::load_config_file(yaml);
  if (!config.ok()) die(config.error().describe());
  std::vector<Cluster> clusters;
  for (const auto& c : config->clusters) {
    Cluster cl;
    cl.config = c;
    cl.config.command_timeout = std::max<std::chrono::seconds>(cl.config.command_timeout, 60s);
    cl.ssh = std::make_unique<backend::SshRemote>(backend::ssh_options_for(cl.config));
    cl.remote = std::make_unique<CountingRemote>(*cl.ssh);
    clusters.push_back(std::move(cl));
  }
  if (clusters.empty()) die(yaml + " names no cluster");

  char dir_template[] = "/var/tmp/mmcfs-bench-poll-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) die("mkdtemp failed");
  std::string state_dir = dir_template;
  SystemClock clock;
  int status = 0;
  {
    auto db = backend::StateStore::open(state_dir);
    if (!db.ok()) die(db.error().describe());
    auto jobs = backend::JobStore::open(**db, clock);
    if (!jobs.ok()) die(jobs.error().describe());
    backend::JobStore& store = **jobs;

    // Submit: each cluster's share by one remote loop, clusters in parallel.
    std::vector<std::vector<backend::JobRecord>> records(clusters.size());
    std::vector<std::string> errors(clusters.size());
    {
      std::vector<std::thread> threads;
      for (std::size_t c = 0; c < clusters.size(); ++c) {
        int share = n_jobs / static_cast<int>(clusters.size()) + (static_cast<int>(c) < n_jobs % static_cast<int>(clusters.size()) ? 1 : 0);
        std::string tokens;
        for (int i = 0; i < share; ++i) {
          backend::JobRecord j;
          j.project = "bench";
          j.cluster = clusters[c].config.name;
          auto inserted = store.insert(j, "bench-held");
          if (!inserted.ok()) die(inserted.error().describe());
          records[c].push_back(*inserted);
          tokens += inserted->token + "\n";
        }
        threads.emplace_back([&, c, tokens] {
          auto r = clusters[c].ssh->run_with_input(
              {"sh", "-c",
               "while read -r t; do sbatch --parsable --hold -J mmcfs-bench-poll -o /dev/null --comment \"$t\" "
               "--wrap true || echo failed; done"},
              tokens, 600s);
          if (!r.ok()) {
            errors[c] = r.error().describe();
            return;
          }
          std::size_t i = 0;
          for (std::size_t pos = 0; pos < r->out.size() && i < records[c].size(); ++i) {
            std::size_t end = r->out.find('\n', pos);
            std::string id = r->out.substr(pos, end - pos);
            pos = end == std::string::npos ? r->out.size() : end + 1;
            if (id == "failed") {
              errors[c] = "sbatch failed: " + r->err.substr(0, 300);
              continue;
            }
            clusters[c].submitted.push_back(id);
            records[c][i].slurm_id = id;
            records[c][i].state = backend::job_state::kPending;
          }
          if (i != records[c].size() && errors[c].empty()) errors[c] = "sbatch printed too few ids: " + r->err;
        });
      }
      for (auto& t : threads) t.join();
    }
    for (std::size_t c = 0; c < clusters.size(); ++c) {
      if (!errors[c].empty()) {
        std::fprintf(stderr, "mmcfs_bench_poll: %s: %s\n", clusters[c].config.name.c_str(), errors[c].c_str());
        status = 1;
      }
      for (const auto& r : records[c]) {
        if (!r.slurm_id.empty() && !store.update(r).ok()) status = 1;
      }
    }

    backend::JobPoller poller(store, clock);
    struct Cycle {
      double cpu_ms, wall_ms;
      int commands, active, confirmed, updated;
      std::string error;
    };
    auto run_cycle = [&]() {
      std::vector<backend::PollStats> stats(clusters.size());
      int before = 0;
      for (auto& cl : clusters) before += cl.remote->calls;
      double cpu0 = cpu_ms();
      auto wall0 = std::chrono::steady_clock::now();
      std::vector<std::thread> threads;
      for (std::size_t c = 0; c < clusters.size(); ++c) {
        threads.emplace_back([&, c] { stats[c] = poller.poll(*clusters[c].remote, clusters[c].config); });
      }
      for (auto& t : threads) t.join();
      Cycle out{cpu_ms() - cpu0,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall0).count(),
                -before, 0, 0, 0, ""};
      for (auto& cl : clusters) out.commands += cl.remote->calls;
      for (const auto& s : stats) {
        out.active += s.active_jobs;
        out.confirmed += s.jobs_confirmed;
        out.updated += s.jobs_updated;
        if (!s.error.empty()) out.error += s.error + "; ";
      }
      return out;
    };

    if (status == 0) {
      // Connections are opened (and the first answers written) before timing.
      Cycle first = run_cycle();
      std::vector<double> cpu, wall;
      std::vector<int> commands;
      int confirmed_min = n_jobs, updated_max = 0;
      std::string error = first.error;
      for (int i = 0; i < n_cycles && error.empty(); ++i) {
        Cycle c = run_cycle();
        error += c.error;
        cpu.push_back(c.cpu_ms);
        wall.push_back(c.wall_ms);
        commands.push_back(c.commands);
        confirmed_min = std::min(confirmed_min, c.confirmed);
        updated_max = std::max(updated_max, c.updated);
        if (c.active != n_jobs) error += fmt::format("a cycle saw {} active jobs, not {}; ", c.active, n_jobs);
      }
      if (!error.empty()) {
        std::fprintf(stderr, "mmcfs_bench_poll: a cycle failed: %s\n", error.c_str());
        status = 1;
      } else {
        int cmd_max = *std::max_element(commands.begin(), commands.end());
        int cmd_min = *std::min_element(commands.begin(), commands.end());
        double cpu_med = percentile(cpu, 0.5), cpu_p90 = percentile(cpu, 0.9);
        std::printf("%d active jobs (%zu clusters), %d timed cycles after a first one\n", n_jobs, clusters.size(),
                    n_cycles);
        std::printf("                                   median          p90   goal\n");
        std::printf("remote commands per cycle        %8d %12d   2 (one squeue per cluster), %s\n", cmd_min, cmd_max,
                    cmd_max <= static_cast<int>(clusters.size()) ? "met" : "NOT met");
        std::printf("mmcfs CPU time per cycle       %8.1f ms %9.1f ms   < 50 ms, %s\n", cpu_med, cpu_p90,
                    cpu_p90 < 50 ? "met" : (cpu_med < 50 ? "met at the median only" : "NOT met"));
        std::printf("wall time per cycle            %8.1f ms %9.1f ms   (clusters in parallel; not a goal)\n",
                    percentile(wall, 0.5), percentile(wall, 0.9));
        std::printf("jobs confirmed per cycle (min) %8d                 every job, and %d rewritten\n", confirmed_min,
                    updated_max);
        std::printf("first cycle (every job's reason new, %d rows rewritten): %d commands, %.1f ms CPU, %.1f ms wall\n",
                    first.updated, first.commands, first.cpu_ms, first.wall_ms);
      }
    }
  }
  // Clean up: one scancel per cluster, then the state directory.
  for (auto& cl : clusters) {
    if (cl.submitted.empty()) continue;
    std::vector<std::string> scancel = {"scancel"};
    scancel.insert(scancel.end(), cl.submitted.begin(), cl.submitted.end());
    auto r = cl.ssh->run(scancel, 120s);
    if (!r.ok() || r->exit_code != 0) {
      std::fprintf(stderr, "mmcfs_bench_poll: %s: scancel failed; cancel jobs named mmcfs-bench-poll by hand\n",
                   cl.config.name.c_str());
      status = 1;
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(state_dir, ec);
  return status;
}
