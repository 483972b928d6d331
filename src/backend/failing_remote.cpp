// failing_remote.cpp — fault injection around a Remote (see failing_remote.h).
#include "backend/failing_remote.h"

#include <algorithm>

namespace mmcfs::backend {

void FailingRemote::fail_call(int n, Error error) {
  std::lock_guard lock(mu_);
  nth_faults_[n] = Fault{std::move(error), {}};
}

void FailingRemote::hang_call(int n, std::chrono::milliseconds duration) {
  std::lock_guard lock(mu_);
  nth_faults_[n] = Fault{std::nullopt, duration};
}

void FailingRemote::fail_all(Error error) {
  std::lock_guard lock(mu_);
  permanent_fault_ = Fault{std::move(error), {}};
}

void FailingRemote::hang_all(std::chrono::milliseconds duration) {
  std::lock_guard lock(mu_);
  permanent_fault_ = Fault{std::nullopt, duration};
}

void FailingRemote::heal() {
  {
    std::lock_guard lock(mu_);
    nth_faults_.clear();
    permanent_fault_.reset();
    ++heal_generation_;
  }
  healed_cv_.notify_all();
}

int FailingRemote::run_calls() const {
  std::lock_guard lock(mu_);
  return run_calls_;
}

int FailingRemote::connect_calls() const {
  std::lock_guard lock(mu_);
  return connect_calls_;
}

Error FailingRemote::hang(std::chrono::milliseconds duration, const std::string& what) {
  std::unique_lock lock(mu_);
  const int generation = heal_generation_;
  healed_cv_.wait_for(lock, duration, [&] { return heal_generation_ != generation; });
  return make_error(Errc::kTimeout, "injected fault: " + what + " hung for up to " +
                                        std::to_string(duration.count()) + " ms");
}

Status FailingRemote::connect() {
  std::optional<Fault> fault;
  {
    std::lock_guard lock(mu_);
    ++connect_calls_;
    fault = permanent_fault_;
  }
  if (!fault) return inner_.connect();
  if (fault->error) return *fault->error;
  return hang(fault->hang, "connect");
}

std::optional<FailingRemote::Fault> FailingRemote::next_run_fault() {
  std::lock_guard lock(mu_);
  const int n = ++run_calls_;
  if (auto it = nth_faults_.find(n); it != nth_faults_.end()) {
    Fault fault = std::move(it->second);
    nth_faults_.erase(it);
    return fault;
  }
  return permanent_fault_;
}

Error FailingRemote::suffer(const Fault& fault, std::chrono::milliseconds timeout,
                            const std::string& what) {
  if (fault.error) return *fault.error;
  return hang(std::min(fault.hang, timeout), what);
}

Result<CommandResult> FailingRemote::run(const std::vector<std::string>& argv,
                                         std::chrono::milliseconds timeout) {
  std::optional<Fault> fault = next_run_fault();
  if (!fault) return inner_.run(argv, timeout);
  return suffer(*fault, timeout, "run " + (argv.empty() ? "" : argv[0]));
}

Result<CommandResult> FailingRemote::run_with_input(const std::vector<std::string>& argv,
                                                    std::string_view input,
                                                    std::chrono::milliseconds timeout) {
  std::optional<Fault> fault = next_run_fault();
  if (!fault) return inner_.run_with_input(argv, input, timeout);
  return suffer(*fault, timeout, "run " + (argv.empty() ? "" : argv[0]));
}

Result<FileChunk> FailingRemote::read_range(const std::string& path, std::uint64_t offset,
                                            std::size_t max_bytes,
                                            std::chrono::milliseconds timeout) {
  std::optional<Fault> fault = next_run_fault();
  if (!fault) return inner_.read_range(path, offset, max_bytes, timeout);
  return suffer(*fault, timeout, "read_range " + path);
}

}  // namespace mmcfs::backend
