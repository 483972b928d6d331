// job_log_file.cpp — jobs/<id>/log served from the local log cache, and
// jobs/<id>/links (see job_log_file.h).
#include "fs/job_log_file.h"

#include <algorithm>

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

class JobLogFile final : public FileNode {
 public:
  JobLogFile(JobLookup lookup, JobLogSource& logs, std::string id)
      : lookup_(std::move(lookup)), logs_(logs), id_(std::move(id)) {}

  Result<FileContent> content() const override {
    auto job = lookup_(id_);
    if (!job) return make_error(Errc::kNotFound, "job " + id_ + " is gone");
    LogView view = logs_.log_view(id_);
    auto bytes = logs_.read_log(id_, 0, static_cast<std::size_t>(view.size));
    if (!bytes.ok()) return bytes.error();
    return FileContent{std::move(*bytes), mtime(*job, view)};
  }
  Result<FileStat> stat() const override {
    auto job = lookup_(id_);
    if (!job) return make_error(Errc::kNotFound, "job " + id_ + " is gone");
    LogView view = logs_.log_view(id_);
    return FileStat{view.size, mtime(*job, view), 0444};
  }
  Result<std::unique_ptr<OpenFile>> open(const OpenRequest& request) const override {
    if (request.write || request.truncate) return make_error(Errc::kReadOnly, "the log is read-only");
    auto job = lookup_(id_);
    if (!job) return make_error(Errc::kNotFound, "job " + id_ + " is gone");
    if (!logs_.log_view(id_).complete) logs_.refresh_for_open(*job);
    const LogView view = logs_.log_view(id_);
    return std::unique_ptr<OpenFile>(std::make_unique<JobLogOpenFile>(logs_, id_, view.complete || !view.rewritten));
  }
  // Deliberately 0 while the log may grow (see the header): every stat, and
  // every read past the size the kernel knows, asks for the current size.
  std::chrono::milliseconds attr_ttl() const override {
    return logs_.log_view(id_).complete ? kStaticAttrTtl : std::chrono::milliseconds(0);
  }

 private:
  static WallTime mtime(const backend::JobRecord& job, const LogView& view) {
    return std::max(job.submitted_at, view.mtime);
  }

  JobLookup lookup_;
  JobLogSource& logs_;
  std::string id_;
};

class JobLinksFile final : public FileNode {
 public:
  JobLinksFile(JobLookup lookup, JobLogSource& logs, std::string id)
      : lookup_(std::move(lookup)), logs_(logs), id_(std::move(id)) {}
  Result<FileContent> content() const override {
    auto job = lookup_(id_);
    if (!job) return make_error(Errc::kNotFound, "job " + id_ + " is gone");
    LogView view = logs_.log_view(id_);
    return FileContent{backend::render_links_text(logs_.tracker_links(id_)), std::max(job->submitted_at, view.mtime)};
  }
  std::chrono::milliseconds attr_ttl() const override {
    return logs_.log_view(id_).complete ? kStaticAttrTtl : kDefaultAttrTtl;
  }

 private:
  JobLookup lookup_;
  JobLogSource& logs_;
  std::string id_;
};

}  // namespace

std::shared_ptr<FileNode> make_job_log_file(JobLookup lookup, JobLogSource& logs, std::string job_id) {
  return std::make_shared<JobLogFile>(std::move(lookup), logs, std::move(job_id));
}

std::shared_ptr<FileNode> make_job_links_file(JobLookup lookup, JobLogSource& logs, std::string job_id) {
  return std::make_shared<JobLinksFile>(std::move(lookup), logs, std::move(job_id));
}

}  // namespace mmcfs::fs
