// Schedules' search attributes on the way out typed as Temporal's frontend types them: each
// payload of the schedule's own attributes and of its start-workflow action carries metadata
// "type", so SDKs decode typed values (schedule describe and list).
#pragma once

#include "temporal/api/workflowservice/v1/request_response.pb.h"
#include "visibility/search_attributes.h"

namespace temporalite::frontend {

void TypeScheduleAttributes(const visibility::TypeMap& custom,
                            ::temporal::api::workflowservice::v1::DescribeScheduleResponse* resp);
void TypeScheduleAttributes(const visibility::TypeMap& custom,
                            ::temporal::api::workflowservice::v1::ListSchedulesResponse* resp);

}  // namespace temporalite::frontend
