// Run chains as pure decisions: the next run of a workflow id after a workflow retry, a cron tick
// or continue-as-new (the model: Temporal's service/history/workflow/retry.go and the
// continue-as-new part of mutable_state_impl.go). The closing event names the new run
// (new_execution_run_id) and the new run is created in the same transaction (StartWorkflow's
// CreateRun), so a crash never leaves a chain half-made; these functions only decide.
// No engine state: the run, the time and the cron parser come in as arguments.
#pragma once

#include <optional>

#include "common/clock.h"
#include "history/execution.h"
#include "history/start_workflow.h"
#include "temporal/api/command/v1/message.pb.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/enums/v1/workflow.pb.h"
#include "temporal/api/failure/v1/message.pb.h"

namespace temporalite::history {

// What every next run of `ex`'s chain inherits: the first event's type, task queue, input,
// timeouts, retry policy, cron schedule, header, identity, parent and root, priority; the run's
// memo, search attributes and execution deadline; attempt 1, and a new time-ordered run id at
// `now`.
StartFields NextRunBase(const Execution& ex, TimePoint now);

// Temporal's workflow retry decision after a failure (or a run timeout: `failure` null): the
// retry policy of the first event with Temporal's defaults (initial interval 1 s, coefficient 2,
// maximum interval 100x the initial), non-retryable failures (ApplicationFailure non_retryable or
// of a non-retryable type, cancellation, termination), maximum attempts, next_retry_delay, and the
// execution deadline. Fills `next` (attempt + 1, initiator RETRY, the failure as
// continued_failure, the backoff as first_workflow_task_backoff) only when it answers
// RETRY_STATE_IN_PROGRESS.
temporal::api::enums::v1::RetryState NextRunAfterFailure(const Execution& ex,
                                                         const temporal::api::failure::v1::Failure* failure,
                                                         TimePoint now, std::optional<StartFields>* next);

// The cron schedule's next run after a close (result or failure passed on), waiting until the next
// fire time after `now`; none without a cron schedule or parser, when the schedule never fires
// again, or when it would fire after the execution deadline.
std::optional<StartFields> CronNextRun(const Execution& ex, TimePoint now, const NextCronTimeFn& next_cron,
                                       const temporal::api::common::v1::Payloads* result,
                                       const temporal::api::failure::v1::Failure* failure);

// A run timeout's next run: a retry if the policy allows one, else the cron schedule's next run.
// The retry state is the one the timed-out event records.
temporal::api::enums::v1::RetryState NextRunAfterTimeout(const Execution& ex, TimePoint now,
                                                         const NextCronTimeFn& next_cron,
                                                         std::optional<StartFields>* next);

// The run a ContinueAsNewWorkflowExecution command asks for: the chain's base overridden by the
// command's fields that are set (an empty workflow type or task queue keeps the run's), initiator
// WORKFLOW unless the command names one, backoff_start_interval as the first task's backoff.
StartFields ContinueAsNewRun(const Execution& ex, TimePoint now,
                             const temporal::api::command::v1::ContinueAsNewWorkflowExecutionCommandAttributes& c);

}  // namespace temporalite::history
