// counting_remote.cpp — counting remote calls (see counting_remote.h).
#include "backend/counting_remote.h"

#include <array>

namespace mmcfs::backend {
namespace {

constexpr std::array<std::string_view, 5> kSlurmKinds = {"sbatch", "scancel", "squeue", "sacct", "scontrol"};

std::string_view basename_of(std::string_view word) {
  auto slash = word.rfind('/');
  return slash == std::string_view::npos ? word : word.substr(slash + 1);
}

bool is_word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }

// True if `word` appears in `text` with no word character on either side.
bool names_word(std::string_view text, std::string_view word) {
  for (auto at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
    bool left = at == 0 || !is_word_char(text[at - 1]);
    bool right = at + word.size() == text.size() || !is_word_char(text[at + word.size()]);
    if (left && right) return true;
  }
  return false;
}

bool is_env_assignment(std::string_view word) {
  auto eq = word.find('=');
  return eq != std::string_view::npos && eq > 0;
}

}  // namespace

std::string command_kind(const std::vector<std::string>& argv) {
  std::size_t i = 0;
  if (i < argv.size() && basename_of(argv[i]) == "env") {
    ++i;
    while (i < argv.size() && is_env_assignment(argv[i])) ++i;
  }
  if (i >= argv.size()) return "other";
  std::string_view program = basename_of(argv[i]);
  for (std::string_view kind : kSlurmKinds) {
    if (program == kind) return std::string(kind);
  }
  bool shell = program == "sh" || program == "bash";
  if (shell && i + 2 < argv.size() && argv[i + 1] == "-c") {
    for (std::string_view kind : kSlurmKinds) {
      if (names_word(argv[i + 2], kind)) return std::string(kind);
    }
  }
  return "other";
}

void RemoteCounters::record(const std::string& cluster, const std::string& kind, bool failed) {
  std::lock_guard lock(mu_);
  RemoteCount& c = commands_[{cluster, kind}];
  ++c.calls;
  if (failed) ++c.failures;
}

void RemoteCounters::add_read_bytes(const std::string& cluster, std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  read_bytes_[cluster] += bytes;
}

std::map<RemoteCounters::Key, RemoteCount> RemoteCounters::commands() const {
  std::lock_guard lock(mu_);
  return commands_;
}

std::map<std::string, std::uint64_t> RemoteCounters::read_bytes() const {
  std::lock_guard lock(mu_);
  return read_bytes_;
}

Result<CommandResult> CountingRemote::run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  auto result = inner_->run(argv, timeout);
  counters_->record(cluster_, command_kind(argv), !result.ok());
  return result;
}

Result<CommandResult> CountingRemote::run_with_input(const std::vector<std::string>& argv, std::string_view input,
                                                     std::chrono::milliseconds timeout) {
  auto result = inner_->run_with_input(argv, input, timeout);
  counters_->record(cluster_, command_kind(argv), !result.ok());
  return result;
}

Result<FileChunk> CountingRemote::read_range(const std::string& path, std::uint64_t offset, std::size_t max_bytes,
                                             std::chrono::milliseconds timeout) {
  auto chunk = inner_->read_range(path, offset, max_bytes, timeout);
  counters_->record(cluster_, "sftp-read", !chunk.ok());
  if (chunk.ok()) counters_->add_read_bytes(cluster_, chunk->bytes.size());
  return chunk;
}

}  // namespace mmcfs::backend
