// Where a reset by target goes (Temporal's batcher: getResetEventIDByOptions).
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/history/v1/message.pb.h"

namespace temporalite::history {

// The `workflow_task_finish_event_id` a reset to `options`' target uses in a run with `events`:
// first/last workflow task = the first/last WorkflowTaskCompleted, or, if none completed, the
// event after the first WorkflowTaskScheduled; an event id as given. INVALID_ARGUMENT when the
// run has no workflow task or the target is not one of these (build ids are not supported).
Result<int64_t> ResetPointOf(const std::vector<::temporal::api::history::v1::HistoryEvent>& events,
                             const ::temporal::api::common::v1::ResetOptions& options);

}  // namespace temporalite::history
