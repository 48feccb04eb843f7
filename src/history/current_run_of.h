// The CurrentRun (start_workflow.h) a start sees of a run's stored state: one home for the
// engine's CurrentRunForStart and the start unit's test engine.
#pragma once

#include "common/proto_time.h"
#include "history/start_workflow.h"
#include "history/state.pb.h"

namespace temporalite::history {

inline CurrentRun CurrentRunOf(const state::ExecutionState& st, bool open) {
  return CurrentRun{.open = open,
                    .status = st.status(),
                    .run_id = st.run_id(),
                    .start_request_id = st.start_request_id(),
                    .first_execution_run_id = st.first_execution_run_id(),
                    .start_time = FromProto(st.start_time()),
                    .attached_request_ids = {st.attached_request_ids().begin(), st.attached_request_ids().end()}};
}

}  // namespace temporalite::history
