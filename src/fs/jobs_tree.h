// jobs_tree.h — jobs/<id>/ for every job mmcfs launched:
//
//   status       one line: STATE, then the reason or the exit code
//   info.json    every field: project, cluster, SLURM id, commit, resources, times
//   launch.yaml  the launch as written, with the commit it ran at recorded
//   script       the exact script submitted
//   command      the exact training command line
//   log          the job's SLURM output as it stands (fetched on open, bounded)
//
// Everything but `log` renders from the job store: status and command from
// the summary in memory, the others from the record's texts (read from the
// local store on open; their sizes are known without rendering, or
// rendered once per version of the record). Finished jobs' files never
// change (long attribute lifetimes); active jobs' are short. Each job's
// directory and files are built once and kept.
//
// Thread rules: nodes are safe from any FUSE thread if the source is.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/job_store.h"
#include "common/clock.h"
#include "fs/node.h"

namespace mmcfs::fs {

// Where the jobs tree gets its data (in production: the job store and the
// cluster connections).
class JobSource {
 public:
  virtual ~JobSource() = default;
  // Summaries (no texts; cheap, from memory): not archived, in id order.
  virtual std::vector<backend::JobSummaryRef> jobs() const = 0;
  // One job's summary; nullptr if there is none.
  virtual backend::JobSummaryRef job(const std::string& id) const = 0;
  // The whole record, its texts read from the local store (for the files
  // that show them).
  virtual std::optional<backend::JobRecord> job_record(const std::string& id) const = 0;
  // The job's output as it stands: fetched now (bounded in time); on failure
  // the last fetched bytes, if any.
  virtual Result<std::string> fetch_log(const backend::JobRecord& job) = 0;
  // Bytes of the log fetched last (for stat; never fetches).
  virtual std::uint64_t cached_log_size(const std::string& id) const = 0;
};

std::shared_ptr<DirNode> make_jobs_dir(JobSource& source, WallTime mounted_at);

// The one-line status ("RUNNING", "PENDING (Resources)", "FAILED exit 3").
std::string render_job_status(const backend::JobRecord& job);
// info.json
std::string render_job_info(const backend::JobRecord& job);
// The launch as written plus an `mmcfs:` block recording the job and commit
// (ignored by the launch parser, so the file can be copied into new/ to clone).
std::string render_recorded_launch(const backend::JobRecord& job);

}  // namespace mmcfs::fs
