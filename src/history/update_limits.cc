// Temporal's limits on a workflow's updates (its update registry): at most
// history.maxInFlightUpdates admitted or accepted, not yet completed updates (RESOURCE_EXHAUSTED,
// cause CONCURRENT_LIMIT), and at most history.maxTotalUpdates distinct updates per run, counting
// the completed ones (FAILED_PRECONDITION). Rejected updates leave no trace and do not count.
// history.maxInFlightUpdatePayloads bounds the bytes of the in-flight updates: Temporal sizes its
// registry as, per update, its id (map key and field) plus its request's encoded size (and the
// acceptance/outcome once known; an in-flight update has no outcome), and refuses a request when
// that size plus the new request's reaches the limit (RESOURCE_EXHAUSTED, CONCURRENT_LIMIT).
#include "history/update_limits.h"

#include <cmath>
#include <map>

#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"

namespace temporalite::history {

int64_t DistinctUpdates(Execution& ex) {
  if (ex.accepted_scan_end > ex.events.size()) {  // the events were replaced: count again
    ex.accepted_scan_end = 0;
    ex.accepted_updates = 0;
  }
  for (; ex.accepted_scan_end < ex.events.size(); ++ex.accepted_scan_end) {
    if (ex.events[ex.accepted_scan_end].has_workflow_execution_update_accepted_event_attributes()) ++ex.accepted_updates;
  }
  return ex.accepted_updates + static_cast<int64_t>(ex.admitted_updates.size());
}

bool TooManyUpdatesForSuggestion(Execution& ex, int64_t max_total, double threshold) {
  const auto at = static_cast<int64_t>(std::ceil(static_cast<double>(max_total) * threshold));
  if (at <= 0) return false;
  return DistinctUpdates(ex) >= at;
}

Status Engine::CheckUpdateLimitsLocked(const Execution& ex, const temporal::api::update::v1::Request& incoming) const {
  // Admitted, not yet accepted (in memory) plus accepted ones from history; accepted and not
  // completed are in flight.
  int64_t accepted = 0, completed = 0;
  std::map<std::string, int64_t> accepted_bytes;  // accepted, not completed: id -> registry size
  for (const auto& e : ex.events) {
    if (e.has_workflow_execution_update_accepted_event_attributes()) {
      ++accepted;
      const auto& a = e.workflow_execution_update_accepted_event_attributes();
      const std::string& id = a.accepted_request().meta().update_id();
      accepted_bytes[id] = static_cast<int64_t>(2 * id.size() + a.accepted_request().ByteSizeLong());
    }
    if (e.has_workflow_execution_update_completed_event_attributes()) {
      ++completed;
      accepted_bytes.erase(e.workflow_execution_update_completed_event_attributes().meta().update_id());
    }
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
  const int64_t max_bytes = options_.max_in_flight_update_payloads;
  if (max_bytes > 0) {
    int64_t bytes = 0;
    for (const auto& [id, size] : accepted_bytes) bytes += size;
    for (const std::string& id : ex.admitted_updates) {
      auto it = updates_.find(ex.st.run_id() + "/" + id);
      bytes += static_cast<int64_t>(2 * id.size()) +
               (it != updates_.end() ? static_cast<int64_t>(it->second->request.ByteSizeLong()) : 0);
    }
    if (bytes + static_cast<int64_t>(incoming.ByteSizeLong()) >= max_bytes) {
      return ResourceExhausted("limit on total payload size of in-flight updates has been reached (" +
                                   std::to_string(max_bytes) + " bytes)",
                               ev1::RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT, ev1::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
    }
  }
  return Status::Ok();
}

}  // namespace temporalite::history
