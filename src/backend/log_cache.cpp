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
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/log.h"
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

std::string LogCache::partial_marker_path(const std::string& job_id) const {
  return log_path(job_id) + ".partial";
}

LogCache::Entry& LogCache::entry_locked(const std::string& job_id) const {
  auto [it, inserted] = entries_.try_emplace(job_id);
  if (inserted) {
    // A parallel stretch was cut off (crash) while chunks were out of order:
    // only the prefix it recorded is known to be whole.
    const std::string partial = partial_marker_path(job_id);
    if (std::FILE* marker = std::fopen(partial.c_str(), "re")) {
      unsigned long long prefix = 0;
      const bool read = std::fscanf(marker, "%llu", &prefix) == 1;
      std::fclose(marker);
      struct stat st {};
      if (::stat(log_path(job_id).c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          static_cast<unsigned long long>(st.st_size) > prefix) {
        // An unreadable marker trusts nothing of the file.
        if (::truncate(log_path(job_id).c_str(), static_cast<off_t>(read ? prefix : 0)) != 0) {
          ::unlink(log_path(job_id).c_str());
        }
      }
      ::unlink(partial.c_str());
    }
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
                                   std::chrono::milliseconds backlog_bound,
                                   const std::vector<Remote*>& bulk) {
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
      fetch(remote, bulk, job, remote_log_path(job, cluster), start, deadline, backlog_deadline);
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

Result<LogState> LogCache::fetch(Remote& remote, const std::vector<Remote*>& bulk, const JobRecord& job,
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
  bool stretches_allowed = true;  // cleared when a stretch brought nothing: the main remote goes on
  for (;;) {
    const Clock::time_point until = progressing ? backlog_deadline : deadline;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) break;
    if (progressing && stretches_allowed && !bulk.empty() && state.remote_size >= offset + kParallelFetchMinBytes) {
      // A big backlog: the bulk remotes share it. The main remote's next
      // read (below, on the next turn) then checks for growth or truncation.
      if (out.get() < 0) {
        out.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        if (out.get() < 0) {
          failure = local_io_error("cannot open", path);
          break;
        }
      }
      Stretch stretch =
          fetch_stretch(bulk, job.id, remote_path, out.get(), offset, state.remote_size, until, !refetching);
      const bool whole = stretch.prefix == state.remote_size && stretch.remote_size == state.remote_size &&
                         !stretch.short_read;
      const bool progressed = stretch.prefix != offset;
      if (!progressed) stretches_allowed = false;
      offset = stretch.prefix;
      if (stretch.failure && !progressed) {
        // The bulk sessions brought nothing (cannot connect, say): the main
        // remote fetches the rest alone rather than leave the log behind.
        log::debug("log of job {}: parallel fetch failed ({}); going on over the main session", job.id,
                   stretch.failure->describe());
        continue;
      }
      if (stretch.failure) {
        failure = stretch.failure;
        break;
      }
      if (whole) {
        state.caught_up = true;
        break;
      }
      if (!stretch.short_read) state.remote_size = std::max(state.remote_size, stretch.remote_size);
      continue;  // stopped early (bound, short file, growth): the main remote looks
    }
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

LogCache::Stretch LogCache::fetch_stretch(const std::vector<Remote*>& bulk, const std::string& job_id,
                                          const std::string& remote_path, int fd, std::uint64_t begin,
                                          std::uint64_t end, Clock::time_point deadline, bool publish) {
  const std::size_t count = static_cast<std::size_t>((end - begin + kLogChunkBytes - 1) / kLogChunkBytes);
  auto chunk_begin = [&](std::size_t i) { return begin + std::uint64_t{i} * kLogChunkBytes; };
  auto chunk_length = [&](std::size_t i) {
    return static_cast<std::size_t>(std::min<std::uint64_t>(kLogChunkBytes, end - chunk_begin(i)));
  };

  // Chunks out of order leave holes until the prefix catches up: a marker
  // tells a later LogCache how much is whole if this process dies first.
  const std::string marker = partial_marker_path(job_id);
  if (publish) {
    const std::string tmp = marker + ".tmp";
    std::FILE* file = std::fopen(tmp.c_str(), "we");
    const bool written = file != nullptr && std::fprintf(file, "%llu\n", static_cast<unsigned long long>(begin)) > 0;
    if (file == nullptr || std::fclose(file) != 0 || !written || ::rename(tmp.c_str(), marker.c_str()) != 0) {
      Stretch failed;
      failed.prefix = begin;
      failed.failure = local_io_error("cannot write", marker);
      return failed;
    }
  }

  std::mutex stretch_mu;                      // guards the fields below
  std::size_t next = 0;                       // the next chunk to hand out
  std::size_t contiguous = 0;                 // chunks [0, contiguous) are whole on disk
  std::vector<std::size_t> got(count, 0);     // bytes written per chunk
  std::vector<bool> done(count, false);
  bool stop = false;
  Stretch result;
  result.prefix = begin;
  std::uint64_t furthest = begin;             // the end of the furthest byte written

  auto work = [&](Remote& remote) {
    for (;;) {
      std::size_t i = 0;
      {
        std::lock_guard lock(stretch_mu);
        if (stop || next >= count) return;
        i = next++;
      }
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {  // the bound passed: not an error, what is whole stays
        std::lock_guard lock(stretch_mu);
        stop = true;
        return;
      }
      remote_reads_.fetch_add(1, std::memory_order_relaxed);
      Result<FileChunk> chunk = remote.read_range(remote_path, chunk_begin(i), chunk_length(i), left);
      std::optional<Error> error;
      if (!chunk.ok()) {
        error = chunk.error();
      } else {
        bytes_fetched_.fetch_add(chunk->bytes.size(), std::memory_order_relaxed);
        if (!chunk->bytes.empty() && !write_all_at(fd, chunk->bytes, chunk_begin(i))) {
          error = local_io_error("cannot write", log_path(job_id));
        }
      }
      std::lock_guard lock(stretch_mu);
      if (error) {
        if (!result.failure) result.failure = std::move(error);
        stop = true;
        return;
      }
      result.remote_size = std::max(result.remote_size, chunk->file_size);
      got[i] = chunk->bytes.size();
      done[i] = true;
      furthest = std::max(furthest, chunk_begin(i) + got[i]);
      if (got[i] < chunk_length(i)) {  // the file is shorter than it was: stop here
        result.short_read = true;
        stop = true;
      }
      // Publish the contiguous prefix (a short chunk ends it).
      const std::uint64_t before = result.prefix;
      while (contiguous < count && done[contiguous] && result.prefix == chunk_begin(contiguous)) {
        result.prefix += got[contiguous];
        ++contiguous;
      }
      if (publish && result.prefix != before) {
        const auto modified = mtime_of_fd(fd);
        std::lock_guard cache_lock(mu_);
        Entry& entry = entry_locked(job_id);
        entry.size = result.prefix;  // the bytes are on disk: publish them
        entry.modified = modified;
      }
    }
  };

  std::vector<std::thread> threads;
  threads.reserve(bulk.size());
  for (Remote* remote : bulk) {
    try {
      threads.emplace_back(work, std::ref(*remote));
    } catch (const std::system_error& e) {  // out of threads: the others share the work
      log::debug("log of job {}: cannot start a fetch thread: {}", job_id, e.what());
    }
  }
  for (auto& thread : threads) thread.join();

  // Bytes past the prefix (chunks after a gap) are not part of the copy.
  if (furthest > result.prefix && ::ftruncate(fd, static_cast<off_t>(result.prefix)) != 0 && !result.failure) {
    result.failure = local_io_error("cannot truncate", log_path(job_id));
    return result;  // the marker stays: the next LogCache cuts the file back
  }
  if (publish) ::unlink(marker.c_str());
  return result;
}

}  // namespace mmcfs::backend
