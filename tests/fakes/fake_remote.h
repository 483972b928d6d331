// fake_remote.h — a Remote with canned answers, for unit tests.
//
// Answers run() and run_with_input() from a table keyed by the shell-joined
// argv (exactly the string SshRemote would send; the input does not take part),
// records every argv it was called with and the stdin each call got ("" for
// run()), and lets the test choose what connect() returns. Like SshRemote, run() connects
// first and fails with the connect error if connect fails. An argv with no
// canned answer yields kInternal naming the command, so a test sees at once
// which command it forgot to script.
// read_range() serves files the test sets with set_file() (missing: kNotFound,
// after connecting), records every (path, offset, max_bytes) it was asked for,
// and can be slowed down (set_read_delay) so tests can overlap readers.
//
// Thread rules: all methods are safe from any thread (one internal mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "backend/remote.h"
#include "common/quote.h"

namespace mmcfs::testing {

class FakeRemote final : public backend::Remote {
 public:
  // Scripts the answer to one argv (replacing any earlier answer).
  void answer(const std::vector<std::string>& argv, backend::CommandResult result) {
    std::lock_guard lock(mu_);
    answers_.insert_or_assign(shell_join(argv), Result<backend::CommandResult>(std::move(result)));
  }
  void answer(const std::vector<std::string>& argv, Error error) {
    std::lock_guard lock(mu_);
    answers_.insert_or_assign(shell_join(argv), Result<backend::CommandResult>(std::move(error)));
  }
  // Convenience: exit 0 with this stdout.
  void answer_ok(const std::vector<std::string>& argv, std::string out) {
    answer(argv, backend::CommandResult{0, std::move(out), ""});
  }
  // The content read_range() serves for `path` (replacing any earlier one).
  void set_file(const std::string& path, std::string content) {
    std::lock_guard lock(mu_);
    files_.insert_or_assign(path, std::move(content));
  }
  void remove_file(const std::string& path) {
    std::lock_guard lock(mu_);
    files_.erase(path);
  }
  // Every read_range() call sleeps this long (outside the lock) before answering.
  void set_read_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mu_);
    read_delay_ = delay;
  }
  struct ReadCall {
    std::string path;
    std::uint64_t offset = 0;
    std::size_t max_bytes = 0;
  };
  // Every read_range() call, in order.
  std::vector<ReadCall> read_calls() const {
    std::lock_guard lock(mu_);
    return read_calls_;
  }

  void set_connect_result(Status status) {
    std::lock_guard lock(mu_);
    connect_result_ = std::move(status);
  }

  // Every argv run() or run_with_input() was called with, in order.
  std::vector<std::vector<std::string>> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  // The stdin of every call, parallel to calls() ("" for run()).
  std::vector<std::string> inputs() const {
    std::lock_guard lock(mu_);
    return inputs_;
  }
  int connect_count() const {
    std::lock_guard lock(mu_);
    return connect_count_;
  }
  bool connected() const {
    std::lock_guard lock(mu_);
    return connected_;
  }

  Status connect() override {
    std::lock_guard lock(mu_);
    return connect_locked();
  }
  void disconnect() override {
    std::lock_guard lock(mu_);
    connected_ = false;
  }
  Result<backend::CommandResult> run(const std::vector<std::string>& argv,
                                     std::chrono::milliseconds timeout) override {
    return run_with_input(argv, std::string_view(), timeout);
  }
  Result<backend::CommandResult> run_with_input(const std::vector<std::string>& argv,
                                                std::string_view input,
                                                std::chrono::milliseconds /*timeout*/) override {
    std::lock_guard lock(mu_);
    calls_.push_back(argv);
    inputs_.emplace_back(input);
    Status st = connect_locked();
    if (!st.ok()) return st.error();
    auto it = answers_.find(shell_join(argv));
    if (it == answers_.end()) {
      return make_error(Errc::kInternal, "FakeRemote: no answer scripted for `" + shell_join(argv) + "`");
    }
    return it->second;
  }

  Result<backend::FileChunk> read_range(const std::string& path, std::uint64_t offset,
                                        std::size_t max_bytes,
                                        std::chrono::milliseconds /*timeout*/) override {
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mu_);
      read_calls_.push_back(ReadCall{path, offset, max_bytes});
      delay = read_delay_;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    std::lock_guard lock(mu_);
    Status st = connect_locked();
    if (!st.ok()) return st.error();
    auto it = files_.find(path);
    if (it == files_.end()) {
      return make_error(Errc::kNotFound, "FakeRemote: no file " + path);
    }
    const std::string& content = it->second;
    backend::FileChunk chunk;
    chunk.file_size = content.size();
    if (offset < content.size()) {
      chunk.bytes = content.substr(static_cast<std::size_t>(offset), max_bytes);
    }
    return chunk;
  }

 private:
  Status connect_locked() {
    if (connected_) return Status::Ok();
    ++connect_count_;
    if (connect_result_.ok()) connected_ = true;
    return connect_result_;
  }

  mutable std::mutex mu_;
  std::map<std::string, Result<backend::CommandResult>> answers_;  // GUARDED_BY(mu_)
  std::vector<std::vector<std::string>> calls_;                    // GUARDED_BY(mu_)
  std::vector<std::string> inputs_;                                // GUARDED_BY(mu_)
  Status connect_result_;                                          // GUARDED_BY(mu_)
  int connect_count_ = 0;                                          // GUARDED_BY(mu_)
  bool connected_ = false;                                         // GUARDED_BY(mu_)
  std::map<std::string, std::string> files_;                       // GUARDED_BY(mu_)
  std::vector<ReadCall> read_calls_;                               // GUARDED_BY(mu_)
  std::chrono::milliseconds read_delay_{0};                        // GUARDED_BY(mu_)
};

}  // namespace mmcfs::testing
