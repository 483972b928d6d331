// gated_remote.h — a Remote that wraps another and, at chosen offsets of
// read_range(), holds the call until the test opens a gate, fails it, or runs
// a hook first (to change the wrapped fake's file at that moment). For tests
// of parallel log fetches, whose chunks go to whichever thread is free: the
// behaviour is tied to the offset, not to the order of calls.
//
// Thread rules: all methods are safe from any thread (one internal mutex; the
// wrapped Remote and the hooks are called without it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "backend/remote.h"

namespace mmcfs::testing {

class GatedRemote final : public backend::Remote {
 public:
  explicit GatedRemote(backend::Remote& inner) : inner_(inner) {}

  // read_range() at `offset` waits until open_gate() (or the call's timeout).
  void close_gate_at(std::uint64_t offset) {
    std::lock_guard lock(mu_);
    gated_.insert(offset);
  }
  void open_gate() {
    {
      std::lock_guard lock(mu_);
      gated_.clear();
    }
    cv_.notify_all();
  }
  // read_range() at `offset` fails with `error` (without calling the inner remote).
  void fail_at(std::uint64_t offset, Error error) {
    std::lock_guard lock(mu_);
    failures_.insert_or_assign(offset, std::move(error));
  }
  // read_range() at `offset` first runs `hook` (once), then reads.
  void before_read_at(std::uint64_t offset, std::function<void()> hook) {
    std::lock_guard lock(mu_);
    hooks_.insert_or_assign(offset, std::move(hook));
  }
  // Offsets of read_range() calls that returned (ok or not), in order.
  std::vector<std::uint64_t> finished() const {
    std::lock_guard lock(mu_);
    return finished_;
  }
  // Offsets of calls waiting at a closed gate now.
  std::size_t waiting() const {
    std::lock_guard lock(mu_);
    return waiting_;
  }

  Status connect() override { return inner_.connect(); }
  void disconnect() override { inner_.disconnect(); }
  Result<backend::CommandResult> run(const std::vector<std::string>& argv,
                                     std::chrono::milliseconds timeout) override {
    return inner_.run(argv, timeout);
  }
  Result<backend::CommandResult> run_with_input(const std::vector<std::string>& argv, std::string_view input,
                                                std::chrono::milliseconds timeout) override {
    return inner_.run_with_input(argv, input, timeout);
  }
  Result<backend::FileChunk> read_range(const std::string& path, std::uint64_t offset, std::size_t max_bytes,
                                        std::chrono::milliseconds timeout) override {
    std::function<void()> hook;
    std::optional<Error> failure;
    {
      std::unique_lock lock(mu_);
      if (gated_.count(offset) != 0) {
        ++waiting_;
        const bool opened = cv_.wait_for(lock, timeout, [&] { return gated_.count(offset) == 0; });
        --waiting_;
        if (!opened) {
          finished_.push_back(offset);
          return make_error(Errc::kTimeout, "GatedRemote: the gate stayed closed");
        }
      }
      if (auto it = failures_.find(offset); it != failures_.end()) failure = it->second;
      if (auto it = hooks_.find(offset); it != hooks_.end()) {
        hook = std::move(it->second);
        hooks_.erase(it);
      }
    }
    Result<backend::FileChunk> result = make_error(Errc::kInternal, "unset");
    if (failure) {
      result = *failure;
    } else {
      if (hook) hook();
      result = inner_.read_range(path, offset, max_bytes, timeout);
    }
    std::lock_guard lock(mu_);
    finished_.push_back(offset);
    return result;
  }

 private:
  backend::Remote& inner_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::uint64_t> gated_;                   // GUARDED_BY(mu_)
  std::map<std::uint64_t, Error> failures_;         // GUARDED_BY(mu_)
  std::map<std::uint64_t, std::function<void()>> hooks_;  // GUARDED_BY(mu_)
  std::vector<std::uint64_t> finished_;             // GUARDED_BY(mu_)
  std::size_t waiting_ = 0;                         // GUARDED_BY(mu_)
};

}  // namespace mmcfs::testing
