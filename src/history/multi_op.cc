#include "history/multi_op.h"

#include <google/protobuf/any.pb.h>

#include "temporal/api/errordetails/v1/message.pb.h"

namespace temporalite::history {

Status MultiOperationError(const Status* start, const Status* update) {
  ::temporal::api::errordetails::v1::MultiOperationExecutionFailure failure;
  Code code = Code::kAborted;
  bool have_code = false;
  for (const Status* s : {start, update}) {
    auto* op = failure.add_statuses();
    if (!s) {
      op->set_code(static_cast<int>(Code::kAborted));
      op->set_message("Operation was aborted.");
      continue;
    }
    op->set_code(static_cast<int>(s->code()));
    op->set_message(s->message());
    if (!s->details().empty()) op->add_details()->ParseFromString(s->details());
    if (!have_code && !s->ok()) {
      code = s->code();
      have_code = true;
    }
  }
  google::protobuf::Any any;
  any.PackFrom(failure);
  return Status(code, "Update-with-Start could not be executed.", any.SerializeAsString());
}

Status ValidateMultiOpStart(const ::temporal::api::workflowservice::v1::StartWorkflowExecutionRequest& start,
                            const std::string& request_namespace) {
  if (!start.namespace_().empty() && start.namespace_() != request_namespace) {
    return Status(Code::kInvalidArgument, "Operation namespace did not match request's namespace.");
  }
  if (!start.cron_schedule().empty()) return Status(Code::kInvalidArgument, "CronSchedule is not allowed.");
  if (start.request_eager_execution()) return Status(Code::kInvalidArgument, "RequestEagerExecution is not supported.");
  if (start.on_conflict_options().attach_completion_callbacks() && !start.on_conflict_options().attach_request_id()) {
    return Status(Code::kInvalidArgument, "attaching request ID is required for attaching completion callbacks");
  }
  const auto& d = start.workflow_start_delay();
  if (d.seconds() > 0 || d.nanos() > 0) return Status(Code::kInvalidArgument, "WorkflowStartDelay is not supported.");
  return Status::Ok();
}

Status ValidateMultiOpUpdate(const ::temporal::api::workflowservice::v1::UpdateWorkflowExecutionRequest& update,
                             const std::string& request_namespace) {
  if (!update.namespace_().empty() && update.namespace_() != request_namespace) {
    return Status(Code::kInvalidArgument, "Operation namespace did not match request's namespace.");
  }
  if (!update.first_execution_run_id().empty()) return Status(Code::kInvalidArgument, "FirstExecutionRunId is not allowed.");
  if (!update.workflow_execution().run_id().empty()) return Status(Code::kInvalidArgument, "RunId is not allowed.");
  return Status::Ok();
}

}  // namespace temporalite::history
