// log_follower_test.cpp — JobLogs and the LogFollower over FakeRemote with an
// injected clock (tick() is called directly; nothing sleeps): held logs get
// only their new bytes each tick and are invalidated, logs nobody holds are
// left alone, a finished job's log is completed once and never fetched again
// (across a restart too), a failing cluster backs off on the clock, a job
// that ended without a log is tried once, opens refresh with a bound and skip
// a cluster known to be down, and tracker links are found as the log grows.
#include "app/log_follower.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "backend/failing_remote.h"
#include "fakes/fake_remote.h"

namespace mmcfs::app {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kLogPath = "~/ws/jobs/mmcfs-00000000000000aa/slurm-4242.out";

class LogFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/mmcfs-follower-unit-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    tmp_ = dir;
    cluster_.name = "alpha";
    cluster_.workspace = "~/ws";
    backend::JobRecord job;
    job.id = "00001-train";
    job.token = "mmcfs-00000000000000aa";
    job.cluster = "alpha";
    job.slurm_id = "4242";
    job.state = backend::job_state::kRunning;
    jobs_[job.id] = job;
  }
  void TearDown() override {
    follower_.reset();
    logs_.reset();
    std::error_code ignored;
    fs::remove_all(tmp_, ignored);
  }

  void make(std::shared_ptr<backend::Remote> remote = nullptr) {
    follower_.reset();
    std::map<std::string, JobLogs::Cluster> clusters;
    clusters.emplace("alpha", JobLogs::Cluster{cluster_, remote ? remote : remote_});
    logs_ = std::make_unique<JobLogs>(tmp_ + "/logs", std::move(clusters),
                                      [this](const std::string&) { return reachable_; });
    follower_ = std::make_unique<LogFollower>(
        "alpha", *logs_,
        [this](const std::string& id) -> std::optional<backend::JobRecord> {
          auto it = jobs_.find(id);
          if (it == jobs_.end()) return std::nullopt;
          return it->second;
        },
        [this] {
          std::vector<backend::JobSummaryRef> out;
          for (auto& [id, job] : jobs_) out.push_back(std::make_shared<backend::JobSummary>(backend::JobSummary{job, {}}));
          return out;
        },
        clock_, [this](const std::string& id, bool files) { invalidated_.emplace_back(id, files); }, 5s);
  }

  std::string cached(const std::string& id = "00001-train") {
    auto r = logs_->read_log(id, 0, 1 << 20);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : "";
  }
  std::vector<std::uint64_t> offsets() const {
    std::vector<std::uint64_t> out;
    for (const auto& c : remote_->read_calls()) out.push_back(c.offset);
    return out;
  }

  std::string tmp_;
  config::ClusterConfig cluster_;
  std::map<std::string, backend::JobRecord> jobs_;
  FakeClock clock_;
  bool reachable_ = true;
  std::shared_ptr<testing::FakeRemote> remote_ = std::make_shared<testing::FakeRemote>();
  std::unique_ptr<JobLogs> logs_;
  std::unique_ptr<LogFollower> follower_;
  std::vector<std::pair<std::string, bool>> invalidated_;
};

TEST_F(LogFollowerTest, AHeldLogGetsOnlyItsNewBytesEachTickAndIsInvalidated) {
  make();
  remote_->set_file(kLogPath, "line 1\n");
  logs_->hold("00001-train");
  auto stats = follower_->tick();
  EXPECT_EQ(stats.refreshed, 1);
  EXPECT_EQ(cached(), "line 1\n");
  EXPECT_EQ(invalidated_, (std::vector<std::pair<std::string, bool>>{{"00001-train", false}}));

  remote_->set_file(kLogPath, "line 1\nline 2\n");
  clock_.advance(1s);
  follower_->tick();
  EXPECT_EQ(cached(), "line 1\nline 2\n");
  EXPECT_EQ(offsets(), (std::vector<std::uint64_t>{0, 7}));
  EXPECT_EQ(logs_->log_view("00001-train").size, 14u);
  EXPECT_EQ(invalidated_.size(), 2u);

  // Nothing new: asked, but no invalidation.
  clock_.advance(1s);
  follower_->tick();
  EXPECT_EQ(offsets(), (std::vector<std::uint64_t>{0, 7, 14}));
  EXPECT_EQ(invalidated_.size(), 2u);
}

TEST_F(LogFollowerTest, LogsNobodyHoldsAreNotFetched) {
  make();
  remote_->set_file(kLogPath, "line 1\n");
  follower_->tick();
  logs_->hold("00001-train");
  logs_->release("00001-train");
  follower_->tick();
  EXPECT_TRUE(remote_->read_calls().empty());
  EXPECT_TRUE(invalidated_.empty());
}

TEST_F(LogFollowerTest, AFinishedJobsLogIsCompletedOnceAndNeverFetchedAgain) {
  make();
  remote_->set_file(kLogPath, "line 1\n");
  logs_->hold("00001-train");
  follower_->tick();
  logs_->release("00001-train");
  // The job is cancelled; SLURM wrote its last line.
  remote_->set_file(kLogPath, "line 1\nslurmstepd: error: *** JOB 4242 ON alpha-n1 CANCELLED AT 2026-11-30T03:01:02 ***\n");
  jobs_["00001-train"].state = backend::job_state::kCancelled;
  follower_->jobs_changed();
  follower_->tick();
  EXPECT_TRUE(logs_->complete("00001-train"));
  EXPECT_NE(cached().find("CANCELLED AT"), std::string::npos);
  EXPECT_TRUE(follower_->pending_final().empty());
  EXPECT_EQ(invalidated_.back(), (std::pair<std::string, bool>{"00001-train", true}));
  const auto reads = remote_->read_calls().size();

  // Held again, polled again, restarted: never fetched again.
  logs_->hold("00001-train");
  follower_->jobs_changed();
  for (int i = 0; i < 3; ++i) {
    clock_.advance(1s);
    follower_->tick();
  }
  logs_->refresh_for_open(jobs_["00001-train"]);
  EXPECT_EQ(remote_->read_calls().size(), reads);
  logs_->release("00001-train");

  auto dead = std::make_shared<backend::FailingRemote>(*remote_);
  dead->fail_all(make_error(Errc::kUnreachable, "cluster offline"));
  make(dead);  // a restart with the cluster down
  EXPECT_TRUE(logs_->complete("00001-train"));
  logs_->hold("00001-train");
  follower_->tick();
  logs_->refresh_for_open(jobs_["00001-train"]);
  EXPECT_EQ(dead->run_calls(), 0);
  EXPECT_EQ(logs_->stats().remote_reads, 0u);
  EXPECT_NE(cached().find("CANCELLED AT"), std::string::npos);
  logs_->release("00001-train");
}

TEST_F(LogFollowerTest, FinishedJobsFoundAtStartAreCompletedWithoutAReader) {
  jobs_["00001-train"].state = backend::job_state::kCompleted;
  remote_->set_file(kLogPath, "all of it\n");
  make();
  follower_->tick();
  EXPECT_TRUE(logs_->complete("00001-train"));
  EXPECT_EQ(cached(), "all of it\n");
}

TEST_F(LogFollowerTest, AFinishedJobWithoutALogIsTriedOncePerRun) {
  jobs_["00001-train"].state = backend::job_state::kCancelled;  // cancelled while pending: no file
  make();
  follower_->tick();
  EXPECT_EQ(remote_->read_calls().size(), 1u);
  follower_->jobs_changed();
  clock_.advance(1s);
  follower_->tick();
  EXPECT_EQ(remote_->read_calls().size(), 1u);
  EXPECT_TRUE(follower_->pending_final().empty());
}

TEST_F(LogFollowerTest, AFailingClusterBacksOffOnTheClock) {
  auto flaky = std::make_shared<backend::FailingRemote>(*remote_);
  flaky->fail_all(make_error(Errc::kUnreachable, "connection refused"));
  make(flaky);
  remote_->set_file(kLogPath, "line 1\n");
  logs_->hold("00001-train");
  EXPECT_EQ(follower_->tick().failed, 1);
  EXPECT_TRUE(follower_->tick().backing_off);  // no time has passed
  clock_.advance(1s);
  EXPECT_EQ(follower_->tick().failed, 1);  // second failure: wait 2 s
  clock_.advance(1s);
  EXPECT_TRUE(follower_->tick().backing_off);
  clock_.advance(1s);
  flaky->heal();
  auto stats = follower_->tick();
  EXPECT_FALSE(stats.backing_off);
  EXPECT_EQ(stats.failed, 0);
  EXPECT_EQ(cached(), "line 1\n");
  logs_->release("00001-train");
}

TEST_F(LogFollowerTest, OpenRefreshesUnlessTheClusterIsKnownDown) {
  make();
  remote_->set_file(kLogPath, "line 1\n");
  reachable_ = false;
  logs_->refresh_for_open(jobs_["00001-train"]);
  EXPECT_TRUE(remote_->read_calls().empty());
  reachable_ = true;
  logs_->refresh_for_open(jobs_["00001-train"]);
  EXPECT_EQ(cached(), "line 1\n");
  // The open's change is invalidated by the follower's thread, not the opener's.
  EXPECT_TRUE(invalidated_.empty());
  follower_->tick();
  EXPECT_EQ(invalidated_.size(), 1u);
}

TEST_F(LogFollowerTest, TrackerLinksAreFoundAsTheLogGrows) {
  make();
  logs_->hold("00001-train");
  remote_->set_file(kLogPath, "wandb: Syncing run glorious-sun-42\n");
  follower_->tick();
  EXPECT_TRUE(logs_->tracker_links("00001-train").empty());
  remote_->set_file(kLogPath,
                    "wandb: Syncing run glorious-sun-42\n"
                    "wandb: 🚀 View run at \x1b[34m\x1b[4mhttps://wandb.ai/lab/sft/runs/3k9x2m1p\x1b[0m\n");
  clock_.advance(1s);
  follower_->tick();
  EXPECT_EQ(logs_->tracker_links("00001-train"),
            (std::vector<backend::TrackerLink>{{"wandb_run", "https://wandb.ai/lab/sft/runs/3k9x2m1p"},
                                               {"wandb_logs", "https://wandb.ai/lab/sft/runs/3k9x2m1p/logs"}}));
  EXPECT_EQ(invalidated_.back(), (std::pair<std::string, bool>{"00001-train", true}));
  logs_->release("00001-train");
}

TEST_F(LogFollowerTest, TheThreadFollowsAHeldLog) {
  make();
  remote_->set_file(kLogPath, "line 1\n");
  logs_->hold("00001-train");
  follower_->start();
  for (int i = 0; i < 200 && cached() != "line 1\n"; ++i) std::this_thread::sleep_for(10ms);
  follower_->stop();
  EXPECT_EQ(cached(), "line 1\n");
  logs_->release("00001-train");
}

}  // namespace
}  // namespace mmcfs::app
