#include "frontend/schedule_typing.h"

#include "history/sa_types.h"

namespace temporalite::frontend {

void TypeScheduleAttributes(const visibility::TypeMap& custom,
                            ::temporal::api::workflowservice::v1::DescribeScheduleResponse* resp) {
  history::SetSearchAttributeTypes(resp->mutable_search_attributes(), custom);
  auto* action = resp->mutable_schedule()->mutable_action();
  if (action->has_start_workflow() && action->start_workflow().has_search_attributes()) {
    history::SetSearchAttributeTypes(action->mutable_start_workflow()->mutable_search_attributes(), custom);
  }
}

void TypeScheduleAttributes(const visibility::TypeMap& custom,
                            ::temporal::api::workflowservice::v1::ListSchedulesResponse* resp) {
  for (auto& s : *resp->mutable_schedules()) history::SetSearchAttributeTypes(s.mutable_search_attributes(), custom);
}

}  // namespace temporalite::frontend
