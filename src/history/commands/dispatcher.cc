#include "history/commands/dispatcher.h"

#include <cctype>

#include "common/enum_names.h"
#include "history/commands/handlers.h"

namespace temporalite::history::commands {

CommandStatus CommandStatus::Reject(ev1::WorkflowTaskFailedCause cause, const std::string& detail) {
  CommandStatus s;
  s.status = InvalidArgument(CauseName(cause) + ": " + detail);
  s.cause = cause;
  return s;
}

CommandStatus CommandStatus::Malformed(const std::string& message) {
  CommandStatus s;
  s.status = InvalidArgument(message);
  return s;
}

std::string CauseName(ev1::WorkflowTaskFailedCause cause) {
  return PascalEnumName(ev1::WorkflowTaskFailedCause_Name(cause), "WORKFLOW_TASK_FAILED_CAUSE_");
}

namespace {
bool IsClosing(cmdv1::Command::AttributesCase c) {
  return c == cmdv1::Command::kCompleteWorkflowExecutionCommandAttributes ||
         c == cmdv1::Command::kFailWorkflowExecutionCommandAttributes ||
         c == cmdv1::Command::kCancelWorkflowExecutionCommandAttributes ||
         c == cmdv1::Command::kContinueAsNewWorkflowExecutionCommandAttributes;
}

// The run's pending state the first command is checked against.
ValidationScope ScopeOf(const Execution& ex, const ProtocolMessages& messages) {
  ValidationScope scope;
  scope.messages = &messages;
  for (const auto& [id, ai] : ex.st().activities()) scope.activity_ids.insert(ai.activity_id());
  for (const auto& [id, t] : ex.st().timers()) scope.timer_ids.insert(id);
  scope.pending_activities = ex.st().activities_size();
  scope.pending_children = ex.st().children_size();
  return scope;
}
}  // namespace

CommandDispatcher::CommandDispatcher() {
  using C = cmdv1::Command;
  handlers_[C::kScheduleActivityTaskCommandAttributes] = NewScheduleActivityTaskHandler();
  handlers_[C::kRequestCancelActivityTaskCommandAttributes] = NewRequestCancelActivityTaskHandler();
  handlers_[C::kStartTimerCommandAttributes] = NewStartTimerHandler();
  handlers_[C::kCancelTimerCommandAttributes] = NewCancelTimerHandler();
  handlers_[C::kCompleteWorkflowExecutionCommandAttributes] = NewCompleteWorkflowExecutionHandler();
  handlers_[C::kFailWorkflowExecutionCommandAttributes] = NewFailWorkflowExecutionHandler();
  handlers_[C::kCancelWorkflowExecutionCommandAttributes] = NewCancelWorkflowExecutionHandler();
  handlers_[C::kContinueAsNewWorkflowExecutionCommandAttributes] = NewContinueAsNewWorkflowExecutionHandler();
  handlers_[C::kStartChildWorkflowExecutionCommandAttributes] = NewStartChildWorkflowExecutionHandler();
  handlers_[C::kSignalExternalWorkflowExecutionCommandAttributes] = NewSignalExternalWorkflowExecutionHandler();
  handlers_[C::kRequestCancelExternalWorkflowExecutionCommandAttributes] =
      NewRequestCancelExternalWorkflowExecutionHandler();
  handlers_[C::kRecordMarkerCommandAttributes] = NewRecordMarkerHandler();
  handlers_[C::kUpsertWorkflowSearchAttributesCommandAttributes] = NewUpsertWorkflowSearchAttributesHandler();
  handlers_[C::kModifyWorkflowPropertiesCommandAttributes] = NewModifyWorkflowPropertiesHandler();
  handlers_[C::kProtocolMessageCommandAttributes] = NewProtocolMessageHandler();
}

const CommandDispatcher& CommandDispatcher::Get() {
  static const CommandDispatcher* const kDispatcher = new CommandDispatcher();  // never destroyed
  return *kDispatcher;
}

CommandStatus CommandDispatcher::Validate(const wsv1::RespondWorkflowTaskCompletedRequest& req, CommandContext& ctx,
                                          CommandPlan* plan) const {
  const int n = req.commands_size();
  for (int i = 0; i + 1 < n; ++i) {
    if (IsClosing(req.commands(i).attributes_case())) {
      return CommandStatus::Malformed("Workflow close command must be the last command in the workflow task.");
    }
  }
  ValidationScope scope = ScopeOf(ctx.run(), req.messages());
  plan->commands.reserve(n);
  for (const auto& c : req.commands()) {
    auto it = handlers_.find(c.attributes_case());
    if (it == handlers_.end()) {
      return CommandStatus::Malformed("Unknown command type: " + std::to_string(static_cast<int>(c.command_type())) +
                                      ".");
    }
    PlannedCommand planned;
    planned.command = &c;
    planned.handler = it->second.get();
    CommandStatus s = planned.handler->Validate(c, ctx, scope, planned);
    if (!s.ok()) return s;
    plan->commands.push_back(std::move(planned));
  }
  plan->closes = scope.closes;
  plan->messages = &req.messages();
  return CommandStatus::Ok();
}

ApplyResult CommandDispatcher::Apply(const CommandPlan& plan, CommandContext& ctx) const {
  ApplyResult result;
  for (const auto& planned : plan.commands) {
    // Temporal: a command's user_metadata goes onto the event it records (AddEvent takes it).
    const auto& c = *planned.command;
    ctx.run().command_user_metadata =
        c.has_user_metadata() && !c.has_protocol_message_command_attributes() ? &c.user_metadata() : nullptr;
    planned.handler->Apply(planned, plan, ctx, result);
    ctx.run().command_user_metadata = nullptr;
  }
  if (plan.messages == nullptr) return result;
  for (const auto& m : *plan.messages) {
    bool referenced = false;
    for (const auto& planned : plan.commands) {
      const auto& c = *planned.command;
      referenced = referenced || (c.has_protocol_message_command_attributes() &&
                                  c.protocol_message_command_attributes().message_id() == m.id());
    }
    if (!referenced) ctx.ApplyProtocolMessage(m);
  }
  return result;
}

}  // namespace temporalite::history::commands
