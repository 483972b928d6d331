// clock.h — injected time. Production code asks a Clock for "now" instead of
// calling std::chrono directly, so tests can move time past a TTL without
// sleeping (see FakeClock).
//
// Thread rules: SystemClock is stateless; FakeClock is internally locked.
#pragma once

#include <chrono>
#include <mutex>

namespace mmcfs {

using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime now() const = 0;
};

class SystemClock final : public Clock {
 public:
  WallTime now() const override { return std::chrono::system_clock::now(); }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime(std::chrono::seconds(1'800'000'000)))
      : now_(start) {}
  WallTime now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void advance(std::chrono::milliseconds by) {
    std::lock_guard lock(mu_);
    now_ += by;
  }

 private:
  mutable std::mutex mu_;
  WallTime now_;
};

}  // namespace mmcfs
