// Temporal's limits on a workflow's updates (its update registry): at most
// history.maxInFlightUpdates admitted or accepted, not yet completed updates (RESOURCE_EXHAUSTED,
// cause CONCURRENT_LIMIT), and at most history.maxTotalUpdates distinct updates per run, counting
// the completed ones (FAILED_PRECONDITION). Rejected updates leave no trace and do not count.
#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"

namespace temporalite::history {

Status Engine::CheckUpdateLimitsLocked(const Execution& ex) const {
  // Admitted, not yet accepted (in memory) plus accepted ones from history; accepted and not
  // completed are in flight.
  int64_t accepted = 0, completed = 0;
  for (const auto& e : ex.events) {
    if (e.has_workflow_execution_update_accepted_event_attributes()) ++accepted;
    if (e.has_workflow_execution_update_completed_event_attributes()) ++completed;
  }
  const int64_t admitted = static_cast<int64_t>(ex.admitted_updates.size());
  const int64_t in_flight = admitted + accepted - completed;
  const int64_t max_in_flight = options_.max_in_flight_updates;
  if (max_in_flight > 0 && in_flight >= max_in_flight) {
    return ResourceExhausted("limit on number of concurrent in-flight updates has been reached (" +
                                 std::to_string(max_in_flight) + ")",
                             ev1::RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT, ev1::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  }
  const int64_t max_total = options_.max_total_updates;
  if (max_total > 0 && admitted + accepted >= max_total) {
    return Status(Code::kFailedPrecondition,
                  "The limit on the total number of distinct updates in this workflow has been reached (" +
                      std::to_string(max_total) +
                      "). Make sure any duplicate updates share an Update ID so the server can deduplicate them, and "
                      "consider rejecting updates that you aren't going to process. You can also Continue-as-New to "
                      "avoid this; we recommend you check Continue-as-New Suggested in your Workflow.");
  }
  return Status::Ok();
}

}  // namespace temporalite::history
