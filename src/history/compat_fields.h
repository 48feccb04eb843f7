// Fields Temporal records beside the core of an execution: the start event's user metadata
// (summary and details) and the execution's priority, kept in the mutable state so describe reads
// them without the history; priorities merged the way Temporal's server merges them (an
// activity's or a child's own priority fields win, the workflow's fill the unset ones).
#pragma once

#include "common/status.h"
#include "history/state.pb.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/history/v1/message.pb.h"
#include "temporal/api/sdk/v1/user_metadata.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

// Field by field: `override`'s non-zero fields, else `base`'s. Either may be absent (nullptr);
// the result is absent (returns false) only when both are.
bool MergePriority(const ::temporal::api::common::v1::Priority* base,
                   const ::temporal::api::common::v1::Priority* override,
                   ::temporal::api::common::v1::Priority* out);

// Temporal's priority validation: a negative priority key, a fairness key over 64 bytes or a
// negative fairness weight is INVALID_ARGUMENT.
Status ValidatePriority(const ::temporal::api::common::v1::Priority& p);

inline bool HasUserMetadata(const ::temporal::api::sdk::v1::UserMetadata& m) {
  return m.has_summary() || m.has_details();
}

// A new run: its started event carries the start's user metadata (event-level, as in Temporal),
// and the mutable state keeps it and the run's priority for describe.
void RecordStartExtras(const ::temporal::api::sdk::v1::UserMetadata& metadata,
                       ::temporal::api::history::v1::HistoryEvent* started, state::ExecutionState* st);

// Temporal's continue-as-new suggestion on WorkflowTaskStarted: the history (its persisted size
// in bytes, already in `a`; its event count, the started event's own id) at or past a limit, or
// the run's updates past their share of the total (`too_many_updates`, update_limits.h).
void SuggestContinueAsNew(int64_t event_count, int64_t count_limit, int64_t size_limit, bool too_many_updates,
                          ::temporal::api::history::v1::WorkflowTaskStartedEventAttributes* a);

// The same mutable-state fields rebuilt from a started event (replay of a history prefix).
void ExtrasFromStartedEvent(const ::temporal::api::history::v1::HistoryEvent& started, state::ExecutionState* st);

// Temporal's BuildIds search attribute after a completed workflow task (unversioned workers; this
// server has no worker versioning): the "unversioned" marker first, then every build id seen as
// "unversioned:<id>" (or "versioned:<id>"), each once. `stamp`: the task's recorded worker version,
// or nullptr. Returns whether the attribute changed.
bool UpdateBuildIds(const ::temporal::api::common::v1::WorkerVersionStamp* stamp,
                    ::temporal::api::common::v1::SearchAttributes* attrs);

// Describe: execution_config.user_metadata and workflow_execution_info.priority.
void FillDescribeExtras(const state::ExecutionState& st,
                        ::temporal::api::workflowservice::v1::DescribeWorkflowExecutionResponse* resp);

}  // namespace temporalite::history
