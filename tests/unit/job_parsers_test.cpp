// job_parsers_test.cpp — the job status parsers over real captured output.
//
// The *Captured tests read files from tests/data/ (their exact commands are in
// tests/data/README.md). sacct has no real capture of records: the test
// clusters keep no accounting, so its record format is written inline (the
// documented -P format) and only its "disabled" answer is real.
#include "backend/job_parsers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "common/quote.h"

namespace mmcfs::backend {
namespace {

using std::chrono::seconds;

std::string read_capture(const std::string& name) {
  std::ifstream in(std::string(MMCFS_TEST_DATA_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << "missing capture " << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

WallTime epoch(long long s) { return WallTime(seconds(s)); }

std::map<std::string, SlurmJobStatus> by_id(const std::vector<SlurmJobStatus>& jobs) {
  std::map<std::string, SlurmJobStatus> out;
  for (const auto& j : jobs) out[j.slurm_id] = j;
  return out;
}

TEST(SqueuePoll, ArgvIsTheCapturedCommand) {
  EXPECT_EQ(shell_join(kSqueuePollArgv),
            "env SLURM_TIME_FORMAT=%s squeue --me -r -t all -h -O "
            "'JobArrayID:|,State:|,SubmitTime:|,StartTime:|,EndTime:|,exit_code:|,Reason:|,Comment:'");
}

TEST(SqueuePoll, CapturedArrayTasksEachOnTheirOwnLine) {
  // tests/data/alpha-squeue-poll-array.txt: with -r and JobArrayID every
  // task is "<array>_<n>", a held array's too; plain jobs keep their id.
  auto parsed = parse_squeue_poll(read_capture("alpha-squeue-poll-array.txt"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  ASSERT_EQ(parsed->size(), 18u);
  auto jobs = by_id(*parsed);
  EXPECT_EQ(jobs.at("7_2").state, "CANCELLED");
  EXPECT_EQ(jobs.at("7_2").comment, "mmcfs-00000000000000d4");
  EXPECT_EQ(jobs.at("7_0").state, "RUNNING");
  EXPECT_EQ(jobs.at("8_1").state, "PENDING");
  EXPECT_EQ(jobs.at("8_1").reason, "JobHeldUser");
  EXPECT_EQ(jobs.at("10").state, "FAILED");
  EXPECT_EQ(jobs.at("10").exit_code, 3);
  EXPECT_EQ(jobs.at("9").state, "COMPLETED");
  for (const auto& [id, job] : jobs) EXPECT_EQ(id.find('['), std::string::npos) << id;
}

TEST(SqueuePoll, Captured) {
  auto parsed = parse_squeue_poll(read_capture("alpha-squeue-poll.txt"));
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  ASSERT_EQ(parsed->size(), 10u);
  auto jobs = by_id(*parsed);

  const auto& pending = jobs.at("261");
  EXPECT_EQ(pending.state, "PENDING");
  EXPECT_EQ(pending.reason, "Resources");
  EXPECT_EQ(pending.comment, "");  // "(null)": submitted without --comment
  EXPECT_EQ(pending.submit_time, epoch(1795471843));
  EXPECT_FALSE(pending.start_time);
  EXPECT_EQ(pending.exit_code, 0);

  const auto& running = jobs.at("260");
  EXPECT_EQ(running.state, "RUNNING");
  EXPECT_EQ(running.reason, "");
  EXPECT_EQ(running.comment, "mmcfs-cafe000000000005");
  EXPECT_EQ(running.start_time, epoch(1795471843));
  EXPECT_FALSE(running.end_time);  // "NONE"

  const auto& completed = jobs.at("256");
  EXPECT_EQ(completed.state, "COMPLETED");
  EXPECT_EQ(completed.exit_code, 0);
  EXPECT_EQ(completed.end_time, epoch(1795471842));

  const auto& failed = jobs.at("257");
  EXPECT_EQ(failed.state, "FAILED");
  EXPECT_EQ(failed.exit_code, 3);  // raw 768
  EXPECT_EQ(failed.reason, "NonZeroExitCode");

  // Cancelled while running: the TERM trap exited 143 (raw 36608); job 255
  // had no trap and died of the signal (raw 15). Both read as 143.
  EXPECT_EQ(jobs.at("259").state, "CANCELLED");
  EXPECT_EQ(jobs.at("259").exit_code, 143);
  EXPECT_EQ(jobs.at("255").exit_code, 143);

  // Cancelled while held: start = end = cancel time, pending reason kept,
  // and a comment holding "|" survives because it is the last field.
  const auto& held = jobs.at("258");
  EXPECT_EQ(held.state, "CANCELLED");
  EXPECT_EQ(held.reason, "JobHeldUser");
  EXPECT_EQ(held.start_time, held.end_time);
  EXPECT_EQ(held.comment, "not a token|with pipe");
}

TEST(SqueuePoll, EmptyAndGarbage) {
  auto empty = parse_squeue_poll("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto bad = parse_squeue_poll("261|PENDING|1795471843\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::kRemoteFailed);
  EXPECT_NE(bad.error().message.find("261|PENDING"), std::string::npos);
  EXPECT_FALSE(parse_squeue_poll("slurm_load_jobs error: Unable to contact slurm controller\n").ok());
  EXPECT_FALSE(parse_squeue_poll("12|running|1|2|3|0|None|x\n").ok());
}

TEST(ScontrolShowJob, CapturedEpochTimes) {
  auto failed = parse_scontrol_jobs(read_capture("alpha-scontrol-show-job-failed-epoch.txt"));
  ASSERT_TRUE(failed.ok()) << failed.error().describe();
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].slurm_id, "257");
  EXPECT_EQ((*failed)[0].state, "FAILED");
  EXPECT_EQ((*failed)[0].exit_code, 3);
  EXPECT_EQ((*failed)[0].reason, "NonZeroExitCode");
  EXPECT_EQ((*failed)[0].comment, "mmcfs-cafe000000000002");
  EXPECT_EQ((*failed)[0].submit_time, epoch(1795471841));
  EXPECT_EQ((*failed)[0].start_time, epoch(1795471842));
  EXPECT_EQ((*failed)[0].end_time, epoch(1795471843));

  auto cancelled = parse_scontrol_jobs(read_capture("alpha-scontrol-show-job-cancelled-running-epoch.txt"));
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().describe();
  EXPECT_EQ((*cancelled)[0].state, "CANCELLED");
  EXPECT_EQ((*cancelled)[0].exit_code, 143);  // ExitCode=143:0
  EXPECT_EQ((*cancelled)[0].comment, "mmcfs-cafe000000000004");
}

TEST(ScontrolShowJob, CapturedIsoTimesParseWithoutTimes) {
  // Captured without SLURM_TIME_FORMAT: local times with no zone, so no time.
  struct Case {
    const char* file;
    const char* state;
    const char* reason;
    int exit_code;
  };
  for (const Case& c : {Case{"alpha-scontrol-show-job-completed.txt", "COMPLETED", "", 0},
                        Case{"alpha-scontrol-show-job-failed.txt", "FAILED", "NonZeroExitCode", 3},
                        Case{"alpha-scontrol-show-job-cancelled.txt", "CANCELLED", "Priority", 0},
                        Case{"alpha-scontrol-show-job-running.txt", "RUNNING", "", 0},
                        Case{"alpha-scontrol-show-job-pending.txt", "PENDING", "Resources", 0},
                        Case{"alpha-scontrol-show-job-pending-two-nodes.txt", "PENDING",
                             "ReqNodeNotAvail,_UnavailableNodes:alpha-n2", 0}}) {
    SCOPED_TRACE(c.file);
    auto jobs = parse_scontrol_jobs(read_capture(c.file));
    ASSERT_TRUE(jobs.ok()) << jobs.error().describe();
    ASSERT_EQ(jobs->size(), 1u);
    EXPECT_EQ((*jobs)[0].state, c.state);
    EXPECT_EQ((*jobs)[0].reason, c.reason);
    EXPECT_EQ((*jobs)[0].exit_code, c.exit_code);
    EXPECT_FALSE((*jobs)[0].submit_time);
  }
}

TEST(ScontrolShowJob, UnknownJobPrintsNothing) {
  auto jobs = parse_scontrol_jobs(read_capture("alpha-scontrol-show-job-unknown.txt"));
  ASSERT_TRUE(jobs.ok());
  EXPECT_TRUE(jobs->empty());
  EXPECT_FALSE(parse_scontrol_jobs(read_capture("alpha-scontrol-show-job-unknown.stderr.txt")).ok());
}

TEST(ScontrolJobsLoop, CapturedManyIdsInOneCommand) {
  // stdin was 3, 4, 99999, 5: one line per job the controller holds; the
  // unknown id only on stderr.
  EXPECT_EQ(kScontrolJobsArgv.size(), 4u);
  EXPECT_EQ(kScontrolJobsArgv[0], "sh");
  EXPECT_NE(kScontrolJobsArgv[2].find("scontrol show job -o \"$id\""), std::string::npos);
  auto jobs = parse_scontrol_jobs(read_capture("alpha-scontrol-show-jobs-loop.txt"));
  ASSERT_TRUE(jobs.ok()) << jobs.error().describe();
  auto j = by_id(*jobs);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j["3"].state, "COMPLETED");
  EXPECT_EQ(j["3"].exit_code, 0);
  EXPECT_EQ(j["3"].comment, "mmcfs-00000000000000a1");
  EXPECT_EQ(j["3"].submit_time, epoch(1796006667));
  EXPECT_EQ(j["4"].state, "FAILED");
  EXPECT_EQ(j["4"].exit_code, 3);
  EXPECT_EQ(j["4"].reason, "NonZeroExitCode");
  EXPECT_EQ(j["5"].state, "CANCELLED");
  EXPECT_EQ(j["5"].reason, "JobHeldUser");
  EXPECT_EQ(j["5"].start_time, j["5"].end_time);  // cancelled while held
  EXPECT_NE(read_capture("alpha-scontrol-show-jobs-loop.stderr.txt").find("Invalid job id"), std::string::npos);
}

TEST(ScontrolJobsLoop, InputIsOneJobIdPerLine) {
  EXPECT_EQ(scontrol_ids_input({"3", "4_1", "x; rm -rf ~", "", "5\n6", "12"}), "3\n4_1\n12\n");
}

TEST(Sacct, ArgvAndDisabledAnswerCaptured) {
  EXPECT_EQ(shell_join(sacct_argv({"12", "15"})),
            "env SLURM_TIME_FORMAT=%s sacct -n -P -X -j 12,15 -o JobID,State,ExitCode,Submit,Start,End,Comment");
  EXPECT_TRUE(sacct_accounting_disabled(read_capture("sacct-job.stderr.txt")));
  EXPECT_TRUE(sacct_accounting_disabled(read_capture("sacct.stderr.txt")));
  EXPECT_FALSE(sacct_accounting_disabled("sacct: error: Problem talking to the database: Connection refused"));
}

TEST(Sacct, RecordsInTheDocumentedFormat) {
  // Not a capture (no accounting on the test clusters): sacct -P -n -X output
  // as documented, with a reused id (12 twice) and a "CANCELLED by <uid>".
  auto jobs = parse_sacct(
      "12|COMPLETED|0:0|1795000000|1795000010|1795000020|\n"
      "12|FAILED|3:0|1795471841|1795471842|1795471843|mmcfs-cafe000000000002\n"
      "15|CANCELLED by 1001|0:15|1795471842|1795471843|1795471844|a|b\n"
      "16|PENDING|0:0|1795471842|Unknown|Unknown|\n");
  ASSERT_TRUE(jobs.ok()) << jobs.error().describe();
  ASSERT_EQ(jobs->size(), 4u);
  EXPECT_EQ((*jobs)[0].comment, "");
  EXPECT_EQ((*jobs)[1].exit_code, 3);
  EXPECT_EQ((*jobs)[1].comment, "mmcfs-cafe000000000002");
  EXPECT_EQ((*jobs)[2].state, "CANCELLED");
  EXPECT_EQ((*jobs)[2].exit_code, 143);
  EXPECT_EQ((*jobs)[2].comment, "a|b");
  EXPECT_FALSE((*jobs)[3].start_time);
  EXPECT_FALSE(parse_sacct("12|COMPLETED\n").ok());
}

TEST(Markers, Captured) {
  // The stdin of the capture is what marker_input() writes for those jobs.
  std::string input = marker_input({
      {"mmcfs-cafe000000000001", "/home/mmcfsuser/mmcfs-jobs/jobs/mmcfs-cafe000000000001"},
      {"mmcfs-cafe000000000002", "~/mmcfs-jobs/jobs/mmcfs-cafe000000000002"},
      {"mmcfs-cafe000000000003", "/home/mmcfsuser/mmcfs-jobs/jobs/mmcfs-cafe000000000003"},
      {"mmcfs-cafe000000000004", "mmcfs-jobs/jobs/mmcfs-cafe000000000004"},
      {"mmcfs-cafe000000000005", "/home/mmcfsuser/mmcfs-jobs/jobs/mmcfs-cafe000000000005"},
  });
  EXPECT_EQ(input, read_capture("alpha-job-markers.stdin.txt"));

  auto markers = parse_markers(read_capture("alpha-job-markers.txt"));
  ASSERT_TRUE(markers.ok()) << markers.error().describe();
  ASSERT_EQ(markers->size(), 5u);
  const auto& m = *markers;
  EXPECT_EQ(m[0].token, "mmcfs-cafe000000000001");
  EXPECT_EQ(m[0].exit_status, 0);
  EXPECT_EQ(m[0].started_at, parse_utc_time("2026-11-23T22:10:41Z"));
  EXPECT_EQ(m[1].exit_status, 3);  // found through "~/"
  EXPECT_FALSE(m[2].exit_status);  // no directory at all
  EXPECT_FALSE(m[2].started_at);
  EXPECT_EQ(m[3].exit_status, 143);  // relative to the home
  EXPECT_FALSE(m[4].exit_status);  // still running: started, no exit status
  EXPECT_TRUE(m[4].started_at);
}

TEST(Markers, InputSkipsWhatCannotBeExpressed) {
  EXPECT_EQ(marker_input({{"a b", "/x"}, {"t1", "/x\ny"}, {"", "/x"}, {"t2", "/dir with space"}}),
            "t2 /dir with space\n");
}

TEST(Markers, Garbage) {
  EXPECT_FALSE(parse_markers("mmcfs-x 3\n").ok());
  EXPECT_FALSE(parse_markers("mmcfs-x three -\n").ok());
  EXPECT_FALSE(parse_markers("sh: 1: cd: can't cd\n").ok());
  auto ok = parse_markers("mmcfs-x - -\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE((*ok)[0].exit_status);
}

TEST(Building, StatesTimesAndExitCodes) {
  EXPECT_EQ(base_job_state("CANCELLED by 1000"), "CANCELLED");
  EXPECT_EQ(base_job_state("CANCELLED+"), "CANCELLED");
  EXPECT_EQ(base_job_state("OUT_OF_MEMORY"), "OUT_OF_MEMORY");
  EXPECT_EQ(parse_epoch_time("1795471843"), epoch(1795471843));
  for (const char* none : {"N/A", "NONE", "Unknown", "None", "0", "", "2026-11-23T21:35:39", "-5"}) {
    EXPECT_FALSE(parse_epoch_time(none)) << none;
  }
  EXPECT_EQ(parse_utc_time("1970-01-02T00:00:01Z"), epoch(86401));
  EXPECT_FALSE(parse_utc_time("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_utc_time("2026-11-23T22:10:41"));
  EXPECT_EQ(parse_status_signal("3:0"), 3);
  EXPECT_EQ(parse_status_signal("0:9"), 137);
  EXPECT_FALSE(parse_status_signal("3"));
}

}  // namespace
}  // namespace mmcfs::backend
