// The engine's side of the seam of its RPC-family units (the model: the shard context that
// Temporal's service/history/api/<rpc>/api.go functions receive). A unit (update_registry.h, ...)
// is a class of its own that sees the engine only through this interface: the clock, the timers,
// scheduling a run's next workflow task inside a transaction, replying after a commit, the runs in
// memory, and matching's offer of a query task; for children.h and external.h also namespaces,
// runs by id and workflow id, a child's start, termination and signal delivery. The units are
// members of the engine guarded by its mutex, so they are called with it held.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "common/timer_service.h"
#include "history/state.pb.h"
#include "history/txn.h"
#include "matching/task_queues.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/history/v1/message.pb.h"
#include "temporal/api/sdk/v1/user_metadata.pb.h"
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

  // --- child workflows (children.h) and external commands (external.h) ---
  // The name of namespace id `ns_id`, and the id of namespace `name`; empty if unknown.
  virtual std::string NamespaceName(const std::string& ns_id) = 0;
  virtual std::string NamespaceId(const std::string& name) = 0;
  // A run by id, read back into memory if it was evicted; null if unknown.
  virtual Execution* FindRun(const std::string& run_id) = 0;
  // The open run of a workflow id (read back if evicted), or null.
  virtual Execution* OpenRunOf(const std::string& ns_id, const std::string& workflow_id) = 0;
  // Whether `run_id` is an open run evicted from memory (run_cache.h): a transition must not read
  // it (the store is not read under the engine mutex); it defers its step on it (DeferStep).
  virtual bool RunEvicted(const std::string& run_id) = 0;
  // The id of the open run of a workflow id (in memory or evicted), or "".
  virtual std::string OpenRunIdOf(const std::string& ns_id, const std::string& workflow_id) = 0;
  // A step of a close on runs that are evicted (state.proto: PendingStep): its record is written
  // in `txn`, and after the commit the step reads those runs without the engine mutex and
  // applies itself in a transaction of its own (deferred_steps.cc); recovery re-runs it.
  virtual void DeferStep(Txn& txn, state::PendingStep step) = 0;
  // The next fire time of `cron` strictly after `after`; TimePoint::max() if none (or no cron).
  virtual TimePoint NextCronTime(const std::string& cron, TimePoint after) = 0;
  // A child run to start: its id, its WorkflowExecutionStarted attributes (parent links set) and
  // the workflow id reuse policy its start is judged under.
  struct ChildStart {
    std::string workflow_id;
    ::temporal::api::history::v1::WorkflowExecutionStartedEventAttributes attrs;
    ::temporal::api::sdk::v1::UserMetadata user_metadata;
    ::temporal::api::enums::v1::WorkflowIdReusePolicy reuse_policy{};
  };
  // Creates the child run in `txn` (conflict policy FAIL); null, starting nothing, when the
  // workflow id is running or its reuse policy refuses a new run.
  virtual Execution* StartChildRun(Txn& txn, const std::string& ns_id, ChildStart start) = 0;
  // Terminates open run `ex` in `txn` (its close reaches its own parent and children).
  virtual void TerminateRun(Txn& txn, Execution& ex, const std::string& reason, const std::string& identity) = 0;
  // The open run (workflow id, run id or the current run when empty), or Temporal's NOT_FOUND.
  virtual Result<Execution*> OpenRun(const std::string& ns_id, const std::string& workflow_id,
                                     const std::string& run_id) = 0;
  // The run, open or closed (a closed one may be a copy read from the store), or NOT_FOUND.
  virtual Result<std::shared_ptr<Execution>> AnyRun(const std::string& ns_id, const std::string& workflow_id,
                                                    const std::string& run_id) = 0;
  // Adds a WorkflowExecutionSignaled to open run `target` (buffered while a task runs) and
  // schedules a task; a request id seen before sets `duplicate`; over the run's signal limit:
  // INVALID_ARGUMENT. `external`: the signalling run.
  virtual Status DeliverSignal(Txn& txn, Execution& target, const std::string& name,
                               const ::temporal::api::common::v1::Payloads& input,
                               const ::temporal::api::common::v1::Header& header, const std::string& identity,
                               const std::string& request_id, const ::temporal::api::common::v1::WorkflowExecution* external,
                               bool* duplicate) = 0;
};

}  // namespace temporalite::history
