// The update RPCs' entry points (UpdateWorkflowExecution, PollWorkflowExecutionUpdate,
// update-with-start): the namespace and run lookups and the transaction; the update logic itself
// is the UpdateRegistry unit (update_registry.h).
#include "common/ids.h"
#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/multi_op.h"
#include "history/run_lookup.h"
#include "history/update_registry.h"

namespace temporalite::history {

void Engine::UpdateWorkflowExecution(const wsv1::UpdateWorkflowExecutionRequest& request,
                                     Waiting<wsv1::UpdateWorkflowExecutionResponse> waiter) {
  wsv1::UpdateWorkflowExecutionRequest named;
  const wsv1::UpdateWorkflowExecutionRequest& req = UpdateRegistry::WithUpdateId(request, &named);
  MutexLock l(mu_);
  auto fail = [&](Status s) { ReplyNow(l, *waiter, s); };
  auto r = LookUpRun(*this, req.namespace_(), req.workflow_execution(), /*with_events=*/true, [&] {
    mu_.AssertHeld();  // LookUpRun calls it under the lock above
    return updates_.Validate(req);
  });
  if (!r.ok()) return fail(r.status());
  std::shared_ptr<Execution> ex = r.value();
  if (Status s = CheckSameChain(*ex, req.workflow_execution(), req.first_execution_run_id()); !s.ok()) return fail(s);
  if (Status held = CheckHistoryHeld(*ex, "UpdateWorkflowExecution"); !held.ok()) return fail(held);
  Txn txn;
  Status err = updates_.Admit(txn, *ex, req, waiter, UpdateRegistry::FillInto(waiter->response));
  if (!err.ok()) return fail(err);
  if (!txn.touched.empty()) CommitLocked(txn, nullptr);
}

void Engine::PollWorkflowExecutionUpdate(const wsv1::PollWorkflowExecutionUpdateRequest& req,
                                         Waiting<wsv1::PollWorkflowExecutionUpdateResponse> waiter) {
  MutexLock l(mu_);
  auto fail = [&](Status s) { ReplyNow(l, *waiter, s); };
  const auto& ref = req.update_ref();
  auto r = LookUpRun(*this, req.namespace_(), ref.workflow_execution(), /*with_events=*/true, [&] {
    return ref.update_id().empty() ? InvalidArgument("UpdateId is not set on request.") : Status::Ok();
  });
  if (!r.ok()) return fail(r.status());
  std::shared_ptr<Execution> ex = r.value();
  if (Status held = CheckHistoryHeld(*ex, "PollWorkflowExecutionUpdate"); !held.ok()) return fail(held);
  Status err = updates_.Poll(*ex, ref.update_id(), req.wait_policy().lifecycle_stage(), waiter,
                             UpdateRegistry::FillInto(waiter->response));
  if (!err.ok()) return fail(err);
}

void Engine::ExecuteMultiOperation(const wsv1::ExecuteMultiOperationRequest& req,
                                   Waiting<wsv1::ExecuteMultiOperationResponse> waiter) {
  // The id-conflict check's store read without the mutex (as StartWorkflowExecution).
  CurrentRunRead pre;
  if (req.operations_size() > 0 && req.operations(0).has_start_workflow()) {
    pre = ReadCurrentRun(req.namespace_(), req.operations(0).start_workflow().workflow_id());
  }
  MutexLock l(mu_);
  if (req.operations_size() > 0 && req.operations(0).has_start_workflow()) {
    RereadCurrentRunIfStaleLocked(&pre, req.namespace_(), req.operations(0).start_workflow().workflow_id());
  }
  auto fail = [&](Status s) { ReplyNow(l, *waiter, s); };
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  if (req.operations_size() != 2 || !req.operations(0).has_start_workflow() || !req.operations(1).has_update_workflow()) {
    return fail(InvalidArgument("Operations have to be exactly [Start, Update]."));
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
    return fail(MultiOperationError(start_err.ok() ? nullptr : &start_err, update_err.ok() ? nullptr : &update_err));
  }
  wsv1::ExecuteMultiOperationResponse* resp = waiter->response;
  auto* start_resp = resp->add_responses()->mutable_start_workflow();
  auto* update_resp = resp->add_responses()->mutable_update_workflow();
  Txn txn;
  IdConflict c = starts_.ResolveIdConflict(txn, f, ns_id, start.workflow_id_reuse_policy(),
                                           start.workflow_id_conflict_policy(), &pre);
  if (!c.status.ok()) {
    Status err = MultiOperationError(&c.status, nullptr);
    if (!c.judged_on_undurable_close) return fail(err);
    waiter->Complete(mu_);
    return ReplyWhenDurableLocked([waiter](const Status& s) { waiter->finish(s); }, err);
  }
  Execution* ex = nullptr;
  if (c.existing) {
    auto it = runs_.find(c.existing->run_id);
    if (it == runs_.end()) {
      Status closed = NotFound("workflow execution already completed");
      return fail(MultiOperationError(nullptr, &closed));
    }
    ex = it->second.get();
    start_resp->set_run_id(ex->st().run_id());
    start_resp->set_first_execution_run_id(ex->st().first_execution_run_id());
    start_resp->set_started(false);
    start_resp->set_status(ex->st().status());
  } else {
    ex = starts_.CreateRun(txn, ns_id, std::move(f), nullptr);
    start_resp->set_run_id(ex->st().run_id());
    start_resp->set_first_execution_run_id(ex->st().first_execution_run_id());
    start_resp->set_started(true);
    start_resp->set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  }
  Status err = updates_.Admit(txn, *ex, update, waiter, UpdateRegistry::FillInto(update_resp));
  if (!err.ok()) return fail(MultiOperationError(nullptr, &err));
  // USE_EXISTING's on_conflict_options, once the update is admitted (Temporal's Starter).
  if (c.existing && !c.deduped && !c.deduped_attached && c.existing_open) starts_.AttachOnConflict(txn, *ex, start);
  CommitLocked(txn, nullptr);
}

}  // namespace temporalite::history
