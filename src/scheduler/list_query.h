// The ListSchedules `query` forms this server supports (Temporal evaluates them in visibility):
//
//   (empty)                                  every schedule
//   ScheduleId = 'x'                         one schedule ("..." quotes work too)
//   ScheduleId STARTS_WITH 'prefix'
//   WorkflowType = 'T'                       the action's workflow type
//   TemporalSchedulePaused = true|false
//
// joined with AND. Anything else is INVALID_ARGUMENT naming what is supported.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace temporalite::scheduler {

class ScheduleListQuery {
 public:
  bool Matches(const std::string& schedule_id, const std::string& workflow_type, bool paused) const;

 private:
  friend Result<ScheduleListQuery> ParseScheduleListQuery(std::string_view q);
  struct Clause {
    enum Kind { kIdEq, kIdPrefix, kTypeEq, kPaused } kind;
    std::string value;
    bool flag = false;
  };
  std::vector<Clause> clauses_;
};

Result<ScheduleListQuery> ParseScheduleListQuery(std::string_view q);

}  // namespace temporalite::scheduler
