// job_poller.h — one status cycle for the jobs of one cluster.
//
// A cycle runs at most four remote commands, however many jobs there are;
// in the steady state (every active job in the queue) exactly one:
//   1. squeue (always, if the cluster has active jobs): every job of the user
//      that the controller holds, active or finished within MinJobAge
//      (kSqueuePollArgv). Most jobs are settled here, finished ones included,
//      with SLURM's own state and exit code.
//   2. sacct (only if some active job is no longer in squeue, and the cluster
//      keeps accounting): one command for all of those ids. A cluster whose
//      sacct says "accounting storage is disabled" is remembered and never
//      asked again by this poller.
//   3. scontrol (only for jobs sacct did not settle): one command for all of
//      those ids (kScontrolJobsArgv), what the controller still holds.
//   4. the markers (only for jobs still unresolved): one command reading
//      every such job's exit_status and started files (kMarkerArgv).
// A job that left the queue with a marker becomes COMPLETED (0) or FAILED
// (its status). With no marker and no record anywhere, the poller keeps
// asking for kUnknownAfter (measured on the injected clock from the first
// cycle that missed it; the count restarts with the process), then sets the
// state "UNKNOWN" (job_state::kUnknown) with a reason saying the outcome could
// not be determined; UNKNOWN jobs are not polled again.
//
// Sweeps (job_store.h): each run is polled as a job of its own — squeue -r
// lists every array task as "<array id>_<n>" (never collapsed), its comment
// is the sweep's token, its markers are in <job dir>/run-<n> — and the
// sweep's own record is never asked about: at the end of the cycle its state
// is summarised from its runs (sweep_status.h) and written in the same batch.
// So a sweep adds no remote command.
//
// Which records are polled: state not final (job_state::is_final), not
// UNKNOWN, slurm_id known, cluster == the cluster polled. A job in a final
// state is never polled or written again.
//
// Identity: SLURM reuses ids, so an answer is applied to a record only if the
// id matches and it is the same job: the comment, when SLURM reports one,
// must be the record's token (mmcfs submits with --comment <token>; a sweep
// run's is its sweep's token, backend::slurm_token); without
// a comment the submit time must lie within kSubmitTimeTolerance of the
// record's submitted_at (mmcfs's clock before sbatch vs the controller's).
//
// Writes: a cycle ends with ONE JobStore::modify_batch (one SQLite
// transaction), so a thousand jobs cost one commit. Every job SLURM (or its
// exit_status marker) answered for gets confirmed_at = now; only the records
// whose state, reason, times or exit code changed are rewritten whole, and
// their ids are returned in PollStats::changed_ids (for kernel cache
// invalidation). A cycle that stops early on an error still writes what it
// learnt before the error.
//
// Thread rules: poll() may run concurrently for different clusters (and for
// the same one). No lock is held while a remote command runs: the poller
// snapshots the active jobs, runs the commands, then applies each answer to
// the record as it is at write time (in modify_batch, under the store's
// lock), only if it is still not final and has the same slurm_id. mu_
// guards only the poller's small memory (accounting per cluster,
// first-missed times).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backend/job_parsers.h"
#include "backend/job_store.h"
#include "backend/remote.h"
#include "common/clock.h"
#include "config/cluster_config.h"

namespace mmcfs::backend {

// The state of a job whose outcome could not be determined (see above).

// The fields of a record the poller writes.
struct JobUpdate {
  std::string state;
  std::string reason;
  std::optional<WallTime> started_at;
  std::optional<WallTime> ended_at;
  std::optional<int> exit_code;
};

struct PollStats {
  int squeue_calls = 0, scontrol_calls = 0, marker_calls = 0, jobs_updated = 0;
  int sacct_calls = 0;
  int active_jobs = 0;     // jobs the cycle asked about
  int jobs_confirmed = 0;  // jobs whose confirmed_at this cycle set
  std::vector<std::string> changed_ids;  // jobs whose record changed (jobs_updated of them)
  // Why the cycle stopped early ("" if it did not): the remote could not be
  // reached or a command failed. What was learnt before is written.
  std::string error;
  int remote_calls() const { return squeue_calls + scontrol_calls + sacct_calls + marker_calls; }
};

class JobPoller {
 public:
  static constexpr std::chrono::minutes kUnknownAfter{10};
  static constexpr std::chrono::minutes kSubmitTimeTolerance{10};

  JobPoller(JobStore& jobs, const Clock& clock) : jobs_(jobs), clock_(clock) {}

  // One cycle for one cluster (see the file comment). Commands are bounded
  // by cluster.command_timeout. Makes no remote call if the cluster has no
  // active job.
  PollStats poll(Remote& remote, const config::ClusterConfig& cluster);

  // True once this cluster's sacct said accounting is disabled.
  bool accounting_disabled(const std::string& cluster) const;

 private:
  // What one cycle learnt about one job, written at the end of the cycle.
  struct Outcome {
    JobRecord snapshot;
    JobUpdate update;
    bool confirmed = false;  // SLURM or the job's marker answered for it
  };
  using Outcomes = std::vector<Outcome>;

  // The sweeps of a cycle: their runs (all, as listed) and the sweeps not
  // yet final, whose state is summarised from their runs.
  struct Sweeps {
    std::map<std::string, std::vector<JobRecord>> runs;  // by sweep id
    std::vector<JobRecord> open;
  };
  // The records to ask SLURM about (a sweep's runs, never the sweep itself);
  // fills `sweeps`.
  std::vector<JobRecord> active_jobs(const std::string& cluster, Sweeps& sweeps) const;
  // Adds each open sweep's summary (sweep_status.h) of its runs as this
  // cycle's outcomes leave them.
  void summarize_sweeps(const Sweeps& sweeps, Outcomes& out);
  // Each resolver settles what it can of `vanished` (adding to `out`) and
  // returns the jobs still unresolved.
  // `sacct_failed` is set if sacct could not answer (not: accounting off).
  std::vector<JobRecord> resolve_by_sacct(Remote& remote, const config::ClusterConfig& cluster,
                                          std::vector<JobRecord> vanished, bool& sacct_failed,
                                          PollStats& stats, Outcomes& out);
  std::vector<JobRecord> resolve_by_scontrol(Remote& remote, const config::ClusterConfig& cluster,
                                             std::vector<JobRecord> vanished, PollStats& stats, Outcomes& out);
  void resolve_by_markers(Remote& remote, const config::ClusterConfig& cluster,
                          const std::vector<JobRecord>& vanished, bool may_give_up, PollStats& stats,
                          Outcomes& out);
  // Writes the cycle's outcomes in one batch (see the file comment).
  // Applies SLURM's answers (`rows`) to `jobs`: each job with an answer
  // (with `final_only`, only a final one) becomes an Outcome in `out`;
  // returns the jobs left without one.
  std::vector<JobRecord> settle(const std::vector<SlurmJobStatus>& rows, std::vector<JobRecord> jobs, bool final_only,
                                Outcomes& out);
  void write(const Outcomes& outcomes, WallTime now, PollStats& stats);
  // When this cycle first missed the job (now, if it had not been missed).
  WallTime missing_since(const std::string& job_id, WallTime now);
  void forget_missing(const std::string& job_id);

  JobStore& jobs_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, bool> accounting_disabled_;   // GUARDED_BY(mu_), by cluster
  std::map<std::string, WallTime> missing_since_;     // GUARDED_BY(mu_), by job id
};

// True if the SLURM answer `s` describes the job of `record` (id, token or
// submit time; see the file comment).
bool same_job(const JobRecord& record, const SlurmJobStatus& s);

// What SLURM's answer means for the record: SLURM's state and reason; the
// start time once the job has started; for a final state the end time
// (`now` if SLURM gave none) and the exit code, except for a job cancelled
// before it started, which gets neither a start time nor an exit code.
JobUpdate update_from_slurm(const JobRecord& record, const SlurmJobStatus& s, WallTime now);

}  // namespace mmcfs::backend
