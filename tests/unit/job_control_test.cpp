// job_control_test.cpp — jobs/<id>/ctl, mv between jobs/ and archive/,
// clusters/<name>/queue and .mmcfs/stats, through the Namespace of a whole
// MountService with fake remotes (no FUSE).
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <filesystem>
#include <fstream>

#include "app/mount_service.h"
#include "backend/job_parsers.h"
#include "backend/scancel.h"
#include "backend/user_queue.h"
#include "fakes/fake_remote.h"
#include "fakes/slurm_answers.h"

namespace mmcfs::app {
namespace {

using namespace std::chrono_literals;
using backend::CommandResult;
using fs::kRootInode;

std::string read_data(const std::string& name) {
  std::ifstream in(std::string(MMCFS_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class JobControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_dir_ = std::filesystem::temp_directory_path() /
                 ("mmcfs-control-test-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(state_dir_);
    config::ClusterConfig alpha = testing::alpha_config();
    alpha.job_poll_interval = std::chrono::hours(1);  // only explicit requests poll
    alpha.gpu_cache_ttl = std::chrono::hours(1);
    config_.path = "/etc/test/clusters.yaml";
    config_.clusters = {alpha};
    config_.projects = {config::ProjectRef{"p", (state_dir_ / "no-repo").string()}};
    testing::answer_as_alpha(*remote_);
    auto service = MountService::create(config_, MountOptions{state_dir_.string(), "#!/bin/bash\n"}, clock_,
                                        [this](const config::ClusterConfig&) -> std::shared_ptr<backend::Remote> {
                                          return remote_;
                                        });
    ASSERT_TRUE(service.ok()) << service.error().describe();
    service_ = std::move(*service);
  }
  void TearDown() override {
    service_.reset();
    std::filesystem::remove_all(state_dir_);
  }

  // A RUNNING job of project p as SLURM job 12, and squeue saying so.
  backend::JobRecord running_job() {
    backend::JobRecord j;
    j.project = "p";
    j.cluster = "alpha";
    j.script = "#!/bin/bash\nsleep 600\n";
    auto inserted = service_->job_store().insert(j, "sleeper");
    EXPECT_TRUE(inserted.ok());
    backend::JobRecord rec = *inserted;
    rec.slurm_id = "12";
    rec.state = backend::job_state::kRunning;
    EXPECT_TRUE(service_->job_store().update(rec).ok());
    answer_squeue("RUNNING", 0);
    return *service_->job_store().get(rec.id);
  }
  void answer_squeue(const std::string& state, int raw_exit) {
    auto job = service_->job_store().list(true).front();
    remote_->answer_ok(backend::kSqueuePollArgv, "12|" + state + "|1796006858|1796006858|1796006860|" +
                                                     std::to_string(raw_exit) + "|None|" + job.token + "\n");
  }

  // Starts the monitors and pollers and waits until the poller's first
  // cycles are over, so that later answers are seen only by cycles the test
  // asks for (the poll interval is an hour).
  void start() {
    service_->start();
    ASSERT_TRUE(service_->job_poller("alpha")->poll_now_and_wait(5s).has_value());
  }

  Result<fs::InodeId> resolve(const std::string& path) {
    fs::InodeId ino = kRootInode;
    std::size_t start = 0;
    while (start < path.size()) {
      std::size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      auto attr = service_->ns().lookup(ino, path.substr(start, end - start));
      if (!attr.ok()) return attr.error();
      ino = attr->ino;
      start = end + 1;
    }
    return ino;
  }
  std::string read(const std::string& path) {
    auto ino = resolve(path);
    if (!ino.ok()) return "ERROR " + ino.error().describe();
    auto h = service_->ns().open(*ino, fs::OpenRequest{});
    if (!h.ok()) return "ERROR " + h.error().describe();
    auto text = service_->ns().read(h->handle, 0, 1 << 20);
    service_->ns().release(h->handle);
    return text.ok() ? *text : "ERROR " + text.error().describe();
  }
  // `echo TEXT > path`: open(O_WRONLY|O_TRUNC), write, close. The error of
  // the write (what echo reports), else of the close.
  Status echo(const std::string& path, const std::string& text) {
    auto ino = resolve(path);
    if (!ino.ok()) return ino.error();
    auto h = service_->ns().open(*ino, fs::OpenRequest{true, true, false});
    if (!h.ok()) return h.error();
    auto written = service_->ns().write(h->handle, 0, text);
    Status closed = service_->ns().flush(h->handle);
    service_->ns().release(h->handle);
    if (!written.ok()) return written.error();
    return closed;
  }
  std::vector<std::string> list(const std::string& path) {
    auto ino = resolve(path);
    std::vector<std::string> names;
    if (!ino.ok()) return {"ERROR " + ino.error().describe()};
    auto entries = service_->ns().readdir(*ino);
    if (!entries.ok()) return {"ERROR " + entries.error().describe()};
    for (auto& e : *entries) names.push_back(e.name);
    return names;
  }
  int calls_of(const std::vector<std::string>& argv) {
    auto calls = remote_->calls();
    return static_cast<int>(std::count(calls.begin(), calls.end(), argv));
  }

  std::filesystem::path state_dir_;
  config::Config config_;
  FakeClock clock_;
  std::shared_ptr<testing::FakeRemote> remote_ = std::make_shared<testing::FakeRemote>();
  std::unique_ptr<MountService> service_;
};

TEST_F(JobControlTest, CtlListsTheAcceptedWords) {
  auto job = running_job();
  std::string ctl = read("jobs/" + job.id + "/ctl");
  EXPECT_NE(ctl.find("accepted: refresh, cancel\n"), std::string::npos) << ctl;
  EXPECT_NE(ctl.find("recent: none"), std::string::npos) << ctl;
  auto names = list("jobs/" + job.id);
  EXPECT_NE(std::find(names.begin(), names.end(), "ctl"), names.end());
  auto attr = service_->ns().getattr(*resolve("jobs/" + job.id + "/ctl"));
  EXPECT_EQ(attr->mode, 0644u);
  EXPECT_EQ(attr->size, ctl.size());
}

TEST_F(JobControlTest, AnUnknownWordIsInvalidRunsNothingAndCtlSaysWhy) {
  auto job = running_job();
  std::mutex mu;
  std::vector<fs::InodeId> invalidated;
  service_->set_invalidator([&](fs::InodeId ino) {
    std::lock_guard lock(mu);
    invalidated.push_back(ino);
  });  // before start(): monitors call it from their threads
  start();
  const auto ctl_ino = *resolve("jobs/" + job.id + "/ctl");
  Status s = echo("jobs/" + job.id + "/ctl", "cancle\n");
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(std::find(invalidated.begin(), invalidated.end(), ctl_ino) != invalidated.end())
        << "ctl's size and mtime changed: the kernel's long-lived attributes are dropped";
  }
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kInvalidArgument);
  EXPECT_NE(s.error().message.find("accepted: refresh, cancel"), std::string::npos) << s.error().message;
  std::string ctl = read("jobs/" + job.id + "/ctl");
  EXPECT_NE(ctl.find("cancle: refused: unknown word 'cancle'"), std::string::npos) << ctl;
  // One bad word among good ones: nothing runs.
  s = echo("jobs/" + job.id + "/ctl", "refresh\nbogus\n");
  EXPECT_EQ(s.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(calls_of(backend::scancel_argv("12")), 0);
  service_->stop();
}

TEST_F(JobControlTest, RefreshPollsNowAndTheNextReadShowsTheAnswer) {
  auto job = running_job();
  start();
  ASSERT_TRUE(echo("jobs/" + job.id + "/ctl", "refresh\n").ok());  // first cycle: still RUNNING
  int polls = calls_of(backend::kSqueuePollArgv);
  EXPECT_GE(polls, 1);
  answer_squeue("COMPLETED", 0);
  ASSERT_TRUE(echo("jobs/" + job.id + "/ctl", "refresh\n").ok());
  EXPECT_EQ(read("jobs/" + job.id + "/status"), "COMPLETED exit 0\n") << "the write waited for the cycle";
  EXPECT_GT(calls_of(backend::kSqueuePollArgv), polls);
  EXPECT_NE(read("jobs/" + job.id + "/ctl").find("refresh: done: polled alpha; status: COMPLETED exit 0"),
            std::string::npos);
  service_->stop();
}

TEST_F(JobControlTest, RefreshWithNoCycleComingFailsWithTimeoutAndExplains) {
  auto job = running_job();
  // The poller is not running: no cycle can come.
  auto started = std::chrono::steady_clock::now();
  Status s = echo("jobs/" + job.id + "/ctl", "refresh");  // no newline: acted on at close
  EXPECT_LT(std::chrono::steady_clock::now() - started, JobControl::kRefreshBound + 2s);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kTimeout);
  EXPECT_NE(read("jobs/" + job.id + "/ctl").find("refresh: refused: alpha did not answer"), std::string::npos)
      << read("jobs/" + job.id + "/ctl");
}

TEST_F(JobControlTest, CancelRunsScancelKeepsTheFilesAndTheStatusSaysCancelled) {
  auto job = running_job();
  start();
  remote_->answer(backend::scancel_argv("12"), CommandResult{0, "", read_data("alpha-scancel-running-job-verbose.stderr.txt")});
  answer_squeue("CANCELLED", 15);  // what squeue says once scancel took effect
  ASSERT_TRUE(echo("jobs/" + job.id + "/ctl", "cancel\n").ok());
  EXPECT_EQ(calls_of(backend::scancel_argv("12")), 1);
  EXPECT_EQ(read("jobs/" + job.id + "/status").rfind("CANCELLED", 0), 0u) << read("jobs/" + job.id + "/status");
  EXPECT_EQ(read("jobs/" + job.id + "/script"), "#!/bin/bash\nsleep 600\n") << "files and parameters stay";
  EXPECT_NE(read("jobs/" + job.id + "/ctl").find("cancel: done: SLURM job 12 on alpha cancelled"),
            std::string::npos)
      << read("jobs/" + job.id + "/ctl");
  // Cancelling again: the job already ended; not an error, and no scancel.
  ASSERT_TRUE(echo("jobs/" + job.id + "/ctl", "cancel\n").ok());
  EXPECT_EQ(calls_of(backend::scancel_argv("12")), 1);
  EXPECT_NE(read("jobs/" + job.id + "/ctl").find("already ended (CANCELLED"), std::string::npos);
  service_->stop();
}

TEST_F(JobControlTest, CancellingASweepScancelsItsArrayAndEveryRunEndsCancelled) {
  // A sweep as LaunchService records it: array job 40, runs 40_0 and 40_1.
  backend::JobRecord j;
  j.project = "p";
  j.cluster = "alpha";
  j.script = "#!/bin/bash\n#SBATCH --array=0-1\n";
  auto sweep = *service_->job_store().insert(j, "sweep");
  sweep.slurm_id = "40";
  sweep.state = backend::job_state::kRunning;
  ASSERT_TRUE(service_->job_store().update(sweep).ok());
  std::string rows, cancelled_rows;
  for (int n = 0; n < 2; ++n) {
    auto run = *service_->job_store().insert_run(sweep, n, j);
    run.slurm_id = backend::array_task_id("40", n);
    run.state = backend::job_state::kRunning;
    ASSERT_TRUE(service_->job_store().update(run).ok());
    rows += run.slurm_id + "|RUNNING|1796006858|1796006858|1796006860|0|None|" + sweep.token + "\n";
    cancelled_rows += run.slurm_id + "|CANCELLED|1796006858|1796006858|1796006860|15|None|" + sweep.token + "\n";
  }
  remote_->answer_ok(backend::kSqueuePollArgv, rows);
  start();
  EXPECT_EQ(read("jobs/" + sweep.id + "/status"), "RUNNING (0/2 finished: RUNNING 2)\n");
  EXPECT_EQ(read("jobs/" + sweep.id + ".1/sweep"), sweep.id + "\n");
  EXPECT_EQ(read("jobs/" + sweep.id + "/runs"), sweep.id + ".0\t40_0\tRUNNING\t\n" + sweep.id + ".1\t40_1\tRUNNING\t\n");
  // One scancel of the array id cancels every task.
  remote_->answer(backend::scancel_argv("40"),
                  CommandResult{0, "", read_data("alpha-scancel-running-job-verbose.stderr.txt")});
  remote_->answer_ok(backend::kSqueuePollArgv, cancelled_rows);
  ASSERT_TRUE(echo("jobs/" + sweep.id + "/ctl", "cancel\n").ok());
  EXPECT_EQ(calls_of(backend::scancel_argv("40")), 1);
  EXPECT_EQ(read("jobs/" + sweep.id + "/status"), "CANCELLED (2/2 finished: CANCELLED 2)\n");
  EXPECT_EQ(read("jobs/" + sweep.id + ".0/status").rfind("CANCELLED", 0), 0u);
  EXPECT_EQ(read("jobs/" + sweep.id + ".1/status").rfind("CANCELLED", 0), 0u);
  EXPECT_NE(read("jobs/" + sweep.id + "/ctl").find("cancel: done: SLURM job 40 on alpha cancelled"), std::string::npos)
      << read("jobs/" + sweep.id + "/ctl");
  service_->stop();
}

TEST_F(JobControlTest, CancelOfAJobSlurmAlreadyFinishedSaysSoWithoutEio) {
  auto job = running_job();
  start();
  remote_->answer(backend::scancel_argv("12"),
                  CommandResult{0, "", read_data("alpha-scancel-finished-job.stderr.txt")});
  answer_squeue("COMPLETED", 0);
  ASSERT_TRUE(echo("jobs/" + job.id + "/ctl", "cancel\n").ok());
  std::string ctl = read("jobs/" + job.id + "/ctl");
  EXPECT_NE(ctl.find("had already ended (scancel: error: Kill job error on job id 30: Job/step already completing"),
            std::string::npos)
      << ctl;
  EXPECT_EQ(read("jobs/" + job.id + "/status"), "COMPLETED exit 0\n");
  service_->stop();
}

TEST_F(JobControlTest, CancelOnAnUnreachableClusterFailsAndSaysWhy) {
  auto job = running_job();
  remote_->answer(backend::scancel_argv("12"), make_error(Errc::kUnreachable, "connection refused"));
  Status s = echo("jobs/" + job.id + "/ctl", "cancel\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kUnreachable);
  EXPECT_NE(read("jobs/" + job.id + "/ctl").find("cancel: refused: scancel 12 on alpha: connection refused"),
            std::string::npos);
  EXPECT_EQ(read("jobs/" + job.id + "/status"), "RUNNING\n");
}

TEST_F(JobControlTest, MvToArchiveAndBack) {
  auto job = running_job();
  auto jobs_ino = *resolve("jobs");
  auto archive_ino = *resolve("archive");
  EXPECT_EQ(list("archive"), std::vector<std::string>{});
  EXPECT_EQ(list("projects/p/jobs"), std::vector<std::string>{job.id});
  std::vector<fs::InodeId> invalidated;
  std::vector<std::pair<fs::InodeId, std::string>> entries;
  service_->set_invalidator([&](fs::InodeId ino) { invalidated.push_back(ino); },
                            [&](fs::InodeId parent, const std::string& name) { entries.emplace_back(parent, name); });

  ASSERT_TRUE(service_->ns().rename(jobs_ino, job.id, archive_ino, job.id).ok());
  EXPECT_EQ(list("jobs"), std::vector<std::string>{});
  EXPECT_EQ(list("projects/p/jobs"), std::vector<std::string>{});
  EXPECT_EQ(list("archive"), std::vector<std::string>{job.id});
  EXPECT_EQ(read("archive/" + job.id + "/script"), "#!/bin/bash\nsleep 600\n");
  EXPECT_EQ(read("archive/" + job.id + "/status"), "RUNNING\n");
  EXPECT_EQ(read("jobs/" + job.id + "/status"), "ERROR not-found: no job " + job.id);
  EXPECT_TRUE(service_->job_store().get(job.id)->archived) << "kept in SQLite";
  EXPECT_FALSE(invalidated.empty()) << "listings are dropped from the kernel's caches";
  const auto links = *resolve("projects/p/jobs");
  EXPECT_TRUE(std::find(entries.begin(), entries.end(), std::make_pair(links, job.id)) != entries.end())
      << "the project's link (long-lived in the kernel) is dropped by name";

  ASSERT_TRUE(service_->ns().rename(archive_ino, job.id, jobs_ino, job.id).ok());
  EXPECT_EQ(list("jobs"), std::vector<std::string>{job.id});
  EXPECT_EQ(list("archive"), std::vector<std::string>{});
  EXPECT_EQ(list("projects/p/jobs"), std::vector<std::string>{job.id});
  EXPECT_FALSE(service_->job_store().get(job.id)->archived);
}

TEST_F(JobControlTest, MvThatIsNotArchivingIsRefusedWithEnotsupAndExplained) {
  auto job = running_job();
  auto jobs_ino = *resolve("jobs");
  auto archive_ino = *resolve("archive");
  Status s = service_->ns().rename(jobs_ino, job.id, jobs_ino, "renamed");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::kNotSupported);
  EXPECT_NE(read("jobs/" + job.id + "/ctl").find("job ids cannot be renamed"), std::string::npos);
  s = service_->ns().rename(jobs_ino, job.id, archive_ino, "other-name");
  EXPECT_EQ(s.error().code, Errc::kNotSupported);
  EXPECT_NE(read("jobs/" + job.id + "/ctl").find("a job keeps its id when it moves"), std::string::npos);
  s = service_->ns().rename(jobs_ino, job.id, *resolve("projects"), job.id);
  EXPECT_EQ(s.error().code, Errc::kNotSupported);
  EXPECT_NE(read("jobs/" + job.id + "/ctl").find("moves only between jobs/ and archive/"), std::string::npos);
  EXPECT_EQ(list("jobs"), std::vector<std::string>{job.id}) << "nothing moved";
  // Moving something else into archive/ is refused by its own directory.
  s = service_->ns().rename(*resolve("clusters"), "alpha", archive_ino, "alpha");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(list("archive"), std::vector<std::string>{});
}

TEST_F(JobControlTest, QueueShowsTheWholeQueueWithReasonsAndWhenItWasTaken) {
  remote_->answer_ok(backend::kSqueueMineArgv, read_data("alpha-squeue-me-queue.txt"));
  service_->monitor("alpha")->check_once();
  std::string queue = read("clusters/alpha/queue");
  EXPECT_NE(queue.find("# every job of mmcfsuser on alpha (squeue --me), taken "), std::string::npos) << queue;
  EXPECT_NE(queue.find("JOBID  NAME           PARTITION  STATE    TIME  NODES  GRES         REASON\n"),
            std::string::npos)
      << queue;
  EXPECT_NE(queue.find("held_by_hand   general    PENDING  0:00  1      gpu:a100:1   JobHeldUser\n"),
            std::string::npos)
      << queue;
  // The queue's failure leaves the last rows, says why, and the cluster stays up.
  remote_->answer(backend::kSqueueMineArgv, CommandResult{1, "", "squeue: error: oops\n"});
  clock_.advance(60s);
  auto snap = service_->monitor("alpha")->check_once();
  EXPECT_EQ(snap.health.state, backend::Health::kUp);
  queue = read("clusters/alpha/queue");
  EXPECT_NE(queue.find("(60 s ago)"), std::string::npos) << queue;
  EXPECT_NE(queue.find("# the last squeue --me failed"), std::string::npos) << queue;
  EXPECT_NE(queue.find("held_by_hand"), std::string::npos);
}

TEST_F(JobControlTest, StatsCountRemoteCommandsByKindAndJobsByState) {
  auto job = running_job();
  remote_->answer_ok(backend::kSqueueMineArgv, "");
  service_->monitor("alpha")->check_once();
  start();
  remote_->answer(backend::scancel_argv("12"), CommandResult{0, "", ""});
  answer_squeue("CANCELLED", 15);
  ASSERT_TRUE(echo("jobs/" + job.id + "/ctl", "cancel\n").ok());
  service_->stop();
  std::string stats = read(".mmcfs/stats");
  EXPECT_NE(stats.find("# TYPE mmcfs_remote_commands_total counter\n"), std::string::npos) << stats;
  EXPECT_NE(stats.find("mmcfs_remote_commands_total{cluster=\"alpha\",kind=\"scancel\"} 1\n"), std::string::npos)
      << stats;
  int squeues = calls_of(backend::kSqueuePollArgv) + calls_of(backend::kSqueueMineArgv) +
                calls_of(backend::kSqueuePendingArgv);
  EXPECT_NE(stats.find("mmcfs_remote_commands_total{cluster=\"alpha\",kind=\"squeue\"} " + std::to_string(squeues) +
                       "\n"),
            std::string::npos)
      << stats;
  EXPECT_NE(stats.find("mmcfs_remote_commands_total{cluster=\"alpha\",kind=\"scontrol\"} "), std::string::npos);
  EXPECT_NE(stats.find("mmcfs_poll_cycles_total{cluster=\"alpha\"} "), std::string::npos);
  EXPECT_EQ(stats.find("mmcfs_poll_cycles_total{cluster=\"alpha\"} 0\n"), std::string::npos) << stats;
  EXPECT_NE(stats.find("mmcfs_jobs{state=\"CANCELLED\"} 1\n"), std::string::npos) << stats;
}

}  // namespace
}  // namespace mmcfs::app
