// StartTimer and CancelTimer.
#include <utility>

#include "history/commands/handlers.h"
#include "history/proto_time.h"

namespace temporalite::history::commands {
namespace {

class StartTimerHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext& ctx, ValidationScope& scope,
                         PlannedCommand&) const override {
    const auto& a = command.start_timer_command_attributes();
    if (a.timer_id().empty() || a.timer_id().size() > ctx.limits().max_id_length) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES,
                                   "TimerId is not set or too long.");
    }
    if (!ValidDuration(a.start_to_fire_timeout()) || IsZero(a.start_to_fire_timeout())) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES,
                                   "A valid StartToFireTimeout is not set on StartTimerCommand.");
    }
    if (!scope.timer_ids.insert(a.timer_id()).second) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID,
                                   "Timer with ID " + a.timer_id() + " is already pending.");
    }
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx, ApplyResult&) const override {
    const auto& in = planned.command->start_timer_command_attributes();
    auto* e = ctx.AddEvent(ev1::EVENT_TYPE_TIMER_STARTED);
    auto* a = e->mutable_timer_started_event_attributes();
    a->set_timer_id(in.timer_id());
    *a->mutable_start_to_fire_timeout() = in.start_to_fire_timeout();
    a->set_workflow_task_completed_event_id(ctx.completed_event_id());
    state::TimerInfo t;
    t.set_timer_id(in.timer_id());
    t.set_started_event_id(e->event_id());
    *t.mutable_expiry_time() = ToProto(ctx.now() + FromProto(in.start_to_fire_timeout()));
    ctx.ArmUserTimer(ctx.run().AddTimer(std::move(t)));
  }
};

// A TimerFired for `id` still buffered (the worker has not seen it yet), or -1.
int BufferedFiredIndex(const Execution& ex, const std::string& id) {
  const auto& buf = ex.st().buffered_events();
  for (int i = 0; i < buf.size(); ++i) {
    if (buf.Get(i).has_timer_fired_event_attributes() && buf.Get(i).timer_fired_event_attributes().timer_id() == id) {
      return i;
    }
  }
  return -1;
}

class CancelTimerHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext& ctx, ValidationScope& scope,
                         PlannedCommand&) const override {
    const auto& id = command.cancel_timer_command_attributes().timer_id();
    if (scope.timer_ids.erase(id) == 0 && BufferedFiredIndex(ctx.run(), id) < 0) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES,
                                   "no pending timer with ID " + id);
    }
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx, ApplyResult&) const override {
    const auto& id = planned.command->cancel_timer_command_attributes().timer_id();
    const auto& st = ctx.run().st();
    int64_t started = 0;
    auto it = st.timers().find(id);
    if (it != st.timers().end()) {
      started = it->second.started_event_id();
      ctx.run().RemoveTimer(id);  // its armed TimerService entry finds no timer and does nothing
    } else if (int i = BufferedFiredIndex(ctx.run(), id); i >= 0) {
      // Its TimerFired is still buffered: drop that event instead.
      started = st.buffered_events(i).timer_fired_event_attributes().started_event_id();
      ctx.run().RemoveBufferedEvent(i);
    }
    auto* e = ctx.AddEvent(ev1::EVENT_TYPE_TIMER_CANCELED);
    auto* a = e->mutable_timer_canceled_event_attributes();
    a->set_timer_id(id);
    a->set_started_event_id(started);
    a->set_workflow_task_completed_event_id(ctx.completed_event_id());
    a->set_identity(st.wft().identity());
  }
};

}  // namespace

std::unique_ptr<CommandHandler> NewStartTimerHandler() { return std::make_unique<StartTimerHandler>(); }
std::unique_ptr<CommandHandler> NewCancelTimerHandler() { return std::make_unique<CancelTimerHandler>(); }

}  // namespace temporalite::history::commands
