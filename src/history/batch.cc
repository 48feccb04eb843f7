// StartBatchOperation: the workflows a visibility query (or an execution list) selects get the
// operation, each through the engine's normal RPC path (its own transition and commit).
#include <atomic>
#include <memory>

#include "common/log.h"
#include "history/engine.h"
#include "history/errors.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;
namespace wfv1 = ::temporal::api::workflow::v1;

void Engine::StartBatchOperation(const wsv1::StartBatchOperationRequest& req, Done done) {
  // Temporal's validation order and wording (batcher.ValidateBatchOperation).
  const bool has_query = !req.visibility_query().empty();
  const bool has_execs = req.executions_size() > 0;
  if (req.operation_case() == wsv1::StartBatchOperationRequest::OPERATION_NOT_SET || req.reason().empty() ||
      req.namespace_().empty() || (!has_query && !has_execs)) {
    return done(InvalidArgument(
        "must provide required parameters: BatchType,Reason,Namespace, AND one of (Query OR Executions OR TargetExecutions)"));
  }
  if (req.job_id().empty()) return done(InvalidArgument("JobId is not set on request."));
  if (has_query && has_execs) {
    return done(InvalidArgument("visibility query, executions, and target executions are mutually exclusive"));
  }
  switch (req.operation_case()) {
    case wsv1::StartBatchOperationRequest::kTerminationOperation:
    case wsv1::StartBatchOperationRequest::kCancellationOperation:
    case wsv1::StartBatchOperationRequest::kSignalOperation:
    case wsv1::StartBatchOperationRequest::kDeletionOperation:
      break;
    default:
      return done(Status(Code::kUnimplemented, "this batch operation type is not supported by this server"));
  }

  // Targets: every page of the query (or the given executions).
  std::vector<cv1::WorkflowExecution> targets;
  if (has_execs) {
    targets.assign(req.executions().begin(), req.executions().end());
  } else {
    std::string token;
    do {
      google::protobuf::RepeatedPtrField<wfv1::WorkflowExecutionInfo> page;
      std::string next;
      std::unique_lock<std::mutex> l(mu_);
      Status s = ListLocked(l, {req.namespace_(), req.visibility_query(), 0, token}, &page, &next);
      if (l.owns_lock()) l.unlock();
      if (!s.ok()) return done(s);
      for (const auto& info : page) targets.push_back(info.execution());
      token = next;
    } while (!token.empty());
  }
  TL_LOG_INFO("batch %s: %s on %zu workflows", req.job_id().c_str(),
              req.has_termination_operation()   ? "terminate"
              : req.has_cancellation_operation() ? "cancel"
              : req.has_signal_operation()       ? "signal"
                                                 : "delete",
              targets.size());
  if (targets.empty()) return done(Status::Ok());

  // Reply once every operation finished (each is durable before its callback).
  struct Pending {
    std::atomic<size_t> left;
    Done done;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = targets.size();
  pending->done = std::move(done);
  auto one_done = [pending, job = req.job_id()](const Status& s) {
    if (!s.ok()) TL_LOG_DEBUG("batch %s: one workflow skipped: %s", job.c_str(), s.ToString().c_str());
    if (pending->left.fetch_sub(1) == 1) pending->done(Status::Ok());
  };
  for (const auto& ex : targets) {
    if (req.has_termination_operation()) {
      wsv1::TerminateWorkflowExecutionRequest r;
      r.set_namespace_(req.namespace_());
      *r.mutable_workflow_execution() = ex;
      r.set_reason(req.reason());
      r.set_identity(req.termination_operation().identity());
      TerminateWorkflowExecution(r, one_done);
    } else if (req.has_cancellation_operation()) {
      wsv1::RequestCancelWorkflowExecutionRequest r;
      r.set_namespace_(req.namespace_());
      *r.mutable_workflow_execution() = ex;
      r.set_reason(req.reason());
      r.set_identity(req.cancellation_operation().identity());
      r.set_request_id(req.job_id() + "/" + ex.run_id());
      RequestCancelWorkflowExecution(r, one_done);
    } else if (req.has_signal_operation()) {
      const auto& op = req.signal_operation();
      wsv1::SignalWorkflowExecutionRequest r;
      r.set_namespace_(req.namespace_());
      *r.mutable_workflow_execution() = ex;
      r.set_signal_name(op.signal());
      if (op.has_input()) *r.mutable_input() = op.input();
      if (op.has_header()) *r.mutable_header() = op.header();
      r.set_identity(op.identity());
      r.set_request_id(req.job_id() + "/" + ex.run_id());
      SignalWorkflowExecution(r, one_done);
    } else {
      wsv1::DeleteWorkflowExecutionRequest r;
      r.set_namespace_(req.namespace_());
      *r.mutable_workflow_execution() = ex;
      DeleteWorkflowExecution(r, one_done);
    }
  }
}

}  // namespace temporalite::history
