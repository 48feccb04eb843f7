#include "scheduler/list_query.h"

#include <charconv>
#include <limits>

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

namespace {
// Page tokens: "s:<start time>:<schedule id>". Every schedule row is open (close sort INT64_MAX)
// and its run_id is the schedule's key, so the start time and the id give the whole position.
constexpr char kTokenPrefix[] = "s:";
constexpr int64_t kOpenCloseSort = std::numeric_limits<int64_t>::max();
}  // namespace

std::string ScheduleFilter::PageToken(const persistence::VisibilityCursor& cursor, const std::string& schedule_id) {
  return kTokenPrefix + std::to_string(cursor.start_time) + ":" + schedule_id;
}

Result<persistence::VisibilityQuery> ScheduleFilter::Query(const std::string& namespace_id,
                                                           const std::string& page_token, int64_t limit) const {
  persistence::VisibilityQuery q;
  q.namespace_id = ScheduleVisibilityNamespace(namespace_id);
  q.where = compiled_.where;
  q.args.assign(compiled_.args.begin(), compiled_.args.end());
  if (!page_token.empty()) {
    const Status bad = InvalidArgument("Invalid NextPageToken.");
    if (page_token.rfind(kTokenPrefix, 0) != 0) return bad;
    const size_t colon = page_token.find(':', 2);
    if (colon == std::string::npos || colon == 2) return bad;
    int64_t start = 0;
    const char* first = page_token.data() + 2;
    const char* last = page_token.data() + colon;
    auto [end, ec] = std::from_chars(first, last, start);
    if (ec != std::errc() || end != last) return bad;
    q.after = persistence::VisibilityCursor{kOpenCloseSort, start,
                                            ScheduleVisibilityKey(namespace_id, page_token.substr(colon + 1))};
  }
  // q.order_by stays empty: the store's default order, paged by q.after.
  q.limit = limit;
  return q;
}

}  // namespace temporalite::scheduler
