// Temporal's error details (temporal.api.errordetails.v1) packed into Status values.
#pragma once

#include <string>

#include "common/status.h"

namespace temporalite::history {

Status NamespaceNotFound(const std::string& name);
Status NamespaceAlreadyExists(const std::string& name);
Status WorkflowAlreadyStarted(const std::string& workflow_id, const std::string& start_request_id,
                              const std::string& run_id);
Status WorkflowNotFound(const std::string& workflow_id, const std::string& run_id);
Status WorkflowNotReady(const std::string& message);
// RESOURCE_EXHAUSTED with a ResourceExhaustedFailure (cause/scope: temporal.api.enums.v1 values).
Status ResourceExhausted(const std::string& message, int cause, int scope);

}  // namespace temporalite::history
