// The ListSchedules `query`: Temporal's list filter language (the compiler of workflow lists,
// src/visibility/query.h) over each schedule's own search attributes, as Temporal evaluates it in
// visibility: custom search attributes, TemporalSchedulePaused, and ScheduleId (an alias of the
// schedule's id). Like Temporal, other system and predefined attributes are refused
// ("invalid query filter for schedules: cannot filter on \"ExecutionDuration\"").
//
// The schedules of a namespace are few and in memory: Match evaluates the compiled condition over
// them in a private in-memory SQLite table shaped like the visibility table's columns it can name
// (workflow_id = the schedule id, search_attributes = its JSON column).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "visibility/query.h"
#include "visibility/search_attributes.h"

namespace temporalite::scheduler {

class ScheduleFilter {
 public:
  struct Row {
    std::string schedule_id;
    std::string search_attributes_json;  // visibility::ToJsonColumn form ("" = none)
  };

  // INVALID_ARGUMENT with Temporal's wording for a malformed query or a refused attribute.
  static Result<ScheduleFilter> Compile(std::string_view query, const visibility::TypeMap& custom);

  bool empty() const { return compiled_.where.empty(); }
  // The ids of `rows` the condition selects (all when empty()).
  Result<std::set<std::string>> Match(const std::vector<Row>& rows) const;

 private:
  visibility::CompiledQuery compiled_;
};

}  // namespace temporalite::scheduler
