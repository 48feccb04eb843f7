// Applying history events to a workflow instance: events of the workflow's own commands are
// matched with them in order (non-determinism detection); the others resolve what the workflow
// waits on.
#include "workflow_instance.h"
#include "workflow_support.h"

namespace temporalite::sdk::internal {

namespace enums = temporal::api::enums::v1;

namespace {

// What `e` is to the matching: the event of a command (`*type`, `*key`, `*text` set), an event
// not matched in order, or an event that is no command's.
enum class EventRole { kCommand, kUnmatched, kOther };

EventRole CommandOfEvent(const HistoryEvent& e, enums::CommandType* type_out, std::string* key_out,
                         std::string* text_out) {
  enums::CommandType type = enums::COMMAND_TYPE_UNSPECIFIED;
  std::string key, text;
  switch (e.event_type()) {
    case enums::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
      const auto& a = e.activity_task_scheduled_event_attributes();
      type = enums::COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK;
      key = a.activity_id() + "|" + a.activity_type().name();
      text = "activity_id=" + a.activity_id() + ", activity_type=" + a.activity_type().name();
      break;
    }
    case enums::EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
      type = enums::COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK;
      key = std::to_string(e.activity_task_cancel_requested_event_attributes().scheduled_event_id());
      text = "scheduled_event_id=" + key;
      break;
    case enums::EVENT_TYPE_TIMER_STARTED:
      type = enums::COMMAND_TYPE_START_TIMER;
      key = e.timer_started_event_attributes().timer_id();
      text = "timer_id=" + key;
      break;
    case enums::EVENT_TYPE_TIMER_CANCELED:
      type = enums::COMMAND_TYPE_CANCEL_TIMER;
      key = e.timer_canceled_event_attributes().timer_id();
      text = "timer_id=" + key;
      break;
    case enums::EVENT_TYPE_MARKER_RECORDED: {
      const auto& m = e.marker_recorded_event_attributes();
      // Local-activity markers are read ahead by the activation that ran them (their commands
      // are issued when the activity ends, not when it is called): not matched in order.
      if (IsLocalActivityMarker(m.marker_name())) return EventRole::kUnmatched;
      type = enums::COMMAND_TYPE_RECORD_MARKER;
      key = MarkerKey(m.marker_name(), m.details());
      text = "marker=" + key;
      break;
    }
    case enums::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: {
      const auto& a = e.start_child_workflow_execution_initiated_event_attributes();
      type = enums::COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION;
      key = a.workflow_id() + "|" + a.workflow_type().name();
      text = "workflow_id=" + a.workflow_id() + ", workflow_type=" + a.workflow_type().name();
      break;
    }
    case enums::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: {
      const auto& a = e.signal_external_workflow_execution_initiated_event_attributes();
      type = enums::COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION;
      key = a.workflow_execution().workflow_id() + "|" + a.signal_name();
      text = "workflow_id=" + a.workflow_execution().workflow_id() + ", signal=" + a.signal_name();
      break;
    }
    case enums::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      type = enums::COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION;
      key = e.request_cancel_external_workflow_execution_initiated_event_attributes().workflow_execution().workflow_id();
      text = "workflow_id=" + key;
      break;
    case enums::EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
      type = enums::COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES;
      key = FieldNames(e.upsert_workflow_search_attributes_event_attributes().search_attributes().indexed_fields());
      text = "search_attributes=" + key;
      break;
    case enums::EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
      type = enums::COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES;
      key = FieldNames(e.workflow_properties_modified_event_attributes().upserted_memo().fields());
      text = "memo=" + key;
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      type = enums::COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION;
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      type = enums::COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION;
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
      type = enums::COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION;
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
      type = enums::COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION;
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
      type = enums::COMMAND_TYPE_PROTOCOL_MESSAGE;
      key = "accept|" + e.workflow_execution_update_accepted_event_attributes().protocol_instance_id();
      text = "update accepted " + e.workflow_execution_update_accepted_event_attributes().protocol_instance_id();
      break;
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
      type = enums::COMMAND_TYPE_PROTOCOL_MESSAGE;
      key = "complete|" + e.workflow_execution_update_completed_event_attributes().meta().update_id();
      text = "update completed " + e.workflow_execution_update_completed_event_attributes().meta().update_id();
      break;
    default:
      return EventRole::kOther;
  }
  *type_out = type;
  *key_out = std::move(key);
  *text_out = std::move(text);
  return EventRole::kCommand;
}

}  // namespace

void WorkflowInstance::MatchCommandEvent(const HistoryEvent& e) {
  enums::CommandType type = enums::COMMAND_TYPE_UNSPECIFIED;
  std::string key, text;
  switch (CommandOfEvent(e, &type, &key, &text)) {
    case EventRole::kUnmatched:
      return;
    case EventRole::kOther:
      ApplyEvent(e);
      return;
    case EventRole::kCommand:
      break;
  }
  std::string event_text = "history event " + std::to_string(e.event_id()) + " " + EventName(e) +
                           (text.empty() ? "" : "(" + text + ")");
  bool patch_marker = type == enums::COMMAND_TYPE_RECORD_MARKER && key.rfind("Patched|", 0) == 0;
  if (expected_.empty() || expected_.front().type != type || expected_.front().key != key) {
    if (patch_marker) return;  // a removed (deprecated) patch: its marker is skipped
    if (expected_.empty()) {
      nondeterminism_ = "nondeterminism: " + event_text + " has no matching command (the workflow issued none)";
    } else {
      nondeterminism_ = "nondeterminism: " + event_text + " does not match the workflow's command " +
                        Describe(expected_.front().type, expected_.front().text);
    }
    return;
  }
  expected_.pop_front();
  NoteMatchedEvent(e, key);
}

void WorkflowInstance::NoteMatchedEvent(const HistoryEvent& e, const std::string& key) {
  switch (e.event_type()) {
    case enums::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
      const auto& id = e.activity_task_scheduled_event_attributes().activity_id();
      scheduled_to_activity_[e.event_id()] = id;
      auto it = activities_.find(id);
      if (it != activities_.end()) it->second.scheduled_event_id = e.event_id();
      break;
    }
    case enums::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
      initiated_to_child_[e.event_id()] = e.start_child_workflow_execution_initiated_event_attributes().workflow_id();
      break;
    case enums::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
      initiated_to_signal_[e.event_id()] = key;
      break;
    case enums::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: {
      auto& q = pending_ext_cancels_[key];
      if (!q.empty()) {
        if (q.front()) initiated_to_cancel_[e.event_id()] = q.front();
        q.pop_front();
      }
      break;
    }
    default:
      break;
  }
}

void WorkflowInstance::ApplyEvent(const HistoryEvent& e) {
  switch (e.event_type()) {
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
      const auto& a = e.workflow_execution_signaled_event_attributes();
      auto it = signals_.find(a.signal_name());
      if (it == signals_.end()) {
        buffered_signals_.emplace_back(a.signal_name(), a.input());
      } else {
        try {
          it->second(a.input());
        } catch (...) {
          if (!spawned_error_) spawned_error_ = std::current_exception();
        }
      }
      break;
    }
    case enums::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
      HandleCancelRequest();
      break;
    case enums::EVENT_TYPE_TIMER_FIRED: {
      const auto& id = e.timer_fired_event_attributes().timer_id();
      auto it = timers_.find(id);
      if (it == timers_.end()) break;
      auto c = it->second;
      timers_.erase(it);
      c->Resolve({});
      for (auto ci = conditions_.begin(); ci != conditions_.end();) {
        if (ci->timer_id == id) {
          ci->c->Resolve(ToPayloads(false));
          ci = conditions_.erase(ci);
        } else {
          ++ci;
        }
      }
      break;
    }
    case enums::EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
    case enums::EVENT_TYPE_ACTIVITY_TASK_FAILED:
    case enums::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
    case enums::EVENT_TYPE_ACTIVITY_TASK_CANCELED:
      ApplyActivityOutcome(e);
      break;
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
    case enums::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
      ApplyChildEvent(e);
      break;
    case enums::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
    case enums::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
    case enums::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED:
    case enums::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
      ApplyExternalEvent(e);
      break;
    default:
      break;  // events the SDK does not act on (search attributes, admitted updates, ...)
  }
}

// An activity completed, failed, timed out or was cancelled.
void WorkflowInstance::ApplyActivityOutcome(const HistoryEvent& e) {
  switch (e.event_type()) {
    case enums::EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
    case enums::EVENT_TYPE_ACTIVITY_TASK_FAILED:
    case enums::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
    case enums::EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
      int64_t sched = 0, started = 0;
      std::shared_ptr<TemporalFailure> cause;
      std::string message;
      auto retry_state = enums::RETRY_STATE_UNSPECIFIED;
      Payloads result;
      if (e.has_activity_task_completed_event_attributes()) {
        sched = e.activity_task_completed_event_attributes().scheduled_event_id();
        result = e.activity_task_completed_event_attributes().result();
      } else if (e.has_activity_task_failed_event_attributes()) {
        const auto& a = e.activity_task_failed_event_attributes();
        sched = a.scheduled_event_id();
        started = a.started_event_id();
        cause = FromFailureProto(a.failure());
        retry_state = a.retry_state();
        message = "Activity task failed";
      } else if (e.has_activity_task_timed_out_event_attributes()) {
        const auto& a = e.activity_task_timed_out_event_attributes();
        sched = a.scheduled_event_id();
        started = a.started_event_id();
        cause = FromFailureProto(a.failure());
        retry_state = a.retry_state();
        message = "Activity task timed out";
      } else {
        const auto& a = e.activity_task_canceled_event_attributes();
        sched = a.scheduled_event_id();
        started = a.started_event_id();
        cause = std::make_shared<CanceledFailure>("Activity cancelled", a.details());
        retry_state = enums::RETRY_STATE_CANCEL_REQUESTED;
        message = "Activity task cancelled";
      }
      auto id_it = scheduled_to_activity_.find(sched);
      if (id_it == scheduled_to_activity_.end()) break;
      auto it = activities_.find(id_it->second);
      if (it == activities_.end()) break;  // already resolved (cancelled by the workflow)
      if (!cause) {
        it->second.c->Resolve(result);
      } else {
        ActivityFailure f(message, cause);
        f.activity_type = it->second.type;
        f.activity_id = it->second.id;
        f.scheduled_event_id = sched;
        f.started_event_id = started;
        f.retry_state = retry_state;
        f.identity = identity_;
        it->second.c->Reject(std::make_exception_ptr(f));
      }
      activities_.erase(it);
      break;
    }
    default:
      break;
  }
}

// A child workflow started, failed to start or closed.
void WorkflowInstance::ApplyChildEvent(const HistoryEvent& e) {
  switch (e.event_type()) {
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: {
      const auto& a = e.child_workflow_execution_started_event_attributes();
      auto it = initiated_to_child_.find(a.initiated_event_id());
      if (it == initiated_to_child_.end()) break;
      children_[it->second].run_id = a.workflow_execution().run_id();
      children_[it->second].started->Resolve(ToPayloads(a.workflow_execution().run_id()));
      break;
    }
    case enums::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: {
      const auto& a = e.start_child_workflow_execution_failed_event_attributes();
      auto it = initiated_to_child_.find(a.initiated_event_id());
      if (it == initiated_to_child_.end()) break;
      auto& ch = children_[it->second];
      auto err = std::make_exception_ptr(ApplicationFailure(
          "Workflow execution already started: " + a.workflow_id(), "WorkflowExecutionAlreadyStarted", true));
      ch.started->Reject(err);
      ch.result->Reject(err);
      break;
    }
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
    case enums::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED: {
      int64_t initiated = 0, started = 0;
      std::shared_ptr<TemporalFailure> cause;
      auto retry_state = enums::RETRY_STATE_NON_RETRYABLE_FAILURE;
      std::string run_id;
      Payloads result;
      bool ok = false;
      if (e.has_child_workflow_execution_completed_event_attributes()) {
        const auto& a = e.child_workflow_execution_completed_event_attributes();
        initiated = a.initiated_event_id();
        result = a.result();
        ok = true;
      } else if (e.has_child_workflow_execution_failed_event_attributes()) {
        const auto& a = e.child_workflow_execution_failed_event_attributes();
        initiated = a.initiated_event_id();
        started = a.started_event_id();
        run_id = a.workflow_execution().run_id();
        cause = FromFailureProto(a.failure());
        retry_state = a.retry_state();
      } else if (e.has_child_workflow_execution_canceled_event_attributes()) {
        const auto& a = e.child_workflow_execution_canceled_event_attributes();
        initiated = a.initiated_event_id();
        started = a.started_event_id();
        run_id = a.workflow_execution().run_id();
        cause = std::make_shared<CanceledFailure>("Workflow canceled", a.details());
      } else if (e.has_child_workflow_execution_timed_out_event_attributes()) {
        const auto& a = e.child_workflow_execution_timed_out_event_attributes();
        initiated = a.initiated_event_id();
        started = a.started_event_id();
        run_id = a.workflow_execution().run_id();
        cause = std::make_shared<TimeoutFailure>("Workflow execution timed out", enums::TIMEOUT_TYPE_START_TO_CLOSE);
        retry_state = a.retry_state();
      } else {
        const auto& a = e.child_workflow_execution_terminated_event_attributes();
        initiated = a.initiated_event_id();
        started = a.started_event_id();
        run_id = a.workflow_execution().run_id();
        cause = std::make_shared<TerminatedFailure>("Workflow execution terminated");
      }
      auto it = initiated_to_child_.find(initiated);
      if (it == initiated_to_child_.end()) break;
      auto& ch = children_[it->second];
      if (ok) {
        ch.result->Resolve(result);
      } else {
        ChildWorkflowFailure f("Child Workflow execution failed", cause);
        f.ns = info_.ns;
        f.workflow_id = ch.workflow_id;
        f.run_id = run_id;
        f.workflow_type = ch.type;
        f.initiated_event_id = initiated;
        f.started_event_id = started;
        f.retry_state = retry_state;
        ch.result->Reject(std::make_exception_ptr(f));
      }
      break;
    }
    default:
      break;
  }
}

// The outcome of a signal or cancellation request sent to another workflow.
void WorkflowInstance::ApplyExternalEvent(const HistoryEvent& e) {
  switch (e.event_type()) {
    case enums::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED: {
      auto it = initiated_to_cancel_.find(e.external_workflow_execution_cancel_requested_event_attributes().initiated_event_id());
      if (it == initiated_to_cancel_.end()) break;
      it->second->Resolve({});
      initiated_to_cancel_.erase(it);
      break;
    }
    case enums::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: {
      const auto& a = e.request_cancel_external_workflow_execution_failed_event_attributes();
      auto it = initiated_to_cancel_.find(a.initiated_event_id());
      if (it == initiated_to_cancel_.end()) break;
      it->second->Reject(std::make_exception_ptr(ApplicationFailure(
          "Unable to cancel external workflow because it was not found: " + a.workflow_execution().workflow_id(),
          "ExternalWorkflowExecutionNotFound")));
      initiated_to_cancel_.erase(it);
      break;
    }
    case enums::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: {
      auto it = initiated_to_signal_.find(e.external_workflow_execution_signaled_event_attributes().initiated_event_id());
      if (it == initiated_to_signal_.end()) break;
      auto c = ext_signals_.find(it->second);
      if (c != ext_signals_.end()) {
        c->second->Resolve({});
        ext_signals_.erase(c);
      }
      break;
    }
    case enums::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: {
      const auto& a = e.signal_external_workflow_execution_failed_event_attributes();
      auto it = initiated_to_signal_.find(a.initiated_event_id());
      if (it == initiated_to_signal_.end()) break;
      auto c = ext_signals_.find(it->second);
      if (c != ext_signals_.end()) {
        c->second->Reject(std::make_exception_ptr(ApplicationFailure(
            "Unable to signal external workflow because it was not found", "ExternalWorkflowExecutionNotFound")));
        ext_signals_.erase(c);
      }
      break;
    }
    default:
      break;
  }
}

void WorkflowInstance::HandleCancelRequest() {
  if (cancel_requested_) return;
  cancel_requested_ = true;
  cancel_->Resolve({});
  root_scope_->Cancel();  // activities, timers, local activities and children, by their scopes
  for (auto& cond : conditions_) cond.c->Reject(std::make_exception_ptr(CanceledFailure("Condition cancelled")));
  conditions_.clear();
}

}  // namespace temporalite::sdk::internal
