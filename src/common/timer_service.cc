#include "common/timer_service.h"

namespace temporalite {

void TimerService::Schedule(TimePoint when, std::function<void()> fn) {
  std::lock_guard<std::mutex> l(mu_);
  bool earliest = heap_.empty() || when < heap_.top().when;
  heap_.push(Entry{when, next_seq_++, std::move(fn)});
  if (earliest) cv_.notify_one();
}

size_t TimerService::RunDue() {
  size_t ran = 0;
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (heap_.empty() || heap_.top().when > clock_.Now()) return ran;
      fn = std::move(const_cast<Entry&>(heap_.top()).fn);
      heap_.pop();
    }
    fn();
    ++ran;
  }
}

void TimerService::RunLoop() {
  for (;;) {
    RunDue();
    std::unique_lock<std::mutex> l(mu_);
    if (stopped_) return;
    if (heap_.empty()) {
      cv_.wait(l);
    } else {
      // The clock is wall time; convert the remaining wait to a steady deadline so that a wall
      // clock step does not stall timers for long (we re-check Now() after every wake-up).
      auto wait = heap_.top().when - clock_.Now();
      if (wait > Duration::zero()) cv_.wait_for(l, std::min<Duration>(wait, std::chrono::seconds(1)));
    }
    if (stopped_) return;
  }
}

void TimerService::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  stopped_ = true;
  cv_.notify_all();
}

size_t TimerService::pending() const {
  std::lock_guard<std::mutex> l(mu_);
  return heap_.size();
}

}  // namespace temporalite
