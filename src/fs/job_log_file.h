// job_log_file.h — jobs/<id>/log and jobs/<id>/links.
//
// `log` serves the job's SLURM output from the local log cache (a file under
// <state>/logs that only grows by the bytes new on the cluster):
//   - stat shows the bytes held locally, never the network;
//   - open of a log that is not complete asks for a short bounded refresh
//     (the only network wait), then every read serves the local file, so a
//     reader sees the log grow while it holds it open (tail -f);
//   - the kernel's page cache is used (no direct_io): a read is cut at the
//     size the kernel last got from stat, so read never returns more bytes
//     than stat said, and the cache only ever grows, so it never returns
//     fewer. A log that may still grow has attribute lifetime 0 (a stat, and
//     a read past the size the kernel knows, always ask us); the background
//     follower invalidates the kernel's pages when a refetch rewrote it.
//     A complete log never changes: long lifetime. Every open keeps the
//     kernel's pages (keep_cache), so a second `cat` or `grep -r` is served
//     from the page cache: a log only grows, and when the kernel sees a new
//     size (stat, or a path lookup, which with lifetime 0 happens on every
//     open) it drops the file's pages itself, so no stale partial last page
//     survives. The one change the kernel cannot see is a refetch that
//     rewrote the log at the same size: once a log was rewritten, its opens
//     drop the pages (no keep_cache) for the rest of the run.
// `links` lists the tracker links found in the log, "kind url" per line.
//
// Thread rules: nodes and open files are called from any FUSE thread; they
// keep no state of their own beyond the job id (the source guards its own).
#pragma once

#include <cstdint>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "backend/job_store.h"
#include "backend/tracker_links.h"
#include "common/result.h"
#include "fs/node.h"

namespace mmcfs::fs {

// What a job's log looks like locally.
struct LogView {
  std::uint64_t size = 0;
  bool complete = false;  // the job ended and all of its log is local
  WallTime mtime{};       // when the local copy last grew (epoch if never)
  bool rewritten = false; // the local copy was replaced by a refetch (not only grown)
};

// Where the log files get their bytes (in production app::JobLogs).
class JobLogSource {
 public:
  virtual ~JobLogSource() = default;
  // Local state only.
  virtual LogView log_view(const std::string& job_id) const = 0;
  virtual Result<std::string> read_log(const std::string& job_id, std::uint64_t offset, std::size_t n) const = 0;
  virtual std::vector<backend::TrackerLink> tracker_links(const std::string& job_id) const = 0;
  // The one network wait: fetch the log's new bytes, bounded in time. Called
  // on open of a log that is not complete; failures leave the cached bytes.
  virtual void refresh_for_open(const backend::JobRecord& job) = 0;
  // A reader holds the log open (the follower keeps held logs fresh).
  virtual void hold(const std::string& job_id) = 0;
  virtual void release(const std::string& job_id) = 0;
};

class JobSource;  // jobs_tree.h

// jobs/<id>/log. Made by the job's directory, which owns the id it refers to
// (and outlives it: the directory hands its files out as parts of itself).
class JobLogFile final : public FileNode {
 public:
  JobLogFile(const JobSource& source, JobLogSource& logs, const std::string& job_id)
      : source_(source), logs_(logs), id_(job_id) {}
  Result<FileContent> content() const override;
  Result<FileStat> stat() const override;
  Result<std::unique_ptr<OpenFile>> open(const OpenRequest& request) const override;
  // Deliberately 0 while the log may grow (see the file comment): every
  // stat, and every read past the size the kernel knows, asks for the size.
  std::chrono::milliseconds attr_ttl() const override;

 private:
  const JobSource& source_;
  JobLogSource& logs_;
  const std::string& id_;
};

// jobs/<id>/links (owned like JobLogFile).
class JobLinksFile final : public FileNode {
 public:
  JobLinksFile(const JobSource& source, JobLogSource& logs, const std::string& job_id)
      : source_(source), logs_(logs), id_(job_id) {}
  Result<FileContent> content() const override;
  std::chrono::milliseconds attr_ttl() const override;

 private:
  const JobSource& source_;
  JobLogSource& logs_;
  const std::string& id_;
};

}  // namespace mmcfs::fs
