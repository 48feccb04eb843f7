// Schedules in the visibility store, as Temporal keeps them: one row per schedule in the same
// table as workflow runs, set apart by Temporal's namespace division ("TemporalScheduler"), with
// the schedule's own search attributes and TemporalSchedulePaused. ListSchedules and
// CountSchedules run the list-filter language over these rows with the table's indexes (the
// default-order index, the namespace/workflow-id index for ScheduleId, the custom attributes'
// indexes), in visibility's default order as Temporal lists them (list_query.h), instead of
// scanning the namespace's schedules in memory.
//
// The division is part of the row's namespace_id column (`<namespace id>/TemporalScheduler`), so
// every workflow list, count and index prefix of a namespace leaves schedule rows out without a
// condition of its own. The row's run_id column is a key no run id can take
// (ScheduleVisibilityKey); workflow_id is the schedule id; status Running; start time the
// schedule's create time; info the schedule id.
//
// The scheduler writes the row in the same transaction as the schedule's record whenever its
// visible fields change (create, update, pause/unpause, pause-on-failure) and deletes it with the
// record. Databases from before this (schedules without rows) are migrated once at recovery: all
// rows and the server_state marker kScheduleVisibilityMarker in one transaction.
#pragma once

#include <string>

#include "persistence/store.h"
#include "scheduler/schedule_state.pb.h"
#include "visibility/search_attributes.h"

namespace temporalite::scheduler {

// Temporal's TemporalNamespaceDivision value for schedules.
inline constexpr char kScheduleDivision[] = "TemporalScheduler";
// server_state key: set once every schedule has its visibility row.
inline constexpr char kScheduleVisibilityMarker[] = "scheduler/visibility-rows";

// The visibility namespace_id of a namespace's schedules.
std::string ScheduleVisibilityNamespace(const std::string& namespace_id);
// The visibility run_id (primary key) of a schedule's row.
std::string ScheduleVisibilityKey(const std::string& namespace_id, const std::string& schedule_id);

// The schedule's own search attributes as the visibility column's JSON ("" if none), typed by
// the namespace's custom attributes; TemporalSchedulePaused is added by ScheduleVisibilityRow.
std::string ScheduleAttributesJson(const ::temporal::api::common::v1::SearchAttributes& attrs,
                                   const visibility::TypeMap& custom);

// The row for `rec`, whose own attributes are `attrs_json` (ScheduleAttributesJson).
persistence::VisibilityRow ScheduleVisibilityRow(const state::ScheduleRecord& rec, const std::string& attrs_json);

}  // namespace temporalite::scheduler
