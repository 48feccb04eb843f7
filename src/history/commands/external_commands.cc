// Commands that reach other workflows: StartChildWorkflowExecution,
// SignalExternalWorkflowExecution and RequestCancelExternalWorkflowExecution. Their effects on the
// target live in the engine (children.cc, external.cc), reached through CommandContext.
#include "common/ids.h"
#include "history/commands/handlers.h"
#include "history/compat_fields.h"
#include "visibility/search_attributes.h"

namespace temporalite::history::commands {
namespace {

class StartChildWorkflowExecutionHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext& ctx, ValidationScope& scope,
                         PlannedCommand&) const override {
    const auto& a = command.start_child_workflow_execution_command_attributes();
    if (CommandStatus s = CheckAttributes(a, ctx); !s.ok()) return s;
    scope.started_children.insert(a.workflow_id());
    const size_t limit = ctx.limits().pending_children_limit;
    if (++scope.pending_children > limit) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED,
                                   "the number of pending child workflows exceeds the limit of " +
                                       std::to_string(limit));
    }
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx,
             ApplyResult& result) const override {
    ctx.StartChild(planned.command->start_child_workflow_execution_command_attributes(), &result.need_wft);
  }

 private:
  static CommandStatus CheckAttributes(const cmdv1::StartChildWorkflowExecutionCommandAttributes& a,
                                       CommandContext& ctx) {
    const auto cause = ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES;
    const size_t max_id = ctx.limits().max_id_length;
    if (a.workflow_id().empty() || a.workflow_id().size() > max_id) {
      return CommandStatus::Reject(cause, "WorkflowId is not set or too long.");
    }
    if (a.workflow_type().name().empty() || a.workflow_type().name().size() > max_id) {
      return CommandStatus::Reject(cause, "WorkflowType is not set or too long.");
    }
    if (a.task_queue().name().size() > max_id) return CommandStatus::Reject(cause, "TaskQueue exceeds length limit.");
    if (!a.namespace_().empty() && !ctx.NamespaceExists(a.namespace_())) {
      return CommandStatus::Reject(cause, "Namespace " + a.namespace_() + " is not found.");
    }
    if (!ValidDuration(a.workflow_execution_timeout()) || !ValidDuration(a.workflow_run_timeout()) ||
        !ValidDuration(a.workflow_task_timeout())) {
      return CommandStatus::Reject(cause, "A valid timeout may not be negative.");
    }
    // Custom attributes are per namespace: a child in its parent's namespace is checked here.
    if (a.namespace_().empty() || a.namespace_() == ctx.namespace_name()) {
      Status sa = visibility::Validate(a.search_attributes(), ctx.custom_search_attributes());
      if (!sa.ok()) return CommandStatus::Reject(cause, sa.message());
    }
    // Temporal's child validator answers the bare priority error under the child's cause.
    if (Status s = ValidatePriority(a.priority()); !s.ok()) return CommandStatus::Reject(cause, s.message());
    if (a.input().ByteSizeLong() > ctx.limits().blob_size_limit_error) {
      return CommandStatus::Reject(cause, "StartChildWorkflowExecutionCommandAttributes.Input exceeds size limit.")
          .TerminatingRun();
    }
    return CommandStatus::Ok();
  }
};

class SignalExternalWorkflowExecutionHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext& ctx, ValidationScope& scope,
                         PlannedCommand&) const override {
    const auto& a = command.signal_external_workflow_execution_command_attributes();
    if (CommandStatus s = CheckAttributes(a, ctx); !s.ok()) return s;
    // Temporal checks the count before adding: the command that would exceed the limit fails.
    const size_t limit = ctx.limits().pending_signals_limit;
    if (scope.pending_signals >= limit) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_SIGNALS_LIMIT_EXCEEDED,
                                   "the number of pending signals to external workflows, " +
                                       std::to_string(scope.pending_signals) + ", has reached the per-workflow limit of " +
                                       std::to_string(limit));
    }
    ++scope.pending_signals;
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan& plan, CommandContext& ctx,
             ApplyResult& result) const override {
    ctx.SignalExternal(planned.command->signal_external_workflow_execution_command_attributes(), plan.closes,
                       &result.need_wft);
  }

 private:
  static CommandStatus CheckAttributes(const cmdv1::SignalExternalWorkflowExecutionCommandAttributes& a,
                                       CommandContext& ctx) {
    const auto cause = ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES;
    const std::string& wid = a.execution().workflow_id();
    const std::string& rid = a.execution().run_id();
    const std::string where = " Namespace=" + a.namespace_() + " RunId=" + rid;
    const size_t max_id = ctx.limits().max_id_length;
    if (!a.has_execution()) {
      return CommandStatus::Reject(cause, "Execution is not set on SignalExternalWorkflowExecutionCommand.");
    }
    if (wid.empty()) {
      return CommandStatus::Reject(cause, "WorkflowId is not set on SignalExternalWorkflowExecutionCommand." + where +
                                              " SignalName=" + a.signal_name());
    }
    if (a.namespace_().size() > max_id) {
      return CommandStatus::Reject(
          cause, "Namespace on SignalExternalWorkflowExecutionCommand exceeds length limit. WorkflowId=" + wid);
    }
    if (wid.size() > max_id) {
      return CommandStatus::Reject(cause,
                                   "WorkflowId on SignalExternalWorkflowExecutionCommand exceeds length limit." + where);
    }
    if (!rid.empty() && !IsUuid(rid)) {
      return CommandStatus::Reject(cause, "Invalid RunId set on SignalExternalWorkflowExecutionCommand. WorkflowId=" +
                                              wid + where + " SignalName=" + a.signal_name());
    }
    if (a.signal_name().empty()) {
      return CommandStatus::Reject(
          cause, "SignalName is not set on SignalExternalWorkflowExecutionCommand. WorkflowId=" + wid + where);
    }
    if (a.input().ByteSizeLong() > ctx.limits().blob_size_limit_error) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_INPUT_SIZE,
                                   "SignalExternalWorkflowExecutionCommandAttributes.Input exceeds size limit.")
          .TerminatingRun();
    }
    return CommandStatus::Ok();
  }
};

class RequestCancelExternalWorkflowExecutionHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext& ctx, ValidationScope& scope,
                         PlannedCommand&) const override {
    const auto& a = command.request_cancel_external_workflow_execution_command_attributes();
    if (CommandStatus s = CheckAttributes(a, ctx, scope); !s.ok()) return s;
    const size_t limit = ctx.limits().pending_request_cancels_limit;
    if (scope.pending_cancels >= limit) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED,
                                   "the number of pending requests to cancel external workflows, " +
                                       std::to_string(scope.pending_cancels) +
                                       ", has reached the per-workflow limit of " + std::to_string(limit));
    }
    ++scope.pending_cancels;
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan& plan, CommandContext& ctx,
             ApplyResult& result) const override {
    ctx.RequestCancelExternal(planned.command->request_cancel_external_workflow_execution_command_attributes(),
                              plan.closes, &result.need_wft);
  }

 private:
  static CommandStatus CheckAttributes(const cmdv1::RequestCancelExternalWorkflowExecutionCommandAttributes& a,
                                       CommandContext& ctx, const ValidationScope& scope) {
    const auto cause = ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES;
    const std::string& wid = a.workflow_id();
    const std::string where = " RunId=" + a.run_id() + " Namespace=" + a.namespace_();
    const size_t max_id = ctx.limits().max_id_length;
    if (wid.empty()) {
      return CommandStatus::Reject(cause, "WorkflowId is not set on RequestCancelExternalWorkflowExecutionCommand. "
                                          "Namespace=" + a.namespace_() + " RunId=" + a.run_id());
    }
    if (a.namespace_().size() > max_id) {
      return CommandStatus::Reject(
          cause, "Namespace on RequestCancelExternalWorkflowExecutionCommand exceeds length limit. WorkflowId=" + wid);
    }
    if (wid.size() > max_id) {
      return CommandStatus::Reject(
          cause, "WorkflowId on RequestCancelExternalWorkflowExecutionCommand exceeds length limit." + where);
    }
    if (!a.run_id().empty() && !IsUuid(a.run_id())) {
      return CommandStatus::Reject(cause,
                                   "Invalid RunId set on RequestCancelExternalWorkflowExecutionCommand. WorkflowId=" +
                                       wid + where);
    }
    if (scope.started_children.count(wid) > 0) {
      return CommandStatus::Reject(
          cause, "Start and RequestCancel for child workflow is not allowed in same workflow task. WorkflowId=" + wid +
                     where);
    }
    return CommandStatus::Ok();
  }
};

}  // namespace

std::unique_ptr<CommandHandler> NewStartChildWorkflowExecutionHandler() {
  return std::make_unique<StartChildWorkflowExecutionHandler>();
}
std::unique_ptr<CommandHandler> NewSignalExternalWorkflowExecutionHandler() {
  return std::make_unique<SignalExternalWorkflowExecutionHandler>();
}
std::unique_ptr<CommandHandler> NewRequestCancelExternalWorkflowExecutionHandler() {
  return std::make_unique<RequestCancelExternalWorkflowExecutionHandler>();
}

}  // namespace temporalite::history::commands
