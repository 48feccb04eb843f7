// The ListSchedules `query`: Temporal's list filter language (the compiler of workflow lists,
// src/visibility/query.h) over each schedule's own search attributes, as Temporal evaluates it in
// visibility: custom search attributes, TemporalSchedulePaused, and ScheduleId (an alias of the
// schedule's id). Like Temporal, other system and predefined attributes are refused
// ("invalid query filter for schedules: cannot filter on \"ExecutionDuration\"").
//
// The condition runs in the visibility store over the schedules' rows (schedule_visibility.h):
// Query() makes the store query of one page. Pages come in visibility's default order, as
// Temporal's ListSchedules lists its scheduler workflows (ListWorkflowExecutions, SQL visibility:
// close time, start time, run id, descending; schedules are open and start when created): the
// newest schedule first, schedules created at the same nanosecond by id, descending.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "persistence/store.h"
#include "visibility/query.h"
#include "visibility/search_attributes.h"

namespace temporalite::scheduler {

class ScheduleFilter {
 public:
  // INVALID_ARGUMENT with Temporal's wording for a malformed query or a refused attribute.
  static Result<ScheduleFilter> Compile(std::string_view query, const visibility::TypeMap& custom);

  bool empty() const { return compiled_.where.empty(); }
  // The store query over namespace `namespace_id`'s schedule rows: the condition, in the default
  // order, after the position of `page_token` ("" for the first page), `limit` rows.
  // INVALID_ARGUMENT "Invalid NextPageToken." for a token this server did not make.
  Result<persistence::VisibilityQuery> Query(const std::string& namespace_id, const std::string& page_token,
                                             int64_t limit) const;
  // The token of the page after the row at `cursor`, whose schedule id is `schedule_id`.
  static std::string PageToken(const persistence::VisibilityCursor& cursor, const std::string& schedule_id);

 private:
  visibility::CompiledQuery compiled_;
};

}  // namespace temporalite::scheduler
