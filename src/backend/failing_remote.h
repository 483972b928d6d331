// failing_remote.h — a Remote that wraps another and injects faults.
//
// Used by tests (and chaos runs) to prove that callers survive a dead or slow
// cluster: fail the Nth run() call, fail every call from now on, or make a
// call hang and then time out, without touching the wrapped Remote's code.
//
// Call numbering: run(), run_with_input() and read_range() calls are counted
// together from 1 since construction (see run_calls()); "Nth call" faults
// refer to that number. connect() calls are
// counted separately and are affected only by the "from now on" faults.
// A hang sleeps min(duration, caller's timeout) and returns kTimeout without
// calling the wrapped Remote; heal() wakes hung calls early.
//
// Thread rules: all methods are safe from any thread; the wrapped Remote is
// called without holding our lock. The wrapped Remote must outlive this one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/remote.h"

namespace mmcfs::backend {

class FailingRemote final : public Remote {
 public:
  explicit FailingRemote(Remote& inner) : inner_(inner) {}

  // The run call (run(), run_with_input() or read_range()) with this 1-based
  // number fails.
  void fail_call(int n, Error error);
  // The run call with this number hangs for `duration`, then kTimeout.
  void hang_call(int n, std::chrono::milliseconds duration);
  // Every run call and connect() from now on fails with `error` (until heal()).
  void fail_all(Error error);
  // Every run call and connect() from now on hangs for `duration` (until heal()).
  void hang_all(std::chrono::milliseconds duration);
  // Removes every fault, pending and permanent, and wakes hung calls.
  void heal();

  int run_calls() const;      // run() + run_with_input() + read_range() calls so far
  int connect_calls() const;  // connect() calls so far

  Status connect() override;
  void disconnect() override { inner_.disconnect(); }
  Result<CommandResult> run(const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout) override;
  Result<CommandResult> run_with_input(const std::vector<std::string>& argv,
                                       std::string_view input,
                                       std::chrono::milliseconds timeout) override;
  Result<FileChunk> read_range(const std::string& path, std::uint64_t offset,
                               std::size_t max_bytes, std::chrono::milliseconds timeout) override;

 private:
  struct Fault {
    std::optional<Error> error;          // set: fail with it
    std::chrono::milliseconds hang{0};   // otherwise: hang this long
  };

  // Counts a run call and returns the fault it must suffer, if any.
  std::optional<Fault> next_run_fault();
  // The faulted outcome of a run call named `what`.
  Error suffer(const Fault& fault, std::chrono::milliseconds timeout, const std::string& what);
  // Sleeps up to `duration` (heal() wakes it) and returns the kTimeout error.
  Error hang(std::chrono::milliseconds duration, const std::string& what);

  Remote& inner_;
  mutable std::mutex mu_;
  std::condition_variable healed_cv_;
  int heal_generation_ = 0;               // GUARDED_BY(mu_)
  int run_calls_ = 0;                     // GUARDED_BY(mu_)
  int connect_calls_ = 0;                 // GUARDED_BY(mu_)
  std::map<int, Fault> nth_faults_;       // GUARDED_BY(mu_)
  std::optional<Fault> permanent_fault_;  // GUARDED_BY(mu_)
};

}  // namespace mmcfs::backend
