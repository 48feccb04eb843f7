// The HTTP listener's task queue (cpp-httplib runs one task per connection, and a connection's
// thread is busy for as long as its request is: a long poll holds it up to a minute). A fixed
// pool of 32 would let 32 waiting long polls starve every other request; this pool keeps
// `core` threads and adds threads on demand, up to `max_threads`, whenever no thread is idle,
// so a request finds a thread while long polls wait in others. Threads above `core` end after
// `idle_timeout` without work. Tasks beyond `max_threads` busy threads wait in the queue.
// The number of long polls is bounded separately (HandlerOptions::max_long_polls), below
// `max_threads`, so some threads always remain for ordinary requests. Thread-safe.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace temporalite::http {

class ElasticPool final : public httplib::TaskQueue {
 public:
  ElasticPool(size_t core, size_t max_threads, std::chrono::milliseconds idle_timeout);
  ~ElasticPool() override;  // shuts down (waits for running tasks)

  void enqueue(std::function<void()> fn) override;
  // Runs the queued tasks, then waits until every thread has ended.
  void shutdown() override;

  size_t threads() const;  // threads alive now (tests, metrics)

 private:
  void Work();

  const size_t core_;
  const size_t max_threads_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // a task queued or shutdown
  std::condition_variable ended_cv_;  // a thread ended
  std::deque<std::function<void()>> tasks_;
  size_t threads_ = 0;  // alive
  size_t idle_ = 0;     // waiting for a task
  bool shutdown_ = false;
};

}  // namespace temporalite::http
