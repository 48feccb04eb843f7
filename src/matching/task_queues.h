// Matching: task queues that pair dispatched tasks with waiting long polls (sync match) and keep
// a backlog otherwise. In-memory only: the backlog is derived from durable mutable state (every
// scheduled-but-unstarted task is in it), so after a restart the engine re-adds it on recovery.
//
// Not thread-safe: the engine owns one instance and guards it with its own mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"

namespace temporalite::matching {

enum class TaskType { kWorkflow, kActivity };

// A waiting long poll, created by the frontend. `finish` is called exactly once by the engine
// (task delivered, poll expired, or poll cancelled), after `response` has been filled.
struct PollWaiter {
  std::string identity;
  std::function<void(const Status&)> finish;
  void* response = nullptr;   // the RPC's response message, owned by the RPC
  bool sticky_poll = false;   // set by the engine: the poll was on a sticky queue
  bool completed = false;     // guarded by the engine's mutex
};

// A task waiting for a poller. Validated against mutable state when it is taken.
struct PendingTask {
  std::string run_id;
  int64_t scheduled_event_id = 0;
  int32_t attempt = 0;
  std::string query_id;  // set: a legacy query task (workflow queues only), not a workflow task
};

struct QueueKey {
  std::string namespace_id;
  std::string name;
  TaskType type;
  bool operator<(const QueueKey& o) const {
    if (namespace_id != o.namespace_id) return namespace_id < o.namespace_id;
    if (name != o.name) return name < o.name;
    return type < o.type;
  }
};

struct PollerInfo {
  std::string identity;
  TimePoint last_access_time;
  double rate_per_second = 0;  // the poll's max_tasks_per_second; 0: not set
};

// Events per second over the last `kSeconds` whole seconds (DescribeTaskQueue's add and dispatch
// rates). Constant memory: one counter per second, reused as time moves on.
class RateWindow {
 public:
  static constexpr int kSeconds = 30;
  void Add(TimePoint now) {
    int64_t sec = Second(now);
    Slot& s = slots_[static_cast<size_t>(sec % kSeconds)];
    if (s.second != sec) s = {sec, 0};
    ++s.count;
  }
  double PerSecond(TimePoint now) const {
    int64_t sec = Second(now);
    int64_t total = 0;
    for (const Slot& s : slots_) {
      if (s.second > sec - kSeconds && s.second <= sec) total += s.count;
    }
    return static_cast<double>(total) / kSeconds;
  }

 private:
  struct Slot {
    int64_t second = -1;
    int64_t count = 0;
  };
  static int64_t Second(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  }
  Slot slots_[kSeconds];
};

struct TaskQueue {
  std::deque<PendingTask> backlog;
  std::deque<std::shared_ptr<PollWaiter>> pollers;
  TimePoint last_poll_time{};
  bool sticky = false;
  bool dead = false;  // sticky queue whose worker said ShutdownWorker
  std::map<std::string, PollerInfo> recent_pollers;  // by identity
  RateWindow added;       // tasks put on the queue (sync-matched or backlogged)
  RateWindow dispatched;  // tasks handed to a poller
};

class TaskQueues {
 public:
  TaskQueue& Get(const QueueKey& key) { return queues_[key]; }
  const std::map<QueueKey, TaskQueue>& all() const { return queues_; }
  TaskQueue* Find(const QueueKey& key) {
    auto it = queues_.find(key);
    return it == queues_.end() ? nullptr : &it->second;
  }
  // Pops the first poller that has not completed yet, or null.
  static std::shared_ptr<PollWaiter> PopPoller(TaskQueue& q) {
    while (!q.pollers.empty()) {
      auto p = std::move(q.pollers.front());
      q.pollers.pop_front();
      if (!p->completed) return p;
    }
    return nullptr;
  }
  static void RemovePoller(TaskQueue& q, const PollWaiter* w) {
    for (auto it = q.pollers.begin(); it != q.pollers.end(); ++it) {
      if (it->get() == w) {
        q.pollers.erase(it);
        return;
      }
    }
  }

 private:
  std::map<QueueKey, TaskQueue> queues_;
};

}  // namespace temporalite::matching
