// The engine's side of the seam of its RPC-family units (the model: the shard context that
// Temporal's service/history/api/<rpc>/api.go functions receive). A unit (update_registry.h, ...)
// is a class of its own that sees the engine only through this interface: the clock, the timers,
// scheduling a run's next workflow task inside a transaction, replying after a commit, the runs in
// memory, and matching's offer of a query task. The units are members of the engine guarded by
// its mutex, so they are called with it held.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "common/timer_service.h"
#include "history/txn.h"
#include "matching/task_queues.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

using Done = std::function<void(const Status&)>;

class EngineContext {
 public:
  virtual ~EngineContext() = default;
  virtual TimePoint Now() const = 0;
  virtual TimerService& timers() = 0;
  // Schedules a workflow task for open run `ex` in `txn`. Under the engine mutex.
  virtual void ScheduleWorkflowTask(Txn& txn, Execution& ex) = 0;
  // The reply-after-commit helper: `done(reply)` once everything submitted so far is durable, or
  // the store's error if that commit failed (a reply never reveals state that is not durable).
  virtual void ReplyWhenDurable(Done done, Status reply) = 0;
  // The run if it is in memory (an evicted run is not read back), or null.
  virtual Execution* LoadedRun(const std::string& run_id) = 0;

  using WorkflowPoller =
      std::shared_ptr<matching::PollWaiter<::temporal::api::workflowservice::v1::PollWorkflowTaskQueueResponse>>;
  struct QueryTaskOffer {
    WorkflowPoller poller;  // a poller waiting now takes the task (the caller fills and finishes it)
    bool sticky = false;    // offered on the run's sticky queue (its worker looks alive)
    bool refused = false;   // no poller seen on the queue recently: nothing was queued
  };
  // Offers legacy query task `query_id` of run `ex` to matching: the run's sticky queue while its
  // worker looks alive, else its normal queue; queued (backlog) unless a poller waits now.
  virtual QueryTaskOffer OfferQueryTask(const Execution& ex, const std::string& query_id) = 0;
};

}  // namespace temporalite::history
