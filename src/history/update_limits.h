// Counting a run's updates the way Temporal's update registry does (admitted, accepted and
// completed ones; rejected ones leave no trace), for its limits and its continue-as-new suggestion.
#pragma once

#include <cstdint>

#include "history/execution.h"

namespace temporalite::history {

// Distinct updates of the run: admitted (in memory, not yet accepted or rejected) plus accepted
// ones (UpdateAccepted events, completed or not). Counts the events appended since the last call
// only (Execution::accepted_scan_end), so a call per workflow task costs O(new events).
int64_t DistinctUpdates(Execution& ex);

// Temporal's update registry SuggestContinueAsNew: the distinct updates reach
// ceil(max_total * threshold). A zero limit or threshold turns it off.
bool TooManyUpdatesForSuggestion(Execution& ex, int64_t max_total, double threshold);

}  // namespace temporalite::history
