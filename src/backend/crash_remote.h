// crash_remote.h — a fault-injecting Remote that kills the whole process right
// after the cluster confirmed a submission, before mmcfs could record it.
//
// It exists for one test: "mmcfs dies between sbatch and recording the SLURM
// id; the next start reconciles by token: no duplicate, nothing lost". The
// mmcfs binary wraps its remotes in it only when started with the
// environment variable MMCFS_FAULT=exit-after-submit (documented as a test
// hook; never set it otherwise).
//
// Thread rules: as the wrapped Remote.
#pragma once

#include <cstdlib>
#include <memory>

#include "backend/remote.h"

namespace mmcfs::backend {

class CrashAfterSubmitRemote final : public Remote {
 public:
  explicit CrashAfterSubmitRemote(std::shared_ptr<Remote> inner) : inner_(std::move(inner)) {}
  Status connect() override { return inner_->connect(); }
  void disconnect() override { inner_->disconnect(); }
  Result<CommandResult> run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) override {
    return inner_->run(argv, timeout);
  }
  Result<CommandResult> run_with_input(const std::vector<std::string>& argv, std::string_view input,
                                       std::chrono::milliseconds timeout) override {
    auto result = inner_->run_with_input(argv, input, timeout);
    if (result.ok() && result->exit_code == 0) std::_Exit(86);  // the submission is on the cluster only
    return result;
  }
  Result<FileChunk> read_range(const std::string& path, std::uint64_t offset, std::size_t max_bytes,
                               std::chrono::milliseconds timeout) override {
    return inner_->read_range(path, offset, max_bytes, timeout);
  }

 private:
  std::shared_ptr<Remote> inner_;
};

}  // namespace mmcfs::backend
