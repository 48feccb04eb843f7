// Applying validated workflow-task commands: one event per command, in command order
// (protocol-notes §3), plus the side effects each command implies.
#include "common/log.h"
#include "history/commands.h"
#include "history/engine.h"
#include "history/execution.h"
#include "history/memo.h"
#include "history/proto_time.h"
#include "history/sa_types.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;

void Engine::ApplyCommands(const CommandPlan& plan, int64_t completed_id, bool* closed, bool* need_wft, Txn& txn,
                           Execution& ex, std::optional<StartFields>* next_run) {
  auto& st = ex.st;
  const TimePoint now = clock_.Now();
  for (const auto& pc : plan.commands) {
    const auto& c = *pc.command;
    // Temporal: a command's user_metadata goes onto the event it records (AddEvent takes it).
    ex.command_user_metadata = c.has_user_metadata() && !c.has_protocol_message_command_attributes() ? &c.user_metadata() : nullptr;
    switch (c.attributes_case()) {
      case cmdv1::Command::kScheduleActivityTaskCommandAttributes: {
        const auto& in = pc.activity;
        auto* e = AddEvent(ex, ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, now);
        auto* a = e->mutable_activity_task_scheduled_event_attributes();
        a->set_activity_id(in.activity_id());
        *a->mutable_activity_type() = in.activity_type();
        *a->mutable_task_queue() = in.task_queue();
        *a->mutable_header() = in.header();
        *a->mutable_input() = in.input();
        *a->mutable_schedule_to_close_timeout() = in.schedule_to_close_timeout();
        *a->mutable_schedule_to_start_timeout() = in.schedule_to_start_timeout();
        *a->mutable_start_to_close_timeout() = in.start_to_close_timeout();
        *a->mutable_heartbeat_timeout() = in.heartbeat_timeout();
        a->set_workflow_task_completed_event_id(completed_id);
        *a->mutable_retry_policy() = in.retry_policy();
        if (in.has_priority()) *a->mutable_priority() = in.priority();
        const int64_t sid = e->event_id();
        state::ActivityInfo& ai = (*st.mutable_activities())[sid];
        ai.set_scheduled_event_id(sid);
        ai.set_activity_id(in.activity_id());
        ai.set_activity_type(in.activity_type().name());
        ai.set_task_queue(in.task_queue().name());
        *ai.mutable_schedule_to_close_timeout() = in.schedule_to_close_timeout();
        *ai.mutable_schedule_to_start_timeout() = in.schedule_to_start_timeout();
        *ai.mutable_start_to_close_timeout() = in.start_to_close_timeout();
        *ai.mutable_heartbeat_timeout() = in.heartbeat_timeout();
        *ai.mutable_retry_policy() = in.retry_policy();
        *ai.mutable_scheduled_time() = ToProto(now);
        *ai.mutable_current_attempt_scheduled_time() = ToProto(now);
        ai.set_attempt(1);
        ex.activity_ids[in.activity_id()] = sid;
        ArmActivityTimersLocked(ex, ai);
        DispatchActivityLocked(txn, ex, ai);
        break;
      }
      case cmdv1::Command::kRequestCancelActivityTaskCommandAttributes: {
        int64_t sid = c.request_cancel_activity_task_command_attributes().scheduled_event_id();
        auto* e = AddEvent(ex, ev1::EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED, now);
        e->mutable_activity_task_cancel_requested_event_attributes()->set_scheduled_event_id(sid);
        e->mutable_activity_task_cancel_requested_event_attributes()->set_workflow_task_completed_event_id(completed_id);
        const int64_t req_id = e->event_id();
        auto it = st.mutable_activities()->find(sid);
        if (it == st.mutable_activities()->end()) break;  // its close event is buffered; nothing more to do
        state::ActivityInfo& ai = it->second;
        ai.set_cancel_requested(true);
        ai.set_cancel_requested_event_id(req_id);
        if (!ai.started()) {
          // Not running (or waiting to retry): cancelled at once; the event follows the command events.
          auto* b = st.add_buffered_events();
          b->set_event_type(ev1::EVENT_TYPE_ACTIVITY_TASK_CANCELED);
          *b->mutable_event_time() = ToProto(now);
          auto* a = b->mutable_activity_task_canceled_event_attributes();
          a->set_scheduled_event_id(sid);
          a->set_started_event_id(0);
          a->set_latest_cancel_requested_event_id(req_id);
          auto* p = a->mutable_details()->add_payloads();
          (*p->mutable_metadata())["encoding"] = "binary/plain";
          p->set_data("ACTIVITY_ID_NOT_STARTED");
          a->set_identity(ai.last_worker_identity());
          ex.activity_ids.erase(ai.activity_id());
          st.mutable_activities()->erase(it);
          *need_wft = true;
        }
        break;
      }
      case cmdv1::Command::kStartTimerCommandAttributes: {
        const auto& in = c.start_timer_command_attributes();
        auto* e = AddEvent(ex, ev1::EVENT_TYPE_TIMER_STARTED, now);
        auto* a = e->mutable_timer_started_event_attributes();
        a->set_timer_id(in.timer_id());
        *a->mutable_start_to_fire_timeout() = in.start_to_fire_timeout();
        a->set_workflow_task_completed_event_id(completed_id);
        state::TimerInfo& t = (*st.mutable_timers())[in.timer_id()];
        t.set_timer_id(in.timer_id());
        t.set_started_event_id(e->event_id());
        *t.mutable_expiry_time() = ToProto(now + FromProto(in.start_to_fire_timeout()));
        std::string run_id = st.run_id(), timer_id = in.timer_id();
        int64_t started = e->event_id();
        timers_.Schedule(FromProto(t.expiry_time()), [this, run_id, timer_id, started] { OnUserTimer(run_id, timer_id, started); });
        break;
      }
      case cmdv1::Command::kCancelTimerCommandAttributes: {
        const auto& id = c.cancel_timer_command_attributes().timer_id();
        int64_t started = 0;
        auto it = st.timers().find(id);
        if (it != st.timers().end()) {
          started = it->second.started_event_id();
          st.mutable_timers()->erase(id);
        } else {
          // Its TimerFired is still buffered: drop that event instead.
          auto* buf = st.mutable_buffered_events();
          for (int i = 0; i < buf->size(); ++i) {
            if (buf->Get(i).has_timer_fired_event_attributes() && buf->Get(i).timer_fired_event_attributes().timer_id() == id) {
              started = buf->Get(i).timer_fired_event_attributes().started_event_id();
              buf->DeleteSubrange(i, 1);
              break;
            }
          }
        }
        auto* e = AddEvent(ex, ev1::EVENT_TYPE_TIMER_CANCELED, now);
        auto* a = e->mutable_timer_canceled_event_attributes();
        a->set_timer_id(id);
        a->set_started_event_id(started);
        a->set_workflow_task_completed_event_id(completed_id);
        a->set_identity(st.wft().identity());
        break;
      }
      case cmdv1::Command::kCompleteWorkflowExecutionCommandAttributes: {
        auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, now);
        auto* a = e->mutable_workflow_execution_completed_event_attributes();
        *a->mutable_result() = c.complete_workflow_execution_command_attributes().result();
        a->set_workflow_task_completed_event_id(completed_id);
        *next_run = CronNextRunLocked(ex, &a->result(), nullptr);
        if (*next_run) a->set_new_execution_run_id((*next_run)->run_id);
        st.set_status(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
        *closed = true;
        break;
      }
      case cmdv1::Command::kFailWorkflowExecutionCommandAttributes: {
        auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, now);
        auto* a = e->mutable_workflow_execution_failed_event_attributes();
        const auto& failure = c.fail_workflow_execution_command_attributes().failure();
        *a->mutable_failure() = failure;
        // Retry first (the starter's retry policy); otherwise the next cron run, if any.
        a->set_retry_state(WorkflowRetryLocked(ex, &failure, false, next_run));
        if (!*next_run) *next_run = CronNextRunLocked(ex, nullptr, &failure);
        if (*next_run) a->set_new_execution_run_id((*next_run)->run_id);
        a->set_workflow_task_completed_event_id(completed_id);
        st.set_status(ev1::WORKFLOW_EXECUTION_STATUS_FAILED);
        *closed = true;
        break;
      }
      case cmdv1::Command::kCancelWorkflowExecutionCommandAttributes: {
        auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, now);
        auto* a = e->mutable_workflow_execution_canceled_event_attributes();
        *a->mutable_details() = c.cancel_workflow_execution_command_attributes().details();
        a->set_workflow_task_completed_event_id(completed_id);
        st.set_status(ev1::WORKFLOW_EXECUTION_STATUS_CANCELED);
        *closed = true;
        break;
      }
      case cmdv1::Command::kContinueAsNewWorkflowExecutionCommandAttributes: {
        const auto& in = c.continue_as_new_workflow_execution_command_attributes();
        StartFields f = ContinueAsNewFields(ex, in);
        auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, now);
        auto* a = e->mutable_workflow_execution_continued_as_new_event_attributes();
        a->set_new_execution_run_id(f.run_id);
        *a->mutable_workflow_type() = f.attrs.workflow_type();
        *a->mutable_task_queue() = f.attrs.task_queue();
        a->mutable_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
        *a->mutable_input() = f.attrs.input();
        if (!IsZero(f.attrs.workflow_run_timeout())) *a->mutable_workflow_run_timeout() = f.attrs.workflow_run_timeout();
        if (!IsZero(f.attrs.workflow_task_timeout())) *a->mutable_workflow_task_timeout() = f.attrs.workflow_task_timeout();
        a->set_workflow_task_completed_event_id(completed_id);
        *a->mutable_backoff_start_interval() = f.attrs.first_workflow_task_backoff();
        a->set_initiator(f.attrs.initiator());
        if (in.has_failure()) *a->mutable_failure() = in.failure();
        if (in.has_last_completion_result()) *a->mutable_last_completion_result() = in.last_completion_result();
        *a->mutable_header() = f.attrs.header();
        *a->mutable_memo() = f.attrs.memo();
        *a->mutable_search_attributes() = f.attrs.search_attributes();
        st.set_status(ev1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW);
        *next_run = std::move(f);
        *closed = true;
        break;
      }
      case cmdv1::Command::kStartChildWorkflowExecutionCommandAttributes:
        StartChildLocked(txn, ex, c.start_child_workflow_execution_command_attributes(), completed_id, need_wft);
        break;
      case cmdv1::Command::kSignalExternalWorkflowExecutionCommandAttributes:
        SignalExternalLocked(txn, ex, c.signal_external_workflow_execution_command_attributes(), completed_id, plan.closes, need_wft);
        break;
      case cmdv1::Command::kRequestCancelExternalWorkflowExecutionCommandAttributes:
        RequestCancelExternalLocked(txn, ex, c.request_cancel_external_workflow_execution_command_attributes(), completed_id,
                                    plan.closes, need_wft);
        break;
      case cmdv1::Command::kProtocolMessageCommandAttributes: {
        const auto& id = c.protocol_message_command_attributes().message_id();
        for (const auto& m : *plan.messages) {
          if (m.id() == id) ApplyProtocolMessageLocked(txn, ex, m, completed_id);
        }
        break;
      }
      case cmdv1::Command::kRecordMarkerCommandAttributes: {
        const auto& in = c.record_marker_command_attributes();
        auto* e = AddEvent(ex, ev1::EVENT_TYPE_MARKER_RECORDED, now);
        auto* a = e->mutable_marker_recorded_event_attributes();
        a->set_marker_name(in.marker_name());
        *a->mutable_details() = in.details();
        a->set_workflow_task_completed_event_id(completed_id);
        if (in.has_header()) *a->mutable_header() = in.header();
        if (in.has_failure()) *a->mutable_failure() = in.failure();
        break;
      }
      case cmdv1::Command::kUpsertWorkflowSearchAttributesCommandAttributes: {
        const auto& in = c.upsert_workflow_search_attributes_command_attributes();
        auto* e = AddEvent(ex, ev1::EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, now);
        auto* a = e->mutable_upsert_workflow_search_attributes_event_attributes();
        *a->mutable_search_attributes() = in.search_attributes();
        SetSearchAttributeTypes(a->mutable_search_attributes(), CustomSearchAttributesLocked(st.namespace_id()));
        a->set_workflow_task_completed_event_id(completed_id);
        for (const auto& [k, v] : a->search_attributes().indexed_fields()) {
          // An empty value unsets the attribute.
          if (visibility::IsUnset(v)) {
            st.mutable_search_attributes()->mutable_indexed_fields()->erase(k);
          } else {
            (*st.mutable_search_attributes()->mutable_indexed_fields())[k] = v;
          }
        }
        ex.visibility_dirty = true;
        break;
      }
      case cmdv1::Command::kModifyWorkflowPropertiesCommandAttributes: {
        const auto& in = c.modify_workflow_properties_command_attributes();
        auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED, now);
        auto* a = e->mutable_workflow_properties_modified_event_attributes();
        *a->mutable_upserted_memo() = in.upserted_memo();
        a->set_workflow_task_completed_event_id(completed_id);
        MergeMemo(in.upserted_memo(), st.mutable_memo());
        ex.visibility_dirty = true;
        break;
      }
      default:
        break;  // rejected by the validator
    }
    ex.command_user_metadata = nullptr;
  }
  // Then the protocol messages no command referred to (e.g. rejections), in order.
  if (plan.messages) {
    for (const auto& m : *plan.messages) {
      bool referenced = false;
      for (const auto& pc : plan.commands) {
        referenced = referenced || (pc.command->has_protocol_message_command_attributes() &&
                                    pc.command->protocol_message_command_attributes().message_id() == m.id());
      }
      if (!referenced) ApplyProtocolMessageLocked(txn, ex, m, completed_id);
    }
  }
}

}  // namespace temporalite::history
