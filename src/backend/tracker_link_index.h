// tracker_link_index.h — each job's tracker links (tracker_links.h), kept up
// to date incrementally as its cached log grows.
//
// update() reads only the bytes past the last complete line it scanned (so a
// 256 MiB log is read once, not on every call) and remembers what it found in
// a small sidecar `<dir>/<job>.links`:
//
//   mmcfs-links 1
//   scanned <offset just past the last complete line scanned>
//   <kind> <url>
//   ...
//
// so a restart continues where the last run stopped instead of rescanning.
// A line is scanned once it ends in '\n'; the unterminated tail of a complete
// log is scanned too. A "line" longer than kMaxLineBytes is scanned in pieces.
// links() only reads memory (loading the sidecar on first use).
//
// Thread rules: every method is safe from any thread. mu_ guards the index and
// is never held while the log is read; one update() per job at a time (a
// second one for the same job returns at once with "no change").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/tracker_links.h"
#include "common/result.h"

namespace mmcfs::backend {

inline constexpr std::size_t kMaxLineBytes = std::size_t{64} << 10;
inline constexpr std::size_t kLinkScanChunkBytes = std::size_t{1} << 20;

class TrackerLinkIndex {
 public:
  // Reads up to n bytes of the job's log at offset (local; LogCache::read).
  using LogReader = std::function<Result<std::string>(std::uint64_t offset, std::size_t n)>;

  explicit TrackerLinkIndex(std::string dir);

  // Scans the job's log from where the last scan stopped up to `log_size`.
  // True if the job's links changed. Errors: kIo (sidecar), the reader's.
  Result<bool> update(const std::string& job_id, std::uint64_t log_size, bool log_complete, const LogReader& read);

  // The job's links, in first-seen order (empty when none or never scanned).
  std::vector<TrackerLink> links(const std::string& job_id) const;
  // Where the next scan of the job's log starts.
  std::uint64_t scanned(const std::string& job_id) const;

 private:
  struct Entry {
    std::uint64_t scanned = 0;
    std::vector<TrackerLink> links;
    bool updating = false;
  };
  Entry& entry_locked(const std::string& job_id) const;  // mu_ held; loads the sidecar
  std::string sidecar_path(const std::string& job_id) const;
  Status save(const std::string& job_id, std::uint64_t scanned, const std::vector<TrackerLink>& links) const;

  const std::string dir_;
  mutable std::mutex mu_;
  mutable std::map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
};

}  // namespace mmcfs::backend
