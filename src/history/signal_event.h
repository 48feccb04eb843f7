// The state a signal leaves in a run, in one place for every writer of it: SignalWorkflow's
// delivery (signal_workflow.h), the signal SignalWithStart puts in the run it creates (start.cc),
// the signals a reset applies to its new run (reset_workflow.cc) and replay (replay.cc). Defined in signal_workflow.cc. Kept out of signal_workflow.h so that
// these callers do not depend on the unit's interface (engine.h includes it).
#pragma once

#include <string>

#include "history/execution.h"
#include "history/state.pb.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/history/v1/message.pb.h"

namespace temporalite::history {

// Remembers a signal's request id for dedupe (an empty one is not remembered): at most
// SignalWorkflow::kMaxRememberedSignalRequestIds, the oldest dropped.
void RememberSignalRequestId(state::ExecutionState& st, const std::string& request_id);

// Appends (or buffers, while a workflow task runs) a WorkflowExecutionSignaled to `ex`, counts the
// signal and remembers its request id. No dedupe, limit or workflow task here: the caller's.
// Returns the event (in history or buffered).
::temporal::api::history::v1::HistoryEvent* AppendSignal(Execution& ex, TimePoint now, const std::string& name,
                  const ::temporal::api::common::v1::Payloads& input, const ::temporal::api::common::v1::Header& header,
                  const std::string& identity, const std::string& request_id,
                  const ::temporal::api::common::v1::WorkflowExecution* external);

// A WorkflowExecutionSignaled of another run applied again to `ex`: a reset's re-applied signals
// (Temporal's reapplyEvents: AddWorkflowExecutionSignaled with the event's name, input, identity,
// header, request id and links; the signalling workflow is not carried over). Appended as
// AppendSignal does: counted, and its request id remembered (bounded), so a client's retry of
// that signal to the new run is a duplicate, as in replay; Temporal remembers it when it tracks
// signal request ids on the event (history.enableCHASMSignalBacklinks). Neither the signal limit
// nor dedupe: Temporal applies neither when it re-applies (its limit is the signal RPC's check).
void ReapplySignal(Execution& ex, TimePoint now, const ::temporal::api::history::v1::HistoryEvent& signaled);

}  // namespace temporalite::history
