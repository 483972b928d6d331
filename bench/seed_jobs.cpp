// seed_jobs.cpp — fills a state directory with many realistic job records,
// for the metadata and memory benchmarks (bench/meta). Not part of mmcfs:
// built only on request (`cmake --build build --target mmcfs_seed_jobs`).
//
//   mmcfs_seed_jobs --state DIR [--jobs N] [--clusters a,b] [--projects p,q,r]
//                   [--workspace PATH]
//
// Records go through JobStore (insert, then update), exactly as launches
// write them: the launch text as a user would write it, the complete spec,
// the real sbatch script rendered from the built-in template (a few KB), the
// training command. States are mixed as in a long-lived store: mostly final
// (COMPLETED, FAILED with exit codes, CANCELLED, TIMEOUT, OUT_OF_MEMORY), a
// few percent RUNNING and PENDING. Jobs alternate over the clusters and
// projects. SLURM ids start at 700000 so they never match a real job on the
// test clusters. All inserts share one SQLite transaction (seconds for 10k).
//
// A finished job's log is local and complete in a store that has run for a
// while (the log follower fetched it when the job ended), so each final job
// also gets <state>/logs/<id>.log (a short training log, ~1.5 KB, with a
// WandB run URL in every third one), its completeness marker and its
// tracker-link sidecar, in the formats LogCache and TrackerLinkIndex write.
// Active jobs have no local log yet.
//
// Thread rules: single-threaded.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "backend/job_store.h"
#include "backend/sqlite_util.h"
#include "backend/state_store.h"
#include "common/quote.h"
#include "launch/launch_spec.h"
#include "launch/sbatch_script.h"

namespace {

using namespace mmcfs;

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "mmcfs_seed_jobs: %s\n"
               "usage: mmcfs_seed_jobs --state DIR [--jobs N] [--clusters a,b] [--projects p,q,r] "
               "[--workspace PATH]\n",
               why);
  std::exit(2);
}

struct Outcome {
  const char* state;
  const char* reason;
  int exit_code;  // -1: none
};

// The state of the i-th job: 100 slots, a long-lived store's proportions.
Outcome outcome_of(int i) {
  int slot = i % 100;
  if (slot < 70) return {"COMPLETED", "", 0};
  if (slot < 80) return {"FAILED", "", 1 + i % 3};
  if (slot < 86) return {"CANCELLED", "", -1};
  if (slot < 89) return {"TIMEOUT", "", -1};
  if (slot < 90) return {"OUT_OF_MEMORY", "", 137};
  if (slot < 96) return {"RUNNING", "", -1};
  return {"PENDING", slot % 2 ? "Resources" : "Priority", -1};
}

}  // namespace

// What the log follower leaves for a finished job: the log, the marker
// saying it is complete at its size, and the links found in it.
bool write_complete_log(const std::string& dir, const backend::JobRecord& job, int i) {
  std::string log = fmt::format("+ cd /scratch/mmcfs/{}\n+ python train.py\n", job.id);
  std::string links;
  if (i % 3 == 0) {
    const std::string url = fmt::format("https://wandb.ai/lab/{}/runs/{:08x}", job.project, 0x5eed0000u + i);
    log += "wandb: View run at " + url + "\n";
    links = "wandb " + url + "\n";
  }
  for (int epoch = 1; epoch <= 12; ++epoch) {
    log += fmt::format("epoch {:3d} step {:6d} loss {:.4f} lr 3.0e-04 grad_norm {:.3f} 612 samples/s\n", epoch,
                       epoch * 1000, 2.0 / (epoch + 1) + (i % 7) * 0.01, 1.0 + (i % 5) * 0.1);
  }
  if (job.exit_code && *job.exit_code != 0) log += "Traceback (most recent call last):\nRuntimeError: stopped\n";
  const std::string base = dir + "/" + job.id;
  std::ofstream(base + ".log", std::ios::binary) << log;
  std::ofstream(base + ".log.complete") << log.size() << "\n";
  std::ofstream out(base + ".links");
  out << "mmcfs-links 1\nscanned " << log.size() << "\n" << links;
  return static_cast<bool>(out.flush());
}

int main(int argc, char** argv) {
  std::string state_dir;
  int count = 10000;
  std::vector<std::string> clusters = {"alpha", "beta"};
  std::vector<std::string> projects = {"vision", "nlp", "rl"};
  std::string workspace = "/home/mmcfsuser/mmcfs-jobs";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--state") {
      state_dir = value();
    } else if (a == "--jobs") {
      count = std::atoi(value().c_str());
      if (count <= 0) usage("--jobs takes a positive number");
    } else if (a == "--clusters") {
      clusters = split_commas(value());
    } else if (a == "--projects") {
      projects = split_commas(value());
    } else if (a == "--workspace") {
      workspace = value();
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (state_dir.empty()) usage("--state DIR is required");
  if (clusters.empty() || projects.empty()) usage("--clusters and --projects need at least one name");

  const std::string logs_dir = state_dir + "/logs";  // where mmcfs keeps job logs (MountService)
  std::error_code ec;
  std::filesystem::create_directories(logs_dir, ec);
  auto db = backend::StateStore::open(state_dir);
  if (!db.ok()) {
    std::fprintf(stderr, "mmcfs_seed_jobs: %s\n", db.error().describe().c_str());
    return 1;
  }
  // Times in the past, one job every 7 minutes up to now.
  SystemClock real;
  FakeClock clock(real.now() - std::chrono::minutes(7) * count);
  auto store = backend::JobStore::open(**db, clock);
  if (!store.ok()) {
    std::fprintf(stderr, "mmcfs_seed_jobs: %s\n", store.error().describe().c_str());
    return 1;
  }
  (*db)->with_db([](sqlite3* h) { return sqlite3_exec(h, "BEGIN", nullptr, nullptr, nullptr); });

  const std::string& tmpl = launch::default_sbatch_template();
  project::ProjectConfig project_config;
  project_config.conda_env = "torch-2.3";
  project_config.env_setup = {"module load cuda/12.1", "export NCCL_DEBUG=WARN"};

  for (int i = 0; i < count; ++i) {
    const std::string& cluster = clusters[static_cast<std::size_t>(i) % clusters.size()];
    const std::string& project = projects[static_cast<std::size_t>(i / 3) % projects.size()];
    launch::LaunchSpec spec;
    spec.name = fmt::format("{} lr {:.0e} seed {}", project, 1e-3 / (1 + i % 10), i % 5);
    spec.description = fmt::format("Sweep {} of the {} baseline.\nSecond line of notes.", i / 50, project);
    spec.cluster = cluster;
    spec.partition = "general";
    spec.gpu_type = cluster == "beta" ? "H100" : (i % 2 ? "A100" : "A6000");
    spec.gpus_per_node = 1 + i % 2;
    spec.cpus_per_task = 8;
    spec.memory = "64G";
    spec.time_limit = "12:00:00";
    spec.commit = fmt::format("{:040x}", 0x5eed0000ULL + static_cast<unsigned>(i / 20));
    spec.config_name = "train";
    spec.params = {{"optimizer.lr", fmt::format("{:.0e}", 1e-3 / (1 + i % 10)), false, false},
                   {"trainer.max_epochs", std::to_string(10 + i % 90), false, false},
                   {"data.batch_size", "64", false, false},
                   {"seed", std::to_string(i % 5), false, false}};
    spec.overrides = {"+experiment=sweep"};
    spec.env = {{"WANDB_PROJECT", project}};

    backend::JobRecord job;
    job.project = project;
    job.cluster = cluster;
    job.launch_text = launch::to_launch_yaml(spec, "written by hand for a sweep");
    job.spec_yaml = launch::to_launch_yaml(spec);
    job.commit = spec.commit;
    job.source_file = fmt::format("sweep-{}.yaml", i);
    auto inserted = (*store)->insert(job, spec.name);
    if (!inserted.ok()) {
      std::fprintf(stderr, "mmcfs_seed_jobs: %s\n", inserted.error().describe().c_str());
      return 1;
    }
    job = *inserted;

    launch::ScriptInputs inputs{spec, project_config, project, "git@example.org:lab/" + project + ".git",
                                spec.commit, job.id, job.token, workspace};
    auto script = launch::render_script(tmpl, inputs);
    if (!script.ok()) {
      std::fprintf(stderr, "mmcfs_seed_jobs: %s\n", script.error().describe().c_str());
      return 1;
    }
    job.script = std::move(*script);
    job.command = shell_join(launch::training_argv(spec, project_config));
    job.slurm_id = std::to_string(700000 + i);
    Outcome o = outcome_of(i);
    job.state = o.state;
    job.reason = o.reason;
    if (o.exit_code >= 0) job.exit_code = o.exit_code;
    if (job.state != backend::job_state::kPending) job.started_at = clock.now() + std::chrono::minutes(1);
    if (backend::job_state::is_final(job.state)) job.ended_at = clock.now() + std::chrono::minutes(5);
    clock.advance(std::chrono::minutes(6));
    if (auto s = (*store)->update(job); !s.ok()) {
      std::fprintf(stderr, "mmcfs_seed_jobs: %s\n", s.error().describe().c_str());
      return 1;
    }
    clock.advance(std::chrono::minutes(1));
    if (backend::job_state::is_final(job.state) && !write_complete_log(logs_dir, job, i)) {
      std::fprintf(stderr, "mmcfs_seed_jobs: cannot write logs in %s\n", logs_dir.c_str());
      return 1;
    }
  }
  for (const auto& project : projects) {
    auto last = (*store)->list_project(project);
    if (!last.empty()) (void)(*store)->set_last_launch(project, last.back().spec_yaml);
  }
  int rc = (*db)->with_db([](sqlite3* h) { return sqlite3_exec(h, "COMMIT", nullptr, nullptr, nullptr); });
  if (rc != SQLITE_OK) {
    std::fprintf(stderr, "mmcfs_seed_jobs: COMMIT failed\n");
    return 1;
  }
  std::printf("%d jobs in %s\n", count, state_dir.c_str());
  return 0;
}
