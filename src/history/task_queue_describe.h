// DescribeTaskQueue's answer for one task queue of one type as a function of matching's view of
// it (its recent pollers, its backlog and rates) and of which backlog entries are still live.
// The engine's entry point (task_queue_describe.cc) finds the queue under the engine mutex and
// judges each backlog entry against mutable state as a poll would.
#pragma once

#include <functional>
#include <optional>

#include "common/clock.h"
#include "matching/task_queues.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

// When a backlog task was scheduled (its current attempt's, for an activity), or nullopt when the
// entry is stale: started elsewhere, timed out, or moved. Stale entries are not counted.
using BacklogTaskSince = std::function<std::optional<TimePoint>(const matching::PendingTask&)>;

// The pollers seen within Temporal's 5 minutes (older ones are forgotten: erased from `q`), each
// with its rate (100,000, Temporal's, when it set none); with report_stats the live backlog's
// count and age and the add and dispatch rates; with include_task_queue_status the legacy status;
// with report_config an empty config (this server has no per-queue rate limits or fairness).
// Legacy query tasks are not backlog. `q` null: a queue never used (no pollers, no backlog).
void DescribeQueue(matching::QueueState* q, const ::temporal::api::workflowservice::v1::DescribeTaskQueueRequest& req,
                   TimePoint now, const BacklogTaskSince& since,
                   ::temporal::api::workflowservice::v1::DescribeTaskQueueResponse* resp);

}  // namespace temporalite::history
