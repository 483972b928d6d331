// job_store_test.cpp — jobs in SQLite and in memory: ids, tokens, updates,
// removal, reopening, last launches.
#include "backend/job_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <set>

namespace mmcfs::backend {
namespace {

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mmcfs-jobstore-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    reopen();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void reopen() {
    jobs_.reset();
    db_.reset();
    auto db = StateStore::open(dir_.string());
    ASSERT_TRUE(db.ok()) << db.error().describe();
    db_ = std::move(*db);
    auto jobs = JobStore::open(*db_, clock_);
    ASSERT_TRUE(jobs.ok()) << jobs.error().describe();
    jobs_ = std::move(*jobs);
  }
  JobRecord record(const std::string& project = "p") {
    JobRecord j;
    j.project = project;
    j.cluster = "alpha";
    j.launch_text = "name: x\n";
    j.spec_yaml = "name: x\n";
    j.commit = std::string(40, 'a');
    return j;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<StateStore> db_;
  std::unique_ptr<JobStore> jobs_;
};

TEST_F(JobStoreTest, IdsAreShortSortableAndUniqueTokensAreAssigned) {
  auto a = jobs_->insert(record(), "LR sweep: 1e-4 ü");
  auto b = jobs_->insert(record(), "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, "00001-lr-sweep-1e-4");
  EXPECT_EQ(b->id, "00002-job");
  EXPECT_EQ(a->state, job_state::kSubmitting);
  EXPECT_EQ(a->token.rfind("mmcfs-", 0), 0u);
  EXPECT_EQ(a->token.size(), 22u);
  EXPECT_NE(a->token, b->token);
  EXPECT_EQ(a->submitted_at, clock_.now());
  EXPECT_EQ(jobs_->find_by_token(b->token)->id, b->id);
}

TEST_F(JobStoreTest, TheSequenceNeverGoesBackEvenAfterRemoveAndReopen) {
  ASSERT_TRUE(jobs_->insert(record(), "a").ok());
  auto b = jobs_->insert(record(), "b");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(jobs_->remove(b->id).ok());
  EXPECT_FALSE(jobs_->get(b->id));
  reopen();
  auto c = jobs_->insert(record(), "c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->id, "00003-c") << "a removed job's number is not reused";
}

TEST_F(JobStoreTest, UpdatesPersistAndListsFilter) {
  auto a = jobs_->insert(record("p"), "a");
  auto b = jobs_->insert(record("q"), "b");
  ASSERT_TRUE(a.ok() && b.ok());
  JobRecord changed = *a;
  changed.slurm_id = "512";
  changed.state = job_state::kCompleted;
  changed.exit_code = 0;
  clock_.advance(std::chrono::seconds(5));
  ASSERT_TRUE(jobs_->update(changed).ok());
  JobRecord archived = *b;
  archived.archived = true;
  ASSERT_TRUE(jobs_->update(archived).ok());
  reopen();
  auto loaded = jobs_->get(a->id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->slurm_id, "512");
  EXPECT_EQ(loaded->state, job_state::kCompleted);
  EXPECT_EQ(loaded->exit_code, 0);
  EXPECT_EQ(loaded->updated_at, clock_.now());
  EXPECT_EQ(jobs_->list().size(), 1u) << "archived jobs are left out";
  EXPECT_EQ(jobs_->list(true).size(), 2u);
  EXPECT_EQ(jobs_->list_project("p").size(), 1u);
  EXPECT_TRUE(jobs_->list_project("q").empty());
  EXPECT_EQ(jobs_->in_state(job_state::kCompleted).size(), 1u);
  JobRecord unknown = changed;
  unknown.id = "99999-nope";
  EXPECT_EQ(jobs_->update(unknown).error().code, Errc::kNotFound);
}

TEST_F(JobStoreTest, SummariesKeepTheTextsOnDiskWithTheirSizes) {
  JobRecord r = record("p");
  r.launch_text = "name: ünï\n";  // sizes are bytes, not characters
  r.spec_yaml = "name: x\ncluster: alpha\n";
  r.script = std::string(5000, '#');
  r.command = "python3 train.py";
  auto a = jobs_->insert(r, "a");
  ASSERT_TRUE(a.ok());
  for (int pass = 0; pass < 2; ++pass) {  // as inserted, then as loaded from disk
    SCOPED_TRACE(pass == 0 ? "inserted" : "reopened");
    JobSummaryRef s = jobs_->summary(a->id);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->record.id, a->id);
    EXPECT_EQ(s->record.command, "python3 train.py");
    EXPECT_TRUE(s->record.launch_text.empty() && s->record.spec_yaml.empty() && s->record.script.empty());
    EXPECT_EQ(s->sizes.launch_text, r.launch_text.size());
    EXPECT_EQ(s->sizes.spec_yaml, r.spec_yaml.size());
    EXPECT_EQ(s->sizes.script, 5000u);
    auto whole = jobs_->get(a->id);
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->launch_text, r.launch_text);
    EXPECT_EQ(whole->spec_yaml, r.spec_yaml);
    EXPECT_EQ(whole->script, r.script);
    EXPECT_EQ(jobs_->list().at(0).script, r.script);
    reopen();
  }
  EXPECT_FALSE(jobs_->summary("00099-none"));
}

TEST_F(JobStoreTest, AnUpdateReplacesTheSummaryAndLeavesTheOldOneAsItWas) {
  auto a = jobs_->insert(record("p"), "a");
  auto b = jobs_->insert(record("q"), "b");
  ASSERT_TRUE(a.ok() && b.ok());
  JobSummaryRef before = jobs_->summary(a->id);
  JobRecord changed = *jobs_->get(a->id);
  changed.state = job_state::kRunning;
  ASSERT_TRUE(jobs_->update(changed).ok());
  JobSummaryRef after = jobs_->summary(a->id);
  EXPECT_NE(before, after);
  EXPECT_EQ(before->record.state, job_state::kSubmitting);
  EXPECT_EQ(after->record.state, job_state::kRunning);
  EXPECT_EQ(jobs_->get(a->id)->launch_text, "name: x\n") << "an update keeps the texts";
  ASSERT_EQ(jobs_->summaries().size(), 2u);
  EXPECT_EQ(jobs_->summaries()[1]->record.id, b->id) << "in id order";
  ASSERT_EQ(jobs_->project_summaries("q").size(), 1u);
  EXPECT_EQ(jobs_->project_summaries("q")[0]->record.id, b->id);
}

TEST_F(JobStoreTest, LastLaunchPerProjectPersists) {
  EXPECT_EQ(jobs_->last_launch("p"), "");
  ASSERT_TRUE(jobs_->set_last_launch("p", "cluster: alpha\n").ok());
  ASSERT_TRUE(jobs_->set_last_launch("p", "cluster: beta\n").ok());
  reopen();
  EXPECT_EQ(jobs_->last_launch("p"), "cluster: beta\n");
  EXPECT_EQ(jobs_->last_launch("q"), "");
}

TEST(JobStateTest, FinalStates) {
  for (const char* s : {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED"}) {
    EXPECT_TRUE(job_state::is_final(s)) << s;
  }
  for (const char* s : {"PENDING", "RUNNING", "SUBMITTING", "COMPLETING", "SUSPENDED"}) {
    EXPECT_FALSE(job_state::is_final(s)) << s;
  }
}

TEST_F(JobStoreTest, ADatabaseFromBeforeConfirmedAtIsMigratedAndKeepsItsJobs) {
  auto job = jobs_->insert(record(), "old");
  ASSERT_TRUE(job.ok());
  // Back to schema 2 (no confirmed_at_ms), as an earlier mmcfs left it.
  jobs_.reset();
  db_->with_db([](sqlite3* db) {
    EXPECT_EQ(sqlite3_exec(db, "ALTER TABLE jobs DROP COLUMN confirmed_at_ms; PRAGMA user_version = 2", nullptr,
                           nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    return 0;
  });
  reopen();
  EXPECT_EQ(db_->schema_version(), StateStore::latest_schema_version());
  auto loaded = jobs_->get(job->id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->token, job->token);
  EXPECT_FALSE(loaded->confirmed_at);
  EXPECT_EQ(status_time(*loaded), loaded->updated_at);
}

TEST_F(JobStoreTest, ABatchWritesConfirmationsAndChangesInOneGoAndSkipsUnknownIds) {
  auto a = *jobs_->insert(record(), "a");
  auto b = *jobs_->insert(record(), "b");
  clock_.advance(std::chrono::seconds(5));
  WallTime at = clock_.now();
  std::vector<std::pair<std::string, JobStore::Modifier>> batch;
  batch.emplace_back(a.id, [&](JobRecord& j) {
    j.confirmed_at = at;
    return JobStore::Modified::kConfirmedOnly;
  });
  batch.emplace_back(b.id, [&](JobRecord& j) {
    j.confirmed_at = at;
    j.state = "RUNNING";
    return JobStore::Modified::kRecord;
  });
  batch.emplace_back("99999-gone", [](JobRecord&) { return JobStore::Modified::kRecord; });
  auto changed = jobs_->modify_batch(batch);
  ASSERT_TRUE(changed.ok()) << changed.error().describe();
  EXPECT_EQ(*changed, std::vector<std::string>{b.id});
  reopen();
  EXPECT_EQ(jobs_->get(a.id)->confirmed_at, at);
  EXPECT_EQ(jobs_->get(a.id)->updated_at, a.updated_at);  // a confirmation is not a change
  EXPECT_EQ(jobs_->get(b.id)->state, "RUNNING");
  EXPECT_EQ(jobs_->get(b.id)->updated_at, at);
  EXPECT_EQ(jobs_->get(b.id)->confirmed_at, at);
}

}  // namespace
}  // namespace mmcfs::backend

namespace mmcfs::backend {
namespace {

TEST_F(JobStoreTest, SweepRunsAreRecordsNamedAfterTheirSweepAndSurviveAReopen) {
  auto sweep = jobs_->insert(record(), "lr sweep 1.5");
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->id, "00001-lr-sweep-1-5") << "a slug never holds '.'";
  for (int n = 0; n < 11; ++n) {
    JobRecord run = record();
    run.command = "python3 train.py seed=" + std::to_string(n);
    auto inserted = jobs_->insert_run(*sweep, n, run);
    ASSERT_TRUE(inserted.ok());
    EXPECT_EQ(inserted->id, sweep->id + "." + std::to_string(n));
    EXPECT_EQ(inserted->token, sweep->token + "." + std::to_string(n));
    EXPECT_TRUE(is_sweep_run(*inserted));
    EXPECT_EQ(sweep_of(inserted->id), sweep->id);
    EXPECT_EQ(run_number(inserted->id), n);
    EXPECT_EQ(slurm_token(*inserted), sweep->token);
  }
  auto next = jobs_->insert(record(), "next");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->id, "00013-next") << "each run took a sequence number";
  EXPECT_FALSE(is_sweep_run(*sweep));
  EXPECT_EQ(slurm_token(*sweep), sweep->token);
  EXPECT_EQ(sweep_of(sweep->id), "");
  EXPECT_EQ(run_number(sweep->id), -1);
  EXPECT_EQ(array_task_id("123", 4), "123_4");

  reopen();
  auto runs = jobs_->runs_of(sweep->id);
  ASSERT_EQ(runs.size(), 11u);
  for (int n = 0; n < 11; ++n) {  // by run number: .2 before .10
    EXPECT_EQ(runs[static_cast<std::size_t>(n)].id, sweep->id + "." + std::to_string(n));
    EXPECT_EQ(runs[static_cast<std::size_t>(n)].command, "python3 train.py seed=" + std::to_string(n));
  }
  EXPECT_TRUE(jobs_->runs_of(next->id).empty());
  // In id order a run follows its sweep, before the next job.
  auto all = jobs_->list();
  ASSERT_EQ(all.size(), 13u);
  EXPECT_EQ(all.front().id, sweep->id);
  EXPECT_EQ(all.back().id, next->id);
}

}  // namespace
}  // namespace mmcfs::backend
