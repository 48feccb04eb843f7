// The commands that close the run: CompleteWorkflowExecution, FailWorkflowExecution,
// CancelWorkflowExecution and ContinueAsNewWorkflowExecution (the dispatcher checks that a closing
// command comes last).
#include "history/commands/handlers.h"
#include "history/proto_time.h"
#include "visibility/search_attributes.h"

namespace temporalite::history::commands {
namespace {

void Close(CommandContext& ctx, ev1::WorkflowExecutionStatus status, ApplyResult& result) {
  ctx.run().SetCloseStatus(status);
  result.closed = true;
}

// A closing command with nothing of its own to validate (fail, cancel).
class UncheckedCloseHandler : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command&, CommandContext&, ValidationScope& scope,
                         PlannedCommand&) const override {
    scope.closes = true;
    return CommandStatus::Ok();
  }
};

class CompleteWorkflowExecutionHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext& ctx, ValidationScope& scope,
                         PlannedCommand&) const override {
    if (command.complete_workflow_execution_command_attributes().result().ByteSizeLong() >
        ctx.limits().blob_size_limit_error) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES,
                                   "CompleteWorkflowExecutionCommandAttributes.Result exceeds size limit.")
          .TerminatingRun();
    }
    scope.closes = true;
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx,
             ApplyResult& result) const override {
    auto* e = ctx.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    auto* a = e->mutable_workflow_execution_completed_event_attributes();
    *a->mutable_result() = planned.command->complete_workflow_execution_command_attributes().result();
    a->set_workflow_task_completed_event_id(ctx.completed_event_id());
    a->set_new_execution_run_id(ctx.PlanCronRun(&a->result(), nullptr));
    Close(ctx, ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED, result);
  }
};

class FailWorkflowExecutionHandler final : public UncheckedCloseHandler {
 public:
  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx,
             ApplyResult& result) const override {
    auto* e = ctx.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_FAILED);
    auto* a = e->mutable_workflow_execution_failed_event_attributes();
    const auto& failure = planned.command->fail_workflow_execution_command_attributes().failure();
    *a->mutable_failure() = failure;
    // Retry first (the starter's retry policy); otherwise the next cron run, if any.
    std::string next_run_id;
    a->set_retry_state(ctx.PlanRetry(failure, &next_run_id));
    if (next_run_id.empty()) next_run_id = ctx.PlanCronRun(nullptr, &failure);
    a->set_new_execution_run_id(next_run_id);
    a->set_workflow_task_completed_event_id(ctx.completed_event_id());
    Close(ctx, ev1::WORKFLOW_EXECUTION_STATUS_FAILED, result);
  }
};

class CancelWorkflowExecutionHandler final : public UncheckedCloseHandler {
 public:
  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx,
             ApplyResult& result) const override {
    auto* e = ctx.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
    auto* a = e->mutable_workflow_execution_canceled_event_attributes();
    *a->mutable_details() = planned.command->cancel_workflow_execution_command_attributes().details();
    a->set_workflow_task_completed_event_id(ctx.completed_event_id());
    Close(ctx, ev1::WORKFLOW_EXECUTION_STATUS_CANCELED, result);
  }
};

class ContinueAsNewWorkflowExecutionHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext& ctx, ValidationScope& scope,
                         PlannedCommand&) const override {
    const auto& a = command.continue_as_new_workflow_execution_command_attributes();
    const auto cause = ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES;
    const size_t max_id = ctx.limits().max_id_length;
    if (a.workflow_type().name().size() > max_id || a.task_queue().name().size() > max_id) {
      return CommandStatus::Reject(cause, "WorkflowType or TaskQueue exceeds length limit.");
    }
    if (!ValidDuration(a.workflow_run_timeout()) || !ValidDuration(a.workflow_task_timeout()) ||
        !ValidDuration(a.backoff_start_interval())) {
      return CommandStatus::Reject(cause, "A valid timeout may not be negative.");
    }
    if (Status sa = visibility::Validate(a.search_attributes(), ctx.custom_search_attributes()); !sa.ok()) {
      return CommandStatus::Reject(cause, sa.message());
    }
    if (a.input().ByteSizeLong() > ctx.limits().blob_size_limit_error) {
      return CommandStatus::Reject(cause, "ContinueAsNewWorkflowExecutionCommandAttributes.Input exceeds size limit.")
          .TerminatingRun();
    }
    scope.closes = true;
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx,
             ApplyResult& result) const override {
    const auto& in = planned.command->continue_as_new_workflow_execution_command_attributes();
    std::string next_run_id;
    const auto& next = ctx.PlanContinueAsNew(in, &next_run_id);
    auto* e = ctx.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    auto* a = e->mutable_workflow_execution_continued_as_new_event_attributes();
    a->set_new_execution_run_id(next_run_id);
    *a->mutable_workflow_type() = next.workflow_type();
    *a->mutable_task_queue() = next.task_queue();
    a->mutable_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
    *a->mutable_input() = next.input();
    if (!IsZero(next.workflow_run_timeout())) *a->mutable_workflow_run_timeout() = next.workflow_run_timeout();
    if (!IsZero(next.workflow_task_timeout())) *a->mutable_workflow_task_timeout() = next.workflow_task_timeout();
    a->set_workflow_task_completed_event_id(ctx.completed_event_id());
    *a->mutable_backoff_start_interval() = next.first_workflow_task_backoff();
    a->set_initiator(next.initiator());
    if (in.has_failure()) *a->mutable_failure() = in.failure();
    if (in.has_last_completion_result()) *a->mutable_last_completion_result() = in.last_completion_result();
    *a->mutable_header() = next.header();
    *a->mutable_memo() = next.memo();
    *a->mutable_search_attributes() = next.search_attributes();
    Close(ctx, ev1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, result);
  }
};

}  // namespace

std::unique_ptr<CommandHandler> NewCompleteWorkflowExecutionHandler() {
  return std::make_unique<CompleteWorkflowExecutionHandler>();
}
std::unique_ptr<CommandHandler> NewFailWorkflowExecutionHandler() {
  return std::make_unique<FailWorkflowExecutionHandler>();
}
std::unique_ptr<CommandHandler> NewCancelWorkflowExecutionHandler() {
  return std::make_unique<CancelWorkflowExecutionHandler>();
}
std::unique_ptr<CommandHandler> NewContinueAsNewWorkflowExecutionHandler() {
  return std::make_unique<ContinueAsNewWorkflowExecutionHandler>();
}

}  // namespace temporalite::history::commands
