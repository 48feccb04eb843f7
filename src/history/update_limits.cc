// Counting a run's distinct updates (update_limits.h). The admission limits themselves are
// UpdateRegistry::CheckLimits (update_registry.cc).
#include "history/update_limits.h"

#include <cmath>

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

}  // namespace temporalite::history
