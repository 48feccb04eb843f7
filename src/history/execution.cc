#include "history/execution.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "history/compat_fields.h"
#include "history/memo.h"
#include "history/proto_time.h"
#include "history/signal_event.h"
#include "visibility/search_attributes.h"

namespace temporalite::history {

void Execution::RebuildIndexes() {
  activity_ids.clear();
  for (const auto& [id, ai] : st_.activities()) activity_ids[ai.activity_id()] = id;
}

hv1::HistoryEvent* Execution::AddEvent(ev1::EventType type, TimePoint now) {
  int64_t id = st_.next_event_id();
  st_.set_next_event_id(id + 1);
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
  hv1::HistoryEvent* e = st_.add_buffered_events();
  e->set_event_type(type);
  *e->mutable_event_time() = ToProto(now);
  return e;
}

const state::ActivityInfo& Execution::AddActivity(state::ActivityInfo info) {
  const int64_t sid = info.scheduled_event_id();
  state::ActivityInfo& slot = (*st_.mutable_activities())[sid];
  if (!slot.activity_id().empty()) {  // replaced: its index entry goes with it
    auto id = activity_ids.find(slot.activity_id());
    if (id != activity_ids.end() && id->second == sid) activity_ids.erase(id);
  }
  activity_ids[info.activity_id()] = sid;
  slot = std::move(info);
  return slot;
}

void Execution::RemoveActivity(int64_t scheduled_event_id) {
  auto it = st_.mutable_activities()->find(scheduled_event_id);
  if (it == st_.mutable_activities()->end()) return;
  auto id = activity_ids.find(it->second.activity_id());
  if (id != activity_ids.end() && id->second == scheduled_event_id) activity_ids.erase(id);
  st_.mutable_activities()->erase(it);
}

const state::ActivityInfo* Execution::FindActivity(int64_t scheduled_event_id) const {
  auto it = st_.activities().find(scheduled_event_id);
  return it == st_.activities().end() ? nullptr : &it->second;
}

const state::ActivityInfo* Execution::FindActivityById(const std::string& activity_id) const {
  auto id = activity_ids.find(activity_id);
  return id == activity_ids.end() ? nullptr : FindActivity(id->second);
}

state::ActivityInfo* Execution::MutableActivity(int64_t scheduled_event_id) {
  auto it = st_.mutable_activities()->find(scheduled_event_id);
  return it == st_.mutable_activities()->end() ? nullptr : &it->second;
}

void Execution::SetActivityDispatched(int64_t scheduled_event_id, bool dispatched) {
  if (state::ActivityInfo* ai = MutableActivity(scheduled_event_id)) ai->set_dispatched(dispatched);
}

void Execution::StartActivityAttempt(int64_t scheduled_event_id, TimePoint now, const std::string& identity,
                                     const std::string& request_id) {
  state::ActivityInfo* ai = MutableActivity(scheduled_event_id);
  if (!ai) return;
  ai->set_started(true);
  *ai->mutable_started_time() = ToProto(now);
  ai->set_started_identity(identity);
  ai->set_started_request_id(request_id);
  ai->set_last_worker_identity(identity);
  ai->clear_last_heartbeat_time();
}

void Execution::RetryActivity(int64_t scheduled_event_id, const ::temporal::api::failure::v1::Failure& failure,
                              TimePoint now, TimePoint next_attempt, const std::string& identity) {
  state::ActivityInfo* ai = MutableActivity(scheduled_event_id);
  if (!ai) return;
  *ai->mutable_last_failure() = failure;
  ai->set_attempt(ai->attempt() + 1);
  ai->set_started(false);
  ai->clear_started_time();
  ai->clear_started_identity();
  ai->clear_started_request_id();
  ai->clear_last_heartbeat_time();
  ai->set_dispatched(false);
  if (!identity.empty()) ai->set_last_worker_identity(identity);
  *ai->mutable_last_attempt_complete_time() = ToProto(now);
  *ai->mutable_current_attempt_scheduled_time() = ToProto(next_attempt);
}

void Execution::SetActivityHeartbeatDetails(int64_t scheduled_event_id,
                                            const ::temporal::api::common::v1::Payloads& details) {
  if (state::ActivityInfo* ai = MutableActivity(scheduled_event_id)) *ai->mutable_heartbeat_details() = details;
}

void Execution::RecordActivityHeartbeat(int64_t scheduled_event_id, TimePoint now) {
  if (state::ActivityInfo* ai = MutableActivity(scheduled_event_id)) *ai->mutable_last_heartbeat_time() = ToProto(now);
}

void Execution::RequestActivityCancel(int64_t scheduled_event_id, int64_t cancel_requested_event_id) {
  state::ActivityInfo* ai = MutableActivity(scheduled_event_id);
  if (!ai) return;
  ai->set_cancel_requested(true);
  ai->set_cancel_requested_event_id(cancel_requested_event_id);
}

void Execution::RescheduleActivity(int64_t scheduled_event_id, TimePoint now) {
  state::ActivityInfo* ai = MutableActivity(scheduled_event_id);
  if (!ai) return;
  *ai->mutable_scheduled_time() = ToProto(now);
  *ai->mutable_current_attempt_scheduled_time() = ToProto(now);
  ai->set_attempt(1);
  ai->set_dispatched(false);
}

const state::TimerInfo& Execution::AddTimer(state::TimerInfo info) {
  state::TimerInfo& slot = (*st_.mutable_timers())[info.timer_id()];
  slot = std::move(info);
  return slot;
}

void Execution::RemoveTimer(const std::string& timer_id) { st_.mutable_timers()->erase(timer_id); }

const state::ChildInfo& Execution::AddChild(state::ChildInfo info) {
  state::ChildInfo& slot = (*st_.mutable_children())[info.initiated_event_id()];
  slot = std::move(info);
  return slot;
}

void Execution::RemoveChild(int64_t initiated_event_id) { st_.mutable_children()->erase(initiated_event_id); }

int Execution::FlushBufferedEvents() {
  int n = st_.buffered_events_size();
  if (n == 0) return 0;
  std::unordered_map<int64_t, int64_t> started_ids;  // scheduled id -> flushed ActivityTaskStarted id
  for (auto& b : *st_.mutable_buffered_events()) {
    int64_t id = st_.next_event_id();
    st_.set_next_event_id(id + 1);
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
  st_.clear_buffered_events();
  return n;
}

bool Execution::LoadState(const std::string& bytes) {
  return st_.ParseFromString(bytes);
}

void Execution::CopyFrom(const Execution& other) {
  st_ = other.st_;
  events = other.events;
}

void Execution::ScheduleWorkflowTask(int32_t attempt, TimePoint now, const ::google::protobuf::Duration& start_to_close,
                                     const std::string& task_queue, bool sticky, bool transient) {
  auto* wft = st_.mutable_wft();
  wft->Clear();
  wft->set_attempt(attempt);
  *wft->mutable_scheduled_time() = ToProto(now);
  *wft->mutable_start_to_close_timeout() = start_to_close;
  wft->set_task_queue(task_queue);
  wft->set_on_sticky_queue(sticky);
  wft->set_transient(transient);
  if (transient) wft->set_scheduled_event_id(st_.next_event_id());  // the id its event takes if it completes
}

void Execution::ConvertTransientWorkflowTaskToNormal(TimePoint now) {
  auto* wft = st_.mutable_wft();
  wft->set_transient(false);
  wft->set_attempt(1);
  *wft->mutable_scheduled_time() = ToProto(now);
  *wft->mutable_start_to_close_timeout() = st_.workflow_task_timeout();
}

void Execution::StartWorkflowTask(TimePoint now, const std::string& identity, const std::string& request_id) {
  auto* wft = st_.mutable_wft();
  *wft->mutable_started_time() = ToProto(now);
  wft->set_identity(identity);
  wft->set_request_id(request_id);
}

void Execution::SetWorkflowTaskEventIds(int64_t scheduled_id, int64_t started_id) {
  auto* wft = st_.mutable_wft();
  wft->set_scheduled_event_id(scheduled_id);
  wft->set_started_event_id(started_id);
}

void Execution::SetWorkflowTaskOriginalScheduledTime(TimePoint t) {
  *st_.mutable_wft()->mutable_original_scheduled_time() = ToProto(t);
}

void Execution::MoveWorkflowTaskToNormalQueue() {
  auto* wft = st_.mutable_wft();
  wft->set_on_sticky_queue(false);
  wft->set_task_queue(st_.task_queue());
}

void Execution::ClearWorkflowTask(int32_t next_attempt) {
  st_.mutable_wft()->Clear();
  st_.mutable_wft()->set_attempt(next_attempt);
}

void Execution::RecordWorkerVersion(const ::temporal::api::common::v1::WorkerVersionStamp* stamp) {
  if (UpdateBuildIds(stamp, st_.mutable_search_attributes())) visibility_dirty = true;
}

void Execution::SetStickyTaskQueue(const std::string& name, const ::google::protobuf::Duration& schedule_to_start) {
  st_.set_sticky_task_queue(name);
  *st_.mutable_sticky_schedule_to_start_timeout() = schedule_to_start;
}

hv1::HistoryEvent* Execution::BufferEvent(ev1::EventType type, TimePoint now) {
  hv1::HistoryEvent* e = st_.add_buffered_events();
  e->set_event_type(type);
  *e->mutable_event_time() = ToProto(now);
  return e;
}

void Execution::RemoveBufferedEvent(int index) { st_.mutable_buffered_events()->DeleteSubrange(index, 1); }

void Execution::RecordSignal(const std::string& request_id) {
  st_.set_signal_count(st_.signal_count() + 1);
  RememberSignalRequestId(st_, request_id);
}

void Execution::UpsertSearchAttributes(const ::temporal::api::common::v1::SearchAttributes& upserted) {
  auto* fields = st_.mutable_search_attributes()->mutable_indexed_fields();
  for (const auto& [k, v] : upserted.indexed_fields()) {
    if (visibility::IsUnset(v)) {
      fields->erase(k);  // an empty value unsets the attribute
    } else {
      (*fields)[k] = v;
    }
  }
  visibility_dirty = true;
}

void Execution::UpsertMemo(const ::temporal::api::common::v1::Memo& upserted) {
  MergeMemo(upserted, st_.mutable_memo());
  visibility_dirty = true;
}

std::vector<state::ChildInfo> Execution::MarkClosed() {
  std::vector<state::ChildInfo> children;
  for (const auto& [id, ci] : st_.children()) children.push_back(ci);
  st_.clear_children();
  st_.set_completion_event_id(st_.next_event_id() - 1);
  *st_.mutable_close_time() = events.back().event_time();
  st_.clear_wft();
  st_.clear_activities();
  st_.clear_timers();
  st_.clear_buffered_events();
  st_.clear_sticky_task_queue();
  activity_ids.clear();
  return children;
}

void Execution::SetFirstWorkflowTaskBackoff(TimePoint due) { *st_.mutable_first_wft_due_time() = ToProto(due); }

void Execution::RecordStartExtras(const ::temporal::api::sdk::v1::UserMetadata& metadata, hv1::HistoryEvent* started) {
  ::temporalite::history::RecordStartExtras(metadata, started, &st_);
}

void Execution::BeginResetRun(const std::string& start_request_id, const std::string& reset_request_id, TimePoint now) {
  st_.set_start_request_id(start_request_id);
  st_.set_reset_request_id(reset_request_id);
  st_.clear_sticky_task_queue();
  st_.clear_first_wft_due_time();
  if (!IsZero(st_.execution_timeout())) *st_.mutable_execution_expiration_time() = ToProto(now + FromProto(st_.execution_timeout()));
  if (!IsZero(st_.run_timeout())) {
    TimePoint run_expiry = now + FromProto(st_.run_timeout());
    if (!IsZero(st_.execution_expiration_time())) run_expiry = std::min(run_expiry, FromProto(st_.execution_expiration_time()));
    *st_.mutable_run_expiration_time() = ToProto(run_expiry);
  }
}

std::string WorkflowKey(const std::string& namespace_id, const std::string& workflow_id) {
  return namespace_id + "\n" + workflow_id;
}

}  // namespace temporalite::history
