// Coroutine types for workflow code: Task<T> (a lazily started coroutine, awaited by its caller)
// and Future<T> (the result of a workflow primitive: activity, timer, child, condition, update).
//
// Everything here runs on the workflow's single thread, driven by the worker's deterministic
// executor; none of it is thread-safe and none of it needs to be.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "temporalite/sdk/payload.h"

namespace temporalite::sdk {

template <class T = void>
class Task;

namespace internal {

struct FinalAwaiter {
  bool await_ready() noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
    auto c = h.promise().continuation;
    return c ? c : std::noop_coroutine();
  }
  void await_resume() noexcept {}
};

struct PromiseBase {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;
  std::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() { error = std::current_exception(); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object();
  template <class U>
  void return_value(U&& v) { value.emplace(std::forward<U>(v)); }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object();
  void return_void() {}
};

// Shared state of a workflow primitive's outcome. Resolved by the executor; the waiting
// coroutines are queued on the executor's ready list (never resumed inline).
struct Completion {
  bool done = false;
  Payloads value;
  std::exception_ptr error;
  std::vector<std::coroutine_handle<>> waiters;
  std::string description;  // for __stack_trace
  class Scheduler* scheduler = nullptr;
  void Resolve(Payloads v);
  void Reject(std::exception_ptr e);
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual void Ready(std::coroutine_handle<> h) = 0;
};

inline void Completion::Resolve(Payloads v) {
  if (done) return;
  done = true;
  value = std::move(v);
  for (auto h : waiters) scheduler->Ready(h);
  waiters.clear();
}

inline void Completion::Reject(std::exception_ptr e) {
  if (done) return;
  done = true;
  error = std::move(e);
  for (auto h : waiters) scheduler->Ready(h);
  waiters.clear();
}

}  // namespace internal

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::Promise<T>;
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    return h_;
  }
  T await_resume() {
    if (h_.promise().error) std::rethrow_exception(h_.promise().error);
    if constexpr (!std::is_void_v<T>) return std::move(*h_.promise().value);
  }

  // For the executor: the root coroutine is resumed directly.
  std::coroutine_handle<promise_type> handle() const { return h_; }

 private:
  std::coroutine_handle<promise_type> h_;
};

namespace internal {
template <class T>
Task<T> Promise<T>::get_return_object() {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace internal

// The outcome of a workflow primitive; co_await it for a T (void: no value). Copyable; all copies
// share the outcome. A failed primitive rethrows its failure (ActivityFailure, CanceledFailure...).
template <class T = void>
class Future {
 public:
  Future() = default;
  explicit Future(std::shared_ptr<internal::Completion> c) : c_(std::move(c)) {}
  bool done() const { return c_->done; }
  bool await_ready() const noexcept { return c_->done; }
  void await_suspend(std::coroutine_handle<> h) { c_->waiters.push_back(h); }
  T await_resume() const {
    if (c_->error) std::rethrow_exception(c_->error);
    if constexpr (std::is_void_v<T>) {
      return;
    } else if constexpr (std::is_same_v<T, Payloads>) {
      return c_->value;
    } else {
      return FirstPayload<T>(c_->value);
    }
  }
  const std::shared_ptr<internal::Completion>& completion() const { return c_; }

 private:
  std::shared_ptr<internal::Completion> c_;
};

}  // namespace temporalite::sdk
