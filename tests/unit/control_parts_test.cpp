// control_parts_test.cpp — the pure parts behind ctl, queue and stats:
// command kinds, CountingRemote, scancel verdicts and the user's queue, on
// output captured from the real test clusters (tests/data/).
#include <gtest/gtest.h>

#include <fstream>

#include "app/mount_stats.h"
#include "backend/counting_remote.h"
#include "backend/job_parsers.h"
#include "backend/scancel.h"
#include "backend/slurm_parsers.h"
#include "backend/user_queue.h"
#include "fakes/fake_remote.h"
#include "fs/job_ctl_file.h"
#include "launch/sbatch_script.h"

namespace mmcfs::backend {
namespace {

using namespace std::chrono_literals;

std::string read_data(const std::string& name) {
  std::ifstream in(std::string(MMCFS_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CommandKindTest, NamesTheSlurmCommandOfEveryArgvMmcfsRuns) {
  EXPECT_EQ(command_kind(kSqueuePollArgv), "squeue");  // env SLURM_TIME_FORMAT=%s squeue ...
  EXPECT_EQ(command_kind(kSqueuePendingArgv), "squeue");
  EXPECT_EQ(command_kind(kSqueueMineArgv), "squeue");
  EXPECT_EQ(command_kind(sacct_argv({"1", "2"})), "sacct");
  EXPECT_EQ(command_kind(scontrol_show_job_argv("3")), "scontrol");
  EXPECT_EQ(command_kind(kScontrolShowNodesArgv), "scontrol");
  EXPECT_EQ(command_kind(scancel_argv("4")), "scancel");
  EXPECT_EQ(command_kind(launch::submit_argv("~/ws", "mmcfs-0123456789abcdef")), "sbatch");
  EXPECT_EQ(command_kind(kMarkerArgv), "other");
  EXPECT_EQ(command_kind({"cat", "--", "/x/squeue.out"}), "other");
  EXPECT_EQ(command_kind({"/usr/bin/squeue", "--me"}), "squeue");
  EXPECT_EQ(command_kind({}), "other");
  EXPECT_EQ(command_kind({"sh", "-c", "echo mysqueue"}), "other") << "whole words only";
}

TEST(CountingRemoteTest, CountsCallsFailuresAndReadBytesPerClusterAndKind) {
  auto fake = std::make_shared<testing::FakeRemote>();
  fake->answer_ok(kSqueueMineArgv, "");
  fake->answer(scancel_argv("9"), CommandResult{1, "", "scancel: error: nope\n"});
  fake->answer(sacct_argv({"9"}), make_error(Errc::kTimeout, "no answer"));
  fake->set_file("/log", "0123456789");
  auto counters = std::make_shared<RemoteCounters>();
  CountingRemote alpha(fake, "alpha", counters);
  CountingRemote beta(fake, "beta", counters);
  ASSERT_TRUE(alpha.run(kSqueueMineArgv, 1s).ok());
  ASSERT_TRUE(alpha.run(kSqueueMineArgv, 1s).ok());
  ASSERT_TRUE(alpha.run(scancel_argv("9"), 1s).ok()) << "a non-zero exit is still an answer";
  ASSERT_FALSE(beta.run(sacct_argv({"9"}), 1s).ok());
  ASSERT_TRUE(alpha.read_range("/log", 2, 5, 1s).ok());
  ASSERT_FALSE(alpha.read_range("/missing", 0, 5, 1s).ok());
  auto c = counters->commands();
  EXPECT_EQ(c[RemoteCounters::Key("alpha", "squeue")].calls, 2u);
  EXPECT_EQ(c[RemoteCounters::Key("alpha", "scancel")].calls, 1u);
  EXPECT_EQ(c[RemoteCounters::Key("alpha", "scancel")].failures, 0u);
  EXPECT_EQ(c[RemoteCounters::Key("beta", "sacct")].calls, 1u);
  EXPECT_EQ(c[RemoteCounters::Key("beta", "sacct")].failures, 1u);
  EXPECT_EQ(c[RemoteCounters::Key("alpha", "sftp-read")].calls, 2u);
  EXPECT_EQ(c[RemoteCounters::Key("alpha", "sftp-read")].failures, 1u);
  EXPECT_EQ(counters->read_bytes()["alpha"], 5u);
  EXPECT_EQ(fake->calls().size(), 4u) << "each call reached the wrapped remote once";
}

TEST(ScancelTest, VerdictsOnCapturedOutput) {
  auto running = classify_scancel({0, read_data("alpha-scancel-running-job-verbose.txt"),
                                   read_data("alpha-scancel-running-job-verbose.stderr.txt")});
  EXPECT_EQ(running.verdict, ScancelVerdict::kSignalled);
  auto finished = classify_scancel({0, read_data("alpha-scancel-finished-job.txt"),
                                    read_data("alpha-scancel-finished-job.stderr.txt")});
  EXPECT_EQ(finished.verdict, ScancelVerdict::kAlreadyEnded);
  EXPECT_EQ(finished.detail,
            "scancel: error: Kill job error on job id 30: Job/step already completing or completed");
  auto unknown = classify_scancel({0, read_data("alpha-scancel-unknown-job-verbose.txt"),
                                   read_data("alpha-scancel-unknown-job-verbose.stderr.txt")});
  EXPECT_EQ(unknown.verdict, ScancelVerdict::kUnknownJob);
  auto refused = classify_scancel({1, "", "scancel: error: Access/permission denied\n"});
  EXPECT_EQ(refused.verdict, ScancelVerdict::kFailed);
  EXPECT_EQ(refused.detail, "scancel: error: Access/permission denied");
  EXPECT_EQ(scancel_argv("12"), (std::vector<std::string>{"scancel", "-v", "12"}));
}

TEST(UserQueueTest, ParsesTheCapturedQueue) {
  auto rows = parse_user_queue(read_data("alpha-squeue-me-queue.txt"));
  ASSERT_TRUE(rows.ok()) << rows.error().describe();
  ASSERT_EQ(rows->size(), 3u);
  const QueueRow& pending = (*rows)[0];
  EXPECT_FALSE(pending.job_id.empty());
  EXPECT_EQ(pending.state, "PENDING");
  EXPECT_EQ(pending.reason, "Resources");
  EXPECT_EQ(pending.gres, "gpu:a6000:2");
  EXPECT_EQ(pending.name, "pend-a6000x2");
  const QueueRow& held = (*rows)[1];
  EXPECT_EQ(held.reason, "JobHeldUser");
  EXPECT_EQ(held.name, "held by hand");
  EXPECT_EQ(held.partition, "general");
  const QueueRow& running = (*rows)[2];
  EXPECT_EQ(running.state, "RUNNING");
  EXPECT_EQ(running.reason, "") << "None is no reason";
  EXPECT_FALSE(running.time_used.empty());
  EXPECT_EQ(running.nodes, "1");
  EXPECT_EQ(running.name, "run|pipe name") << "the name is last and may hold '|'";
}

TEST(UserQueueTest, EmptyAndMalformed) {
  auto empty = parse_user_queue("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto bad = parse_user_queue("squeue: error: Invalid user: nobody\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kRemoteFailed);
  EXPECT_NE(bad.error().message.find("Invalid user"), std::string::npos);
  EXPECT_FALSE(parse_user_queue("x|general|PENDING|0:00|1||None|n\n").ok()) << "job id must be a number";
}

TEST(UserQueueTest, TheTableIsAligned) {
  std::vector<QueueRow> rows = {
      {"4", "general", "PENDING", "0:00", "1", "gpu:a6000:2", "Resources", "pend-a6000x2"},
      {"1", "general", "PENDING", "0:00", "1", "gpu:a100:1", "JobHeldUser", "held by hand"},
      {"12", "general", "RUNNING", "0:10", "1", "", "", "run|pipe name"},
  };
  EXPECT_EQ(render_user_queue_table(rows),
            "JOBID  NAME           PARTITION  STATE    TIME  NODES  GRES         REASON\n"
            "4      pend-a6000x2   general    PENDING  0:00  1      gpu:a6000:2  Resources\n"
            "1      held_by_hand   general    PENDING  0:00  1      gpu:a100:1   JobHeldUser\n"
            "12     run|pipe_name  general    RUNNING  0:10  1      -            -\n");
  EXPECT_EQ(render_user_queue_table({}), "JOBID  NAME  PARTITION  STATE  TIME  NODES  GRES  REASON\n");
}

TEST(CtlWordsTest, OnePerLineBlanksIgnoredUnknownRefused) {
  auto words = fs::parse_ctl_words("refresh\n\n  cancel \r\n");
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(*words, (std::vector<std::string>{"refresh", "cancel"}));
  auto empty = fs::parse_ctl_words("\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto bad = fs::parse_ctl_words("refresh\nkill -9\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("unknown word 'kill -9'"), std::string::npos);
}

TEST(StatsTest, PrometheusTextWithEscapedLabels) {
  app::StatsInput in;
  in.commands[{"al\"pha", "squeue"}] = RemoteCount{3, 1};
  in.read_bytes["alpha"] = 42;
  app::PollLoopStats p;
  p.cycles = 2;
  p.last_duration = 15ms;
  p.total_duration = 1500ms;
  p.last.squeue_calls = 1;
  p.last.active_jobs = 7;
  in.polls["alpha"] = p;
  in.jobs_by_state["RUNNING"] = 2;
  in.jobs_archived = 1;
  std::string text = app::render_stats(in);
  EXPECT_NE(text.find("mmcfs_remote_commands_total{cluster=\"al\\\"pha\",kind=\"squeue\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("mmcfs_remote_command_errors_total{cluster=\"al\\\"pha\",kind=\"squeue\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("mmcfs_sftp_read_bytes_total{cluster=\"alpha\"} 42\n"), std::string::npos);
  EXPECT_NE(text.find("mmcfs_poll_cycles_total{cluster=\"alpha\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("mmcfs_poll_last_duration_seconds{cluster=\"alpha\"} 0.015\n"), std::string::npos);
  EXPECT_NE(text.find("mmcfs_poll_duration_seconds_total{cluster=\"alpha\"} 1.500\n"), std::string::npos);
  EXPECT_NE(text.find("mmcfs_poll_last_remote_commands{cluster=\"alpha\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("mmcfs_poll_last_active_jobs{cluster=\"alpha\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("mmcfs_jobs{state=\"RUNNING\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("mmcfs_jobs_archived 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE mmcfs_poll_last_duration_seconds gauge\n"), std::string::npos);
}

}  // namespace
}  // namespace mmcfs::backend
