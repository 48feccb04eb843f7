#include "history/errors.h"

#include <google/protobuf/any.pb.h>

#include "common/ids.h"
#include "common/log.h"
#include "temporal/api/errordetails/v1/message.pb.h"

namespace temporalite::history {

namespace edv1 = ::temporal::api::errordetails::v1;

namespace {
template <typename M>
std::string Pack(const M& m) {
  google::protobuf::Any any;
  any.PackFrom(m);
  return any.SerializeAsString();
}
}  // namespace

Status NamespaceNotFound(const std::string& name) {
  edv1::NamespaceNotFoundFailure f;
  f.set_namespace_(name);
  return Status(Code::kNotFound, "Namespace " + name + " is not found.", Pack(f));
}

Status NamespaceAlreadyExists(const std::string& name) {
  edv1::NamespaceAlreadyExistsFailure f;
  return Status(Code::kAlreadyExists, "Namespace already exists.", Pack(f));
}

Status WorkflowAlreadyStarted(const std::string& workflow_id, const std::string& start_request_id,
                              const std::string& run_id, const std::string& first_execution_run_id) {
  edv1::WorkflowExecutionAlreadyStartedFailure f;
  f.set_start_request_id(start_request_id);
  f.set_run_id(run_id);
  f.set_first_execution_run_id(first_execution_run_id);
  return Status(Code::kAlreadyExists,
                "Workflow execution is already running. WorkflowId: " + workflow_id + ", RunId: " + run_id + ".",
                Pack(f));
}

Status WorkflowNotFound(const std::string& workflow_id, const std::string& run_id) {
  edv1::NotFoundFailure f;
  std::string msg = "workflow execution not found for workflow ID \"" + workflow_id + "\"";
  if (!run_id.empty()) msg += " and run ID \"" + run_id + "\"";
  return Status(Code::kNotFound, msg, Pack(f));
}

Status WorkflowNotReady(const std::string& message) {
  edv1::WorkflowNotReadyFailure f;
  return Status(Code::kFailedPrecondition, message, Pack(f));
}

Status ResourceExhausted(const std::string& message, int cause, int scope) {
  edv1::ResourceExhaustedFailure f;
  f.set_cause(static_cast<::temporal::api::enums::v1::ResourceExhaustedCause>(cause));
  f.set_scope(static_cast<::temporal::api::enums::v1::ResourceExhaustedScope>(scope));
  return Status(Code::kResourceExhausted, message, Pack(f));
}

Status CheckIdLength(const std::string& id, const char* what, size_t max_length) {
  if (id.empty()) return InvalidArgument(std::string(what) + " is not set on request.");
  if (id.size() > max_length) {
    return InvalidArgument(std::string(what) + " exceeds length limit of " + std::to_string(max_length) + ".");
  }
  return Status::Ok();
}

Status CheckBlobSize(size_t bytes, const char* what, size_t error_limit, size_t warn_limit) {
  if (bytes > error_limit) {
    return InvalidArgument(std::string(what) + " size of " + std::to_string(bytes) + " bytes exceeds the limit of " +
                           std::to_string(error_limit) + " bytes");
  }
  if (bytes > warn_limit) TL_LOG_WARN("%s size %zu bytes exceeds the warning limit", what, bytes);
  return Status::Ok();
}

Status ValidateExecution(const temporal::api::common::v1::WorkflowExecution* execution) {
  if (execution == nullptr) return InvalidArgument("Execution is not set on request.");
  if (execution->workflow_id().empty()) return InvalidArgument("WorkflowId is not set on request.");
  if (!execution->run_id().empty() && !IsUuid(execution->run_id())) return InvalidArgument("Invalid RunId.");
  return Status::Ok();
}

}  // namespace temporalite::history
