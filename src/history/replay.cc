#include "history/replay.h"

#include <algorithm>
#include <string>

#include "history/compat_fields.h"
#include "history/memo.h"
#include "history/proto_time.h"
#include "history/signal_event.h"
#include "visibility/search_attributes.h"

namespace temporalite::history {

namespace ev1 = ::temporal::api::enums::v1;
namespace hv1 = ::temporal::api::history::v1;

namespace {
Status Bad(const hv1::HistoryEvent& e, const std::string& what) {
  return Status(Code::kInvalidArgument, "history event " + std::to_string(e.event_id()) + " (" +
                                            ev1::EventType_Name(e.event_type()) + "): " + what);
}


// Each family of events applies to the state it keeps; Apply* return false for an event type that
// is not theirs, so ReplayHistory reads as a dispatch over the families.
void ApplyStarted(const hv1::HistoryEvent& e, state::ExecutionState* st) {
  const TimePoint at = FromProto(e.event_time());
  const auto& a = e.workflow_execution_started_event_attributes();
  const Duration backoff = FromProto(a.first_workflow_task_backoff());
  st->set_workflow_type(a.workflow_type().name());
  st->set_task_queue(a.task_queue().name());
  st->set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  *st->mutable_start_time() = e.event_time();
  *st->mutable_execution_time() = ToProto(at + backoff);
  *st->mutable_workflow_task_timeout() = a.workflow_task_timeout();
  *st->mutable_run_timeout() = a.workflow_run_timeout();
  *st->mutable_execution_timeout() = a.workflow_execution_timeout();
  if (!IsZero(a.workflow_run_timeout())) {
    *st->mutable_run_expiration_time() = ToProto(at + backoff + FromProto(a.workflow_run_timeout()));
  }
  if (!IsZero(a.workflow_execution_expiration_time())) {
    *st->mutable_execution_expiration_time() = a.workflow_execution_expiration_time();
  }
  *st->mutable_memo() = a.memo();
  *st->mutable_search_attributes() = a.search_attributes();
  ExtrasFromStartedEvent(e, st);
  st->set_first_execution_run_id(a.first_execution_run_id());
  st->set_attempt(std::max(1, a.attempt()));
  if (a.has_retry_policy()) *st->mutable_retry_policy() = a.retry_policy();
  st->set_cron_schedule(a.cron_schedule());
  st->set_parent_workflow_id(a.parent_workflow_execution().workflow_id());
  st->set_parent_run_id(a.parent_workflow_execution().run_id());
  st->set_parent_namespace(a.parent_workflow_namespace());
  st->set_parent_initiated_event_id(a.parent_initiated_event_id());
  if (a.has_root_workflow_execution()) {
    st->set_root_workflow_id(a.root_workflow_execution().workflow_id());
    st->set_root_run_id(a.root_workflow_execution().run_id());
  }
}

// Workflow task events. Sets *handled; a non-ok Status for an event out of order.
Status ApplyWorkflowTaskEvent(const hv1::HistoryEvent& e, state::ExecutionState* st, bool* handled) {
  *handled = true;
  switch (e.event_type()) {
    case ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED: {
      if (st->wft().scheduled_event_id() != 0) return Bad(e, "a workflow task is already pending");
      const auto& a = e.workflow_task_scheduled_event_attributes();
      auto* w = st->mutable_wft();
      w->Clear();
      w->set_scheduled_event_id(e.event_id());
      w->set_attempt(std::max(1, a.attempt()));
      *w->mutable_scheduled_time() = e.event_time();
      *w->mutable_start_to_close_timeout() =
          IsZero(a.start_to_close_timeout()) ? st->workflow_task_timeout() : a.start_to_close_timeout();
      w->set_task_queue(st->task_queue());
      return Status::Ok();
    }
    case ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED: {
      const auto& a = e.workflow_task_started_event_attributes();
      if (st->wft().scheduled_event_id() != a.scheduled_event_id() || st->wft().started_event_id() != 0) {
        return Bad(e, "no scheduled workflow task " + std::to_string(a.scheduled_event_id()));
      }
      auto* w = st->mutable_wft();
      w->set_started_event_id(e.event_id());
      *w->mutable_started_time() = e.event_time();
      w->set_identity(a.identity());
      w->set_request_id(a.request_id());
      return Status::Ok();
    }
    case ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      if (st->wft().started_event_id() == 0) return Bad(e, "no started workflow task");
      st->set_last_completed_wft_started_id(e.workflow_task_completed_event_attributes().started_event_id());
      st->clear_wft();
      return Status::Ok();
    case ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED:
    case ev1::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
      st->clear_wft();
      return Status::Ok();
    default:
      *handled = false;
      return Status::Ok();
  }
}

// Activity events: the pending activities keyed by scheduled event id.
Status ApplyActivityEvent(const hv1::HistoryEvent& e, state::ExecutionState* st, bool* handled) {
  *handled = true;
  auto* activities = st->mutable_activities();
  switch (e.event_type()) {
    case ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
      const auto& a = e.activity_task_scheduled_event_attributes();
      state::ActivityInfo& ai = (*activities)[e.event_id()];
      ai.set_scheduled_event_id(e.event_id());
      ai.set_activity_id(a.activity_id());
      ai.set_activity_type(a.activity_type().name());
      ai.set_task_queue(a.task_queue().name());
      *ai.mutable_schedule_to_close_timeout() = a.schedule_to_close_timeout();
      *ai.mutable_schedule_to_start_timeout() = a.schedule_to_start_timeout();
      *ai.mutable_start_to_close_timeout() = a.start_to_close_timeout();
      *ai.mutable_heartbeat_timeout() = a.heartbeat_timeout();
      *ai.mutable_retry_policy() = a.retry_policy();
      *ai.mutable_scheduled_time() = e.event_time();
      *ai.mutable_current_attempt_scheduled_time() = e.event_time();
      ai.set_attempt(1);
      return Status::Ok();
    }
    case ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED: {
      const auto& a = e.activity_task_started_event_attributes();
      auto it = activities->find(a.scheduled_event_id());
      if (it == activities->end()) return Bad(e, "no pending activity " + std::to_string(a.scheduled_event_id()));
      it->second.set_started(true);
      *it->second.mutable_started_time() = e.event_time();
      it->second.set_started_identity(a.identity());
      it->second.set_started_request_id(a.request_id());
      it->second.set_attempt(std::max(1, a.attempt()));
      if (a.has_last_failure()) *it->second.mutable_last_failure() = a.last_failure();
      return Status::Ok();
    }
    case ev1::EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED: {
      const auto& a = e.activity_task_cancel_requested_event_attributes();
      auto it = activities->find(a.scheduled_event_id());
      if (it != activities->end()) {  // its close may precede the request (buffered)
        it->second.set_cancel_requested(true);
        it->second.set_cancel_requested_event_id(e.event_id());
      }
      return Status::Ok();
    }
    case ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      activities->erase(e.activity_task_completed_event_attributes().scheduled_event_id());
      return Status::Ok();
    case ev1::EVENT_TYPE_ACTIVITY_TASK_FAILED:
      activities->erase(e.activity_task_failed_event_attributes().scheduled_event_id());
      return Status::Ok();
    case ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      activities->erase(e.activity_task_timed_out_event_attributes().scheduled_event_id());
      return Status::Ok();
    case ev1::EVENT_TYPE_ACTIVITY_TASK_CANCELED:
      activities->erase(e.activity_task_canceled_event_attributes().scheduled_event_id());
      return Status::Ok();
    default:
      *handled = false;
      return Status::Ok();
  }
}

// Timer events: the pending timers keyed by timer id.
bool ApplyTimerEvent(const hv1::HistoryEvent& e, state::ExecutionState* st) {
  switch (e.event_type()) {
    case ev1::EVENT_TYPE_TIMER_STARTED: {
      const auto& a = e.timer_started_event_attributes();
      state::TimerInfo& t = (*st->mutable_timers())[a.timer_id()];
      t.set_timer_id(a.timer_id());
      t.set_started_event_id(e.event_id());
      *t.mutable_expiry_time() = ToProto(FromProto(e.event_time()) + FromProto(a.start_to_fire_timeout()));
      return true;
    }
    case ev1::EVENT_TYPE_TIMER_FIRED:
      st->mutable_timers()->erase(e.timer_fired_event_attributes().timer_id());
      return true;
    case ev1::EVENT_TYPE_TIMER_CANCELED:
      st->mutable_timers()->erase(e.timer_canceled_event_attributes().timer_id());
      return true;
    default:
      return false;
  }
}

// Child workflow events: the pending children keyed by initiated event id.
bool ApplyChildEvent(const hv1::HistoryEvent& e, state::ExecutionState* st) {
  auto* children = st->mutable_children();
  switch (e.event_type()) {
    case ev1::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: {
      const auto& a = e.start_child_workflow_execution_initiated_event_attributes();
      state::ChildInfo& ci = (*children)[e.event_id()];
      ci.set_initiated_event_id(e.event_id());
      ci.set_namespace_(a.namespace_());
      ci.set_namespace_id(a.namespace_id());
      ci.set_workflow_id(a.workflow_id());
      ci.set_workflow_type(a.workflow_type().name());
      ci.set_parent_close_policy(a.parent_close_policy());
      return true;
    }
    case ev1::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
      children->erase(e.start_child_workflow_execution_failed_event_attributes().initiated_event_id());
      return true;
    case ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: {
      const auto& a = e.child_workflow_execution_started_event_attributes();
      auto it = children->find(a.initiated_event_id());
      if (it != children->end()) it->second.set_run_id(a.workflow_execution().run_id());
      return true;
    }
    case ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
      children->erase(e.child_workflow_execution_completed_event_attributes().initiated_event_id());
      return true;
    case ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
      children->erase(e.child_workflow_execution_failed_event_attributes().initiated_event_id());
      return true;
    case ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
      children->erase(e.child_workflow_execution_canceled_event_attributes().initiated_event_id());
      return true;
    case ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
      children->erase(e.child_workflow_execution_timed_out_event_attributes().initiated_event_id());
      return true;
    case ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
      children->erase(e.child_workflow_execution_terminated_event_attributes().initiated_event_id());
      return true;
    default:
      return false;
  }
}

// The closing events: the status each one leaves the run in (RUNNING for any other event).
ev1::WorkflowExecutionStatus CloseStatusOf(ev1::EventType type) {
  switch (type) {
    case ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: return ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED;
    case ev1::EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: return ev1::WORKFLOW_EXECUTION_STATUS_FAILED;
    case ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: return ev1::WORKFLOW_EXECUTION_STATUS_CANCELED;
    case ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: return ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED;
    case ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: return ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
    case ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: return ev1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW;
    default: return ev1::WORKFLOW_EXECUTION_STATUS_RUNNING;
  }
}

// Signals, cancel requests, search attribute and memo upserts, and the closing events. Markers,
// external-command events and updates leave nothing pending in mutable state.
void ApplyWorkflowEvent(const hv1::HistoryEvent& e, state::ExecutionState* st) {
  switch (e.event_type()) {
    case ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
      const auto& rid = e.workflow_execution_signaled_event_attributes().request_id();
      st->set_signal_count(st->signal_count() + 1);
      RememberSignalRequestId(*st, rid);
      return;
    }
    case ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
      st->set_cancel_requested(true);
      return;
    case ev1::EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
      for (const auto& [k, v] : e.upsert_workflow_search_attributes_event_attributes().search_attributes().indexed_fields()) {
        // An empty value unsets the attribute (as when the upsert was first applied).
        if (visibility::IsUnset(v)) {
          st->mutable_search_attributes()->mutable_indexed_fields()->erase(k);
        } else {
          (*st->mutable_search_attributes()->mutable_indexed_fields())[k] = v;
        }
      }
      return;
    case ev1::EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
      MergeMemo(e.workflow_properties_modified_event_attributes().upserted_memo(), st->mutable_memo());
      return;
    default:
      if (auto closed = CloseStatusOf(e.event_type()); closed != ev1::WORKFLOW_EXECUTION_STATUS_RUNNING) {
        st->set_status(closed);
      }
      return;
  }
}

Status ApplyEvent(const hv1::HistoryEvent& e, bool first, state::ExecutionState* st) {
  if (e.event_type() == ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) {
    if (!first) return Bad(e, "a second started event");
    ApplyStarted(e, st);
    return Status::Ok();
  }
  bool handled = false;
  if (Status s = ApplyWorkflowTaskEvent(e, st, &handled); !s.ok() || handled) return s;
  if (Status s = ApplyActivityEvent(e, st, &handled); !s.ok() || handled) return s;
  if (ApplyTimerEvent(e, st) || ApplyChildEvent(e, st)) return Status::Ok();
  ApplyWorkflowEvent(e, st);
  return Status::Ok();
}
}  // namespace

Status ReplayHistory(const std::vector<hv1::HistoryEvent>& events, state::ExecutionState* st) {
  if (events.empty() || events[0].event_type() != ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) {
    return Status(Code::kInvalidArgument, "history does not start with WorkflowExecutionStarted");
  }
  for (size_t i = 0; i < events.size(); ++i) {
    const hv1::HistoryEvent& e = events[i];
    if (e.event_id() != static_cast<int64_t>(i + 1)) return Bad(e, "event ids are not contiguous");
    if (Status s = ApplyEvent(e, i == 0, st); !s.ok()) return s;
    if (st->status() != ev1::WORKFLOW_EXECUTION_STATUS_RUNNING && i + 1 != events.size()) {
      return Bad(events[i + 1], "an event after the run closed");
    }
  }
  st->set_next_event_id(events.back().event_id() + 1);
  return Status::Ok();
}

}  // namespace temporalite::history
