// job_poller_test.cpp — the poller's cycle with a FakeRemote answering in the
// shapes of the real captures (tests/data/alpha-squeue-poll.txt,
// sacct-job.stderr.txt, alpha-job-markers.txt), a real JobStore on a
// temporary StateStore, and a FakeClock.
//
// Thread rules: each test is single-threaded and owns its store and fakes.
#include "backend/job_poller.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "backend/failing_remote.h"
#include "backend/state_store.h"
#include "fakes/fake_remote.h"

namespace mmcfs::backend {
namespace {

using namespace std::chrono_literals;
using testing::FakeRemote;

long long seconds_of(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// One line of kSqueuePollArgv's output.
std::string row(const std::string& id, const std::string& state, WallTime submit, const std::string& start,
                const std::string& end, int raw_exit, const std::string& reason, const std::string& comment) {
  return id + "|" + state + "|" + std::to_string(seconds_of(submit)) + "|" + start + "|" + end + "|" +
         std::to_string(raw_exit) + "|" + reason + "|" + comment + "\n";
}

std::string data_file(const std::string& name) {
  std::ifstream in(std::string(MMCFS_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

class JobPollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mmcfs-poller-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    auto db = StateStore::open(dir_.string());
    ASSERT_TRUE(db.ok()) << db.error().describe();
    db_ = std::move(*db);
    auto jobs = JobStore::open(*db_, clock_);
    ASSERT_TRUE(jobs.ok()) << jobs.error().describe();
    jobs_ = std::move(*jobs);
    poller_ = std::make_unique<JobPoller>(*jobs_, clock_);
    cluster_.name = "alpha";
    cluster_.workspace = "/ws";
  }
  void TearDown() override {
    poller_.reset();
    jobs_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A job submitted now as SLURM job `slurm_id`, PENDING.
  JobRecord submit(const std::string& slurm_id, const std::string& cluster = "alpha") {
    JobRecord j;
    j.project = "p";
    j.cluster = cluster;
    auto inserted = jobs_->insert(j, "job");
    EXPECT_TRUE(inserted.ok());
    JobRecord rec = *inserted;
    rec.slurm_id = slurm_id;
    rec.state = job_state::kPending;
    EXPECT_TRUE(jobs_->update(rec).ok());
    return *jobs_->get(rec.id);
  }
  JobRecord get(const JobRecord& j) { return *jobs_->get(j.id); }
  // A job as submit() makes it, with the token (= SLURM comment) and submit
  // time of a captured job.
  JobRecord submit_as(const std::string& slurm_id, const std::string& token, WallTime submitted_at) {
    JobRecord j = submit(slurm_id);
    j.token = token;
    j.submitted_at = submitted_at;
    EXPECT_TRUE(jobs_->update(j).ok());
    return get(j);
  }

  void answer_squeue(const std::string& out) { remote_.answer_ok(kSqueuePollArgv, out); }
  void answer_accounting_disabled(const std::vector<std::string>& ids) {
    remote_.answer(sacct_argv(ids), CommandResult{1, "", "Slurm accounting storage is disabled\n"});
  }
  void answer_markers(const std::string& out) { remote_.answer_ok(kMarkerArgv, out); }
  // kScontrolJobsArgv's answer, whichever ids it is given (the ids arrive on stdin).
  void answer_scontrol(const std::string& out) { remote_.answer_ok(kScontrolJobsArgv, out); }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<StateStore> db_;
  std::unique_ptr<JobStore> jobs_;
  std::unique_ptr<JobPoller> poller_;
  config::ClusterConfig cluster_;
  FakeRemote remote_;
};

TEST_F(JobPollerTest, PendingRunningThenCompletedThroughTheMarker) {
  JobRecord job = submit("101");
  WallTime submitted = job.submitted_at + 2s;  // the controller's clock is a little ahead
  answer_squeue(row("101", "PENDING", submitted, "N/A", "N/A", 0, "Resources", job.token));
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.jobs_updated, 1);  // PENDING was known; the reason is new
  EXPECT_EQ(get(job).state, "PENDING");
  EXPECT_EQ(get(job).reason, "Resources");

  clock_.advance(30s);
  std::string start = std::to_string(seconds_of(submitted) + 20);
  answer_squeue(row("101", "RUNNING", submitted, start, "NONE", 0, "None", job.token));
  s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.jobs_updated, 1);
  EXPECT_EQ(get(job).state, "RUNNING");
  EXPECT_EQ(get(job).reason, "");
  ASSERT_TRUE(get(job).started_at);
  EXPECT_EQ(seconds_of(*get(job).started_at), seconds_of(submitted) + 20);

  // Gone from the controller (mmcfs was away longer than MinJobAge): the
  // marker decides.
  clock_.advance(30s);
  answer_squeue("");
  answer_accounting_disabled({"101"});
  answer_scontrol("");
  answer_markers(job.token + " 0 2026-11-23T22:10:41Z\n");
  s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.squeue_calls, 1);
  EXPECT_EQ(s.sacct_calls, 1);
  EXPECT_EQ(s.scontrol_calls, 1);
  EXPECT_EQ(s.marker_calls, 1);
  EXPECT_EQ(s.jobs_updated, 1);
  JobRecord done = get(job);
  EXPECT_EQ(done.state, "COMPLETED");
  EXPECT_EQ(done.exit_code, 0);
  EXPECT_EQ(done.ended_at, clock_.now());
  EXPECT_EQ(seconds_of(*done.started_at), seconds_of(submitted) + 20);  // SLURM's, not the marker's
  EXPECT_EQ(remote_.inputs().back(), job.token + " /ws/jobs/" + job.token + "\n");
  EXPECT_TRUE(poller_->accounting_disabled("alpha"));

  size_t calls = remote_.calls().size();
  s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.remote_calls(), 0);
  EXPECT_EQ(remote_.calls().size(), calls);
}

TEST_F(JobPollerTest, FinishedJobsInTheControllerNeedNoOtherCommand) {
  JobRecord ok = submit("101");
  JobRecord failed = submit("102");
  WallTime t = ok.submitted_at;
  std::string start = std::to_string(seconds_of(t) + 1), end = std::to_string(seconds_of(t) + 9);
  answer_squeue(row("101", "COMPLETED", t, start, end, 0, "None", ok.token) +
                row("102", "FAILED", t, start, end, 768, "NonZeroExitCode", failed.token));
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.remote_calls(), 1);
  EXPECT_EQ(s.jobs_updated, 2);
  EXPECT_EQ(get(ok).state, "COMPLETED");
  EXPECT_EQ(get(ok).exit_code, 0);
  EXPECT_EQ(seconds_of(*get(ok).ended_at), seconds_of(t) + 9);
  EXPECT_EQ(get(failed).state, "FAILED");
  EXPECT_EQ(get(failed).exit_code, 3);
  EXPECT_EQ(get(failed).reason, "NonZeroExitCode");
}

TEST_F(JobPollerTest, FailedWithExit3ThroughTheMarker) {
  JobRecord job = submit("101");
  answer_squeue("");
  answer_accounting_disabled({"101"});
  answer_scontrol("");
  answer_markers(job.token + " 3 2026-11-23T22:10:42Z\n");
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.jobs_updated, 1);
  JobRecord j = get(job);
  EXPECT_EQ(j.state, "FAILED");
  EXPECT_EQ(j.exit_code, 3);
  EXPECT_NE(j.reason.find("exit status 3"), std::string::npos) << j.reason;
  EXPECT_EQ(j.started_at, parse_utc_time("2026-11-23T22:10:42Z"));  // never seen running: the marker's
}

TEST_F(JobPollerTest, CancelledAsTheControllerReportsIt) {
  // Shapes of jobs 258 (held, cancelled) and 259 (running, cancelled) in
  // tests/data/alpha-squeue-poll.txt.
  JobRecord pending = submit("258");
  JobRecord running = submit("259");
  WallTime t = pending.submitted_at;
  std::string at = std::to_string(seconds_of(t) + 5);
  answer_squeue(row("258", "CANCELLED", t, at, at, 0, "JobHeldUser", pending.token) +
                row("259", "CANCELLED", t, std::to_string(seconds_of(t) + 1), at, 36608, "None", running.token));
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.remote_calls(), 1);
  JobRecord p = get(pending);
  EXPECT_EQ(p.state, "CANCELLED");
  EXPECT_FALSE(p.exit_code);
  EXPECT_FALSE(p.started_at);
  EXPECT_EQ(p.reason, "cancelled before it started");
  ASSERT_TRUE(p.ended_at);
  EXPECT_EQ(seconds_of(*p.ended_at), seconds_of(t) + 5);
  JobRecord r = get(running);
  EXPECT_EQ(r.state, "CANCELLED");
  EXPECT_EQ(r.exit_code, 143);
  EXPECT_EQ(r.reason, "");
  EXPECT_TRUE(r.started_at);
}

TEST_F(JobPollerTest, ReusedIdIsNotMistakenForTheJob) {
  JobRecord job = submit("101");
  JobRecord other = submit("102");
  // 101 now belongs to a job submitted two days later by hand (no comment);
  // 102 to another mmcfs job (another token) submitted at the same time.
  answer_squeue(row("101", "RUNNING", job.submitted_at + 48h, "N/A", "NONE", 0, "None", "(null)") +
                row("102", "RUNNING", other.submitted_at, "N/A", "NONE", 0, "None", "mmcfs-0000000000000000"));
  answer_accounting_disabled({"101", "102"});
  answer_scontrol("");
  answer_markers(job.token + " - -\n" + other.token + " - -\n");
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.jobs_updated, 0);
  EXPECT_EQ(get(job).state, "PENDING");
  EXPECT_EQ(get(other).state, "PENDING");

  // Without a comment, a submit time within the tolerance is the job.
  answer_squeue(row("101", "RUNNING", job.submitted_at - 3min, "N/A", "NONE", 0, "None", "(null)"));
  poller_->poll(remote_, cluster_);
  EXPECT_EQ(get(job).state, "RUNNING");
  // With its token, a late submission (a retried submit) is the job too.
  answer_squeue(row("102", "RUNNING", other.submitted_at + 5h, "N/A", "NONE", 0, "None", other.token));
  poller_->poll(remote_, cluster_);
  EXPECT_EQ(get(other).state, "RUNNING");
}

TEST_F(JobPollerTest, TwoHundredJobsCostOneSqueuePerCycle) {
  std::vector<JobRecord> jobs;
  std::string out;
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    jobs.push_back(submit(std::to_string(1000 + i)));
    ids.push_back(std::to_string(1000 + i));
    out += row(ids.back(), i % 2 ? "RUNNING" : "PENDING", jobs.back().submitted_at, "1795471843", "NONE", 0,
               i % 2 ? "None" : "Priority", jobs.back().token);
  }
  submit("5000", "beta");  // another cluster's job is not asked about
  answer_squeue(out);
  for (int cycle = 0; cycle < 3; ++cycle) {
    size_t before = remote_.calls().size();
    PollStats s = poller_->poll(remote_, cluster_);
    EXPECT_EQ(s.active_jobs, 200);
    EXPECT_EQ(s.squeue_calls, 1);
    EXPECT_EQ(s.remote_calls(), 1);
    EXPECT_EQ(remote_.calls().size(), before + 1);
    EXPECT_EQ(s.jobs_updated, cycle == 0 ? 200 : 0);  // state or reason changed once
  }

  // All leave the queue at once: still O(1) commands (sacct once, then never).
  answer_squeue("");
  std::sort(ids.begin(), ids.end());
  answer_accounting_disabled(ids);
  answer_scontrol("");
  std::string markers;
  for (const auto& j : jobs) markers += j.token + " 0 -\n";
  answer_markers(markers);
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.remote_calls(), 4);  // squeue, sacct, scontrol, markers
  EXPECT_EQ(s.jobs_updated, 200);
  EXPECT_EQ(jobs_->in_state("COMPLETED").size(), 200u);
  EXPECT_EQ(poller_->poll(remote_, cluster_).remote_calls(), 0);
}

TEST_F(JobPollerTest, FinalJobsAreNeverPolledOrWrittenAgain) {
  JobRecord done = submit("101");
  done.state = job_state::kCompleted;
  done.exit_code = 0;
  ASSERT_TRUE(jobs_->update(done).ok());
  done = get(done);
  EXPECT_EQ(poller_->poll(remote_, cluster_).remote_calls(), 0);
  EXPECT_TRUE(remote_.calls().empty());

  // Even if SLURM says otherwise about it while another job is polled.
  JobRecord active = submit("102");
  clock_.advance(1min);
  answer_squeue(row("101", "FAILED", done.submitted_at, "N/A", "N/A", 768, "NonZeroExitCode", done.token) +
                row("102", "RUNNING", active.submitted_at, "1795471843", "NONE", 0, "None", active.token));
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.active_jobs, 1);
  EXPECT_EQ(s.jobs_updated, 1);
  EXPECT_EQ(get(done).state, "COMPLETED");
  EXPECT_EQ(get(done).updated_at, done.updated_at);
}

TEST_F(JobPollerTest, UnreachableRemoteLeavesRecordsUnchanged) {
  JobRecord job = submit("101");
  remote_.set_connect_result(make_error(Errc::kUnreachable, "alpha: connection refused"));
  clock_.advance(1h);  // far beyond kUnknownAfter: still no verdict without answers
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_NE(s.error.find("connection refused"), std::string::npos) << s.error;
  EXPECT_EQ(s.squeue_calls, 1);
  EXPECT_EQ(s.jobs_updated, 0);
  JobRecord after = get(job);
  EXPECT_EQ(after.state, "PENDING");
  EXPECT_EQ(after.updated_at, job.updated_at);

  // squeue answers with an error (controller down): nothing is read as "left the queue".
  remote_.set_connect_result(Status::Ok());
  remote_.answer(kSqueuePollArgv,
                 CommandResult{1, "", "slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n"});
  s = poller_->poll(remote_, cluster_);
  EXPECT_NE(s.error.find("Unable to contact"), std::string::npos) << s.error;
  EXPECT_EQ(s.remote_calls(), 1);
  EXPECT_EQ(get(job).updated_at, job.updated_at);

  // The connection breaks after squeue: the marker call fails, no change.
  answer_squeue("");
  answer_accounting_disabled({"101"});
  answer_scontrol("");
  answer_markers(job.token + " 0 -\n");
  FailingRemote failing(remote_);
  failing.fail_call(4, make_error(Errc::kIo, "alpha: connection reset"));  // squeue, sacct, scontrol, markers
  s = poller_->poll(failing, cluster_);
  EXPECT_EQ(s.marker_calls, 1);
  EXPECT_NE(s.error.find("connection reset"), std::string::npos) << s.error;
  EXPECT_EQ(get(job).state, "PENDING");
  EXPECT_EQ(get(job).updated_at, job.updated_at);
}

TEST_F(JobPollerTest, NoMarkerAndNoRecordBecomesUnknownAfterTenMinutes) {
  JobRecord job = submit("101");
  answer_squeue("");
  answer_accounting_disabled({"101"});
  answer_scontrol("");
  answer_markers(job.token + " - 2026-11-23T22:10:43Z\n");
  poller_->poll(remote_, cluster_);
  WallTime first_missed = clock_.now();
  EXPECT_EQ(get(job).state, "PENDING");
  EXPECT_TRUE(get(job).started_at);  // the started marker is news worth keeping

  clock_.advance(9min);
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.remote_calls(), 3);  // squeue, scontrol, markers; sacct is known to be off
  EXPECT_EQ(get(job).state, "PENDING");

  clock_.advance(1min);
  s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.jobs_updated, 1);
  JobRecord j = get(job);
  EXPECT_EQ(j.state, job_state::kUnknown);
  EXPECT_NE(j.reason.find("could not be determined"), std::string::npos) << j.reason;
  EXPECT_NE(j.reason.find("/ws/jobs/" + job.token), std::string::npos) << j.reason;
  EXPECT_EQ(j.ended_at, first_missed);
  EXPECT_EQ(poller_->poll(remote_, cluster_).remote_calls(), 0);
}

TEST_F(JobPollerTest, AccountingResolvesFirstWhereItExists) {
  JobRecord job = submit("101");
  JobRecord gone = submit("102");
  answer_squeue("");
  remote_.answer_ok(sacct_argv({"101", "102"}),
                    "101|COMPLETED|0:0|1700000000|1700000001|1700000002|\n"  // an older job 101
                    "101|CANCELLED by 1001|0:15|" + std::to_string(seconds_of(job.submitted_at)) +
                        "|1800000010|1800000020|" + job.token + "\n");
  answer_scontrol("");
  answer_markers(gone.token + " - -\n");
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.sacct_calls, 1);
  EXPECT_EQ(s.scontrol_calls, 1);
  EXPECT_EQ(remote_.inputs()[2], "102\n");  // scontrol: only for 102, which sacct does not know
  EXPECT_EQ(s.marker_calls, 1);
  EXPECT_EQ(remote_.inputs().back(), gone.token + " /ws/jobs/" + gone.token + "\n");
  EXPECT_EQ(get(job).state, "CANCELLED");
  EXPECT_EQ(get(job).exit_code, 143);
  EXPECT_FALSE(poller_->accounting_disabled("alpha"));

  // A failing sacct (database down) never lets a job go UNKNOWN.
  remote_.answer(sacct_argv({"102"}), CommandResult{1, "", "sacct: error: Problem talking to the database\n"});
  clock_.advance(1h);
  s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.remote_calls(), 4);
  EXPECT_EQ(get(gone).state, "PENDING");
}

// tests/data/alpha-scontrol-show-jobs-loop.txt: jobs 3 (exit 0), 4 (exit 3)
// and 5 (held, cancelled) as the controller still holds them, submitted at
// 1796006667 with comments mmcfs-00000000000000a1, -b2, -c3; 99999 unknown.
constexpr const char* kScontrolCapture = "alpha-scontrol-show-jobs-loop.txt";
const WallTime kCapturedSubmit = WallTime(std::chrono::seconds(1796006667));

TEST_F(JobPollerTest, ScontrolSettlesJobsTheControllerStillHolds) {
  JobRecord ok = submit_as("3", "mmcfs-00000000000000a1", kCapturedSubmit);
  JobRecord failed = submit_as("4", "mmcfs-00000000000000b2", kCapturedSubmit);
  JobRecord held = submit_as("5", "mmcfs-00000000000000c3", kCapturedSubmit);
  JobRecord unknown = submit("99999");
  answer_squeue("");
  answer_accounting_disabled({"3", "4", "5", "99999"});
  answer_scontrol(data_file(kScontrolCapture));
  answer_markers(unknown.token + " - -\n");
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.remote_calls(), 4);
  EXPECT_EQ(s.scontrol_calls, 1);
  auto calls = remote_.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[2], kScontrolJobsArgv);
  EXPECT_EQ(remote_.inputs()[2], "3\n4\n5\n99999\n");  // one command for every id
  EXPECT_EQ(remote_.inputs()[3], unknown.token + " /ws/jobs/" + unknown.token + "\n");  // markers: the rest only

  EXPECT_EQ(get(ok).state, "COMPLETED");
  EXPECT_EQ(get(ok).exit_code, 0);
  EXPECT_TRUE(get(ok).started_at);
  EXPECT_EQ(get(failed).state, "FAILED");
  EXPECT_EQ(get(failed).exit_code, 3);
  EXPECT_EQ(get(failed).reason, "NonZeroExitCode");
  EXPECT_EQ(get(held).state, "CANCELLED");
  EXPECT_EQ(get(held).reason, "cancelled before it started");
  EXPECT_FALSE(get(held).exit_code);
  EXPECT_EQ(get(unknown).state, "PENDING");
  EXPECT_EQ(get(ok).confirmed_at, clock_.now());
  EXPECT_FALSE(get(unknown).confirmed_at);  // nobody answered for it
  EXPECT_EQ(s.jobs_updated, 3);
}

TEST_F(JobPollerTest, ScontrolAnswersForAReusedIdAreNotTheJob) {
  // Same ids, other tokens: jobs 3 and 4 of the capture are other jobs.
  JobRecord a = submit_as("3", "mmcfs-ffffffffffffffff", kCapturedSubmit);
  // Without a comment the submit time decides: 4 was submitted 5 days
  // after this record, 5 within a minute of it.
  std::string text = data_file(kScontrolCapture);
  replace_all(text, "Comment=mmcfs-00000000000000b2", "Comment=(null)");
  replace_all(text, "Comment=mmcfs-00000000000000c3", "Comment=(null)");
  JobRecord b = submit_as("4", "mmcfs-0000000000000001", kCapturedSubmit - std::chrono::hours(24 * 5));
  JobRecord c = submit_as("5", "mmcfs-0000000000000002", kCapturedSubmit - std::chrono::seconds(40));
  answer_squeue("");
  answer_accounting_disabled({"3", "4", "5"});
  answer_scontrol(text);
  answer_markers(a.token + " - -\n" + b.token + " - -\n");
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(get(a).state, "PENDING");
  EXPECT_EQ(get(b).state, "PENDING");
  EXPECT_EQ(get(c).state, "CANCELLED");
  EXPECT_EQ(remote_.inputs()[3], a.token + " /ws/jobs/" + a.token + "\n" + b.token + " /ws/jobs/" + b.token + "\n");
}

TEST_F(JobPollerTest, EveryCycleConfirmsTheJobsItSawAndRewritesOnlyChangedOnes) {
  std::vector<JobRecord> jobs;
  std::string out;
  for (int i = 0; i < 3; ++i) {
    jobs.push_back(submit(std::to_string(101 + i)));
    out += row(jobs.back().slurm_id, "PENDING", jobs.back().submitted_at, "N/A", "N/A", 0, "Priority",
               jobs.back().token);
  }
  answer_squeue(out);
  clock_.advance(10s);
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.jobs_updated, 3);
  EXPECT_EQ(s.jobs_confirmed, 3);
  std::vector<std::string> ids = {jobs[0].id, jobs[1].id, jobs[2].id};
  EXPECT_EQ(s.changed_ids, ids);
  WallTime first = clock_.now();
  EXPECT_EQ(get(jobs[0]).confirmed_at, first);
  EXPECT_EQ(get(jobs[0]).updated_at, first);

  // Nothing new: only confirmed_at moves; updated_at stays; nothing "changed".
  clock_.advance(30s);
  s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.jobs_updated, 0);
  EXPECT_EQ(s.jobs_confirmed, 3);
  EXPECT_TRUE(s.changed_ids.empty());
  EXPECT_EQ(get(jobs[1]).confirmed_at, clock_.now());
  EXPECT_EQ(get(jobs[1]).updated_at, first);
  EXPECT_EQ(status_time(get(jobs[1])), clock_.now());

  // One changes: only it is reported.
  clock_.advance(30s);
  answer_squeue(row(jobs[0].slurm_id, "PENDING", jobs[0].submitted_at, "N/A", "N/A", 0, "Priority", jobs[0].token) +
                row(jobs[1].slurm_id, "RUNNING", jobs[1].submitted_at, "1800000050", "NONE", 0, "None",
                    jobs[1].token) +
                row(jobs[2].slurm_id, "PENDING", jobs[2].submitted_at, "N/A", "N/A", 0, "Priority", jobs[2].token));
  s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.changed_ids, std::vector<std::string>{jobs[1].id});
  EXPECT_EQ(get(jobs[1]).updated_at, clock_.now());
  EXPECT_EQ(get(jobs[0]).updated_at, first);

  // The times survive a restart.
  WallTime last = clock_.now();
  poller_.reset();
  jobs_.reset();
  auto reopened = JobStore::open(*db_, clock_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->get(jobs[0].id)->confirmed_at, last);
  EXPECT_EQ((*reopened)->get(jobs[0].id)->updated_at, first);
  EXPECT_EQ((*reopened)->get(jobs[1].id)->state, "RUNNING");
}

TEST_F(JobPollerTest, AJobChangedMeanwhileIsNotOverwritten) {
  // The user cancels the job while squeue is answering: the cycle's answer
  // is applied to the record as it is at write time, which is final.
  JobRecord other = submit("102");
  answer_squeue(row("102", "RUNNING", other.submitted_at, "1800000050", "NONE", 0, "None", other.token));
  JobStore* store = jobs_.get();
  class CancellingRemote final : public Remote {
   public:
    CancellingRemote(Remote& inner, JobStore& store, std::string id) : inner_(inner), store_(store), id_(id) {}
    Status connect() override { return inner_.connect(); }
    void disconnect() override {}
    Result<CommandResult> run(const std::vector<std::string>& argv, std::chrono::milliseconds t) override {
      JobRecord j = *store_.get(id_);
      j.state = job_state::kCancelled;
      EXPECT_TRUE(store_.update(j).ok());
      return inner_.run(argv, t);
    }
    Result<CommandResult> run_with_input(const std::vector<std::string>& argv, std::string_view in,
                                         std::chrono::milliseconds t) override {
      return inner_.run_with_input(argv, in, t);
    }
    Result<FileChunk> read_range(const std::string& p, std::uint64_t o, std::size_t m,
                                 std::chrono::milliseconds t) override {
      return inner_.read_range(p, o, m, t);
    }

   private:
    Remote& inner_;
    JobStore& store_;
    std::string id_;
  };
  CancellingRemote cancelling(remote_, *store, other.id);
  PollStats s = poller_->poll(cancelling, cluster_);
  EXPECT_EQ(s.active_jobs, 1);
  EXPECT_EQ(s.jobs_updated, 0);
  EXPECT_EQ(get(other).state, "CANCELLED");
  EXPECT_FALSE(get(other).confirmed_at);
}

}  // namespace
}  // namespace mmcfs::backend

// ---- Sweeps: array tasks as runs, the sweep summarised -------------------------

namespace mmcfs::backend {
namespace {

class SweepPollerTest : public JobPollerTest {
 protected:
  // A sweep submitted as array `array_id` with `runs` runs, token and submit
  // time as captured; each run PENDING as "<array>_<n>".
  JobRecord sweep(const std::string& array_id, int runs, const std::string& token, WallTime submitted_at) {
    JobRecord s = submit_as(array_id, token, submitted_at);
    for (int n = 0; n < runs; ++n) {
      JobRecord r;
      r.project = "p";
      r.cluster = "alpha";
      auto inserted = jobs_->insert_run(s, n, r);
      EXPECT_TRUE(inserted.ok());
      JobRecord run = *inserted;
      run.slurm_id = array_task_id(array_id, n);
      run.state = job_state::kPending;
      run.submitted_at = submitted_at;
      EXPECT_TRUE(jobs_->update(run).ok());
    }
    return get(s);
  }
  JobRecord run_of(const JobRecord& s, int n) { return *jobs_->get(s.id + "." + std::to_string(n)); }
};

const WallTime kCaptured{std::chrono::seconds(1796010259)};

TEST_F(SweepPollerTest, ArrayTasksFromTheCapturedPollAreRunsAndTheSweepIsTheirSummary) {
  // tests/data/alpha-squeue-poll-array.txt: array 7 (7_2 cancelled, 7_0/1/3
  // running), held array 8, plain 9 (exit 0) and 10 (exit 3), 11 running.
  JobRecord running = sweep("7", 4, "mmcfs-00000000000000d4", kCaptured);
  JobRecord held = sweep("8", 3, "mmcfs-00000000000000e5", kCaptured);
  JobRecord ok = submit_as("9", "mmcfs-00000000000000a1", kCaptured);
  JobRecord fail = submit_as("10", "mmcfs-00000000000000b2", kCaptured);
  answer_squeue(data_file("alpha-squeue-poll-array.txt"));
  PollStats s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.remote_calls(), 1);  // one squeue for sweeps and plain jobs alike
  EXPECT_EQ(s.active_jobs, 9);     // 7 runs and 2 plain jobs; never the sweeps themselves
  EXPECT_EQ(run_of(running, 0).state, "RUNNING");
  EXPECT_EQ(run_of(running, 1).state, "RUNNING");
  EXPECT_EQ(run_of(running, 2).state, "CANCELLED");
  EXPECT_EQ(run_of(running, 3).state, "RUNNING");
  EXPECT_EQ(get(running).state, "RUNNING");
  EXPECT_EQ(get(running).reason, "1/4 finished: CANCELLED 1, RUNNING 3");
  EXPECT_TRUE(get(running).confirmed_at);
  EXPECT_EQ(run_of(held, 2).state, "PENDING");
  EXPECT_EQ(run_of(held, 2).reason, "JobHeldUser");
  EXPECT_EQ(get(held).state, "PENDING");
  EXPECT_EQ(get(held).reason, "0/3 finished: PENDING 3");
  EXPECT_EQ(get(ok).state, "COMPLETED");
  EXPECT_EQ(get(fail).state, "FAILED");
  EXPECT_EQ(get(fail).exit_code, 3);

  // The other runs complete: the sweep is final, and never polled again.
  clock_.advance(30s);
  const std::string t = std::to_string(seconds_of(kCaptured));
  answer_squeue(row("7_0", "COMPLETED", kCaptured, t, t, 0, "None", "mmcfs-00000000000000d4") +
                row("7_1", "COMPLETED", kCaptured, t, t, 0, "None", "mmcfs-00000000000000d4") +
                row("7_3", "COMPLETED", kCaptured, t, t, 0, "None", "mmcfs-00000000000000d4") +
                row("8_0", "PENDING", kCaptured, "N/A", "N/A", 0, "JobHeldUser", "mmcfs-00000000000000e5") +
                row("8_1", "PENDING", kCaptured, "N/A", "N/A", 0, "JobHeldUser", "mmcfs-00000000000000e5") +
                row("8_2", "PENDING", kCaptured, "N/A", "N/A", 0, "JobHeldUser", "mmcfs-00000000000000e5"));
  s = poller_->poll(remote_, cluster_);
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.remote_calls(), 1);
  EXPECT_EQ(get(running).state, "CANCELLED");
  EXPECT_EQ(get(running).reason, "4/4 finished: CANCELLED 1, COMPLETED 3");
  EXPECT_TRUE(get(running).ended_at);
  EXPECT_EQ(s.active_jobs, 6);  // 3 runs of 7 and the 3 held runs of 8
}

TEST_F(SweepPollerTest, ATaskWithAnotherCommentIsNotTheRun) {
  JobRecord s = sweep("7", 1, "mmcfs-00000000000000ff", kCaptured);
  answer_squeue(row("7_0", "RUNNING", kCaptured, "1796010260", "NONE", 0, "None", "mmcfs-someone-else"));
  answer_accounting_disabled({"7_0"});
  answer_scontrol("");
  answer_markers("");
  PollStats st = poller_->poll(remote_, cluster_);
  EXPECT_EQ(run_of(s, 0).state, "PENDING");  // not applied: SLURM reused the id for another job
  EXPECT_EQ(st.squeue_calls, 1);
}

TEST_F(SweepPollerTest, RunMarkersAreReadFromTheRunsDirectory) {
  JobRecord s = sweep("7", 2, "mmcfs-00000000000000d4", kCaptured);
  answer_squeue("");
  answer_accounting_disabled({"7_0", "7_1"});
  answer_scontrol("");
  // The marker command gets each run's own directory on stdin.
  answer_markers("mmcfs-00000000000000d4.0 0 2026-11-23T22:10:41Z\n"
                 "mmcfs-00000000000000d4.1 2 2026-11-23T22:10:42Z\n");
  PollStats st = poller_->poll(remote_, cluster_);
  EXPECT_EQ(st.error, "");
  const std::string marker_stdin = remote_.inputs().back();
  EXPECT_EQ(marker_stdin,
            "mmcfs-00000000000000d4.0 /ws/jobs/mmcfs-00000000000000d4/run-0\n"
            "mmcfs-00000000000000d4.1 /ws/jobs/mmcfs-00000000000000d4/run-1\n");
  EXPECT_EQ(run_of(s, 0).state, "COMPLETED");
  EXPECT_EQ(run_of(s, 1).state, "FAILED");
  EXPECT_EQ(get(s).state, "FAILED");
  EXPECT_EQ(get(s).reason, "2/2 finished: COMPLETED 1, FAILED 1");
}

}  // namespace
}  // namespace mmcfs::backend
