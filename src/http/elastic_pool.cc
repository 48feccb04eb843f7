#include "http/elastic_pool.h"

#include <system_error>
#include <thread>

namespace temporalite::http {

ElasticPool::ElasticPool(size_t core, size_t max_threads, std::chrono::milliseconds idle_timeout)
    : core_(core), max_threads_(max_threads < 1 ? 1 : max_threads), idle_timeout_(idle_timeout) {}

ElasticPool::~ElasticPool() { shutdown(); }

void ElasticPool::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> l(mu_);
  tasks_.push_back(std::move(fn));
  // Every idle thread may already be claimed by an earlier queued task: start one more then.
  if (idle_ < tasks_.size() && threads_ < max_threads_) {
    try {
      std::thread([this] { Work(); }).detach();  // shutdown() waits for it to end
      ++threads_;
    } catch (const std::system_error&) {
      // No thread to be had: the task waits for a busy one.
    }
  }
  work_cv_.notify_one();
}

void ElasticPool::Work() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    while (tasks_.empty() && !shutdown_) {
      ++idle_;
      bool woke = work_cv_.wait_for(l, idle_timeout_, [this] { return !tasks_.empty() || shutdown_; });
      --idle_;
      if (!woke && threads_ > core_) break;
    }
    if (tasks_.empty()) break;  // shutdown, or idle beyond the core
    std::function<void()> fn = std::move(tasks_.front());
    tasks_.pop_front();
    l.unlock();
    fn();
    l.lock();
  }
  --threads_;
  ended_cv_.notify_all();
}

void ElasticPool::shutdown() {
  std::unique_lock<std::mutex> l(mu_);
  shutdown_ = true;
  work_cv_.notify_all();
  ended_cv_.wait(l, [this] { return threads_ == 0; });
}

size_t ElasticPool::threads() const {
  std::lock_guard<std::mutex> l(mu_);
  return threads_;
}

}  // namespace temporalite::http
