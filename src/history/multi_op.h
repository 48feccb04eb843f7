// Temporal's error for a failed Update-with-Start (ExecuteMultiOperation): the code of the failed
// operation, message "Update-with-Start could not be executed.", and a MultiOperationExecutionFailure
// detail with one status per operation (the failed one as if it ran alone, the other ABORTED).
#pragma once

#include <string>

#include "common/status.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

// `start` / `update`: the operation's status; nullptr for an operation aborted because of the other.
Status MultiOperationError(const Status* start, const Status* update);

// Temporal's Update-with-Start-only checks of each operation (beyond the ones of a plain start or
// update): the same namespace; no cron schedule, eager execution or start delay; no run ids.
Status ValidateMultiOpStart(const ::temporal::api::workflowservice::v1::StartWorkflowExecutionRequest& start,
                            const std::string& request_namespace);
Status ValidateMultiOpUpdate(const ::temporal::api::workflowservice::v1::UpdateWorkflowExecutionRequest& update,
                             const std::string& request_namespace);

}  // namespace temporalite::history
