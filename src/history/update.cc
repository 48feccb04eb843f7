// The update RPCs' entry points (UpdateWorkflowExecution, PollWorkflowExecutionUpdate,
// update-with-start): the namespace and run lookups and the transaction; the update logic itself
// is the UpdateRegistry unit (update_registry.h), update-with-start the UpdateWithStart unit
// (update_with_start.h).
#include "common/ids.h"
#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"
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
  const bool has_start = req.operations_size() > 0 && req.operations(0).has_start_workflow();
  const std::string workflow_id = has_start ? req.operations(0).start_workflow().workflow_id() : std::string();
  CurrentRunRead pre;
  if (has_start) pre = ReadCurrentRun(req.namespace_(), workflow_id);
  MutexLock l(mu_);
  if (has_start) RereadCurrentRunIfStaleLocked(&pre, req.namespace_(), workflow_id);
  update_with_start_.Execute(l, req, std::move(waiter), &pre);
}

}  // namespace temporalite::history
