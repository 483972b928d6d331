// log_cache.h — each job's SLURM output, mirrored into a local file and
// extended with only the bytes that are new on the cluster.
//
// The log of job J lives at `<dir>/<J>.log`. refresh() asks the remote for
// the bytes past what is cached (Remote::read_range from the cached size, in
// chunks of kLogChunkBytes, until caught up or the bound passes) and appends
// them. If the remote file is SHORTER than the cache it was rewritten or
// truncated: the log is fetched again from 0 into `<J>.log.tmp`, which
// replaces the old copy when the refresh ends. Once a job has ended and its
// log was caught up after that, refresh() no longer touches the network (as
// long as the record it is given says the job has ended: a requeue resumes).
// size() and read() only read local state, so they work with the cluster
// offline and never wait on the network.
//
// Completeness survives restarts: when a refresh finds a finished job's log
// caught up, the log is flushed to disk (fdatasync) and `<J>.log.complete`
// records its size. A later LogCache over the same directory trusts it (when
// the sizes agree) and never fetches that log again while the job is final.
// A refresh of a job that is active again (requeued) drops the marker.
//
// The remote file is `<job_dir(workspace, token)>/slurm-<slurm_id>.out`
// (launch/sbatch_script.h), "~/" meaning the remote home; for a sweep's run
// the sweep's directory (slurm_token) and slurm-<array id>_<n>.out. A
// sweep's own record has no log file on the cluster (its runs have).
//
// A big backlog is fetched in parallel: when the first chunk (always asked of
// the main remote) shows at least kParallelFetchMinBytes still to come and
// refresh() was given bulk remotes (extra sessions used only for this), one
// thread per bulk remote takes the next kLogChunkBytes chunk of that stretch
// in turn and writes it in place. The size grows only with the contiguous
// prefix on disk; while chunks are out of order a `<J>.log.partial` marker
// records the prefix held before the stretch began, so a crash mid-way cannot
// leave holes that a later LogCache would serve: loading a log with such a
// marker cuts the file back to it. A short chunk or an error stops the
// stretch; what is contiguous is kept (an error is returned, as in the
// sequential fetch), and the tail past the prefix is cut off. A stretch that
// failed before bringing any byte (the bulk sessions cannot connect, say)
// lets the main remote fetch the rest alone. Small logs and the follower's
// increments stay one read_range of the main remote.
//
// Consistency: read() serves bytes only below the size size() reports, and
// the size grows only after the bytes are on local disk; a refetch swaps the
// file by rename, and a reader keeps the file it opened. So a reader sees a
// prefix of the log as it was at some moment, never a torn mix.
//
// Thread rules: every method is safe from any thread. mu_ guards the index
// and is held only for local work, never while calling the remote. A job has
// at most one refresh talking to the remote at a time; a second refresh of
// the same job waits (up to its bound) for that one and returns its result
// instead of fetching the same bytes again. A parallel stretch runs its
// threads inside the one refresh that holds the job's guard and joins them
// before returning; they take mu_ only to publish the prefix.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backend/job_store.h"
#include "backend/remote.h"
#include "common/result.h"
#include "config/cluster_config.h"

namespace mmcfs::backend {

// How much one read_range() asks for.
inline constexpr std::size_t kLogChunkBytes = std::size_t{4} << 20;
// How much must remain past the first chunk for bulk remotes to share it.
inline constexpr std::uint64_t kParallelFetchMinBytes = std::uint64_t{2} * kLogChunkBytes;

struct LogState {
  std::uint64_t size = 0;         // bytes held locally (what read() serves)
  std::uint64_t remote_size = 0;  // the remote file's size when last read
  bool caught_up = false;         // size == remote_size when the refresh ended
  bool complete = false;          // the job has ended and all of its log is local
};

class LogCache {
 public:
  // `dir` is created on the first refresh() if missing (typically <state>/logs).
  explicit LogCache(std::string dir);

  // Fetches the job's new log bytes within `bound` (see the file comment).
  // A bound that passes mid-way is not an error: what arrived is kept and
  // caught_up is false. `backlog_bound` (when longer than `bound`) lets a
  // fetch that is making progress on a backlog go on past `bound`: once a
  // chunk arrived and the remote file holds more, the fetch continues until
  // caught up or `backlog_bound` (from the call) passes. So a first read of a
  // long log waits for all of it while a silent cluster still costs only
  // `bound`. A refresh waiting for another one of the same job waits up to
  // the longer of the two. Errors: kNotFound (no SLURM id yet, or no log file on
  // the cluster yet), kInvalidArgument (a job id unfit for a file name), kIo
  // (local disk), kTimeout (waiting for another refresh of the job), and the
  // remote's errors; bytes fetched before an error are kept. `bulk` (may be
  // empty; no nulls) are remotes to the same cluster that share a big
  // backlog (see the file comment); each is used by one thread at a time.
  Result<LogState> refresh(Remote& remote, const JobRecord& job,
                           const config::ClusterConfig& cluster, std::chrono::milliseconds bound,
                           std::chrono::milliseconds backlog_bound = std::chrono::milliseconds(0),
                           const std::vector<Remote*>& bulk = {});

  // Bytes of the job's log held locally (0 when none).
  std::uint64_t size(const std::string& job_id) const;
  // The job has ended and all of its log is local (kept across restarts).
  bool complete(const std::string& job_id) const;
  // All that stat needs, under one lock and without touching the disk (after
  // the first use of a job): size, completeness and the local copy's mtime.
  struct LocalLog {
    std::uint64_t size = 0;
    bool complete = false;
    std::chrono::system_clock::time_point modified{};  // epoch when there is no copy
    bool rewritten = false;  // a refetch replaced the copy in this process
  };
  LocalLog local(const std::string& job_id) const;

  // What crossed the network since this LogCache was made.
  struct Stats {
    std::uint64_t remote_reads = 0;   // read_range() calls
    std::uint64_t bytes_fetched = 0;  // bytes they returned
  };
  Stats stats() const;

  // Up to n bytes from offset (fewer at the end; "" past it or with no log).
  // Errors: kIo (local disk), kInvalidArgument (a bad job id).
  Result<std::string> read(const std::string& job_id, std::uint64_t offset, std::size_t n) const;

  // The remote path of a job's log: <job_dir>/slurm-<slurm_id>.out.
  static std::string remote_log_path(const JobRecord& job, const config::ClusterConfig& cluster);

 private:
  struct Entry {
    std::uint64_t size = 0;   // bytes of <id>.log that are valid
    std::chrono::system_clock::time_point modified{};  // <id>.log's mtime when size last changed
    LogState state;           // the outcome of the last refresh
    std::optional<Error> last_error;  // set when the last refresh failed
    bool fetching = false;    // a refresh is talking to the remote
    int generation = 0;       // counts finished refreshes (waiters watch it)
    bool rewritten = false;   // a refetch replaced <id>.log since this LogCache was made
  };

  // The entry for `job_id`, loaded from disk on first use. mu_ held.
  Entry& entry_locked(const std::string& job_id) const;
  std::string log_path(const std::string& job_id) const;
  std::string complete_marker_path(const std::string& job_id) const;
  std::string partial_marker_path(const std::string& job_id) const;
  // Flushes the log and records it as complete at `size` (local disk only).
  Status mark_complete(const std::string& job_id, std::uint64_t size);

  // The fetch loop, run by the one refresh that holds the job's guard.
  // Stops at `deadline`, or at `backlog_deadline` (>= deadline) while
  // chunks keep arriving and the remote file holds more.
  Result<LogState> fetch(Remote& remote, const std::vector<Remote*>& bulk, const JobRecord& job,
                         const std::string& remote_path, std::uint64_t start,
                         std::chrono::steady_clock::time_point deadline,
                         std::chrono::steady_clock::time_point backlog_deadline);

  // One parallel stretch: [begin, end) of the remote file in chunks shared by
  // `bulk`'s threads, written to `fd` at their offsets. The prefix from
  // `begin` that is on disk is published as the job's size as it grows
  // (unless `publish` is false: a refetch into the tmp file).
  struct Stretch {
    std::uint64_t prefix = 0;       // the contiguous end reached (>= begin)
    std::uint64_t remote_size = 0;  // the largest file size a chunk saw
    bool short_read = false;        // a chunk found the file shorter than `end`
    std::optional<Error> failure;   // the first error of any thread
  };
  Stretch fetch_stretch(const std::vector<Remote*>& bulk, const std::string& job_id,
                        const std::string& remote_path, int fd, std::uint64_t begin, std::uint64_t end,
                        std::chrono::steady_clock::time_point deadline, bool publish);

  const std::string dir_;
  mutable std::mutex mu_;
  std::condition_variable fetch_done_cv_;
  mutable std::map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
  std::atomic<std::uint64_t> remote_reads_{0};
  std::atomic<std::uint64_t> bytes_fetched_{0};
};

}  // namespace mmcfs::backend
