#include "history/execution.h"

#include <unordered_map>

#include "history/proto_time.h"

namespace temporalite::history {

void Execution::RebuildIndexes() {
  activity_ids.clear();
  for (const auto& [id, ai] : st.activities()) activity_ids[ai.activity_id()] = id;
}

hv1::HistoryEvent* AddEvent(Execution& ex, ev1::EventType type, TimePoint now) {
  int64_t id = ex.st.next_event_id();
  ex.st.set_next_event_id(id + 1);
  hv1::HistoryEvent& e = ex.events.emplace_back();
  e.set_event_id(id);
  e.set_event_type(type);
  *e.mutable_event_time() = ToProto(now);
  if (ex.command_user_metadata) {
    *e.mutable_user_metadata() = *ex.command_user_metadata;
    ex.command_user_metadata = nullptr;
  }
  return &e;
}

hv1::HistoryEvent* AddOrBufferEvent(Execution& ex, ev1::EventType type, TimePoint now) {
  if (!ex.wft_started()) return AddEvent(ex, type, now);
  hv1::HistoryEvent* e = ex.st.add_buffered_events();
  e->set_event_type(type);
  *e->mutable_event_time() = ToProto(now);
  return e;
}

int FlushBufferedEvents(Execution& ex) {
  int n = ex.st.buffered_events_size();
  if (n == 0) return 0;
  std::unordered_map<int64_t, int64_t> started_ids;  // scheduled id -> flushed ActivityTaskStarted id
  for (auto& b : *ex.st.mutable_buffered_events()) {
    int64_t id = ex.st.next_event_id();
    ex.st.set_next_event_id(id + 1);
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
    ex.events.push_back(std::move(b));
  }
  ex.st.clear_buffered_events();
  return n;
}

std::string WorkflowKey(const std::string& namespace_id, const std::string& workflow_id) {
  return namespace_id + "\n" + workflow_id;
}

}  // namespace temporalite::history
