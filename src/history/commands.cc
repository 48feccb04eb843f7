#include "history/commands.h"

#include <cctype>
#include <set>

#include "common/log.h"
#include "history/proto_time.h"
#include "temporal/api/enums/v1/failed_cause.pb.h"
#include "visibility/search_attributes.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;

std::string CauseName(ev1::WorkflowTaskFailedCause cause) {
  std::string name = ev1::WorkflowTaskFailedCause_Name(cause);
  const std::string prefix = "WORKFLOW_TASK_FAILED_CAUSE_";
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    upper = false;
  }
  return out;
}

Status CommandValidator::Fail(CommandPlan* plan, ev1::WorkflowTaskFailedCause cause, const std::string& detail) {
  plan->failure_cause = cause;
  return InvalidArgument(CauseName(cause) + ": " + detail);
}

namespace {
bool IsClosing(cmdv1::Command::AttributesCase c) {
  return c == cmdv1::Command::kCompleteWorkflowExecutionCommandAttributes ||
         c == cmdv1::Command::kFailWorkflowExecutionCommandAttributes ||
         c == cmdv1::Command::kCancelWorkflowExecutionCommandAttributes ||
         c == cmdv1::Command::kContinueAsNewWorkflowExecutionCommandAttributes;
}

bool ValidDuration(const google::protobuf::Duration& d) { return d.seconds() >= 0 && d.nanos() >= 0; }

// Canonical 8-4-4-4-12 hex form (or the 32 hex digits alone), as Go's uuid.Validate accepts.
bool IsUuid(const std::string& s) {
  if (s.size() == 32) {
    for (char ch : s) if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
    return true;
  }
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

Status ValidateRetryPolicy(const cv1::RetryPolicy& p) {
  if (!ValidDuration(p.initial_interval()) || !ValidDuration(p.maximum_interval())) {
    return InvalidArgument("invalid retry policy interval");
  }
  if (p.backoff_coefficient() != 0 && p.backoff_coefficient() < 1) {
    return InvalidArgument("BackoffCoefficient cannot be less than 1.");
  }
  if (p.maximum_attempts() < 0) return InvalidArgument("MaximumAttempts cannot be negative.");
  if (!IsZero(p.maximum_interval()) && FromProto(p.maximum_interval()) < FromProto(p.initial_interval())) {
    return InvalidArgument("MaximumInterval cannot be less than InitialInterval on retry policy.");
  }
  return Status::Ok();
}
}  // namespace

Status CommandValidator::NormaliseActivity(const cmdv1::ScheduleActivityTaskCommandAttributes& in,
                                           cmdv1::ScheduleActivityTaskCommandAttributes* out, std::string* error) {
  *out = in;
  if (in.activity_id().empty()) return *error = "ActivityId is not set.", InvalidArgument("");
  if (in.activity_id().size() > options_.max_id_length) return *error = "ActivityId exceeds length limit.", InvalidArgument("");
  if (in.activity_type().name().empty()) return *error = "ActivityType is not set.", InvalidArgument("");
  if (in.activity_type().name().size() > options_.max_id_length) return *error = "ActivityType exceeds length limit.", InvalidArgument("");
  if (in.task_queue().name().size() > options_.max_id_length) return *error = "TaskQueue exceeds length limit.", InvalidArgument("");
  if (!ValidDuration(in.schedule_to_close_timeout()) || !ValidDuration(in.schedule_to_start_timeout()) ||
      !ValidDuration(in.start_to_close_timeout()) || !ValidDuration(in.heartbeat_timeout())) {
    return *error = "A valid timeout may not be negative.", InvalidArgument("");
  }
  if (in.input().ByteSizeLong() > options_.blob_size_limit_error) {
    oversized_ = true;
    return *error = "ScheduleActivityTaskCommandAttributes.Input exceeds size limit.", InvalidArgument("");
  }
  if (out->task_queue().name().empty()) out->mutable_task_queue()->set_name(ex_.st.task_queue());
  out->mutable_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);

  Duration run_to = FromProto(ex_.st.run_timeout());
  Duration s2c = FromProto(in.schedule_to_close_timeout());
  Duration s2s = FromProto(in.schedule_to_start_timeout());
  Duration stc = FromProto(in.start_to_close_timeout());
  Duration hb = FromProto(in.heartbeat_timeout());
  if (s2c > Duration::zero()) {
    s2s = s2s > Duration::zero() ? std::min(s2s, s2c) : s2c;
    stc = stc > Duration::zero() ? std::min(stc, s2c) : s2c;
  } else if (stc > Duration::zero()) {
    s2c = run_to;
    if (s2s == Duration::zero()) s2s = run_to;
  } else {
    return *error = "A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.",
           InvalidArgument("");
  }
  if (run_to > Duration::zero()) {
    if (s2c == Duration::zero() || s2c > run_to) s2c = run_to;
    if (s2s == Duration::zero() || s2s > run_to) s2s = run_to;
    if (stc > run_to) stc = run_to;
  }
  if (hb > stc) hb = stc;
  *out->mutable_schedule_to_close_timeout() = ToProtoDuration(s2c);
  *out->mutable_schedule_to_start_timeout() = ToProtoDuration(s2s);
  *out->mutable_start_to_close_timeout() = ToProtoDuration(stc);
  *out->mutable_heartbeat_timeout() = ToProtoDuration(hb);

  // Retry policy: every workflow activity has one after normalisation (Temporal's defaults).
  auto* p = out->mutable_retry_policy();
  Status rs = ValidateRetryPolicy(*p);
  if (!rs.ok()) return *error = rs.message(), InvalidArgument("");
  if (IsZero(p->initial_interval())) *p->mutable_initial_interval() = ToProtoDuration(std::chrono::seconds(1));
  if (p->backoff_coefficient() == 0) p->set_backoff_coefficient(2.0);
  if (IsZero(p->maximum_interval())) *p->mutable_maximum_interval() = ToProtoDuration(FromProto(p->initial_interval()) * 100);
  return Status::Ok();
}

Status CommandValidator::Validate(const wsv1::RespondWorkflowTaskCompletedRequest& req, CommandPlan* plan) {
  const int n = req.commands_size();
  std::set<std::string> activity_ids;
  for (const auto& [id, ai] : ex_.st.activities()) activity_ids.insert(ai.activity_id());
  std::set<std::string> timer_ids;
  for (const auto& [id, t] : ex_.st.timers()) timer_ids.insert(id);
  std::set<int64_t> cancel_requested;
  size_t pending_activities = ex_.st.activities_size();
  size_t pending_children = ex_.st.children_size();
  // External signals / cancel requests resolve in the completion's own transaction, so only the
  // ones of this completion are pending when the next one is checked.
  size_t pending_signals = 0;
  size_t pending_cancels = 0;
  std::set<std::string> started_children;  // workflow ids of children started by this completion

  for (int i = 0; i < n; ++i) {
    const auto& c = req.commands(i);
    if (IsClosing(c.attributes_case()) && i != n - 1) {
      plan->failure_cause = 0;
      return InvalidArgument("Workflow close command must be the last command in the workflow task.");
    }
  }
  for (int i = 0; i < n; ++i) {
    const auto& c = req.commands(i);
    PlannedCommand pc;
    pc.command = &c;
    std::string err;
    switch (c.attributes_case()) {
      case cmdv1::Command::kScheduleActivityTaskCommandAttributes: {
        if (!NormaliseActivity(c.schedule_activity_task_command_attributes(), &pc.activity, &err).ok()) {
          plan->terminate_run = oversized_;
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, err);
        }
        if (!activity_ids.insert(pc.activity.activity_id()).second) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID,
                      "Activity with ID " + pc.activity.activity_id() + " is already pending.");
        }
        if (++pending_activities > options_.pending_activities_limit) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED,
                      "the number of pending activities exceeds the limit of " +
                          std::to_string(options_.pending_activities_limit));
        }
        break;
      }
      case cmdv1::Command::kRequestCancelActivityTaskCommandAttributes: {
        int64_t sid = c.request_cancel_activity_task_command_attributes().scheduled_event_id();
        auto it = ex_.st.activities().find(sid);
        bool ok = it != ex_.st.activities().end() && !it->second.cancel_requested() && cancel_requested.insert(sid).second;
        if (!ok) {
          // Allowed if its close event is still buffered: the worker has not seen it yet.
          for (const auto& b : ex_.st.buffered_events()) {
            if ((b.has_activity_task_completed_event_attributes() && b.activity_task_completed_event_attributes().scheduled_event_id() == sid) ||
                (b.has_activity_task_failed_event_attributes() && b.activity_task_failed_event_attributes().scheduled_event_id() == sid) ||
                (b.has_activity_task_timed_out_event_attributes() && b.activity_task_timed_out_event_attributes().scheduled_event_id() == sid) ||
                (b.has_activity_task_canceled_event_attributes() && b.activity_task_canceled_event_attributes().scheduled_event_id() == sid)) {
              ok = true;
            }
          }
        }
        if (!ok) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
                      "no pending activity with scheduled event id " + std::to_string(sid));
        }
        break;
      }
      case cmdv1::Command::kStartTimerCommandAttributes: {
        const auto& a = c.start_timer_command_attributes();
        if (a.timer_id().empty() || a.timer_id().size() > options_.max_id_length) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES, "TimerId is not set or too long.");
        }
        if (!ValidDuration(a.start_to_fire_timeout()) || IsZero(a.start_to_fire_timeout())) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES,
                      "A valid StartToFireTimeout is not set on StartTimerCommand.");
        }
        if (!timer_ids.insert(a.timer_id()).second) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID,
                      "Timer with ID " + a.timer_id() + " is already pending.");
        }
        break;
      }
      case cmdv1::Command::kCancelTimerCommandAttributes: {
        const auto& id = c.cancel_timer_command_attributes().timer_id();
        bool ok = timer_ids.erase(id) > 0;
        if (!ok) {
          for (const auto& b : ex_.st.buffered_events()) {
            if (b.has_timer_fired_event_attributes() && b.timer_fired_event_attributes().timer_id() == id) ok = true;
          }
        }
        if (!ok) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES, "no pending timer with ID " + id);
        }
        break;
      }
      case cmdv1::Command::kCompleteWorkflowExecutionCommandAttributes:
        if (c.complete_workflow_execution_command_attributes().result().ByteSizeLong() > options_.blob_size_limit_error) {
          plan->terminate_run = true;
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES,
                      "CompleteWorkflowExecutionCommandAttributes.Result exceeds size limit.");
        }
        plan->closes = true;
        break;
      case cmdv1::Command::kFailWorkflowExecutionCommandAttributes:
        plan->closes = true;
        break;
      case cmdv1::Command::kCancelWorkflowExecutionCommandAttributes:
        plan->closes = true;
        break;
      case cmdv1::Command::kRecordMarkerCommandAttributes:
        if (c.record_marker_command_attributes().marker_name().empty()) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES, "MarkerName is not set on command.");
        }
        break;
      case cmdv1::Command::kUpsertWorkflowSearchAttributesCommandAttributes:
        if (c.upsert_workflow_search_attributes_command_attributes().search_attributes().indexed_fields_size() == 0) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, "SearchAttributes is not set on command.");
        }
        if (validate_search_attributes_) {
          Status sa = validate_search_attributes_(c.upsert_workflow_search_attributes_command_attributes().search_attributes());
          if (!sa.ok()) return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, sa.message());
        }
        {
          // The total size limit applies to what the workflow holds after the upsert.
          temporal::api::common::v1::SearchAttributes merged = ex_.st.search_attributes();
          for (const auto& [k, v] : c.upsert_workflow_search_attributes_command_attributes().search_attributes().indexed_fields()) {
            (*merged.mutable_indexed_fields())[k] = v;
          }
          Status total = visibility::ValidateSize(merged);
          if (!total.ok()) return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, total.message());
        }
        break;
      case cmdv1::Command::kModifyWorkflowPropertiesCommandAttributes:
        break;
      case cmdv1::Command::kContinueAsNewWorkflowExecutionCommandAttributes: {
        const auto& a = c.continue_as_new_workflow_execution_command_attributes();
        if (a.workflow_type().name().size() > options_.max_id_length ||
            a.task_queue().name().size() > options_.max_id_length) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, "WorkflowType or TaskQueue exceeds length limit.");
        }
        if (!ValidDuration(a.workflow_run_timeout()) || !ValidDuration(a.workflow_task_timeout()) ||
            !ValidDuration(a.backoff_start_interval())) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, "A valid timeout may not be negative.");
        }
        if (validate_search_attributes_) {
          Status sa = validate_search_attributes_(a.search_attributes());
          if (!sa.ok()) return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, sa.message());
        }
        if (a.input().ByteSizeLong() > options_.blob_size_limit_error) {
          plan->terminate_run = true;
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES,
                      "ContinueAsNewWorkflowExecutionCommandAttributes.Input exceeds size limit.");
        }
        plan->closes = true;
        break;
      }
      case cmdv1::Command::kStartChildWorkflowExecutionCommandAttributes: {
        const auto& a = c.start_child_workflow_execution_command_attributes();
        std::string detail;
        if (a.workflow_id().empty() || a.workflow_id().size() > options_.max_id_length) detail = "WorkflowId is not set or too long.";
        else if (a.workflow_type().name().empty() || a.workflow_type().name().size() > options_.max_id_length) detail = "WorkflowType is not set or too long.";
        else if (a.task_queue().name().size() > options_.max_id_length) detail = "TaskQueue exceeds length limit.";
        else if (!a.namespace_().empty() && !namespace_exists_(a.namespace_())) detail = "Namespace " + a.namespace_() + " is not found.";
        else if (!ValidDuration(a.workflow_execution_timeout()) || !ValidDuration(a.workflow_run_timeout()) ||
                 !ValidDuration(a.workflow_task_timeout())) detail = "A valid timeout may not be negative.";
        // Custom attributes are per namespace: a child in its parent's namespace is checked here.
        else if (Status sa = validate_search_attributes_ && (a.namespace_().empty() || a.namespace_() == namespace_name_)
                                 ? validate_search_attributes_(a.search_attributes()) : Status::Ok();
                 !sa.ok()) detail = sa.message();
        else if (a.input().ByteSizeLong() > options_.blob_size_limit_error) {
          detail = "StartChildWorkflowExecutionCommandAttributes.Input exceeds size limit.";
          plan->terminate_run = true;
        }
        if (!detail.empty()) return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES, detail);
        started_children.insert(a.workflow_id());
        if (++pending_children > options_.pending_children_limit) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED,
                      "the number of pending child workflows exceeds the limit of " + std::to_string(options_.pending_children_limit));
        }
        break;
      }
      case cmdv1::Command::kSignalExternalWorkflowExecutionCommandAttributes: {
        const auto& a = c.signal_external_workflow_execution_command_attributes();
        const auto cause = ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES;
        const std::string& wid = a.execution().workflow_id();
        const std::string& rid = a.execution().run_id();
        const std::string where = " Namespace=" + a.namespace_() + " RunId=" + rid;
        if (!a.has_execution()) return Fail(plan, cause, "Execution is not set on SignalExternalWorkflowExecutionCommand.");
        if (wid.empty()) {
          return Fail(plan, cause, "WorkflowId is not set on SignalExternalWorkflowExecutionCommand." + where +
                                       " SignalName=" + a.signal_name());
        }
        if (a.namespace_().size() > options_.max_id_length) {
          return Fail(plan, cause, "Namespace on SignalExternalWorkflowExecutionCommand exceeds length limit. WorkflowId=" + wid);
        }
        if (wid.size() > options_.max_id_length) {
          return Fail(plan, cause, "WorkflowId on SignalExternalWorkflowExecutionCommand exceeds length limit." + where);
        }
        if (!rid.empty() && !IsUuid(rid)) {
          return Fail(plan, cause, "Invalid RunId set on SignalExternalWorkflowExecutionCommand. WorkflowId=" + wid + where +
                                       " SignalName=" + a.signal_name());
        }
        if (a.signal_name().empty()) {
          return Fail(plan, cause, "SignalName is not set on SignalExternalWorkflowExecutionCommand. WorkflowId=" + wid + where);
        }
        if (a.input().ByteSizeLong() > options_.blob_size_limit_error) {
          plan->terminate_run = true;
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_INPUT_SIZE,
                      "SignalExternalWorkflowExecutionCommandAttributes.Input exceeds size limit.");
        }
        // Temporal checks the count before adding: the command that would exceed the limit fails.
        if (pending_signals >= options_.pending_signals_limit) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_SIGNALS_LIMIT_EXCEEDED,
                      "the number of pending signals to external workflows, " + std::to_string(pending_signals) +
                          ", has reached the per-workflow limit of " + std::to_string(options_.pending_signals_limit));
        }
        ++pending_signals;
        break;
      }
      case cmdv1::Command::kRequestCancelExternalWorkflowExecutionCommandAttributes: {
        const auto& a = c.request_cancel_external_workflow_execution_command_attributes();
        const auto cause = ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES;
        const std::string& wid = a.workflow_id();
        const std::string where = " RunId=" + a.run_id() + " Namespace=" + a.namespace_();
        if (wid.empty()) {
          return Fail(plan, cause, "WorkflowId is not set on RequestCancelExternalWorkflowExecutionCommand. Namespace=" +
                                       a.namespace_() + " RunId=" + a.run_id());
        }
        if (a.namespace_().size() > options_.max_id_length) {
          return Fail(plan, cause, "Namespace on RequestCancelExternalWorkflowExecutionCommand exceeds length limit. WorkflowId=" + wid);
        }
        if (wid.size() > options_.max_id_length) {
          return Fail(plan, cause, "WorkflowId on RequestCancelExternalWorkflowExecutionCommand exceeds length limit." + where);
        }
        if (!a.run_id().empty() && !IsUuid(a.run_id())) {
          return Fail(plan, cause, "Invalid RunId set on RequestCancelExternalWorkflowExecutionCommand. WorkflowId=" + wid +
                                       " RunId=" + a.run_id() + " Namespace=" + a.namespace_());
        }
        if (started_children.count(wid) > 0) {
          return Fail(plan, cause, "Start and RequestCancel for child workflow is not allowed in same workflow task. WorkflowId=" +
                                       wid + where);
        }
        if (pending_cancels >= options_.pending_request_cancels_limit) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED,
                      "the number of pending requests to cancel external workflows, " + std::to_string(pending_cancels) +
                          ", has reached the per-workflow limit of " + std::to_string(options_.pending_request_cancels_limit));
        }
        ++pending_cancels;
        break;
      }
      case cmdv1::Command::kProtocolMessageCommandAttributes: {
        const auto& id = c.protocol_message_command_attributes().message_id();
        bool found = false;
        for (const auto& m : req.messages()) found = found || m.id() == id;
        if (!found) {
          return Fail(plan, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE,
                      "ProtocolMessageCommand refers to message " + id + ", which is not in the completion.");
        }
        break;
      }
      default:
        plan->failure_cause = 0;
        return InvalidArgument("Unknown command type: " + std::to_string(static_cast<int>(c.command_type())) + ".");
    }
    plan->commands.push_back(std::move(pc));
  }
  plan->messages = &req.messages();
  return Status::Ok();
}

}  // namespace temporalite::history
