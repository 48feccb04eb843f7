// History replay: rebuilds a run's mutable state (state.proto ExecutionState) from its events.
// Used by ResetWorkflowExecution, whose new run starts from a copied prefix of the base run's
// history and must know what that prefix left pending: the workflow task, activities, timers,
// children, the signal count and request ids, search attributes and memo upserts, a cancel
// request. Pure: no engine, clock or store.
#pragma once

#include <vector>

#include "common/status.h"
#include "history/state.pb.h"
#include "temporal/api/history/v1/message.pb.h"

namespace temporalite::history {

// Applies `events` (ids 1..n, in order, starting with WorkflowExecutionStarted) to `st`, whose
// namespace_id / workflow_id / run_id the caller sets. Derived fields that depend on "now"
// (activity attempt schedule times, timer expiries) are taken from the event times. Events the
// mutable state does not track (markers, external-command results, updates) are skipped.
// Returns INVALID_ARGUMENT if the events are not a well-formed history prefix.
Status ReplayHistory(const std::vector<temporal::api::history::v1::HistoryEvent>& events, state::ExecutionState* st);

}  // namespace temporalite::history
