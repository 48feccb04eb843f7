#include "scheduler/schedule_visibility.h"

#include <nlohmann/json.hpp>

#include "common/proto_time.h"

namespace temporalite::scheduler {

std::string ScheduleVisibilityNamespace(const std::string& namespace_id) {
  return namespace_id + "/" + kScheduleDivision;
}

std::string ScheduleVisibilityKey(const std::string& namespace_id, const std::string& schedule_id) {
  // Run ids are UUIDs: a newline never occurs in one.
  return std::string(kScheduleDivision) + "\n" + namespace_id + "\n" + schedule_id;
}

std::string ScheduleAttributesJson(const ::temporal::api::common::v1::SearchAttributes& attrs,
                                   const visibility::TypeMap& custom) {
  ::temporal::api::common::v1::SearchAttributes own = attrs;
  own.mutable_indexed_fields()->erase("TemporalSchedulePaused");  // the schedule's state says
  return visibility::ToJsonColumn(own, custom);
}

persistence::VisibilityRow ScheduleVisibilityRow(const state::ScheduleRecord& rec, const std::string& attrs_json) {
  nlohmann::json attrs = attrs_json.empty() ? nlohmann::json::object() : nlohmann::json::parse(attrs_json, nullptr, false);
  if (!attrs.is_object()) attrs = nlohmann::json::object();
  attrs["TemporalSchedulePaused"] = rec.schedule().state().paused() ? 1 : 0;  // Bool: 0/1
  persistence::VisibilityRow row;
  row.namespace_id = ScheduleVisibilityNamespace(rec.namespace_id());
  row.run_id = ScheduleVisibilityKey(rec.namespace_id(), rec.schedule_id());
  row.workflow_id = rec.schedule_id();
  row.workflow_type = "temporal-sys-scheduler-workflow";  // Temporal's scheduler workflow
  row.task_queue = "temporal-sys-per-ns-tq";
  row.status = ::temporal::api::enums::v1::WORKFLOW_EXECUTION_STATUS_RUNNING;
  const int64_t created = FromProto(rec.info().create_time()).time_since_epoch().count();
  row.start_time = created;
  row.execution_time = created;
  row.search_attributes_json = attrs.dump();
  row.info = rec.schedule_id();
  return row;
}

}  // namespace temporalite::scheduler
