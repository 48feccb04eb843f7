// Temporal's error details (temporal.api.errordetails.v1) packed into Status values.
#pragma once

#include <cstddef>
#include <string>

#include "common/status.h"
#include "temporal/api/common/v1/message.pb.h"

namespace temporalite::history {

Status NamespaceNotFound(const std::string& name);
Status NamespaceAlreadyExists(const std::string& name);
// ALREADY_EXISTS "Workflow execution is already running. ..." with a WorkflowExecutionAlreadyStartedFailure
// (Temporal's generateWorkflowAlreadyStartedError: the request id that started the current run, its
// run id and the first run id of its chain).
Status WorkflowAlreadyStarted(const std::string& workflow_id, const std::string& start_request_id,
                              const std::string& run_id, const std::string& first_execution_run_id = "");
Status WorkflowNotFound(const std::string& workflow_id, const std::string& run_id);
Status WorkflowNotReady(const std::string& message);
// RESOURCE_EXHAUSTED with a ResourceExhaustedFailure (cause/scope: temporal.api.enums.v1 values).
Status ResourceExhausted(const std::string& message, int cause, int scope);
// Request checks (INVALID_ARGUMENT): an id set and at most `max_length` bytes; a payload at most
// `error_limit` bytes (over `warn_limit` is logged).
Status CheckIdLength(const std::string& id, const char* what, size_t max_length);
Status CheckBlobSize(size_t bytes, const char* what, size_t error_limit, size_t warn_limit);
// Temporal's frontend validateExecution: the execution is set (null: not set), names a workflow
// id, and its run id, if any, is a UUID ("Invalid RunId.").
Status ValidateExecution(const temporal::api::common::v1::WorkflowExecution* execution);

}  // namespace temporalite::history
