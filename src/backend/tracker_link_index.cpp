// tracker_link_index.cpp — incremental scanning of cached logs for tracker
// links (see tracker_link_index.h).
#include "backend/tracker_link_index.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mmcfs::backend {

TrackerLinkIndex::TrackerLinkIndex(std::string dir) : dir_(std::move(dir)) {}

std::string TrackerLinkIndex::sidecar_path(const std::string& job_id) const { return dir_ + "/" + job_id + ".links"; }

TrackerLinkIndex::Entry& TrackerLinkIndex::entry_locked(const std::string& job_id) const {
  auto [it, inserted] = entries_.try_emplace(job_id);
  if (!inserted) return it->second;
  std::ifstream in(sidecar_path(job_id));
  std::string magic, word;
  std::uint64_t scanned = 0;
  if (!std::getline(in, magic) || magic != "mmcfs-links 1" || !(in >> word >> scanned) || word != "scanned") {
    return it->second;  // none, or unreadable: scan from 0
  }
  std::string line;
  std::getline(in, line);  // the rest of the "scanned" line
  std::vector<TrackerLink> links;
  while (std::getline(in, line)) {
    auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size()) return it->second;
    links.push_back({line.substr(0, space), line.substr(space + 1)});
  }
  it->second.scanned = scanned;
  it->second.links = std::move(links);
  return it->second;
}

Status TrackerLinkIndex::save(const std::string& job_id, std::uint64_t scanned,
                              const std::vector<TrackerLink>& links) const {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  const std::string path = sidecar_path(job_id);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "mmcfs-links 1\nscanned " << scanned << "\n" << render_links_text(links);
    if (!out.flush()) return make_error(Errc::kIo, "tracker links: cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return make_error(Errc::kIo, "tracker links: cannot rename " + tmp + " to " + path);
  }
  return Status::Ok();
}

std::vector<TrackerLink> TrackerLinkIndex::links(const std::string& job_id) const {
  std::lock_guard lock(mu_);
  return entry_locked(job_id).links;
}

std::uint64_t TrackerLinkIndex::scanned(const std::string& job_id) const {
  std::lock_guard lock(mu_);
  return entry_locked(job_id).scanned;
}

Result<bool> TrackerLinkIndex::update(const std::string& job_id, std::uint64_t log_size, bool log_complete,
                                      const LogReader& read) {
  std::uint64_t start = 0;
  std::vector<TrackerLink> links;
  {
    std::lock_guard lock(mu_);
    Entry& entry = entry_locked(job_id);
    if (entry.updating) return false;
    if (entry.scanned > log_size) {  // the log was fetched again, shorter: start over
      entry.scanned = 0;
      entry.links.clear();
    }
    if (entry.scanned == log_size) return false;
    entry.updating = true;
    start = entry.scanned;
    links = entry.links;
  }
  const std::size_t links_before = links.size();
  std::uint64_t scanned = start;  // just past the last line scanned
  std::string pending;            // bytes from `scanned` not yet scanned (an unfinished line)
  std::optional<Error> failure;
  std::uint64_t offset = start;
  while (offset < log_size) {
    auto chunk = read(offset, static_cast<std::size_t>(std::min<std::uint64_t>(kLinkScanChunkBytes, log_size - offset)));
    if (!chunk.ok()) {
      failure = chunk.error();
      break;
    }
    if (chunk->empty()) break;
    offset += chunk->size();
    pending += *chunk;
    std::size_t line_start = 0;
    for (;;) {
      std::size_t nl = pending.find('\n', line_start);
      if (nl == std::string::npos) {
        if (pending.size() - line_start < kMaxLineBytes) break;
        nl = line_start + kMaxLineBytes;  // a runaway line: scan it in pieces
        merge_tracker_links(links, find_tracker_links(std::string_view(pending).substr(line_start, nl - line_start)));
        line_start = nl;
        continue;
      }
      merge_tracker_links(links, find_tracker_links(std::string_view(pending).substr(line_start, nl - line_start)));
      line_start = nl + 1;
    }
    scanned += line_start;
    pending.erase(0, line_start);
  }
  if (!failure && log_complete && offset >= log_size && !pending.empty()) {
    merge_tracker_links(links, find_tracker_links(pending));  // the last line has no newline
    scanned += pending.size();
  }
  const bool changed = links.size() != links_before;
  Status saved = scanned != start ? save(job_id, scanned, links) : Status::Ok();
  {
    std::lock_guard lock(mu_);
    Entry& entry = entry_locked(job_id);
    entry.updating = false;
    entry.scanned = scanned;
    entry.links = std::move(links);
  }
  if (failure) return *failure;
  if (!saved.ok()) return saved.error();
  return changed;
}

}  // namespace mmcfs::backend
