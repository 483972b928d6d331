// job_parsers.h — the commands the job poller runs, each beside the pure
// parser of its output: the user's queue (squeue), accounting (sacct), one
// job as the controller sees it (scontrol show job) and the exit-status
// markers a job's batch script leaves in its directory.
//
// Times: every SLURM command runs under SLURM_TIME_FORMAT=%s, so SLURM prints
// times as seconds since the epoch, whatever the time zone of the login node
// (plain `SubmitTime=2026-11-23T21:35:39` is local time with no zone). A
// time field that is not a number ("N/A", "NONE", "Unknown", or an ISO time
// from a command run without that variable) parses as "no time".
//
// Exit codes are returned the way a shell reports them: the exit status, or
// 128 + N for a job killed by signal N (so a job cancelled while running has
// 143, the status the batch script's TERM trap writes to its marker).
//
// Parsers never throw. Empty output is an empty result. A line without the
// expected shape is an Error with code kRemoteFailed quoting the line.
//
// Thread rules: pure functions over their arguments; the argv constants are
// immutable after static initialisation. Safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace mmcfs::backend {

// A job as SLURM reports it, whichever command said so.
struct SlurmJobStatus {
  std::string slurm_id;
  std::string state;    // base state: "CANCELLED by 1000" -> "CANCELLED"
  std::string reason;   // "Resources", "NonZeroExitCode"; "" for None
  std::string comment;  // the --comment (mmcfs's token); "" if none or unknown
  std::optional<WallTime> submit_time;
  std::optional<WallTime> start_time;  // for PENDING: SLURM's estimate, not a fact
  std::optional<WallTime> end_time;
  std::optional<int> exit_code;        // status, or 128 + signal
};

// Every job of the calling user that the controller still holds, active or
// finished within MinJobAge (`-t all`): one line per job,
//   JobID|State|SubmitTime|StartTime|EndTime|exit_code|Reason|Comment
// exit_code is the raw wait status (768 = exit 3, 15 = SIGTERM). Comment is
// last because it is the only field that may contain "|"
// (tests/data/alpha-squeue-poll.txt).
extern const std::vector<std::string> kSqueuePollArgv;
Result<std::vector<SlurmJobStatus>> parse_squeue_poll(std::string_view text);

// Accounting records (allocations only, -X) of these job ids, every job that
// ever had one of those ids (ids are reused): one line per job,
//   JobID|State|ExitCode|Submit|Start|End|Comment
// with ExitCode as "status:signal" and State possibly "CANCELLED by 1000".
std::vector<std::string> sacct_argv(const std::vector<std::string>& slurm_ids);
Result<std::vector<SlurmJobStatus>> parse_sacct(std::string_view text);
// True if sacct's stderr says the cluster keeps no accounting
// ("Slurm accounting storage is disabled", tests/data/sacct-job.stderr.txt).
bool sacct_accounting_disabled(std::string_view err);

// `scontrol show job -o ID`: what the controller holds about one job, one
// line of Key=Value pairs (JobState, Reason, ExitCode=3:0, SubmitTime, ...).
std::vector<std::string> scontrol_show_job_argv(const std::string& slurm_id);
Result<std::vector<SlurmJobStatus>> parse_scontrol_jobs(std::string_view text);

// `scontrol show job -o` for many ids in one remote command. SLURM 22.05's
// scontrol takes one id per call (`scontrol show job -o 1,2` and `... 1 2`
// fail with "Invalid job id specified"), so the fixed argv loops over the
// ids given on stdin (scontrol_ids_input(), one per line) and prints what
// scontrol prints for each, in parse_scontrol_jobs()'s format. An id the
// controller no longer holds prints nothing on stdout (its error goes to
// stderr) and does not fail the command; a line that is not a job id is
// skipped (tests/data/alpha-scontrol-show-jobs-loop.txt).
extern const std::vector<std::string> kScontrolJobsArgv;
std::string scontrol_ids_input(const std::vector<std::string>& slurm_ids);

// The exit-status markers of many jobs in one command. The argv is fixed;
// stdin lists the jobs, one "<token> <job dir>" line each (marker_input()),
// so neither the command nor its length depends on the jobs. For each line
// the remote prints "<token> <exit status|-> <started_at|->", where the exit
// status is the first word of <job dir>/exit_status if it is a number, and
// started_at the started_at= value of <job dir>/started (written by the
// batch script as 2026-11-23T22:07:37Z). A relative job dir, or one starting
// with "~/", is taken from the remote home, as launch::submit_argv does.
extern const std::vector<std::string> kMarkerArgv;
struct JobDirRef {
  std::string token;
  std::string dir;  // launch::job_dir(workspace, token)
};
// Jobs whose token or dir holds a newline (or whose token holds a space)
// cannot be expressed and are left out.
std::string marker_input(const std::vector<JobDirRef>& jobs);
struct JobMarker {
  std::string token;
  std::optional<int> exit_status;       // the marker's value; nullopt: no marker (yet)
  std::optional<WallTime> started_at;   // from the started marker
};
Result<std::vector<JobMarker>> parse_markers(std::string_view text);

// Building blocks, exposed for tests and other parsers.

// "CANCELLED by 1000" -> "CANCELLED"; "CANCELLED+" -> "CANCELLED"; "RUNNING" as is.
std::string base_job_state(std::string_view state);
// Seconds since the epoch -> time; anything else -> nullopt.
std::optional<WallTime> parse_epoch_time(std::string_view text);
// "2026-11-23T22:07:37Z" (UTC) -> time; anything else -> nullopt.
std::optional<WallTime> parse_utc_time(std::string_view text);
// "3:0" -> 3, "0:15" -> 143; nullopt if malformed.
std::optional<int> parse_status_signal(std::string_view text);

}  // namespace mmcfs::backend
