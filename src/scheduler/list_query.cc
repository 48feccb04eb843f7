#include "scheduler/list_query.h"

#include "scheduler/schedule_visibility.h"

namespace temporalite::scheduler {

Result<ScheduleFilter> ScheduleFilter::Compile(std::string_view query, const visibility::TypeMap& custom) {
  ScheduleFilter f;
  auto compiled = visibility::CompileQuery(query, custom);
  if (!compiled.ok()) return compiled.status();
  for (const auto& [alias, name] : compiled->fields) {
    if (alias == "ScheduleId" || alias == "TemporalScheduleId" || name == "TemporalSchedulePaused") continue;
    if (visibility::IsReserved(name)) {
      return InvalidArgument("invalid query filter for schedules: cannot filter on \"" + alias + "\"");
    }
  }
  if (!compiled->order_by.empty() || compiled->group_by_status) {
    return InvalidArgument("invalid query filter for schedules: 'ORDER BY' and 'GROUP BY' are not supported");
  }
  f.compiled_ = std::move(compiled).value();
  return f;
}

persistence::VisibilityQuery ScheduleFilter::Query(const std::string& namespace_id,
                                                   const std::string& after_schedule_id, int64_t limit) const {
  persistence::VisibilityQuery q;
  q.namespace_id = ScheduleVisibilityNamespace(namespace_id);
  q.where = compiled_.where;
  q.args.assign(compiled_.args.begin(), compiled_.args.end());
  if (!after_schedule_id.empty()) {
    q.where = q.where.empty() ? "workflow_id > ?" : "(" + q.where + ") AND workflow_id > ?";
    q.args.emplace_back(after_schedule_id);
  }
  // Schedule ids are unique in the division: the store's run_id tie-break never applies.
  q.order_by = "workflow_id ASC";
  q.limit = limit;
  return q;
}

}  // namespace temporalite::scheduler
