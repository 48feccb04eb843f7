// Workflow updates (protocol-notes §6) as a unit of their own over a narrow interface (the model:
// Temporal's service/history/api/updateworkflow and its workflow update registry): admission,
// delivery on a workflow task, the worker's Acceptance / Response / Rejection messages, the
// lifecycle-stage waits of UpdateWorkflowExecution and PollWorkflowExecutionUpdate, and the
// in-flight and total limits. The engine owns one registry for all runs (guarded by its mutex) and
// calls it from its RPCs and workflow-task transitions; the registry reaches the engine only
// through EngineContext (engine_context.h).
//
// An admitted update is delivered as a protocol message on a (normal, persisted) workflow task;
// the worker's Acceptance and Response become WorkflowExecutionUpdateAccepted/Completed events, so
// accepted and completed updates survive a restart and are found again by update id in the run's
// history. Admitted-only updates live in memory, as in Temporal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/execution.h"
#include "history/txn.h"
#include "matching/task_queues.h"
#include "temporal/api/protocol/v1/message.pb.h"
#include "temporal/api/update/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

class UpdateRegistry {
 public:
  // One update of one run.
  struct State;
  // Writes a waiting caller's response from the update's state (FillInto).
  using Fill = std::function<void(const State&, const temporal::api::common::v1::WorkflowExecution&)>;
  struct Waiting {
    std::shared_ptr<matching::Waiter> waiter;  // `fill` writes its response
    int stage = 0;  // UpdateWorkflowExecutionLifecycleStage wanted
    Fill fill;
    temporal::api::common::v1::WorkflowExecution execution;
  };
  struct State {
    std::string id;
    std::string run_id;
    temporal::api::update::v1::Request request;
    int stage = 0;
    int64_t accepted_event_id = 0;
    int64_t delivered_in_wft = 0;  // started event id of the workflow task carrying it
    temporal::api::update::v1::Outcome outcome;
    std::vector<Waiting> waiters;
  };
  // The engine options the unit reads (EngineOptions' fields of the same meaning).
  struct Limits {
    Duration long_poll = std::chrono::seconds(20);  // history_long_poll
    int64_t max_in_flight = 10;                     // max_in_flight_updates (0: none)
    int64_t max_total = 2000;                       // max_total_updates (0: none)
    int64_t max_in_flight_payloads = 20LL * 1024 * 1024;  // max_in_flight_update_payloads (0: none)
    size_t max_id_length = 1000;
    size_t blob_size_limit_error = 2 * 1024 * 1024;
    size_t blob_size_limit_warn = 512 * 1024;
  };

  // `engine_mu`: the mutex of the engine that holds the registry; every call is made with it held.
  UpdateRegistry(Mutex& engine_mu, EngineContext& engine, Limits limits)
      : mu_(engine_mu), engine_(engine), limits_(limits) {}
  UpdateRegistry(const UpdateRegistry&) = delete;
  UpdateRegistry& operator=(const UpdateRegistry&) = delete;

  // A response filler for UpdateWorkflowExecution / PollWorkflowExecutionUpdate / the update
  // operation of ExecuteMultiOperation.
  template <typename Resp>
  static Fill FillInto(Resp* resp) {
    return [resp](const State& u, const temporal::api::common::v1::WorkflowExecution& we) {
      resp->Clear();
      *resp->mutable_update_ref()->mutable_workflow_execution() = we;
      resp->mutable_update_ref()->set_update_id(u.id);
      resp->set_stage(static_cast<temporal::api::enums::v1::UpdateWorkflowExecutionLifecycleStage>(u.stage));
      if (u.stage == temporal::api::enums::v1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED) {
        *resp->mutable_outcome() = u.outcome;
      }
    };
  }

  // Temporal's frontend gives an update without an id a random UUID: `req` itself, or a copy of it
  // in `storage` with one.
  static const ::temporal::api::workflowservice::v1::UpdateWorkflowExecutionRequest& WithUpdateId(
      const ::temporal::api::workflowservice::v1::UpdateWorkflowExecutionRequest& req,
      ::temporal::api::workflowservice::v1::UpdateWorkflowExecutionRequest* storage);
  // Temporal's checks of the request: its meta, input and name (INVALID_ARGUMENT), no wait for
  // ADMITTED (PERMISSION_DENIED), its ids and input size (INVALID_ARGUMENT).
  Status Validate(const ::temporal::api::workflowservice::v1::UpdateWorkflowExecutionRequest& req) const;
  // UpdateWorkflowExecution on run `ex` (its events in memory): an update id seen before waits on
  // that update; a new one is admitted (within the limits; a closed run: NOT_FOUND) and a
  // workflow task scheduled in `txn`. `waiter` is answered at the stage the request waits for,
  // after ~long_poll with the stage reached, or at once once the run has closed. An error
  // leaves `waiter` to the caller.
  Status Admit(Txn& txn, Execution& ex, const ::temporal::api::workflowservice::v1::UpdateWorkflowExecutionRequest& req,
               std::shared_ptr<matching::Waiter> waiter, Fill fill);
  // PollWorkflowExecutionUpdate: waits on a known update (NOT_FOUND if unknown).
  Status Poll(const Execution& ex, const std::string& update_id, int wanted_stage,
              std::shared_ptr<matching::Waiter> waiter, Fill fill);
  // Temporal's in-flight, total and in-flight payload limits for admitting `incoming`.
  Status CheckLimits(const Execution& ex, const temporal::api::update::v1::Request& incoming) const;

  // Workflow-task transitions.
  // Adds the admitted updates of `ex` to a workflow task being started: those not sent yet, and
  // those sent on an earlier task unless this is a heartbeat task (Temporal's includeAlreadySent
  // = !heartbeat).
  void AttachToTask(Execution& ex, int64_t started_event_id,
                    ::temporal::api::workflowservice::v1::PollWorkflowTaskQueueResponse* resp, bool heartbeat = false);
  // A worker's protocol message (Acceptance, Response, Rejection) in a completion's transaction.
  void ApplyProtocolMessage(Txn& txn, Execution& ex, const temporal::api::protocol::v1::Message& m);
  // After a workflow task closed (completed or not): re-deliver or reject admitted updates; a
  // closed run fails all of its updates not completed. A completion rejects the updates sent to
  // the worker that it did not answer (Temporal's RejectUnprocessed), except a heartbeat
  // completion (force_create_new_workflow_task), after which they stay sent and the worker
  // answers them on a later task. `identity`: the completing worker, for the log.
  void SettleAfterTask(Txn& txn, Execution& ex, bool task_completed, bool heartbeat = false,
                       const std::string& identity = {});
  bool HasUndelivered(const Execution& ex) const;

  // The update of `ex` by id: in memory, or recovered from the run's history; null if unknown.
  std::shared_ptr<State> FindOrRecover(const Execution& ex, const std::string& update_id);
  // Updates of open runs in memory (admitted, or waited on).
  size_t size() const { return updates_.size(); }

 private:
  void Wait(std::shared_ptr<State> u, const Execution& ex, int wanted_stage, std::shared_ptr<matching::Waiter> waiter,
            Fill fill);
  // Moves `u` to `stage`, answering (after `txn`'s commit) the waiters that wanted no more.
  void Advance(Txn& txn, State& u, int stage, const temporal::api::update::v1::Outcome* outcome);

  Mutex& mu_;
  EngineContext& engine_;
  const Limits limits_;
  // By run id + "/" + update id.
  std::unordered_map<std::string, std::shared_ptr<State>> updates_;
};

}  // namespace temporalite::history
