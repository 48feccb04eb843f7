// Injected time. Nothing in the engine reads the system clock directly: the composition root
// passes a SystemClock, tests pass a SimClock and move time by hand.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace temporalite {

using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (used for event times and timers). Thread-safe.
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  }
};

// A clock that only moves when told to. Thread-safe.
class SimClock final : public Clock {
 public:
  explicit SimClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override {
    std::lock_guard<std::mutex> l(mu_);
    return now_;
  }
  void Advance(Duration d) {
    std::lock_guard<std::mutex> l(mu_);
    now_ += d;
  }
  void Set(TimePoint t) {
    std::lock_guard<std::mutex> l(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
};

}  // namespace temporalite
