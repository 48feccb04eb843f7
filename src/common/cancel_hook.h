// Lets the caller of a waiting call end it early (its client went away): the callee installs what
// ending means with Set(), the caller calls Cancel(). Either order works: a hook set after Cancel()
// runs at once. The hook runs at most once, outside the lock. Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <utility>

namespace temporalite {

class CancelHook {
 public:
  void Set(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!cancelled_) {
        fn_ = std::move(fn);
        return;
      }
    }
    if (fn) fn();
  }
  void Cancel() {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (cancelled_) return;
      cancelled_ = true;
      fn = std::move(fn_);
      fn_ = nullptr;
    }
    if (fn) fn();
  }
  // Drops the hook (and what it holds) once the call has answered.
  void Clear() {
    std::function<void()> fn;
    std::lock_guard<std::mutex> l(mu_);
    fn.swap(fn_);
  }

 private:
  std::mutex mu_;
  bool cancelled_ = false;
  std::function<void()> fn_;
};

}  // namespace temporalite
