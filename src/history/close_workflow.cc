// The run-lifecycle RPCs unit (close_workflow.h): terminate, request-cancel and delete.
#include "history/close_workflow.h"

#include "history/errors.h"
#include "history/proto_time.h"
#include "history/reply_now.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

void CloseWorkflow::TerminateRun(Txn& txn, Execution& ex, const std::string& reason, const cv1::Payloads* details,
                                 const std::string& identity) {
  txn.Touch(&ex);
  host_.ForceCloseWorkflowTask(txn, ex, identity);
  auto* e = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, engine_.Now());
  auto* a = e->mutable_workflow_execution_terminated_event_attributes();
  a->set_reason(reason);
  if (details) *a->mutable_details() = *details;
  a->set_identity(identity);
  ex.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  host_.FinishClose(txn, ex, false);
}

Result<std::shared_ptr<Execution>> CloseWorkflow::Target(const std::string& ns_name,
                                                         const cv1::WorkflowExecution& target,
                                                         const Status& request_check) {
  return LookUpRun(host_, ns_name, target, /*with_events=*/false, [&] {
    return target.workflow_id().empty() ? InvalidArgument("WorkflowId is not set on request.") : request_check;
  });
}

void CloseWorkflow::Terminate(MutexLock& l, const wsv1::TerminateWorkflowExecutionRequest& req, Done done) {
  const auto& target = req.workflow_execution();
  auto r = Target(req.namespace_(), target,
                  CheckBlobSize(req.details().ByteSizeLong(), "Details", limits_.blob_size_limit_error,
                                limits_.blob_size_limit_warn));
  auto fail = [&](const Status& s) { ReplyNow(l, done, s); };
  if (!r.ok()) return fail(r.status());
  Execution& ex = *r.value();
  // Temporal tells a closed run apart from one that never existed (both NOT_FOUND).
  if (!ex.open()) return fail(NotFound("workflow execution already completed"));
  if (Status s = CheckSameChain(ex, target, req.first_execution_run_id()); !s.ok()) return fail(s);
  // A user's terminate with no reason or identity gets Temporal's frontend defaults
  // (workflow_handler.go defaultUserTerminateReason / defaultUserTerminateIdentity), which tell it
  // apart from the server's own terminations.
  static const std::string kDefaultReason = "terminated by user via frontend";
  static const std::string kDefaultIdentity = "frontend-service";
  Txn txn;
  TerminateRun(txn, ex, req.reason().empty() ? kDefaultReason : req.reason(),
               req.has_details() ? &req.details() : nullptr, req.identity().empty() ? kDefaultIdentity : req.identity());
  host_.Commit(txn, std::move(done));
}

void CloseWorkflow::RequestCancel(MutexLock& l, const wsv1::RequestCancelWorkflowExecutionRequest& req, Done done) {
  const auto& target = req.workflow_execution();
  auto r = Target(req.namespace_(), target);
  auto fail = [&](const Status& s) { ReplyNow(l, done, s); };
  if (!r.ok()) return fail(r.status());
  Execution& ex = *r.value();
  if (Status s = CheckSameChain(ex, target, req.first_execution_run_id()); !s.ok()) return fail(s);
  // Repeated requests and closed runs succeed without a new event (Temporal's behaviour).
  if (!ex.open() || ex.st().cancel_requested()) return engine_.ReplyWhenDurable(std::move(done), Status::Ok());
  Txn txn;
  txn.Touch(&ex);
  ex.RequestCancel();
  auto* a = ex.AddOrBufferEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, engine_.Now())
                ->mutable_workflow_execution_cancel_requested_event_attributes();
  a->set_cause(req.reason());
  a->set_identity(req.identity());
  if (!ex.wft_pending() && IsZero(ex.st().first_wft_due_time())) engine_.ScheduleWorkflowTask(txn, ex);
  host_.Commit(txn, std::move(done));
}

void CloseWorkflow::Delete(MutexLock& l, const wsv1::DeleteWorkflowExecutionRequest& req, Done done) {
  auto r = Target(req.namespace_(), req.workflow_execution());
  if (!r.ok()) return ReplyNow(l, done, r.status());
  Execution& ex = *r.value();
  Txn txn;
  // Temporal terminates a running execution before deleting it.
  if (ex.open()) TerminateRun(txn, ex, kDeleteReason, nullptr, kHistoryServiceIdentity);
  // Applied after the batch's upserts: the run, its events and a current pointer naming it go.
  txn.batch.delete_runs.push_back(ex.st().run_id());
  host_.Commit(txn, std::move(done));
}

}  // namespace temporalite::history
