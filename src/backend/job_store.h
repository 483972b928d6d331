// job_store.h — every job mmcfs launched, durable in SQLite and indexed in
// memory so that listing jobs/ or reading a status never touches the disk
// or the network.
//
// Memory holds each job's summary: the record without its three large texts
// (launch_text, spec_yaml, script: about 14 KB a job with the built-in
// template, 140 MB for 10,000 jobs), which stay in SQLite and are read on
// demand (local disk, usually the page cache), with their sizes kept.
// summary()/summaries() are the cheap accessors (shared, immutable
// snapshots: an update replaces the snapshot, never changes it); get(),
// list() and the other accessors returning JobRecord read the texts too.
//
// A job is recorded (state SUBMITTING, with a unique token that SLURM keeps
// as the job's comment) BEFORE anything reaches the cluster; the SLURM id is
// added when sbatch answers. That ordering is what makes launching exactly
// once possible: a SUBMITTING job found at start-up is reconciled by its
// token, never submitted blindly again.
//
// Job ids ("00042-lr-sweep") are short, unique across clusters, and sort by
// submission time: a zero-padded sequence number and a slug of the name.
//
// Sweeps (launch/sweep.h): a sweep is one record "<id>" (the sweep; its
// slurm_id is the array job's id, its state a summary of its runs written by
// the poller) plus one record per run, "<id>.<n>", inserted with insert_run
// before anything is submitted: slurm_id "<array id>_<n>" once sbatch
// answered, token "<sweep token>.<n>", its own command, state and log. A
// slug never holds '.', so a '.' in an id is what marks a run, and the
// sweep of a run is the id before it: no extra column. Each run takes a
// sequence number of its own (a 4-run sweep uses 5), so ids stay unique
// and in order (a run sorts right after its sweep).
//
// Thread rules: safe from any thread; mu_ guards the index. SQLite writes
// happen under mu_ (local disk, never the network).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backend/state_store.h"
#include "common/clock.h"
#include "common/result.h"

namespace mmcfs::backend {

// SLURM job states mmcfs uses, plus its own SUBMITTING.
namespace job_state {
inline constexpr const char* kSubmitting = "SUBMITTING";
inline constexpr const char* kPending = "PENDING";
inline constexpr const char* kRunning = "RUNNING";
inline constexpr const char* kCompleted = "COMPLETED";
inline constexpr const char* kFailed = "FAILED";
inline constexpr const char* kCancelled = "CANCELLED";
// mmcfs's own: the outcome could not be determined (see job_poller.h).
inline constexpr const char* kUnknown = "UNKNOWN";
// True for states a job never leaves (COMPLETED, FAILED, CANCELLED, TIMEOUT,
// OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, BOOT_FAIL, DEADLINE).
bool is_final(const std::string& state);
}  // namespace job_state

struct JobRecord {
  std::int64_t seq = 0;       // assigned by insert()
  std::string id;             // "00042-lr-sweep", assigned by insert()
  std::string token;          // "mmcfs-<16 hex>", assigned by insert()
  std::string project;
  std::string cluster;
  std::string slurm_id;       // "" until sbatch answered
  std::string state = job_state::kSubmitting;
  std::string reason;         // pending reason, failure text, or why in doubt
  std::optional<int> exit_code;
  std::string launch_text;    // the launch.yaml exactly as the user wrote it
  std::string spec_yaml;      // the complete, validated launch (defaults filled in)
  std::string commit;         // full SHA the job runs at
  std::string script;         // the exact script submitted
  std::string command;        // the training command line, shell-quoted
  std::string source_file;    // the drop-zone file it came from ("launch.yaml")
  WallTime submitted_at{};
  WallTime updated_at{};
  std::optional<WallTime> started_at;
  std::optional<WallTime> ended_at;
  // When SLURM last confirmed `state`: the last poll cycle that saw the job
  // (squeue, sacct, scontrol or its exit_status marker). nullopt until then.
  std::optional<WallTime> confirmed_at;
  bool archived = false;
};

// When the job's status was last known to be true: confirmed_at, else the
// last local change (updated_at). The mtime of jobs/<id>/status.
WallTime status_time(const JobRecord& job);

// Sizes in bytes of a record's texts that stay on disk.
struct JobTextSizes {
  std::uint64_t launch_text = 0;
  std::uint64_t spec_yaml = 0;
  std::uint64_t script = 0;
};

// A job as kept in memory: the record with launch_text, spec_yaml and script
// empty, and their sizes.
struct JobSummary {
  JobRecord record;
  JobTextSizes sizes;
};
using JobSummaryRef = std::shared_ptr<const JobSummary>;

class JobStore {
 public:
  // Loads every job into memory.
  static Result<std::unique_ptr<JobStore>> open(StateStore& db, const Clock& clock);

  // Records a new job: assigns seq, id and token; submitted_at = now.
  Result<JobRecord> insert(JobRecord job, const std::string& name_for_id);
  // Replaces the stored record with the same id (updated_at = now).
  Status update(const JobRecord& job);
  // What a JobBatch modifier did to the record it was given.
  enum class Modified { kNothing, kConfirmedOnly, kRecord };
  using Modifier = std::function<Modified(JobRecord&)>;
  // One poll cycle's writes: applies each modifier to the CURRENT record of
  // its job id (ids not in the store are skipped) under the store's lock,
  // and writes the results in ONE SQLite transaction. The record given to a
  // modifier is the summary's (texts empty): a modifier must not change
  // launch_text, spec_yaml or script, which are left as they are on disk. A
  // record whose fields changed (kRecord) is rewritten, with updated_at = now; a record
  // whose only change is confirmed_at gets that one column. Memory changes
  // only after COMMIT, so either every write lands or none. Returns the ids
  // of the kRecord jobs. Modifiers must not call back into the store.
  Result<std::vector<std::string>> modify_batch(const std::vector<std::pair<std::string, Modifier>>& modifiers);
  // Records run `run` of the sweep `sweep` (already inserted): id
  // "<sweep id>.<run>", token "<sweep token>.<run>"; submitted_at = now.
  Result<JobRecord> insert_run(const JobRecord& sweep, int run, JobRecord job);
  // The runs of a sweep, by run number ("" / a plain job: none).
  std::vector<JobRecord> runs_of(const std::string& sweep_id) const;
  // Forgets a job that never reached SLURM (a refused or impossible launch).
  Status remove(const std::string& id);

  // The summary of one job (nullptr if none), or of every job in id order.
  // Cheap: no copy of any record, no disk.
  JobSummaryRef summary(const std::string& id) const;
  std::vector<JobSummaryRef> summaries(bool include_archived = false) const;
  std::vector<JobSummaryRef> project_summaries(const std::string& project) const;

  // Whole records, texts read from SQLite.
  std::optional<JobRecord> get(const std::string& id) const;
  std::optional<JobRecord> find_by_token(const std::string& token) const;
  // In id order (= submission order).
  std::vector<JobRecord> list(bool include_archived = false) const;
  std::vector<JobRecord> list_project(const std::string& project) const;
  std::vector<JobRecord> in_state(const std::string& state) const;
  std::size_t size() const;

  // A project's last complete launch, for the next template ("" if none).
  std::string last_launch(const std::string& project) const;
  Status set_last_launch(const std::string& project, const std::string& spec_yaml);

 private:
  JobStore(StateStore& db, const Clock& clock) : db_(db), clock_(clock) {}
  Status load();
  Status write(const JobRecord& job, bool insert);
  static Status write_row(sqlite3* db, const JobRecord& job, bool insert);
  // The whole record of a summary: its texts read from SQLite. Under mu_.
  JobRecord with_texts(const JobSummary& summary) const;
  // The next sequence number (mu_ held).
  std::int64_t next_seq_locked() const;
  // Stamps, writes and indexes a new record whose seq, id and token are set (mu_ held).
  Result<JobRecord> insert_locked(JobRecord job);
  static JobSummaryRef summarize(JobRecord job);

  StateStore& db_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, JobSummaryRef> jobs_;              // GUARDED_BY(mu_), by id
  std::map<std::string, std::string> last_launch_;         // GUARDED_BY(mu_)
};

// Sweep runs (see the file comment). For a plain job or a sweep:
// is_sweep_run false, sweep_of "", run_number -1, slurm_token == token.
bool is_sweep_run(const JobRecord& job);
std::string sweep_of(const std::string& job_id);      // "00042-x.3" -> "00042-x"
int run_number(const std::string& job_id);            // "00042-x.3" -> 3
// The token SLURM knows the job by (its --comment) and its remote job
// directory is named after: a run's is its sweep's.
std::string slurm_token(const JobRecord& job);
// The slurm_id of run `run` of an array job: "<array id>_<run>".
std::string array_task_id(const std::string& array_id, int run);

// "lr sweep: Ünïcode!" -> "lr-sweep-nicode" (at most 24 characters; "job" if empty).
std::string job_slug(const std::string& name);

}  // namespace mmcfs::backend
