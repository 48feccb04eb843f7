// Where a reset by target goes (Temporal's batcher: getResetEventIDByOptions).
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/history/v1/message.pb.h"
#include "temporal/api/workflow/v1/message.pb.h"

namespace temporalite::history {

// The `workflow_task_finish_event_id` a reset to `options`' target uses in a run with `events`:
// first/last workflow task = the first/last WorkflowTaskCompleted, or, if none completed, the
// event after the first WorkflowTaskScheduled; an event id as given. INVALID_ARGUMENT when the
// run has no workflow task or the target is not one of these (build ids are not supported).
Result<int64_t> ResetPointOf(const std::vector<::temporal::api::history::v1::HistoryEvent>& events,
                             const ::temporal::api::common::v1::ResetOptions& options);

// Temporal's checks of ResetWorkflowExecutionRequest.post_reset_operations (also a batch reset's):
// a signal needs a name within `max_name_length`; an operation without a variant is
// INVALID_ARGUMENT ("unsupported post reset operation: <nil>"); update_workflow_options is UNIMPLEMENTED here (it sets worker-versioning
// overrides, which this server does not keep).
Status ValidatePostResetOperations(
    const google::protobuf::RepeatedPtrField<::temporal::api::workflow::v1::PostResetOperation>& ops,
    size_t max_name_length);

}  // namespace temporalite::history
