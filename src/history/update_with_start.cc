// Update-with-Start (update_with_start.h).
#include "history/update_with_start.h"

#include "history/execution.h"
#include "history/multi_op.h"
#include "history/reply_now.h"

namespace temporalite::history {

namespace wsv1 = ::temporal::api::workflowservice::v1;
namespace ev1 = ::temporal::api::enums::v1;

void UpdateWithStart::Execute(MutexLock& l, const wsv1::ExecuteMultiOperationRequest& req, Waiter waiter,
                              CurrentRunRead* pre) {
  mu_.AssertHeld();  // the engine calls it under its mutex (`l`)
  auto ns = host_.NamespaceByName(req.namespace_());
  if (!ns.ok()) return ReplyNow(l, mu_, *waiter, ns.status());
  if (req.operations_size() != 2 || !req.operations(0).has_start_workflow() || !req.operations(1).has_update_workflow()) {
    return ReplyNow(l, mu_, *waiter, InvalidArgument("Operations have to be exactly [Start, Update]."));
  }
  const auto& start = req.operations(0).start_workflow();
  wsv1::UpdateWorkflowExecutionRequest named;
  const auto& update = UpdateRegistry::WithUpdateId(req.operations(1).update_workflow(), &named);
  const std::string ns_id = ns.value()->info().id();
  StartFields f = starts_.FieldsFrom(start);
  // Each operation is validated on its own (Temporal's checks for Update-with-Start included); a
  // failure is reported per operation, the other one aborted.
  Status start_err = ValidateMultiOpStart(start, req.namespace_());
  if (start_err.ok()) start_err = starts_.Validate(f, ns_id);
  Status update_err = ValidateMultiOpUpdate(update, req.namespace_());
  if (update_err.ok()) update_err = updates_.Validate(update);
  if (start_err.ok() && update_err.ok() && start.workflow_id() != update.workflow_execution().workflow_id()) {
    update_err = InvalidArgument("WorkflowId is not consistent with previous operation(s).");
  }
  if (!start_err.ok() || !update_err.ok()) {
    return ReplyNow(l, mu_, *waiter,
                    MultiOperationError(start_err.ok() ? nullptr : &start_err, update_err.ok() ? nullptr : &update_err));
  }
  wsv1::ExecuteMultiOperationResponse* resp = waiter->response;
  auto* start_resp = resp->add_responses()->mutable_start_workflow();
  auto* update_resp = resp->add_responses()->mutable_update_workflow();
  Txn txn;
  IdConflict c = starts_.ResolveIdConflict(txn, f, ns_id, start.workflow_id_reuse_policy(),
                                           start.workflow_id_conflict_policy(), pre);
  if (!c.status.ok()) {
    Status err = MultiOperationError(&c.status, nullptr);
    if (!c.judged_on_undurable_close) return ReplyNow(l, mu_, *waiter, err);
    waiter->Complete(mu_);
    return engine_.ReplyWhenDurable([waiter](const Status& s) { waiter->finish(s); }, err);
  }
  Execution* ex = nullptr;
  if (c.existing) {
    // USE_EXISTING or a retried start: the run, if it is still in memory (open, or its close not
    // durable yet); a run closed before is Temporal's "already completed" for the update.
    ex = engine_.FindRun(c.existing->run_id);
    if (!ex) {
      Status closed = NotFound("workflow execution already completed");
      return ReplyNow(l, mu_, *waiter, MultiOperationError(nullptr, &closed));
    }
    start_resp->set_run_id(ex->st().run_id());
    start_resp->set_first_execution_run_id(ex->st().first_execution_run_id());
    start_resp->set_started(false);  // as Temporal's multioperation: an existing run, retried or not
    start_resp->set_status(ex->st().status());
  } else {
    ex = starts_.CreateRun(txn, ns_id, std::move(f), nullptr);
    start_resp->set_run_id(ex->st().run_id());
    start_resp->set_first_execution_run_id(ex->st().first_execution_run_id());
    start_resp->set_started(true);
    start_resp->set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  }
  Status err = updates_.Admit(txn, *ex, update, waiter, UpdateRegistry::FillInto(update_resp));
  if (!err.ok()) return ReplyNow(l, mu_, *waiter, MultiOperationError(nullptr, &err));
  // USE_EXISTING's on_conflict_options, once the update is admitted (Temporal's Starter).
  if (c.existing && !c.deduped && !c.deduped_attached && c.existing_open) starts_.AttachOnConflict(txn, *ex, start);
  host_.Commit(txn, nullptr);
}

}  // namespace temporalite::history
