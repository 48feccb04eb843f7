// GetWorkflowExecutionHistory and GetWorkflowExecutionHistoryReverse as a unit: pages of a run's
// durable history (HistoryReads: the store, read without the engine mutex) and the history long
// poll, woken by the run's next commit (HistoryCommits, which the engine's commit notifies). The
// engine's entry points (engine.cc) check the namespace and find the run under the engine mutex,
// then hand the unit a run id and a position (HistoryPosition).
//
// Pages hold exactly what is durable: nothing buffered, nothing of a commit in flight. A page
// token is opaque to the caller (a serialized state::TaskToken: the run id and the next event id).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/cancel_hook.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/timer_service.h"
#include "history/engine_context.h"  // Done
#include "persistence/store.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

// The durable history of runs. The engine's reads go to the store (StoreHistoryReads).
class HistoryReads {
 public:
  virtual ~HistoryReads() = default;
  // Up to `limit` events of `run_id` from `first_event_id` (event ids are contiguous from 1).
  virtual Result<std::vector<persistence::EventRow>> ReadEvents(const std::string& run_id, int64_t first_event_id,
                                                                int64_t limit) = 0;
  // The run's row (open or closed, its state), or nullopt.
  virtual Result<std::optional<persistence::ExecutionRow>> GetExecution(const std::string& run_id) = 0;
};

// The store's reads as HistoryReads (they may wait on the disk: never called under the engine mutex).
class StoreHistoryReads final : public HistoryReads {
 public:
  explicit StoreHistoryReads(persistence::Store& store) : store_(store) {}
  Result<std::vector<persistence::EventRow>> ReadEvents(const std::string& run_id, int64_t first_event_id,
                                                        int64_t limit) override {
    return store_.ReadEvents(run_id, first_event_id, limit);
  }
  Result<std::optional<persistence::ExecutionRow>> GetExecution(const std::string& run_id) override {
    return store_.GetExecution(run_id);
  }

 private:
  persistence::Store& store_;
};

// History long polls waiting for a run's next durable commit. Thread-safe (its own mutex): the
// engine's commit notifies from the store's committing thread.
class HistoryCommits {
 public:
  // Registers `fn` for the run's next commit; the id unregisters it (StopWaiting).
  uint64_t Wait(const std::string& run_id, std::function<void(bool closed)> fn) EXCLUDES(mu_);
  void StopWaiting(const std::string& run_id, uint64_t id) EXCLUDES(mu_);
  // A commit touching the run is durable (`closed`: the run closed in it): runs and drops every
  // registration for it.
  void Notify(const std::string& run_id, bool closed) EXCLUDES(mu_);
  // Registrations now (a gauge; tests).
  size_t Count() EXCLUDES(mu_);

 private:
  Mutex mu_;
  std::unordered_map<std::string, std::vector<std::pair<uint64_t, std::function<void(bool)>>>> waiters_
      GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 0;
};

// Where a page starts: the run and an event id (the first of a forward page, the last of a
// reverse one).
struct HistoryPosition {
  std::string run_id;
  int64_t event_id = 0;
};

// A page token's position; "Invalid NextPageToken." (INVALID_ARGUMENT) for one this server did not
// give out (a forward page's next event id is at least 1).
Result<HistoryPosition> ParseHistoryPageToken(const std::string& token, bool forward);
std::string HistoryPageToken(const HistoryPosition& at);

class HistoryPages {
 public:
  // `long_poll`: how long a wait_new_event request waits for something new (then an empty page
  // with a token to poll again).
  HistoryPages(HistoryReads& reads, HistoryCommits& commits, TimerService& timers, const Clock& clock,
               Duration long_poll)
      : reads_(reads), commits_(commits), timers_(timers), clock_(clock), long_poll_(long_poll) {}
  HistoryPages(const HistoryPages&) = delete;
  HistoryPages& operator=(const HistoryPages&) = delete;

  // GetWorkflowExecutionHistory from `at`: a page of up to maximum_page_size events (256 when
  // unset) with a token while more exist, or while the run is open and the caller waits for new
  // events; HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT: only the run's closing event, once closed.
  // wait_new_event with nothing to return waits for the run's next commit, up to the long poll
  // (an empty page then), or until `cancel` (CANCELLED). A storage error is the answer. `resp`
  // and `done` must stay valid until `done` runs; nothing of the poll outlives it.
  void Get(const HistoryPosition& at, const ::temporal::api::workflowservice::v1::GetWorkflowExecutionHistoryRequest& req,
           ::temporal::api::workflowservice::v1::GetWorkflowExecutionHistoryResponse* resp, Done done,
           std::shared_ptr<CancelHook> cancel);
  // GetWorkflowExecutionHistoryReverse from `at` (event_id INT64_MAX: the last event) backwards:
  // up to maximum_page_size events (256 when unset), newest first, with a token while older ones
  // exist. Reads only the page's events.
  Status GetReverse(const HistoryPosition& at,
                    const ::temporal::api::workflowservice::v1::GetWorkflowExecutionHistoryReverseRequest& req,
                    ::temporal::api::workflowservice::v1::GetWorkflowExecutionHistoryReverseResponse* resp);

 private:
  HistoryReads& reads_;
  HistoryCommits& commits_;
  TimerService& timers_;
  const Clock& clock_;
  const Duration long_poll_;
};

}  // namespace temporalite::history
