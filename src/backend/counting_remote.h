// counting_remote.h — a Remote that wraps another and counts what crosses it.
//
// Every run()/run_with_input() is counted by cluster and kind (the SLURM
// command it runs: squeue, sacct, scontrol, scancel, sbatch; else other),
// every read_range() as kind "sftp-read" with the bytes it returned, and
// failures (an Error from the wrapped Remote, not a non-zero exit) apart.
// The counts live in a RemoteCounters shared by the wrappers of all clusters
// and read by .mmcfs/stats. Counting is a wrapper, not ifs in the callers
// (see STYLE.md, "Caching and metrics are wrappers too").
//
// Thread rules: all methods are safe from any thread; the wrapped Remote is
// called with no lock held. RemoteCounters guards its maps with one mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backend/remote.h"

namespace mmcfs::backend {

// What kind of remote command an argv is: the SLURM command it runs, after
// any leading `env NAME=value...` ("squeue", "sacct", "scontrol",
// "scancel", "sbatch"); for `sh -c SCRIPT` the first of those the script
// names as a word (the submit script runs sbatch); otherwise "other".
std::string command_kind(const std::vector<std::string>& argv);

struct RemoteCount {
  std::uint64_t calls = 0;
  std::uint64_t failures = 0;  // calls that ended in an Error (not a non-zero exit)
};

class RemoteCounters {
 public:
  using Key = std::pair<std::string, std::string>;  // cluster, kind

  void record(const std::string& cluster, const std::string& kind, bool failed);
  void add_read_bytes(const std::string& cluster, std::uint64_t bytes);

  std::map<Key, RemoteCount> commands() const;
  std::map<std::string, std::uint64_t> read_bytes() const;  // by cluster

 private:
  mutable std::mutex mu_;
  std::map<Key, RemoteCount> commands_;             // GUARDED_BY(mu_)
  std::map<std::string, std::uint64_t> read_bytes_;  // GUARDED_BY(mu_)
};

class CountingRemote final : public Remote {
 public:
  CountingRemote(std::shared_ptr<Remote> inner, std::string cluster, std::shared_ptr<RemoteCounters> counters)
      : inner_(std::move(inner)), cluster_(std::move(cluster)), counters_(std::move(counters)) {}

  Status connect() override { return inner_->connect(); }
  void disconnect() override { inner_->disconnect(); }
  Result<CommandResult> run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override;
  Result<CommandResult> run_with_input(const std::vector<std::string>& argv, std::string_view input,
                                       std::chrono::milliseconds timeout) override;
  Result<FileChunk> read_range(const std::string& path, std::uint64_t offset, std::size_t max_bytes,
                               std::chrono::milliseconds timeout) override;

 private:
  const std::shared_ptr<Remote> inner_;
  const std::string cluster_;
  const std::shared_ptr<RemoteCounters> counters_;
};

}  // namespace mmcfs::backend
