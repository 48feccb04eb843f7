// Helpers shared by the workflow instance's files (internal).
#pragma once

#include <optional>
#include <set>
#include <string>

#include "workflow_instance.h"

namespace temporalite::sdk::internal {

std::chrono::system_clock::time_point ToTime(const google::protobuf::Timestamp& t);
uint64_t Fnv1a(const std::string& s);
// Temporal's names of events and commands in its UI and errors ("ActivityTaskScheduled").
std::string EventName(const HistoryEvent& e);
std::string CommandName(temporal::api::enums::v1::CommandType t);
// The key a RecordMarker command and its MarkerRecorded event are matched by.
std::string MarkerKey(const std::string& name, const google::protobuf::Map<std::string, Payloads>& details);
// Local-activity markers in sdk-core's format (the official SDKs'): name "core_local_activity",
// details "data" (one json/plain payload: LocalActivityMarkerData {seq, attempt, activity_id,
// activity_type, complete_time, backoff, original_schedule_time}) and "result"; a failure in the
// marker's failure. Markers of earlier versions of this SDK ("LocalActivity": details seq,
// activity_type, attempts, result) are still read.
inline constexpr char kLocalActivityMarker[] = "core_local_activity";
inline constexpr char kLegacyLocalActivityMarker[] = "LocalActivity";
struct LocalActivityMarkerData {
  int64_t seq = 0;
  int attempt = 1;
  std::string activity_type;
  std::optional<std::chrono::milliseconds> backoff;  // a retry after a timer (sdk-core's DoBackoff)
  std::chrono::system_clock::time_point original_schedule_time;
};
bool IsLocalActivityMarker(const std::string& marker_name);
// The marker's data, or nothing if it is no (readable) local-activity marker.
std::optional<LocalActivityMarkerData> ReadLocalActivityMarker(
    const temporal::api::history::v1::MarkerRecordedEventAttributes& m);
// The details of a marker for local activity `seq` (its result unless it failed; a failed one
// retried after a timer has its `backoff`).
google::protobuf::Map<std::string, Payloads> LocalActivityMarkerDetails(
    int64_t seq, int attempt, const std::string& activity_type, std::chrono::system_clock::time_point complete_time,
    std::chrono::system_clock::time_point original_schedule_time, const Payloads* result,
    std::optional<std::chrono::milliseconds> backoff = std::nullopt);
// A CanceledFailure, or a failure caused by one.
bool IsCancellation(const std::exception_ptr& e);
// Runs an accepted update's handler and reports its outcome.
Task<void> RunUpdateHandler(WorkflowContext::UpdateHandler handler, Payloads args,
                            std::function<void(temporal::api::update::v1::Outcome)> done);
bool IsNullPayload(const Payload& p);
// "CommandName(text)".
std::string Describe(temporal::api::enums::v1::CommandType type, const std::string& text);

// The key a search-attribute or memo upsert is matched by: its field names.
template <class M>
std::string FieldNames(const M& fields) {
  std::set<std::string> names;
  for (const auto& [k, v] : fields) names.insert(k);
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

// Upserts `in` into `out`; a null value removes the field.
template <class M>
void MergeFields(const M& in, std::map<std::string, Payload>* out) {
  for (const auto& [k, v] : in) {
    if (IsNullPayload(v)) out->erase(k);
    else (*out)[k] = v;
  }
}

}  // namespace temporalite::sdk::internal
