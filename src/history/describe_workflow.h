// DescribeWorkflowExecution's answer as a pure function of the run (the model: Temporal's
// service/history/api/describeworkflow/api.go): the execution info (times, status, history
// length and size, memo, search attributes, parent and root, priority), the execution config
// (task queue, the timeouts that are set, user metadata), the pending activities with their
// state, attempt, heartbeat and retry fields, the pending children and the pending workflow task.
// The engine finds the run (LookUpRun: memory, or the closed run's rows read without the engine
// mutex) and replies once what it describes is durable; this unit only reads.
#pragma once

#include <string>

#include "history/execution.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

// Fills `resp` from `ex`. `parent_namespace_id`: the id of the parent's namespace (the run stores
// its name), empty when unknown or without a parent.
void DescribeRun(const Execution& ex, const std::string& parent_namespace_id,
                 ::temporal::api::workflowservice::v1::DescribeWorkflowExecutionResponse* resp);

}  // namespace temporalite::history
