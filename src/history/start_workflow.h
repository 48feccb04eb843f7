// StartWorkflowExecution's decisions as a unit of its own (the model: Temporal's
// service/history/api/startworkflow/api.go with api/create_workflow_util.go's
// ResolveDuplicateWorkflowID), pure functions the engine calls under its mutex:
// - the new run's fields from a request: one home for the fields StartWorkflowExecution and
//   SignalWithStartWorkflowExecution share (so neither start path drops one the other keeps), the
//   start delay or the cron schedule's first wait as the first workflow task's backoff;
// - the request's checks (ids, durations, payload sizes, search attributes, priority, retry
//   policy, cron schedule);
// - the id-conflict decision: given the workflow id's current run (open or closed, its status,
//   its start request id) and the reuse / conflict policies, reject (ALREADY_EXISTS with a
//   WorkflowExecutionAlreadyStartedFailure), answer with the existing run (request-id dedupe, or
//   USE_EXISTING), terminate the open run and start, or start a new run.
// The engine finds the current run (memory, or a store read made before its mutex: start.cc,
// run_reads.cc), applies the decision and creates the run (CreateRunLocked).
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "temporal/api/enums/v1/workflow.pb.h"
#include "temporal/api/history/v1/message.pb.h"
#include "temporal/api/sdk/v1/user_metadata.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"
#include "visibility/search_attributes.h"

namespace temporalite::history {

// A run to create (a start, a child, a retry, a cron run, continue-as-new).
struct StartFields {
  std::string workflow_id;
  std::string request_id;
  std::string run_id;  // empty: generate
  // Becomes event 1. first_workflow_task_backoff = start delay; workflow_execution_expiration_time
  // set = inherited deadline of the chain.
  ::temporal::api::history::v1::WorkflowExecutionStartedEventAttributes attrs;
  ::temporal::api::sdk::v1::UserMetadata user_metadata;  // event-level in Temporal (compat_fields.h)
};

// The next fire time of a cron string strictly after `after` (TimePoint::max() if none); null when
// the server has no cron parser (cron starts are then refused).
using NextCronTimeFn = std::function<TimePoint(const std::string& cron, TimePoint after)>;

// The new run's fields from the request, at `now`: type, queue, input, the timeouts that are set
// (an unset one stays unset, as in Temporal), identity, retry policy, cron, memo, search
// attributes, header, priority, user metadata; a start delay, or without one the wait until the
// cron schedule's first fire time (whole seconds), as the first workflow task's backoff.
// StartWorkflowExecution's also keeps continued_failure and last_completion_result.
StartFields StartFieldsFrom(const ::temporal::api::workflowservice::v1::StartWorkflowExecutionRequest& req,
                            TimePoint now, const NextCronTimeFn& next_cron);
StartFields StartFieldsFrom(const ::temporal::api::workflowservice::v1::SignalWithStartWorkflowExecutionRequest& req,
                            TimePoint now, const NextCronTimeFn& next_cron);

struct StartLimits {
  size_t max_id_length = 1000;
  size_t blob_size_limit_error = 2 * 1024 * 1024;
  size_t blob_size_limit_warn = 512 * 1024;
};
// The start's checks, INVALID_ARGUMENT with Temporal's messages (UNIMPLEMENTED for a cron schedule
// without `next_cron`); `custom` is the namespace's custom search attributes.
Status ValidateStart(const StartFields& f, const StartLimits& limits, const visibility::TypeMap& custom,
                     const NextCronTimeFn& next_cron, TimePoint now);

// The workflow id's current run, as the id-conflict decision sees it.
struct CurrentRun {
  bool open = false;  // running; else closed with `status`
  ::temporal::api::enums::v1::WorkflowExecutionStatus status{};
  std::string run_id;
  std::string start_request_id;
};

struct StartDecision {
  enum class Action {
    kStartNew,           // no conflict: create the run
    kUseExisting,        // answer with the current run, start nothing
    kTerminateAndStart,  // terminate the open current run (kTerminateExistingReason), then create
    kReject,             // answer `rejection`
  };
  Action action = Action::kStartNew;
  bool deduped = false;  // kUseExisting because the current run was started by this request id
  Status rejection;      // kReject: ALREADY_EXISTS with a WorkflowExecutionAlreadyStartedFailure
};

// The termination reason of a run a start replaces (TERMINATE_EXISTING / TERMINATE_IF_RUNNING).
inline constexpr char kTerminateExistingReason[] = "TerminateIfRunning WorkflowIdReusePolicy Policy";

// Temporal's resolution of a duplicate workflow id. `current` null: the id has no run. A request id
// that started the current run, open or closed, answers with it (a client's retry). An open run:
// the conflict policy (USE_EXISTING answers with it; TERMINATE_EXISTING, or the reuse policy
// TERMINATE_IF_RUNNING, terminates it; FAIL or unspecified rejects: "already running"). A closed
// run: the reuse policy (REJECT_DUPLICATE rejects; ALLOW_DUPLICATE_FAILED_ONLY rejects unless the
// run failed, was terminated, canceled or timed out; ALLOW_DUPLICATE, TERMINATE_IF_RUNNING or
// unspecified start a new run).
StartDecision DecideStart(const std::string& workflow_id, const std::string& request_id, const CurrentRun* current,
                          ::temporal::api::enums::v1::WorkflowIdReusePolicy reuse,
                          ::temporal::api::enums::v1::WorkflowIdConflictPolicy conflict);

}  // namespace temporalite::history
