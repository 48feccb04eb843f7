// Matching: task queues that pair dispatched tasks with waiting long polls (sync match) and keep
// a backlog otherwise. In-memory only: the backlog is derived from durable mutable state (every
// scheduled-but-unstarted task is in it), so after a restart the engine re-adds it on recovery.
//
// The dispatch policy lives here: sync match to the first live poller, backlog in FIFO order,
// whether a workflow's sticky queue is still worth using, and how long a task may wait there
// before it falls back to the normal queue. The engine validates each task against mutable state
// when a poller takes it (`take` below) and writes the events; matching never touches state.
//
// Not thread-safe: the engine owns one instance per task type and guards it with its own mutex;
// the calls that complete a waiter take that mutex (`held`) so the analysis checks it is held.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace temporalite::matching {

enum class TaskType { kWorkflow, kActivity };

// A waiting RPC (a long poll, a query, an update wait), created by the frontend. `finish` is
// called exactly once (answer delivered, wait expired, or RPC cancelled); whoever marks it
// completed owns that call. Completion is guarded by the mutex of the engine that holds the
// waiter: each access names it (`held`), so Clang's thread-safety analysis checks that the caller
// holds it.
struct Waiter {
  std::string identity;
  std::function<void(const Status&)> finish;

  bool completed(const Mutex& held) const REQUIRES(held) { return completed_; }
  // Marks it completed; false if it already was (then someone else owns `finish`).
  bool Complete(const Mutex& held) REQUIRES(held) { return !std::exchange(completed_, true); }

 private:
  bool completed_ = false;
};

// A waiter with its RPC's response message, filled before `finish`. The RPC owns the message
// and keeps it alive until `finish` has been called.
template <typename Resp>
struct PollWaiter : Waiter {
  explicit PollWaiter(Resp* r) : response(r) {}
  Resp* const response;
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

// What DescribeTaskQueue and the gauges read, whatever the queue's task type.
struct QueueState {
  std::deque<PendingTask> backlog;  // FIFO; may hold stale tasks, dropped when reached
  TimePoint last_poll_time{};
  bool sticky = false;
  bool dead = false;  // sticky queue whose worker said ShutdownWorker
  std::map<std::string, PollerInfo> recent_pollers;  // by identity
  RateWindow added;       // tasks put on the queue (sync-matched or backlogged)
  RateWindow dispatched;  // tasks handed to a poller
};

template <typename Resp>
struct TaskQueue : QueueState {
  std::deque<std::shared_ptr<PollWaiter<Resp>>> pollers;  // may hold completed (cancelled) ones
};

// The queues of one task type; `Resp` is the poll response its tasks are delivered in.
template <typename Resp>
class TaskQueues {
 public:
  using Poller = std::shared_ptr<PollWaiter<Resp>>;

  // `sticky_fallback`: how long a sticky queue counts as alive after its last poll, and the
  // schedule-to-start timeout of sticky tasks when the worker gave none.
  explicit TaskQueues(Duration sticky_fallback) : sticky_fallback_(sticky_fallback) {}

  // A task became ready on `key`. Sync match: returns the first live poller waiting there, now
  // marked completed (the caller fills its response and finishes it); without one, appends the
  // task to the backlog and returns null. Legacy query tasks are not counted in the rates.
  Poller Offer(const Mutex& held, const QueueKey& key, PendingTask task, TimePoint now) REQUIRES(held) {
    TaskQueue<Resp>& q = queues_[key];
    const bool counted = task.query_id.empty();
    if (counted) q.added.Add(now);
    if (Poller p = PopPoller(held, q)) {
      if (counted) q.dispatched.Add(now);
      return p;
    }
    q.backlog.push_back(std::move(task));
    return nullptr;
  }

  // A legacy query task: as Offer, except that with no poller waiting and none seen within
  // `window` (counting from `floor` at the earliest: the server's start, when workers reconnect)
  // the task is refused: `*refused` is set and nothing is queued.
  Poller OfferQuery(const Mutex& held, const QueueKey& key, PendingTask task, TimePoint now, TimePoint floor,
                    Duration window, bool* refused) REQUIRES(held) {
    TaskQueue<Resp>& q = queues_[key];
    *refused = false;
    if (Poller p = PopPoller(held, q)) return p;
    if (now - std::max(q.last_poll_time, floor) > window) {
      *refused = true;
      return nullptr;
    }
    q.backlog.push_back(std::move(task));
    return nullptr;
  }

  // A poll arrives on `key` (`sticky`: the poll names a sticky queue). Records the poller, then
  // hands backlog tasks to `take` in FIFO order, dropping each one it refuses (stale), until it
  // accepts one: returns true. With the backlog empty the poller joins the waiting pollers and
  // false is returned (the caller arms the poll's timeout and calls Expire then).
  // `take(const PendingTask&) -> bool` completes and finishes the poller when it accepts.
  template <typename Take>
  bool Poll(const QueueKey& key, const Poller& poller, const PollerInfo& info, bool sticky, TimePoint now, Take&& take) {
    TaskQueue<Resp>& q = queues_[key];
    q.sticky = sticky;
    q.dead = false;
    q.last_poll_time = now;
    PollerInfo& recorded = q.recent_pollers[info.identity];
    recorded = info;
    recorded.last_access_time = now;
    poller->identity = info.identity;
    while (!q.backlog.empty()) {
      PendingTask t = std::move(q.backlog.front());
      q.backlog.pop_front();
      if (!take(t)) continue;
      if (t.query_id.empty()) q.dispatched.Add(now);
      return true;
    }
    q.pollers.push_back(poller);
    return false;
  }

  // A waiting poll's time is up: removes it from `key`'s pollers. The caller finishes it.
  void Expire(const QueueKey& key, const Waiter* w) {
    auto it = queues_.find(key);
    if (it == queues_.end()) return;
    auto& pollers = it->second.pollers;
    for (auto p = pollers.begin(); p != pollers.end(); ++p) {
      if (p->get() == w) {
        pollers.erase(p);
        return;
      }
    }
  }

  // Sticky policy. A workflow's tasks go to its worker's sticky queue only while that worker
  // looks alive: a poll waiting or seen within the fallback window, and no ShutdownWorker.
  bool StickyAlive(const QueueKey& sticky_key, TimePoint now) const {
    auto it = queues_.find(sticky_key);
    if (it == queues_.end()) return false;
    const TaskQueue<Resp>& q = it->second;
    return !q.dead && (!q.pollers.empty() || now - q.last_poll_time < sticky_fallback_);
  }
  // How long a task waits on a sticky queue before it falls back to the normal queue.
  Duration StickyScheduleToStart(Duration requested) const {
    return requested > Duration::zero() ? requested : sticky_fallback_;
  }
  // The sticky worker of `key` shut down: the queue counts as dead until it is polled again, and
  // its backlog is handed back for dispatch to the normal queues.
  std::deque<PendingTask> Shutdown(const QueueKey& key) {
    TaskQueue<Resp>& q = queues_[key];
    q.dead = true;
    std::deque<PendingTask> backlog = std::move(q.backlog);
    q.backlog.clear();
    return backlog;
  }

  // Eager workflow start: the starter takes the run's first task itself, so no poller waiting on
  // `key` may be matched while the run is created. SetAsidePollers removes the waiting pollers;
  // RestorePollers puts them back ahead of any that arrived meanwhile.
  std::deque<Poller> SetAsidePollers(const QueueKey& key) {
    TaskQueue<Resp>* q = Find(key);
    return q ? std::exchange(q->pollers, {}) : std::deque<Poller>{};
  }
  void RestorePollers(const QueueKey& key, std::deque<Poller> aside) {
    TaskQueue<Resp>& q = queues_[key];
    for (auto& p : q.pollers) aside.push_back(std::move(p));
    q.pollers.swap(aside);
  }

  // Eager workflow start: the starter took the task `Offer` just backlogged on `key` (its pollers
  // set aside), so the entry goes now rather than lingering until a poll drops it as stale.
  void Withdraw(const QueueKey& key, const std::string& run_id, int64_t scheduled_event_id) {
    TaskQueue<Resp>* q = Find(key);
    if (!q) return;
    for (auto it = q->backlog.rbegin(); it != q->backlog.rend(); ++it) {
      if (it->run_id == run_id && it->scheduled_event_id == scheduled_event_id && it->query_id.empty()) {
        q->backlog.erase(std::next(it).base());
        return;
      }
    }
  }

  TaskQueue<Resp>* Find(const QueueKey& key) {
    auto it = queues_.find(key);
    return it == queues_.end() ? nullptr : &it->second;
  }
  const std::map<QueueKey, TaskQueue<Resp>>& all() const { return queues_; }

 private:
  // Pops the first poller that has not completed yet, marking it completed; or null.
  static Poller PopPoller(const Mutex& held, TaskQueue<Resp>& q) REQUIRES(held) {
    while (!q.pollers.empty()) {
      Poller p = std::move(q.pollers.front());
      q.pollers.pop_front();
      if (p->Complete(held)) return p;
    }
    return nullptr;
  }

  const Duration sticky_fallback_;
  std::map<QueueKey, TaskQueue<Resp>> queues_;
};

}  // namespace temporalite::matching
