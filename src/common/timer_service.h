// A queue of callbacks due at clock times. The engine schedules timeouts, retries, user timers and
// poll expiries here; it never sleeps or spawns threads itself. Stale callbacks are expected: the
// engine re-checks its state when one fires, so nothing is ever cancelled.
//
// Driving: `RunDue()` runs every callback whose time has come on the calling thread. Production
// calls `RunLoop()` on a thread created by the composition root; tests with a SimClock call
// `RunDue()` after moving the clock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <vector>

#include "common/clock.h"

namespace temporalite {

class TimerService {
 public:
  explicit TimerService(const Clock& clock) : clock_(clock) {}

  // Thread-safe. `fn` runs on the driving thread at or after `when`; it must not call RunDue.
  void Schedule(TimePoint when, std::function<void()> fn);

  // Runs all callbacks due now. Returns how many ran.
  size_t RunDue();

  // Drives the queue until Stop(). Sleeps on a condition variable until the next due time.
  void RunLoop();
  void Stop();

  size_t pending() const;

 private:
  struct Entry {
    TimePoint when;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Entry& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };

  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;  // GUARDED_BY(mu_)
  uint64_t next_seq_ = 0;                                                     // GUARDED_BY(mu_)
  bool stopped_ = false;                                                      // GUARDED_BY(mu_)
};

}  // namespace temporalite
