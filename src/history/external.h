// SignalExternalWorkflowExecution and RequestCancelExternalWorkflowExecution commands as a unit
// of their own over a narrow interface (the model: Temporal's signal-external and
// request-cancel-external transfer tasks in service/history). The engine owns one (guarded by its
// mutex) and calls it from a workflow-task completion's commands; the unit reaches the engine only
// through EngineContext (engine_context.h).
//
// Temporal writes the Initiated event with the workflow-task completion and delivers to the
// target from a transfer task, whose result event (Signaled/CancelRequested or Failed) comes
// later and schedules a new workflow task. Here the engine has one mutex and one store
// transaction, so the delivery and the result event are written in the completion's own
// transaction: the Initiated event in command order, the result event buffered behind the
// command events (flushed right after them, before the new WorkflowTaskScheduled). The history
// has Temporal's shape and order; nothing is ever "pending" across transactions, so a crash can
// neither lose nor double a delivery. The target still records the signal's request id (dedupe),
// as Temporal's delivery does.
#pragma once

#include <cstdint>

#include "history/engine_context.h"
#include "history/execution.h"
#include "history/txn.h"
#include "temporal/api/command/v1/message.pb.h"

namespace temporalite::history {

class ExternalCommands {
 public:
  explicit ExternalCommands(EngineContext& engine) : engine_(engine) {}
  ExternalCommands(const ExternalCommands&) = delete;
  ExternalCommands& operator=(const ExternalCommands&) = delete;

  // The Initiated event of `src`'s command (its completion's WorkflowTaskCompleted is
  // `completed_id`); the target is signalled / asked to cancel in `txn` and the result event
  // (ExternalWorkflowExecutionSignaled / CancelRequested, or the Failed event with its cause) is
  // buffered behind the command events, with a new task. `source_closes`: the completion also
  // closes the source, so (like Temporal's transfer task, which finds the source closed) nothing
  // is delivered.
  void Signal(Txn& txn, Execution& src,
              const temporal::api::command::v1::SignalExternalWorkflowExecutionCommandAttributes& c,
              int64_t completed_id, bool source_closes, bool* need_wft);
  // As Signal; cancelling a closed run, or one already asked, succeeds without touching it.
  void RequestCancel(Txn& txn, Execution& src,
                     const temporal::api::command::v1::RequestCancelExternalWorkflowExecutionCommandAttributes& c,
                     int64_t completed_id, bool source_closes, bool* need_wft);

 private:
  EngineContext& engine_;
};

}  // namespace temporalite::history
