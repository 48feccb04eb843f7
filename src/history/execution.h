// In-memory form of one workflow run (Temporal's MutableState): its durable mutable state
// (state.proto) plus its history events, and the state transitions on them that keep the two and
// the derived indexes in step (appending and buffering events; adding and removing pending
// activities, timers and children). Owned by the engine and only touched under the engine mutex.
//
// Moving in: the transitions are members; the free AddEvent / AddOrBufferEvent /
// FlushBufferedEvents below are the older spelling of the same members, still used by the files
// not moved yet (not a second implementation).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "history/state.pb.h"
#include "temporal/api/history/v1/message.pb.h"
#include "temporal/api/sdk/v1/user_metadata.pb.h"

namespace temporalite::history {

namespace hv1 = ::temporal::api::history::v1;
namespace ev1 = ::temporal::api::enums::v1;

struct Execution {
  state::ExecutionState st;
  std::vector<hv1::HistoryEvent> events;  // events[i].event_id() == i + 1
  size_t persisted_events = 0;            // events already handed to the store
  // Visible fields changed (start, search attribute/memo upsert, close): the next commit writes
  // the visibility row in the same transaction.
  bool visibility_dirty = false;
  std::unordered_map<std::string, int64_t> activity_ids;  // activity id -> scheduled event id
  std::vector<std::string> query_ids;  // queries waiting on this run (in memory only, like Temporal)
  // While one workflow-task command is applied: its user_metadata, which the first event appended
  // (the command's event) takes over, as Temporal copies Command.user_metadata onto its event.
  const ::temporal::api::sdk::v1::UserMetadata* command_user_metadata = nullptr;
  std::vector<std::string> admitted_updates;  // update ids admitted, not yet accepted/rejected
  // DistinctUpdates (update_limits.h): UpdateAccepted events counted in events[0, accepted_scan_end).
  size_t accepted_scan_end = 0;
  int64_t accepted_updates = 0;

  // --- events ---
  // Appends an event with the next event id. The pointer is valid until the next append.
  hv1::HistoryEvent* AddEvent(ev1::EventType type, TimePoint now);
  // Appends, or buffers while a workflow task is started (ids are assigned at flush).
  hv1::HistoryEvent* AddOrBufferEvent(ev1::EventType type, TimePoint now);
  // Assigns ids to buffered events in arrival order and appends them. Returns how many.
  int FlushBufferedEvents();

  // --- pending maps ---
  // A pending activity by scheduled event id, also indexed by activity id (activity_ids).
  state::ActivityInfo& AddActivity(int64_t scheduled_event_id, const std::string& activity_id);
  // Drops a pending activity and its index entry; an unknown id is a no-op. References to the
  // activity dangle afterwards.
  void RemoveActivity(int64_t scheduled_event_id);
  state::ActivityInfo* FindActivity(int64_t scheduled_event_id);
  state::ActivityInfo* FindActivityById(const std::string& activity_id);
  // A user timer by timer id (replaces one of the same id).
  state::TimerInfo& AddTimer(const std::string& timer_id);
  void RemoveTimer(const std::string& timer_id);
  // A pending child by its initiated event id.
  state::ChildInfo& AddChild(int64_t initiated_event_id);
  void RemoveChild(int64_t initiated_event_id);

  bool open() const { return st.status() == ev1::WORKFLOW_EXECUTION_STATUS_RUNNING; }
  bool wft_pending() const { return st.wft().scheduled_event_id() != 0; }
  bool wft_started() const { return st.wft().started_event_id() != 0; }
  std::string workflow_key() const { return st.namespace_id() + "\n" + st.workflow_id(); }
  // Rebuilds derived indexes (activity_ids) after loading state.
  void RebuildIndexes();
};

// Temporal's name for it.
using MutableState = Execution;

// The members above, in the older spelling.
inline hv1::HistoryEvent* AddEvent(Execution& ex, ev1::EventType type, TimePoint now) { return ex.AddEvent(type, now); }
inline hv1::HistoryEvent* AddOrBufferEvent(Execution& ex, ev1::EventType type, TimePoint now) {
  return ex.AddOrBufferEvent(type, now);
}
inline int FlushBufferedEvents(Execution& ex) { return ex.FlushBufferedEvents(); }

// Placeholder for "the ActivityTaskStarted buffered just before me", fixed up at flush.
constexpr int64_t kBufferedStartedEventId = -1;

std::string WorkflowKey(const std::string& namespace_id, const std::string& workflow_id);

}  // namespace temporalite::history
