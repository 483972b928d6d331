// jobs_tree.h — jobs/<id>/ for every job mmcfs launched:
//
//   status       one line: STATE, then the reason or the exit code (and how
//                old it is while the cluster is unreachable)
//   info.json    every field: project, cluster, SLURM id, commit, resources, times
//   launch.yaml  the launch as written, with the commit it ran at recorded
//   script       the exact script submitted
//   command      the exact training command line
//   log          the job's SLURM output as it stands (job_log_file.h)
//   links        tracker links found in the log, "kind url" per line
//   sweep        (a sweep's run, jobs/<sweep>.<n>/ only) the sweep's id
//   runs         (a sweep only) one line per run: id, SLURM id, state, command,
//                tab-separated
//
// Everything but `log` and `links` renders from the job store: status and
// command from the summary in memory, the others from the record's texts
// (read from the local store on open; their sizes are known without
// rendering, or rendered once per version of the record and of its links).
// Finished jobs' files never change (long attribute lifetimes, kernel
// caching); active jobs' are short. Each job's directory and files are
// built once, as one object, and kept.
//
// Thread rules: nodes are safe from any FUSE thread if the source is.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/job_store.h"
#include "common/clock.h"
#include "fs/job_ctl_file.h"
#include "fs/job_log_file.h"
#include "fs/node.h"

namespace mmcfs::fs {

// Where the jobs tree gets its data (in production: the job store and the
// cluster connections).
class JobSource {
 public:
  virtual ~JobSource() = default;
  // Summaries (no texts; cheap, from memory): not archived, in id order.
  virtual std::vector<backend::JobSummaryRef> jobs() const = 0;
  // One job's summary (archived or not); nullptr if there is none.
  virtual backend::JobSummaryRef job(const std::string& id) const = 0;
  // The whole record, its texts read from the local store (for the files
  // that show them).
  virtual std::optional<backend::JobRecord> job_record(const std::string& id) const = 0;
  // Why the job's status may be out of date ("alpha unreachable since
  // 12:03:04; state as of 5 min ago"), or "" when it is not. Local state only.
  virtual std::string status_note(const backend::JobRecord& /*job*/) const { return ""; }
  // The jobs' logs and the tracker links found in them.
  virtual JobLogSource& logs() = 0;
};

// jobs/. With a controller, every job's directory also has its ctl
// (job_ctl_file.h; mounted_at is ctl's mtime before any action).
std::shared_ptr<DirNode> make_jobs_dir(JobSource& source, WallTime mounted_at, JobController* controller = nullptr);
// One job's directory (archived or not; archive/ lists them too).
std::shared_ptr<DirNode> make_job_dir(JobSource& source, const std::string& id, JobController* controller = nullptr,
                                      WallTime mounted_at = {});

// The one-line status ("RUNNING", "PENDING (Resources)", "FAILED exit 3"),
// with `note` (JobSource::status_note) after the reason:
// "RUNNING (alpha unreachable since 12:03:04; state as of 5 min ago)".
// Its mtime is backend::status_time(job): when SLURM last confirmed it.
std::string render_job_status(const backend::JobRecord& job, const std::string& note = "");
// A sweep's `runs` file from the jobs listed (its runs are "<id>.<n>").
std::string render_sweep_runs(const backend::JobRecord& sweep, const std::vector<backend::JobSummaryRef>& jobs);
// info.json ("links": the tracker links found in the log, latest per kind)
std::string render_job_info(const backend::JobRecord& job, const std::vector<backend::TrackerLink>& links = {});
// The launch as written plus an `mmcfs:` block recording the job and commit
// (ignored by the launch parser, so the file can be copied into new/ to clone).
std::string render_recorded_launch(const backend::JobRecord& job);

}  // namespace mmcfs::fs
