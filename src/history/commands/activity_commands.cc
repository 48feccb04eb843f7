// ScheduleActivityTask and RequestCancelActivityTask.
#include <algorithm>
#include <utility>

#include "history/commands/handlers.h"
#include "history/compat_fields.h"
#include "history/proto_time.h"

namespace temporalite::history::commands {
namespace {

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

// The attributes' own checks, in Temporal's order.
Status CheckActivityAttributes(const cmdv1::ScheduleActivityTaskCommandAttributes& in, const EngineOptions& limits) {
  if (in.activity_id().empty()) return InvalidArgument("ActivityId is not set.");
  if (in.activity_id().size() > limits.max_id_length) return InvalidArgument("ActivityId exceeds length limit.");
  if (in.activity_type().name().empty()) return InvalidArgument("ActivityType is not set.");
  if (in.activity_type().name().size() > limits.max_id_length) {
    return InvalidArgument("ActivityType exceeds length limit.");
  }
  if (in.task_queue().name().size() > limits.max_id_length) return InvalidArgument("TaskQueue exceeds length limit.");
  if (!ValidDuration(in.schedule_to_close_timeout()) || !ValidDuration(in.schedule_to_start_timeout()) ||
      !ValidDuration(in.start_to_close_timeout()) || !ValidDuration(in.heartbeat_timeout())) {
    return InvalidArgument("A valid timeout may not be negative.");
  }
  return Status::Ok();
}

// Temporal's timeout normalisation: schedule-to-close bounds the others, the run timeout bounds
// all of them, heartbeat is capped at start-to-close.
Status NormaliseTimeouts(Duration run_timeout, cmdv1::ScheduleActivityTaskCommandAttributes* a) {
  Duration s2c = FromProto(a->schedule_to_close_timeout());
  Duration s2s = FromProto(a->schedule_to_start_timeout());
  Duration stc = FromProto(a->start_to_close_timeout());
  Duration hb = FromProto(a->heartbeat_timeout());
  if (s2c > Duration::zero()) {
    s2s = s2s > Duration::zero() ? std::min(s2s, s2c) : s2c;
    stc = stc > Duration::zero() ? std::min(stc, s2c) : s2c;
  } else if (stc > Duration::zero()) {
    s2c = run_timeout;
    if (s2s == Duration::zero()) s2s = run_timeout;
  } else {
    return InvalidArgument("A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.");
  }
  if (run_timeout > Duration::zero()) {
    if (s2c == Duration::zero() || s2c > run_timeout) s2c = run_timeout;
    if (s2s == Duration::zero() || s2s > run_timeout) s2s = run_timeout;
    if (stc > run_timeout) stc = run_timeout;
  }
  if (hb > stc) hb = stc;
  *a->mutable_schedule_to_close_timeout() = ToProtoDuration(s2c);
  *a->mutable_schedule_to_start_timeout() = ToProtoDuration(s2s);
  *a->mutable_start_to_close_timeout() = ToProtoDuration(stc);
  *a->mutable_heartbeat_timeout() = ToProtoDuration(hb);
  return Status::Ok();
}

// Every workflow activity has a retry policy after normalisation (Temporal's defaults).
Status NormaliseRetryPolicy(cv1::RetryPolicy* p) {
  TL_RETURN_IF_ERROR(ValidateRetryPolicy(*p));
  if (IsZero(p->initial_interval())) *p->mutable_initial_interval() = ToProtoDuration(std::chrono::seconds(1));
  if (p->backoff_coefficient() == 0) p->set_backoff_coefficient(2.0);
  if (IsZero(p->maximum_interval())) {
    *p->mutable_maximum_interval() = ToProtoDuration(FromProto(p->initial_interval()) * 100);
  }
  return Status::Ok();
}

CommandStatus NormaliseActivity(const cmdv1::ScheduleActivityTaskCommandAttributes& in, CommandContext& ctx,
                                cmdv1::ScheduleActivityTaskCommandAttributes* out) {
  const auto cause = ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES;
  if (Status s = CheckActivityAttributes(in, ctx.limits()); !s.ok()) return CommandStatus::Reject(cause, s.message());
  // Temporal's activity validator: the priority after the timeouts, its error wrapped with the ids.
  if (Status s = ValidatePriority(in.priority()); !s.ok()) {
    return CommandStatus::Reject(cause, "Invalid Priorities: " + s.message() + ". ActivityId=" + in.activity_id() +
                                            " ActivityType=" + in.activity_type().name());
  }
  if (in.input().ByteSizeLong() > ctx.limits().blob_size_limit_error) {
    return CommandStatus::Reject(cause, "ScheduleActivityTaskCommandAttributes.Input exceeds size limit.")
        .TerminatingRun();
  }
  *out = in;
  if (out->task_queue().name().empty()) out->mutable_task_queue()->set_name(ctx.run().st().task_queue());
  out->mutable_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
  if (Status s = NormaliseTimeouts(FromProto(ctx.run().st().run_timeout()), out); !s.ok()) {
    return CommandStatus::Reject(cause, s.message());
  }
  if (Status s = NormaliseRetryPolicy(out->mutable_retry_policy()); !s.ok()) {
    return CommandStatus::Reject(cause, s.message());
  }
  return CommandStatus::Ok();
}

class ScheduleActivityTaskHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext& ctx, ValidationScope& scope,
                         PlannedCommand& planned) const override {
    CommandStatus s = NormaliseActivity(command.schedule_activity_task_command_attributes(), ctx, &planned.activity);
    if (!s.ok()) return s;
    const std::string& id = planned.activity.activity_id();
    if (!scope.activity_ids.insert(id).second) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID,
                                   "Activity with ID " + id + " is already pending.");
    }
    const size_t limit = ctx.limits().pending_activities_limit;
    if (++scope.pending_activities > limit) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED,
                                   "the number of pending activities exceeds the limit of " + std::to_string(limit));
    }
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx, ApplyResult&) const override {
    const auto& in = planned.activity;
    const TimePoint now = ctx.now();
    auto* e = ctx.AddEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
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
    a->set_workflow_task_completed_event_id(ctx.completed_event_id());
    *a->mutable_retry_policy() = in.retry_policy();
    if (in.has_priority()) *a->mutable_priority() = in.priority();
    const int64_t sid = e->event_id();
    Execution& ex = ctx.run();
    state::ActivityInfo ai;
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
    ctx.DispatchActivity(ex.AddActivity(std::move(ai)), in.request_eager_execution());
  }
};

// The activity's close event is still buffered (the worker has not seen it yet).
bool CloseIsBuffered(const Execution& ex, int64_t sid) {
  for (const auto& b : ex.st().buffered_events()) {
    if ((b.has_activity_task_completed_event_attributes() &&
         b.activity_task_completed_event_attributes().scheduled_event_id() == sid) ||
        (b.has_activity_task_failed_event_attributes() &&
         b.activity_task_failed_event_attributes().scheduled_event_id() == sid) ||
        (b.has_activity_task_timed_out_event_attributes() &&
         b.activity_task_timed_out_event_attributes().scheduled_event_id() == sid) ||
        (b.has_activity_task_canceled_event_attributes() &&
         b.activity_task_canceled_event_attributes().scheduled_event_id() == sid)) {
      return true;
    }
  }
  return false;
}

class RequestCancelActivityTaskHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext& ctx, ValidationScope& scope,
                         PlannedCommand&) const override {
    const int64_t sid = command.request_cancel_activity_task_command_attributes().scheduled_event_id();
    const Execution& ex = ctx.run();
    auto it = ex.st().activities().find(sid);
    const bool pending = it != ex.st().activities().end() && !it->second.cancel_requested() &&
                         scope.cancel_requested.insert(sid).second;
    // Allowed too if its close event is still buffered: the worker has not seen it yet.
    if (!pending && !CloseIsBuffered(ex, sid)) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
                                   "no pending activity with scheduled event id " + std::to_string(sid));
    }
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx,
             ApplyResult& result) const override {
    const int64_t sid = planned.command->request_cancel_activity_task_command_attributes().scheduled_event_id();
    auto* e = ctx.AddEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED);
    e->mutable_activity_task_cancel_requested_event_attributes()->set_scheduled_event_id(sid);
    e->mutable_activity_task_cancel_requested_event_attributes()->set_workflow_task_completed_event_id(
        ctx.completed_event_id());
    const int64_t req_id = e->event_id();
    Execution& ex = ctx.run();
    const state::ActivityInfo* found = ex.FindActivity(sid);
    if (!found) return;  // its close event is buffered; nothing more to do
    const state::ActivityInfo& ai = *found;
    ex.RequestActivityCancel(sid, req_id);
    if (ai.started()) return;  // the worker learns of it from its next heartbeat
    // Not running (or waiting to retry): cancelled at once; the event follows the command events.
    auto* b = ex.BufferEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_CANCELED, ctx.now());
    auto* a = b->mutable_activity_task_canceled_event_attributes();
    a->set_scheduled_event_id(sid);
    a->set_started_event_id(0);
    a->set_latest_cancel_requested_event_id(req_id);
    auto* p = a->mutable_details()->add_payloads();
    (*p->mutable_metadata())["encoding"] = "binary/plain";
    p->set_data("ACTIVITY_ID_NOT_STARTED");
    a->set_identity(ai.last_worker_identity());
    ex.RemoveActivity(sid);  // `ai` dangles from here on
    result.need_wft = true;
  }
};

}  // namespace

std::unique_ptr<CommandHandler> NewScheduleActivityTaskHandler() {
  return std::make_unique<ScheduleActivityTaskHandler>();
}
std::unique_ptr<CommandHandler> NewRequestCancelActivityTaskHandler() {
  return std::make_unique<RequestCancelActivityTaskHandler>();
}

}  // namespace temporalite::history::commands
