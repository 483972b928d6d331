// job_poller_test.cpp — JobPoller against the REAL SLURM of the test cluster
// "alpha" over real SSH (the clusters.yaml that $MMCFS_TEST_CLUSTERS points
// at; without it every test skips).
//
// Jobs are submitted as mmcfsuser the way mmcfs submits them: each runs in
// its own directory <workspace>/jobs/<token> with --comment <token>, writes a
// `started` marker when it starts and an `exit_status` marker when it ends
// (a small --wrap imitating the batch script's markers). Each test uses its
// own workspace under the remote home ("~/mmcfs-it-poller-<pid>-<n>") and
// cancels its jobs and removes that workspace at the end.
//
// Thread rules: tests run sequentially, each single-threaded.
#include "backend/job_poller.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "app/job_poll_loop.h"
#include "backend/ssh_remote.h"
#include "backend/state_store.h"
#include "launch/sbatch_script.h"
#include "integration/test_clusters.h"

namespace mmcfs::backend {
namespace {

using namespace std::chrono_literals;

// Counts what really crosses the wire, to check PollStats against it.
class CountingRemote final : public Remote {
 public:
  explicit CountingRemote(Remote& inner) : inner_(inner) {}
  Status connect() override { return inner_.connect(); }
  void disconnect() override { inner_.disconnect(); }
  Result<CommandResult> run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
    count(argv);
    return inner_.run(argv, timeout);
  }
  Result<CommandResult> run_with_input(const std::vector<std::string>& argv, std::string_view input,
                                       std::chrono::milliseconds timeout) override {
    count(argv);
    return inner_.run_with_input(argv, input, timeout);
  }
  Result<FileChunk> read_range(const std::string& path, std::uint64_t offset, std::size_t max_bytes,
                               std::chrono::milliseconds timeout) override {
    return inner_.read_range(path, offset, max_bytes, timeout);
  }
  int calls = 0, squeue = 0;

 private:
  void count(const std::vector<std::string>& argv) {
    ++calls;
    if (argv.size() > 2 && argv[2] == "squeue") ++squeue;
  }
  Remote& inner_;
};

// Marker-writing job bodies, as the batch script does it.
constexpr const char* kStarted =
    "printf 'slurm_job_id=%s\\nstarted_at=%s\\n' \"$SLURM_JOB_ID\" \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\" > started; ";
std::string body_exit(int status) {
  return std::string(kStarted) + "sleep 2; echo " + std::to_string(status) + " > exit_status; exit " +
         std::to_string(status);
}
std::string body_until_cancelled() {
  return std::string("trap 'echo 143 > exit_status; exit 143' TERM; ") + kStarted + "sleep 300 & wait $!";
}

class JobPollerIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!integration::have_test_clusters()) GTEST_SKIP() << integration::kNoTestClusters;
    auto alpha = integration::load_test_cluster("alpha");
    ASSERT_TRUE(alpha.ok()) << alpha.error().describe();
    cluster_ = *alpha;
    static std::atomic<int> n{0};
    cluster_.workspace = "~/mmcfs-it-poller-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
    ssh_ = std::make_unique<SshRemote>(ssh_options_for(cluster_));
    remote_ = std::make_unique<CountingRemote>(*ssh_);

    char dir[] = "/tmp/mmcfs-poller-it-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    local_dir_ = dir;
    auto db = StateStore::open(local_dir_ + "/state");
    ASSERT_TRUE(db.ok()) << db.error().describe();
    db_ = std::move(*db);
    auto jobs = JobStore::open(*db_, clock_);
    ASSERT_TRUE(jobs.ok()) << jobs.error().describe();
    jobs_ = std::move(*jobs);
    poller_ = std::make_unique<JobPoller>(*jobs_, clock_);
  }

  void TearDown() override {
    if (ssh_) {
      if (!submitted_.empty()) {
        std::vector<std::string> argv = {"scancel"};
        argv.insert(argv.end(), submitted_.begin(), submitted_.end());
        (void)ssh_->run(argv, 30s);
      }
      (void)ssh_->run({"sh", "-c", "cd && rm -rf -- \"$1\"", "sh", cluster_.workspace.substr(2)}, 30s);
    }
    if (beta_ssh_ && !beta_submitted_.empty()) {
      std::vector<std::string> argv = {"scancel"};
      argv.insert(argv.end(), beta_submitted_.begin(), beta_submitted_.end());
      (void)beta_ssh_->run(argv, 30s);
    }
    poller_.reset();
    jobs_.reset();
    db_.reset();
    if (!local_dir_.empty()) std::filesystem::remove_all(local_dir_);
  }

  // Records a job, then submits `body` for it the way mmcfs would; returns
  // the record (PENDING, with its SLURM id).
  JobRecord submit(const std::string& name, const std::string& body, bool hold = false) {
    JobRecord j;
    j.project = "it";
    j.cluster = cluster_.name;
    auto inserted = jobs_->insert(j, name);
    EXPECT_TRUE(inserted.ok());
    JobRecord rec = *inserted;
    std::string dir = launch::job_dir(cluster_.workspace, rec.token).substr(2);  // relative to ~
    auto r = ssh_->run({"sh", "-c",
                        "cd && mkdir -p -- \"$1\" && cd -- \"$1\" && "
                        "exec sbatch --parsable -J \"$2\" --comment \"$3\" $4 --wrap \"$5\"",
                        "sh", dir, "poller-it-" + name, rec.token, hold ? "--hold" : "", body},
                       30s);
    EXPECT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->exit_code, 0) << r->err;
    rec.slurm_id = r->out.substr(0, r->out.find_first_of(";\n"));
    submitted_.push_back(rec.slurm_id);
    rec.state = job_state::kPending;
    EXPECT_TRUE(jobs_->update(rec).ok());
    return rec;
  }

  JobRecord get(const JobRecord& j) { return *jobs_->get(j.id); }

  // One cycle, with the checks every cycle must pass.
  PollStats cycle() {
    int calls = remote_->calls, squeue = remote_->squeue;
    PollStats s = poller_->poll(*remote_, cluster_);
    EXPECT_EQ(s.error, "");
    EXPECT_EQ(remote_->calls - calls, s.remote_calls());
    EXPECT_EQ(remote_->squeue - squeue, s.squeue_calls);
    if (s.active_jobs > 0) {
      EXPECT_EQ(s.squeue_calls, 1);
    }
    EXPECT_LE(s.remote_calls(), 4);  // squeue, sacct, scontrol, markers
    return s;
  }

  SystemClock clock_;
  config::ClusterConfig cluster_;
  std::unique_ptr<SshRemote> ssh_;
  std::unique_ptr<CountingRemote> remote_;
  std::string local_dir_;
  std::unique_ptr<StateStore> db_;
  std::unique_ptr<JobStore> jobs_;
  std::unique_ptr<JobPoller> poller_;
  std::vector<std::string> submitted_;
  std::unique_ptr<SshRemote> beta_ssh_;     // tests that use beta too
  std::vector<std::string> beta_submitted_;
};

TEST_F(JobPollerIntegrationTest, JobsReachTheirFinalStates) {
  JobRecord ok = submit("ok", body_exit(0));
  JobRecord failed = submit("fail", body_exit(3));
  JobRecord running = submit("cancel-running", body_until_cancelled());
  JobRecord held = submit("cancel-held", "sleep 1", /*hold=*/true);

  bool cancelled_running = false, cancelled_held = false;
  int cycles = 0;
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    PollStats s = cycle();
    ++cycles;
    if (s.active_jobs == 0) break;
    if (!cancelled_held && get(held).reason == "JobHeldUser") {
      EXPECT_EQ(get(held).state, "PENDING");
      (void)ssh_->run({"scancel", held.slurm_id}, 30s);
      cancelled_held = true;
    }
    if (!cancelled_running && get(running).state == "RUNNING") {
      (void)ssh_->run({"scancel", running.slurm_id}, 30s);
      cancelled_running = true;
    }
    std::this_thread::sleep_for(1s);
  }
  EXPECT_TRUE(cancelled_held);
  EXPECT_TRUE(cancelled_running);
  EXPECT_GT(cycles, 1);

  EXPECT_EQ(get(ok).state, "COMPLETED");
  EXPECT_EQ(get(ok).exit_code, 0);
  EXPECT_TRUE(get(ok).started_at);
  EXPECT_TRUE(get(ok).ended_at);
  EXPECT_EQ(get(failed).state, "FAILED");
  EXPECT_EQ(get(failed).exit_code, 3);
  EXPECT_EQ(get(running).state, "CANCELLED");
  EXPECT_EQ(get(running).exit_code, 143);
  EXPECT_TRUE(get(running).started_at);
  EXPECT_EQ(get(held).state, "CANCELLED");
  EXPECT_FALSE(get(held).exit_code);
  EXPECT_FALSE(get(held).started_at);

  // Final: never asked about again.
  EXPECT_EQ(cycle().remote_calls(), 0);
}

TEST_F(JobPollerIntegrationTest, TwoHundredPendingJobsOnTwoClustersCostOneSqueuePerClusterPerCycle) {
  // 100 held jobs on alpha and 100 on beta (no GPU asked, so no one's GPUs
  // are taken), each cluster's submitted by one remote loop reading the
  // tokens on stdin.
  auto beta_config = integration::load_test_cluster("beta");
  ASSERT_TRUE(beta_config.ok()) << beta_config.error().describe();
  config::ClusterConfig beta = *beta_config;
  beta.workspace = cluster_.workspace;
  beta_ssh_ = std::make_unique<SshRemote>(ssh_options_for(beta));
  CountingRemote beta_remote(*beta_ssh_);

  std::vector<JobRecord> records;
  auto submit_held = [&](SshRemote& ssh, const config::ClusterConfig& cluster, int n,
                         std::vector<std::string>& submitted) {
    std::vector<JobRecord> mine;
    std::string tokens;
    for (int i = 0; i < n; ++i) {
      JobRecord j;
      j.project = "it";
      j.cluster = cluster.name;
      mine.push_back(*jobs_->insert(j, "held"));
      tokens += mine.back().token + "\n";
    }
    auto r = ssh.run_with_input(
        {"sh", "-c",
         "while read -r t; do sbatch --parsable --hold -J poller-it-held -o /dev/null --comment \"$t\" --wrap true "
         "|| echo failed; done"},
        tokens, 120s);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    std::vector<std::string> ids;
    for (size_t pos = 0; pos < r->out.size();) {
      size_t end = r->out.find('\n', pos);
      ids.push_back(r->out.substr(pos, end - pos));
      pos = end == std::string::npos ? r->out.size() : end + 1;
    }
    ASSERT_EQ(ids.size(), mine.size()) << r->out << r->err;
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSERT_NE(ids[i], "failed") << r->err;
      submitted.push_back(ids[i]);
      mine[i].slurm_id = ids[i];
      mine[i].state = job_state::kPending;
      ASSERT_TRUE(jobs_->update(mine[i]).ok());
    }
    records.insert(records.end(), mine.begin(), mine.end());
  };
  submit_held(*ssh_, cluster_, 100, submitted_);
  if (HasFatalFailure()) return;
  submit_held(*beta_ssh_, beta, 100, beta_submitted_);
  if (HasFatalFailure()) return;
  ASSERT_EQ(jobs_->size(), 200u);

  for (int i = 0; i < 3; ++i) {
    PollStats a = cycle();
    int before = beta_remote.calls, squeue_before = beta_remote.squeue;
    PollStats b = poller_->poll(beta_remote, beta);
    EXPECT_EQ(b.error, "");
    EXPECT_EQ(a.active_jobs, 100);
    EXPECT_EQ(b.active_jobs, 100);
    EXPECT_EQ(a.remote_calls(), 1);  // one squeue, nothing else
    EXPECT_EQ(b.remote_calls(), 1);
    EXPECT_EQ(beta_remote.calls - before, 1);  // what really crossed the wire
    EXPECT_EQ(beta_remote.squeue - squeue_before, 1);
    EXPECT_EQ(a.jobs_confirmed, 100);
    EXPECT_EQ(b.jobs_confirmed, 100);
    EXPECT_EQ(a.jobs_updated + b.jobs_updated, i == 0 ? 200 : 0);  // the reason is news once
  }
  for (const JobRecord& j : records) {
    JobRecord now = get(j);
    EXPECT_EQ(now.state, "PENDING") << j.cluster << " " << j.slurm_id;
    EXPECT_EQ(now.reason, "JobHeldUser") << j.cluster << " " << j.slurm_id;
    EXPECT_TRUE(now.confirmed_at);
  }
}

TEST_F(JobPollerIntegrationTest, AQuickJobIsSeenCompletedWithinTwoCyclesOfItsEnd) {
  // The loop as mmcfs runs it, with a 2 s interval.
  cluster_.job_poll_interval = 2s;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<std::chrono::system_clock::time_point> seen_final;
  JobRecord job;
  std::shared_ptr<Remote> remote(std::shared_ptr<Remote>(), remote_.get());  // not owned
  app::JobPollLoop loop(cluster_, remote, *jobs_, clock_, [&](const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      auto j = jobs_->get(id);
      if (j && job_state::is_final(j->state)) {
        std::lock_guard lock(mu);
        if (!seen_final) seen_final = std::chrono::system_clock::now();
        cv.notify_all();
      }
    }
  });
  job = submit("quick", body_exit(0));  // runs ~2 s
  loop.start();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 90s, [&] { return seen_final.has_value(); })) << "never seen final";
  }
  loop.stop();
  JobRecord done = get(job);
  EXPECT_EQ(done.state, "COMPLETED");
  EXPECT_EQ(done.exit_code, 0);
  ASSERT_TRUE(done.ended_at);
  // SLURM's EndTime has whole seconds: allow 1 s for that and 2 s for the
  // cycle's own commands, on top of two intervals.
  auto lag = *seen_final - *done.ended_at;
  std::printf("quick job: seen COMPLETED %lld ms after SLURM's EndTime (interval %lld s)\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(lag).count()),
              static_cast<long long>(cluster_.job_poll_interval.count()));
  EXPECT_LE(lag, 2 * cluster_.job_poll_interval + 3s)
      << "seen COMPLETED " << std::chrono::duration_cast<std::chrono::milliseconds>(lag).count()
      << " ms after SLURM's end time";
  EXPECT_EQ(loop.last_stats().error, "");
}

// A Remote whose squeue sees nothing: the jobs look as if they had left the
// queue, so the fallbacks have to settle them.
class SqueueBlindRemote final : public Remote {
 public:
  explicit SqueueBlindRemote(Remote& inner) : inner_(inner) {}
  Status connect() override { return inner_.connect(); }
  void disconnect() override { inner_.disconnect(); }
  Result<CommandResult> run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
    if (argv == kSqueuePollArgv) return CommandResult{0, "", ""};
    return inner_.run(argv, timeout);
  }
  Result<CommandResult> run_with_input(const std::vector<std::string>& argv, std::string_view input,
                                       std::chrono::milliseconds timeout) override {
    return inner_.run_with_input(argv, input, timeout);
  }
  Result<FileChunk> read_range(const std::string& path, std::uint64_t offset, std::size_t max_bytes,
                               std::chrono::milliseconds timeout) override {
    return inner_.read_range(path, offset, max_bytes, timeout);
  }

 private:
  Remote& inner_;
};

TEST_F(JobPollerIntegrationTest, WithoutAccountingScontrolSettlesJobsBeforeTheMarkers) {
  JobRecord ok = submit("sc-ok", body_exit(0));
  JobRecord failed = submit("sc-fail", body_exit(3));
  SqueueBlindRemote blind(*remote_);
  int scontrol_cycles = 0;
  auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline) {
    PollStats s = poller_->poll(blind, cluster_);
    ASSERT_EQ(s.error, "");
    if (s.active_jobs == 0) break;
    EXPECT_EQ(s.scontrol_calls, 1);
    EXPECT_EQ(s.marker_calls, 0) << "scontrol knew every job";
    ++scontrol_cycles;
    std::this_thread::sleep_for(1s);
  }
  EXPECT_GT(scontrol_cycles, 0);
  EXPECT_TRUE(poller_->accounting_disabled("alpha"));
  EXPECT_EQ(get(ok).state, "COMPLETED");
  EXPECT_EQ(get(ok).exit_code, 0);
  EXPECT_EQ(get(failed).state, "FAILED");
  EXPECT_EQ(get(failed).exit_code, 3);
  EXPECT_EQ(get(failed).reason, "NonZeroExitCode");  // SLURM's words, not the marker's
  EXPECT_TRUE(get(ok).confirmed_at);
}

TEST_F(JobPollerIntegrationTest, JobsGoneFromTheControllerAreResolvedByTheirMarkers) {
  // SLURM forgets a job MinJobAge (300 s) after it ends; rather than wait,
  // give records ids the controller never had, with real marker files.
  auto record = [&](const std::string& name, const std::string& markers) {
    JobRecord j;
    j.project = "it";
    j.cluster = cluster_.name;
    JobRecord rec = *jobs_->insert(j, name);
    rec.slurm_id = "99999" + std::to_string(rec.seq);
    rec.state = job_state::kRunning;
    EXPECT_TRUE(jobs_->update(rec).ok());
    std::string dir = launch::job_dir(cluster_.workspace, rec.token).substr(2);
    auto r = ssh_->run({"sh", "-c", "cd && mkdir -p -- \"$1\" && cd -- \"$1\" && eval \"$2\"", "sh", dir, markers},
                       30s);
    EXPECT_TRUE(r.ok() && r->exit_code == 0);
    return rec;
  };
  JobRecord ok = record("gone-ok", "echo started_at=2026-11-23T22:10:41Z > started; echo 0 > exit_status");
  JobRecord failed = record("gone-fail", "echo 5 > exit_status");
  JobRecord unknown = record("gone-unknown", "true");

  PollStats s = cycle();
  EXPECT_EQ(s.active_jobs, 3);
  EXPECT_EQ(s.marker_calls, 1);
  EXPECT_TRUE(poller_->accounting_disabled("alpha"));  // the test clusters keep no accounting
  EXPECT_EQ(get(ok).state, "COMPLETED");
  EXPECT_EQ(get(ok).exit_code, 0);
  EXPECT_EQ(get(ok).started_at, parse_utc_time("2026-11-23T22:10:41Z"));
  EXPECT_EQ(get(failed).state, "FAILED");
  EXPECT_EQ(get(failed).exit_code, 5);
  EXPECT_EQ(get(unknown).state, "RUNNING");  // asked again until kUnknownAfter

  s = cycle();
  EXPECT_EQ(s.active_jobs, 1);
  EXPECT_EQ(s.remote_calls(), 3);  // squeue, scontrol, markers; sacct is not asked again
}

}  // namespace
}  // namespace mmcfs::backend
