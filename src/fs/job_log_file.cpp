// job_log_file.cpp — jobs/<id>/log served from the local log cache, and
// jobs/<id>/links (see job_log_file.h).
#include "fs/job_log_file.h"

#include <algorithm>

#include "fs/jobs_tree.h"

namespace mmcfs::fs {
namespace {

// A log as opened: reads go to the local cache as it grows; the follower
// keeps it fresh while it is held.
class JobLogOpenFile final : public OpenFile {
 public:
  JobLogOpenFile(JobLogSource& logs, std::string job_id, bool keep_cache)
      : logs_(logs), job_id_(std::move(job_id)), keep_cache_(keep_cache) {
    logs_.hold(job_id_);
  }
  ~JobLogOpenFile() override { logs_.release(job_id_); }
  JobLogOpenFile(const JobLogOpenFile&) = delete;
  JobLogOpenFile& operator=(const JobLogOpenFile&) = delete;

  Result<std::string> read(std::uint64_t offset, std::size_t size) override {
    return logs_.read_log(job_id_, offset, size);
  }
  // The log only grows (the kernel drops the pages itself when it sees a new
  // size): its pages stay valid across opens unless a refetch rewrote it.
  bool keep_cache() const override { return keep_cache_; }

 private:
  JobLogSource& logs_;
  const std::string job_id_;
  const bool keep_cache_;
};

WallTime log_mtime(const backend::JobRecord& job, const LogView& view) { return std::max(job.submitted_at, view.mtime); }

Error job_gone(const std::string& id) { return make_error(Errc::kNotFound, "job " + id + " is gone"); }

}  // namespace

Result<FileContent> JobLogFile::content() const {
  auto job = source_.job(id_);
  if (!job) return job_gone(id_);
  LogView view = logs_.log_view(id_);
  auto bytes = logs_.read_log(id_, 0, static_cast<std::size_t>(view.size));
  if (!bytes.ok()) return bytes.error();
  return FileContent{std::move(*bytes), log_mtime(job->record, view)};
}

Result<FileStat> JobLogFile::stat() const {
  auto job = source_.job(id_);
  if (!job) return job_gone(id_);
  LogView view = logs_.log_view(id_);
  return FileStat{view.size, log_mtime(job->record, view), 0444};
}

Result<std::unique_ptr<OpenFile>> JobLogFile::open(const OpenRequest& request) const {
  if (request.write || request.truncate) return make_error(Errc::kReadOnly, "the log is read-only");
  auto job = source_.job(id_);
  if (!job) return job_gone(id_);
  if (!logs_.log_view(id_).complete) logs_.refresh_for_open(job->record);
  const LogView view = logs_.log_view(id_);
  return std::unique_ptr<OpenFile>(std::make_unique<JobLogOpenFile>(logs_, id_, view.complete || !view.rewritten));
}

std::chrono::milliseconds JobLogFile::attr_ttl() const {
  return logs_.log_view(id_).complete ? kStaticAttrTtl : std::chrono::milliseconds(0);
}

Result<FileContent> JobLinksFile::content() const {
  auto job = source_.job(id_);
  if (!job) return job_gone(id_);
  LogView view = logs_.log_view(id_);
  return FileContent{backend::render_links_text(logs_.tracker_links(id_)), log_mtime(job->record, view)};
}

std::chrono::milliseconds JobLinksFile::attr_ttl() const {
  return logs_.log_view(id_).complete ? kStaticAttrTtl : kDefaultAttrTtl;
}

}  // namespace mmcfs::fs
