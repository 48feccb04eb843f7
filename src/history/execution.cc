#include "history/execution.h"

#include <unordered_map>

#include "history/proto_time.h"

namespace temporalite::history {

void Execution::RebuildIndexes() {
  activity_ids.clear();
  for (const auto& [id, ai] : st.activities()) activity_ids[ai.activity_id()] = id;
}

hv1::HistoryEvent* Execution::AddEvent(ev1::EventType type, TimePoint now) {
  int64_t id = st.next_event_id();
  st.set_next_event_id(id + 1);
  hv1::HistoryEvent& e = events.emplace_back();
  e.set_event_id(id);
  e.set_event_type(type);
  *e.mutable_event_time() = ToProto(now);
  if (command_user_metadata) {
    *e.mutable_user_metadata() = *command_user_metadata;
    command_user_metadata = nullptr;
  }
  return &e;
}

hv1::HistoryEvent* Execution::AddOrBufferEvent(ev1::EventType type, TimePoint now) {
  if (!wft_started()) return AddEvent(type, now);
  hv1::HistoryEvent* e = st.add_buffered_events();
  e->set_event_type(type);
  *e->mutable_event_time() = ToProto(now);
  return e;
}

state::ActivityInfo& Execution::AddActivity(int64_t scheduled_event_id, const std::string& activity_id) {
  state::ActivityInfo& ai = (*st.mutable_activities())[scheduled_event_id];
  ai.set_scheduled_event_id(scheduled_event_id);
  ai.set_activity_id(activity_id);
  activity_ids[activity_id] = scheduled_event_id;
  return ai;
}

void Execution::RemoveActivity(int64_t scheduled_event_id) {
  auto it = st.mutable_activities()->find(scheduled_event_id);
  if (it == st.mutable_activities()->end()) return;
  auto id = activity_ids.find(it->second.activity_id());
  if (id != activity_ids.end() && id->second == scheduled_event_id) activity_ids.erase(id);
  st.mutable_activities()->erase(it);
}

state::ActivityInfo* Execution::FindActivity(int64_t scheduled_event_id) {
  auto it = st.mutable_activities()->find(scheduled_event_id);
  return it == st.mutable_activities()->end() ? nullptr : &it->second;
}

state::ActivityInfo* Execution::FindActivityById(const std::string& activity_id) {
  auto id = activity_ids.find(activity_id);
  return id == activity_ids.end() ? nullptr : FindActivity(id->second);
}

state::TimerInfo& Execution::AddTimer(const std::string& timer_id) { return (*st.mutable_timers())[timer_id]; }

void Execution::RemoveTimer(const std::string& timer_id) { st.mutable_timers()->erase(timer_id); }

state::ChildInfo& Execution::AddChild(int64_t initiated_event_id) { return (*st.mutable_children())[initiated_event_id]; }

void Execution::RemoveChild(int64_t initiated_event_id) { st.mutable_children()->erase(initiated_event_id); }

int Execution::FlushBufferedEvents() {
  int n = st.buffered_events_size();
  if (n == 0) return 0;
  std::unordered_map<int64_t, int64_t> started_ids;  // scheduled id -> flushed ActivityTaskStarted id
  for (auto& b : *st.mutable_buffered_events()) {
    int64_t id = st.next_event_id();
    st.set_next_event_id(id + 1);
    b.set_event_id(id);
    switch (b.event_type()) {
      case ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED:
        started_ids[b.activity_task_started_event_attributes().scheduled_event_id()] = id;
        break;
      case ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        auto* a = b.mutable_activity_task_completed_event_attributes();
        if (a->started_event_id() == kBufferedStartedEventId) a->set_started_event_id(started_ids[a->scheduled_event_id()]);
        break;
      }
      case ev1::EVENT_TYPE_ACTIVITY_TASK_FAILED: {
        auto* a = b.mutable_activity_task_failed_event_attributes();
        if (a->started_event_id() == kBufferedStartedEventId) a->set_started_event_id(started_ids[a->scheduled_event_id()]);
        break;
      }
      case ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        auto* a = b.mutable_activity_task_timed_out_event_attributes();
        if (a->started_event_id() == kBufferedStartedEventId) a->set_started_event_id(started_ids[a->scheduled_event_id()]);
        break;
      }
      case ev1::EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        auto* a = b.mutable_activity_task_canceled_event_attributes();
        if (a->started_event_id() == kBufferedStartedEventId) a->set_started_event_id(started_ids[a->scheduled_event_id()]);
        break;
      }
      default:
        break;
    }
    events.push_back(std::move(b));
  }
  st.clear_buffered_events();
  return n;
}

std::string WorkflowKey(const std::string& namespace_id, const std::string& workflow_id) {
  return namespace_id + "\n" + workflow_id;
}

}  // namespace temporalite::history
