// Child workflows (protocol-notes §3, "Children") as a unit of its own over a narrow interface
// (the model: Temporal's child workflow handling in service/history, its transfer task and its
// parent close policy processor): starting a child from a StartChildWorkflowExecution command,
// reporting a child's close to its parent, and applying a closing parent's close policy to its
// children. The engine owns one (guarded by its mutex) and calls it from its workflow-task and
// close transitions; the unit reaches the engine only through EngineContext (engine_context.h).
//
// The child is started in the parent's transaction; the parent's ChildWorkflowExecutionStarted
// (or StartChildWorkflowExecutionFailed) follows the command events, then a new workflow task.
#pragma once

#include <cstdint>
#include <vector>

#include "history/engine_context.h"
#include "history/execution.h"
#include "history/txn.h"
#include "temporal/api/command/v1/message.pb.h"

namespace temporalite::history {

class ChildWorkflows {
 public:
  explicit ChildWorkflows(EngineContext& engine) : engine_(engine) {}
  ChildWorkflows(const ChildWorkflows&) = delete;
  ChildWorkflows& operator=(const ChildWorkflows&) = delete;

  // A StartChildWorkflowExecution command of `parent`'s completion (its WorkflowTaskCompleted is
  // `completed_id`; the command was validated, so its namespace exists): the Initiated event,
  // the child's start in `txn` and the parent's ChildWorkflowExecutionStarted, or
  // StartChildWorkflowExecutionFailed (WORKFLOW_ALREADY_EXISTS) if the id may not start.
  void Start(Txn& txn, Execution& parent,
             const temporal::api::command::v1::StartChildWorkflowExecutionCommandAttributes& c, int64_t completed_id,
             bool* need_wft);
  // Child run `child` closed (its close event last): its parent (or a reset run of the parent
  // that adopted it) records ChildWorkflowExecutionCompleted/Failed/Canceled/TimedOut/Terminated
  // and gets a workflow task. A parent that is gone or no longer waits for it is not told (nor
  // one told already: the report is idempotent). A parent evicted from memory is told by a
  // deferred step (EngineContext::DeferStep), which calls this again once it is back.
  void ReportClosed(Txn& txn, const Execution& child);
  // A parent closed with `children` pending: TERMINATE terminates each open child, REQUEST_CANCEL
  // asks it to cancel (once), ABANDON leaves it alone. Children evicted from memory get it by a
  // deferred step, which calls this again once they are back.
  void ApplyParentClosePolicy(Txn& txn, const std::vector<state::ChildInfo>& children);

 private:
  // The parent run that waits for `child`, or null.
  Execution* ParentOf(const Execution& child);
  // Whether the run that may wait for `child` (its parent run, or the open run of the parent's
  // workflow id) is evicted: its report is then deferred.
  bool ParentEvicted(const Execution& child);

  EngineContext& engine_;
};

}  // namespace temporalite::history
