// log_cache.cpp — job logs mirrored locally, fetched incrementally with
// ranged remote reads (see log_cache.h).
#include "backend/log_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "launch/sbatch_script.h"

namespace mmcfs::backend {
namespace {

using Clock = std::chrono::steady_clock;

bool usable_job_id(const std::string& id) {
  return !id.empty() && id != "." && id != ".." && id.find('/') == std::string::npos &&
         id.find('\0') == std::string::npos;
}

Error bad_job_id(const std::string& id) {
  return make_error(Errc::kInvalidArgument, "log cache: job id `" + id + "` cannot name a file");
}

Error local_io_error(const std::string& doing, const std::string& path) {
  return make_error(Errc::kIo, "log cache: " + doing + " " + path + ": " + std::strerror(errno));
}

// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Writes all of `bytes` at `offset`; false (errno set) on failure.
std::chrono::system_clock::time_point mtime_of(const struct stat& st) {
  return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

// The mtime of an open file (epoch if fstat fails).
std::chrono::system_clock::time_point mtime_of_fd(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? mtime_of(st) : std::chrono::system_clock::time_point{};
}

bool write_all_at(int fd, const std::string& bytes, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

LogCache::LogCache(std::string dir) : dir_(std::move(dir)) {}

std::string LogCache::log_path(const std::string& job_id) const {
  return dir_ + "/" + job_id + ".log";
}

std::string LogCache::remote_log_path(const JobRecord& job, const config::ClusterConfig& cluster) {
  // A sweep run's log is its array task's, slurm-<array id>_<n>.out, in the sweep's directory.
  return launch::job_dir(cluster.workspace, backend::slurm_token(job)) + "/slurm-" + job.slurm_id + ".out";
}

std::string LogCache::complete_marker_path(const std::string& job_id) const {
  return log_path(job_id) + ".complete";
}

LogCache::Entry& LogCache::entry_locked(const std::string& job_id) const {
  auto [it, inserted] = entries_.try_emplace(job_id);
  if (inserted) {
    struct stat st {};
    if (::stat(log_path(job_id).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      it->second.size = static_cast<std::uint64_t>(st.st_size);
      it->second.modified = mtime_of(st);
      it->second.state.size = it->second.size;
      // Completed by an earlier run: trusted only when the sizes agree.
      unsigned long long recorded = 0;
      if (std::FILE* marker = std::fopen(complete_marker_path(job_id).c_str(), "re")) {
        if (std::fscanf(marker, "%llu", &recorded) == 1 && recorded == it->second.size) {
          it->second.state.remote_size = it->second.size;
          it->second.state.caught_up = true;
          it->second.state.complete = true;
        }
        std::fclose(marker);
      }
    }
  }
  return it->second;
}

bool LogCache::complete(const std::string& job_id) const {
  if (!usable_job_id(job_id)) return false;
  std::lock_guard lock(mu_);
  return entry_locked(job_id).state.complete;
}

LogCache::LocalLog LogCache::local(const std::string& job_id) const {
  if (!usable_job_id(job_id)) return {};
  std::lock_guard lock(mu_);
  const Entry& entry = entry_locked(job_id);
  return LocalLog{entry.size, entry.state.complete, entry.modified, entry.rewritten};
}

LogCache::Stats LogCache::stats() const { return Stats{remote_reads_.load(), bytes_fetched_.load()}; }

Status LogCache::mark_complete(const std::string& job_id, std::uint64_t size) {
  const std::string path = log_path(job_id);
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0 || ::fdatasync(fd.get()) != 0) return local_io_error("cannot flush", path);
  const std::string marker = complete_marker_path(job_id);
  const std::string tmp = marker + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "we");
  if (out == nullptr) return local_io_error("cannot create", tmp);
  const bool written = std::fprintf(out, "%llu\n", static_cast<unsigned long long>(size)) > 0;
  if (std::fclose(out) != 0 || !written) return local_io_error("cannot write", tmp);
  if (::rename(tmp.c_str(), marker.c_str()) != 0) return local_io_error("cannot rename " + tmp + " to", marker);
  return Status::Ok();
}

std::uint64_t LogCache::size(const std::string& job_id) const {
  if (!usable_job_id(job_id)) return 0;
  std::lock_guard lock(mu_);
  return entry_locked(job_id).size;
}

Result<std::string> LogCache::read(const std::string& job_id, std::uint64_t offset,
                                   std::size_t n) const {
  if (!usable_job_id(job_id)) return bad_job_id(job_id);
  const std::string path = log_path(job_id);
  FileDescriptor fd;
  std::uint64_t size = 0;
  {
    // Opening under the lock pairs the file with its size: a refetch renames
    // a new file into place under the same lock.
    std::lock_guard lock(mu_);
    size = entry_locked(job_id).size;
    if (offset >= size || n == 0) return std::string();
    fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return local_io_error("cannot open", path);
  }
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, size - offset));
  std::string out(want, '\0');
  std::size_t got = 0;
  while (got < want) {
    ssize_t r = ::pread(fd.get(), out.data() + got, want - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return local_io_error("cannot read", path);
    if (r == 0) break;  // cannot happen while sizes are kept right
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

Result<LogState> LogCache::refresh(Remote& remote, const JobRecord& job,
                                   const config::ClusterConfig& cluster,
                                   std::chrono::milliseconds bound,
                                   std::chrono::milliseconds backlog_bound) {
  const Clock::time_point started = Clock::now();
  const Clock::time_point deadline = started + bound;
  const Clock::time_point backlog_deadline = started + std::max(bound, backlog_bound);
  if (!usable_job_id(job.id)) return bad_job_id(job.id);
  if (job.slurm_id.empty()) {
    return make_error(Errc::kNotFound, "job " + job.id + " has no SLURM id yet, so no log");
  }
  std::uint64_t start = 0;
  {
    std::unique_lock lock(mu_);
    Entry& entry = entry_locked(job.id);
    // Ended and fully fetched: nothing can change (unless SLURM requeued it,
    // which makes the job active again).
    if (entry.state.complete && job_state::is_final(job.state)) return entry.state;
    if (entry.fetching) {
      // Another reader is fetching these very bytes: wait for its outcome.
      const int generation = entry.generation;
      if (!fetch_done_cv_.wait_until(lock, backlog_deadline,
                                     [&] { return entry.generation != generation; })) {
        return make_error(Errc::kTimeout, "log of job " + job.id +
                                              ": another fetch of it did not finish within " +
                                              std::to_string(std::max(bound, backlog_bound).count()) + " ms");
      }
      if (entry.last_error) return *entry.last_error;
      return entry.state;
    }
    entry.fetching = true;
    start = entry.size;
    if (entry.state.complete) {
      // Complete once, active again (requeued): the log may grow again.
      entry.state.complete = false;
      ::unlink(complete_marker_path(job.id).c_str());
    }
  }

  Result<LogState> result =
      fetch(remote, job, remote_log_path(job, cluster), start, deadline, backlog_deadline);
  {
    std::lock_guard lock(mu_);
    Entry& entry = entry_locked(job.id);
    entry.fetching = false;
    ++entry.generation;
    if (result.ok()) {
      entry.state = *result;
      entry.last_error.reset();
    } else {
      entry.state.size = entry.size;
      entry.last_error = result.error();
    }
  }
  fetch_done_cv_.notify_all();
  return result;
}

Result<LogState> LogCache::fetch(Remote& remote, const JobRecord& job,
                                 const std::string& remote_path, std::uint64_t start,
                                 Clock::time_point deadline, Clock::time_point backlog_deadline) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    return make_error(Errc::kIo, "log cache: cannot create " + dir_ + ": " + ec.message());
  }
  const std::string path = log_path(job.id);
  const std::string tmp_path = path + ".tmp";
  const bool job_ended = job_state::is_final(job.state);

  LogState state;
  state.size = start;
  std::uint64_t offset = start;  // where the next remote bytes go
  bool refetching = false;       // writing a fresh copy into tmp_path
  FileDescriptor out;            // the file being written, opened on first write
  std::optional<Error> failure;

  // Puts the fresh copy in place of the old one (a refetch's last step).
  auto install_refetch = [&]() -> Status {
    std::lock_guard lock(mu_);
    if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
      return local_io_error("cannot rename " + tmp_path + " to", path);
    }
    Entry& entry = entry_locked(job.id);
    entry.size = offset;
    entry.modified = mtime_of_fd(out.get());
    entry.rewritten = true;
    return Status::Ok();
  };

  bool progressing = false;  // the last chunk brought bytes and the file holds more
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>((progressing ? backlog_deadline : deadline) - Clock::now());
    if (left.count() <= 0) break;
    remote_reads_.fetch_add(1, std::memory_order_relaxed);
    Result<FileChunk> chunk = remote.read_range(remote_path, offset, kLogChunkBytes, left);
    if (!chunk.ok()) {
      failure = chunk.error();
      break;
    }
    bytes_fetched_.fetch_add(chunk->bytes.size(), std::memory_order_relaxed);
    state.remote_size = chunk->file_size;
    if (chunk->file_size < offset) {
      // The remote file is shorter than what we hold: it was rewritten or
      // truncated. Fetch it again from 0 into a fresh file.
      out.reset(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (out.get() < 0) {
        failure = local_io_error("cannot create", tmp_path);
        break;
      }
      refetching = true;
      offset = 0;
      continue;
    }
    if (!chunk->bytes.empty()) {
      if (out.get() < 0) {
        out.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        if (out.get() < 0) {
          failure = local_io_error("cannot open", path);
          break;
        }
      }
      if (!write_all_at(out.get(), chunk->bytes, offset)) {
        failure = local_io_error("cannot write", refetching ? tmp_path : path);
        break;
      }
      offset += chunk->bytes.size();
      if (!refetching) {
        const auto modified = mtime_of_fd(out.get());
        std::lock_guard lock(mu_);
        Entry& entry = entry_locked(job.id);
        entry.size = offset;  // the bytes are on disk: publish them
        entry.modified = modified;
      }
    }
    if (offset >= chunk->file_size) {
      state.caught_up = true;
      break;
    }
    if (chunk->bytes.empty()) break;  // no progress (cannot happen with a sane remote)
    progressing = true;
  }

  if (refetching) {
    // The old copy is known to be stale: what arrived replaces it even when
    // the fetch stopped early.
    Status installed = install_refetch();
    if (!installed.ok() && !failure) failure = installed.error();
  }
  if (failure) return *failure;
  state.size = offset;
  state.complete = state.caught_up && job_ended;
  if (state.complete) {
    if (out.get() >= 0) out.reset();
    Status marked = mark_complete(job.id, offset);
    if (!marked.ok()) return marked.error();  // stays incomplete: fetched (cheaply) again later
  }
  return state;
}

}  // namespace mmcfs::backend
