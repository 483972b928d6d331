// job_poll_loop_test.cpp — scheduling of poll cycles per cluster: backoff,
// the failure state (on a FakeClock) behind "unreachable since", which jobs
// the listener is told about, and that a hanging cluster does not hold up
// another's cycle. Also the staleness note of job_freshness.h.
//
// Thread rules: the loop tests start real loop threads; waiting is on
// condition variables with generous deadlines, never a sleep for a TTL.
#include "app/job_poll_loop.h"

#include <gtest/gtest.h>

#include <thread>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>

#include "app/job_freshness.h"
#include "common/text.h"
#include "backend/failing_remote.h"
#include "backend/state_store.h"
#include "fakes/fake_remote.h"

namespace mmcfs::app {
namespace {

using namespace std::chrono_literals;
using backend::JobRecord;
using backend::JobStore;
using testing::FakeRemote;

std::string squeue_row(const JobRecord& j, const std::string& state, const std::string& reason) {
  auto submit = std::chrono::duration_cast<std::chrono::seconds>(j.submitted_at.time_since_epoch()).count();
  return j.slurm_id + "|" + state + "|" + std::to_string(submit) + "|N/A|N/A|0|" + reason + "|" + j.token + "\n";
}

// Records the listener's calls; wait_for_call() blocks (bounded) for the next.
class Recorder {
 public:
  void operator()(const std::vector<std::string>& ids) {
    std::lock_guard lock(mu_);
    calls_.push_back(ids);
    cv_.notify_all();
  }
  bool wait_for_calls(std::size_t n, std::chrono::milliseconds max) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, max, [&] { return calls_.size() >= n; });
  }
  std::vector<std::vector<std::string>> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<std::string>> calls_;
};

class JobPollLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mmcfs-poll-loop-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto db = backend::StateStore::open(dir_.string());
    ASSERT_TRUE(db.ok()) << db.error().describe();
    db_ = std::move(*db);
    auto jobs = JobStore::open(*db_, clock_);
    ASSERT_TRUE(jobs.ok()) << jobs.error().describe();
    jobs_ = std::move(*jobs);
    alpha_.name = "alpha";
    alpha_.workspace = "/ws";
    beta_ = alpha_;
    beta_.name = "beta";
  }
  void TearDown() override {
    jobs_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  JobRecord submit(const std::string& slurm_id, const std::string& cluster) {
    JobRecord j;
    j.project = "p";
    j.cluster = cluster;
    JobRecord rec = *jobs_->insert(j, "job");
    rec.slurm_id = slurm_id;
    rec.state = backend::job_state::kPending;
    EXPECT_TRUE(jobs_->update(rec).ok());
    return *jobs_->get(rec.id);
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<backend::StateStore> db_;
  std::unique_ptr<JobStore> jobs_;
  config::ClusterConfig alpha_, beta_;
};

TEST(JobPollLoopDelay, BacksOffFromOneSecondUpToTheInterval) {
  EXPECT_EQ(JobPollLoop::next_delay(30s, 0), 30s);
  EXPECT_EQ(JobPollLoop::next_delay(30s, 1), 1s);
  EXPECT_EQ(JobPollLoop::next_delay(30s, 2), 2s);
  EXPECT_EQ(JobPollLoop::next_delay(30s, 5), 16s);
  EXPECT_EQ(JobPollLoop::next_delay(30s, 6), 30s);
  EXPECT_EQ(JobPollLoop::next_delay(30s, 1000), 30s);
  EXPECT_EQ(JobPollLoop::next_delay(2s, 3), 2s);
}

TEST_F(JobPollLoopTest, FailuresAreDatedOnTheInjectedClockAndTheListenerHearsOfFlips) {
  JobRecord job = submit("101", "alpha");
  JobRecord done = submit("102", "alpha");
  done.state = backend::job_state::kCompleted;
  ASSERT_TRUE(jobs_->update(done).ok());
  submit("201", "beta");
  auto fake = std::make_shared<FakeRemote>();
  fake->answer_ok(backend::kSqueuePollArgv, squeue_row(job, "PENDING", "Priority"));
  auto failing = std::make_shared<backend::FailingRemote>(*fake);
  Recorder heard;
  JobPollLoop loop(alpha_, failing, *jobs_, clock_, std::ref(heard));

  // A good cycle: the changed job only.
  loop.poll_once();
  EXPECT_FALSE(loop.health().failing_since);
  EXPECT_EQ(loop.health().last_success, clock_.now());
  ASSERT_EQ(heard.calls().size(), 1u);
  EXPECT_EQ(heard.calls()[0], std::vector<std::string>{job.id});

  // Unreachable: dated at the first failure, not the later ones.
  failing->fail_all(make_error(Errc::kUnreachable, "alpha: connection refused"));
  clock_.advance(1min);
  WallTime first_failure = clock_.now();
  loop.poll_once();
  clock_.advance(1min);
  loop.poll_once();
  PollHealth h = loop.health();
  ASSERT_TRUE(h.failing_since);
  EXPECT_EQ(*h.failing_since, first_failure);
  EXPECT_NE(h.error.find("connection refused"), std::string::npos) << h.error;
  // The flip told the listener about every active job of alpha (their
  // status files now carry a note), once.
  ASSERT_EQ(heard.calls().size(), 2u);
  EXPECT_EQ(heard.calls()[1], std::vector<std::string>{job.id});

  failing->heal();
  loop.poll_once();
  EXPECT_FALSE(loop.health().failing_since);
  EXPECT_EQ(loop.health().error, "");
  ASSERT_EQ(heard.calls().size(), 3u);  // back: the notes go away
  EXPECT_EQ(heard.calls()[2], std::vector<std::string>{job.id});
}

TEST_F(JobPollLoopTest, AHangingClusterDoesNotDelayAnother) {
  JobRecord a = submit("101", "alpha");
  JobRecord b = submit("201", "beta");
  auto alpha_remote = std::make_shared<FakeRemote>();
  alpha_remote->answer_ok(backend::kSqueuePollArgv, squeue_row(a, "PENDING", "Priority"));
  auto beta_fake = std::make_shared<FakeRemote>();
  beta_fake->answer_ok(backend::kSqueuePollArgv, squeue_row(b, "PENDING", "Priority"));
  auto beta_remote = std::make_shared<backend::FailingRemote>(*beta_fake);
  beta_remote->hang_all(60s);
  beta_.command_timeout = 60s;
  Recorder alpha_heard, beta_heard;
  JobPollLoop alpha(alpha_, alpha_remote, *jobs_, clock_, std::ref(alpha_heard));
  JobPollLoop beta(beta_, beta_remote, *jobs_, clock_, std::ref(beta_heard));

  // beta's squeue must be hanging before alpha starts, or the test proves nothing.
  beta.start();
  auto beta_deadline = std::chrono::steady_clock::now() + 10s;
  while (beta_remote->run_calls() < 1 && std::chrono::steady_clock::now() < beta_deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(beta_remote->run_calls(), 1) << "beta's cycle never started";
  auto started = std::chrono::steady_clock::now();
  alpha.start();
  ASSERT_TRUE(alpha_heard.wait_for_calls(1, 10s)) << "alpha's cycle never completed";
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, 2s) << "alpha waited for beta";
  EXPECT_EQ(jobs_->get(a.id)->reason, "Priority");
  EXPECT_EQ(beta_remote->run_calls(), 1);      // beta's squeue is still hanging
  EXPECT_TRUE(beta_heard.calls().empty());
  EXPECT_EQ(jobs_->get(b.id)->reason, "");

  beta_remote->heal();  // the hung call times out at once; beta's next cycle is ~1 s later
  alpha.stop();
  beta.stop();
  EXPECT_FALSE(beta.last_stats().error.empty());
}

TEST(JobFreshness, ActiveJobsOnAnUnreachableClusterSayHowOldTheirStateIs) {
  FakeClock clock;
  JobRecord job;
  job.cluster = "alpha";
  job.slurm_id = "101";
  job.state = "RUNNING";
  job.updated_at = clock.now() - 1h;
  job.confirmed_at = clock.now();
  PollHealth poll;
  backend::ClusterHealth up;
  up.state = backend::Health::kUp;
  EXPECT_FALSE(cluster_outage(poll, up));
  EXPECT_EQ(job_staleness_note(job, cluster_outage(poll, up), clock.now()), "");

  poll.failing_since = clock.now() + 10s;
  clock.advance(5min);
  auto outage = cluster_outage(poll, up);
  ASSERT_TRUE(outage);
  std::string note = job_staleness_note(job, outage, clock.now());
  EXPECT_EQ(note, "alpha unreachable since " + clock_time_local(*poll.failing_since) + "; state as of 5 min ago");

  // The monitor noticed earlier: its time wins.
  backend::ClusterHealth down;
  down.state = backend::Health::kDown;
  down.since = *poll.failing_since - 20s;
  EXPECT_EQ(cluster_outage(poll, down)->since, down.since);
  EXPECT_EQ(cluster_outage(PollHealth{}, down)->since, down.since);

  // Never confirmed: the age is that of the last local change.
  job.confirmed_at.reset();
  EXPECT_NE(job_staleness_note(job, outage, clock.now()).find("state as of 65 min ago"), std::string::npos);

  // Final states do not go stale.
  job.state = "COMPLETED";
  EXPECT_EQ(job_staleness_note(job, outage, clock.now()), "");
}

}  // namespace
}  // namespace mmcfs::app
