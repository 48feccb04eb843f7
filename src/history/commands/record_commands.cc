// Commands that record data on the run: RecordMarker, UpsertWorkflowSearchAttributes,
// ModifyWorkflowProperties (memo) and ProtocolMessage (an update's acceptance/rejection/response).
#include "history/commands/handlers.h"
#include "history/sa_types.h"
#include "visibility/search_attributes.h"

namespace temporalite::history::commands {
namespace {

class RecordMarkerHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext&, ValidationScope&,
                         PlannedCommand&) const override {
    if (command.record_marker_command_attributes().marker_name().empty()) {
      return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES,
                                   "MarkerName is not set on command.");
    }
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx, ApplyResult&) const override {
    const auto& in = planned.command->record_marker_command_attributes();
    auto* e = ctx.AddEvent(ev1::EVENT_TYPE_MARKER_RECORDED);
    auto* a = e->mutable_marker_recorded_event_attributes();
    a->set_marker_name(in.marker_name());
    *a->mutable_details() = in.details();
    a->set_workflow_task_completed_event_id(ctx.completed_event_id());
    if (in.has_header()) *a->mutable_header() = in.header();
    if (in.has_failure()) *a->mutable_failure() = in.failure();
  }
};

class UpsertWorkflowSearchAttributesHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext& ctx, ValidationScope&,
                         PlannedCommand&) const override {
    const auto cause = ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES;
    const auto& upserted = command.upsert_workflow_search_attributes_command_attributes().search_attributes();
    if (upserted.indexed_fields_size() == 0) {
      return CommandStatus::Reject(cause, "SearchAttributes is not set on command.");
    }
    if (Status sa = visibility::Validate(upserted, ctx.custom_search_attributes()); !sa.ok()) {
      return CommandStatus::Reject(cause, sa.message());
    }
    // The total size limit applies to what the workflow holds after the upsert.
    cv1::SearchAttributes merged = ctx.run().st().search_attributes();
    for (const auto& [k, v] : upserted.indexed_fields()) (*merged.mutable_indexed_fields())[k] = v;
    if (Status total = visibility::ValidateSize(merged); !total.ok()) {
      return CommandStatus::Reject(cause, total.message());
    }
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx, ApplyResult&) const override {
    const auto& in = planned.command->upsert_workflow_search_attributes_command_attributes();
    auto* e = ctx.AddEvent(ev1::EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
    auto* a = e->mutable_upsert_workflow_search_attributes_event_attributes();
    *a->mutable_search_attributes() = in.search_attributes();
    SetSearchAttributeTypes(a->mutable_search_attributes(), ctx.custom_search_attributes());
    a->set_workflow_task_completed_event_id(ctx.completed_event_id());
    ctx.run().UpsertSearchAttributes(a->search_attributes());  // an empty value unsets the attribute
  }
};

class ModifyWorkflowPropertiesHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command&, CommandContext&, ValidationScope&, PlannedCommand&) const override {
    return CommandStatus::Ok();
  }

  void Apply(const PlannedCommand& planned, const CommandPlan&, CommandContext& ctx, ApplyResult&) const override {
    const auto& in = planned.command->modify_workflow_properties_command_attributes();
    auto* e = ctx.AddEvent(ev1::EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED);
    auto* a = e->mutable_workflow_properties_modified_event_attributes();
    *a->mutable_upserted_memo() = in.upserted_memo();
    a->set_workflow_task_completed_event_id(ctx.completed_event_id());
    ctx.run().UpsertMemo(in.upserted_memo());
  }
};

class ProtocolMessageHandler final : public CommandHandler {
 public:
  CommandStatus Validate(const cmdv1::Command& command, CommandContext&, ValidationScope& scope,
                         PlannedCommand&) const override {
    const auto& id = command.protocol_message_command_attributes().message_id();
    for (const auto& m : *scope.messages) {
      if (m.id() == id) return CommandStatus::Ok();
    }
    return CommandStatus::Reject(ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE,
                                 "ProtocolMessageCommand refers to message " + id + ", which is not in the completion.");
  }

  // The message's events, at the command's place in the history.
  void Apply(const PlannedCommand& planned, const CommandPlan& plan, CommandContext& ctx,
             ApplyResult&) const override {
    const auto& id = planned.command->protocol_message_command_attributes().message_id();
    for (const auto& m : *plan.messages) {
      if (m.id() == id) ctx.ApplyProtocolMessage(m);
    }
  }
};

}  // namespace

std::unique_ptr<CommandHandler> NewRecordMarkerHandler() { return std::make_unique<RecordMarkerHandler>(); }
std::unique_ptr<CommandHandler> NewUpsertWorkflowSearchAttributesHandler() {
  return std::make_unique<UpsertWorkflowSearchAttributesHandler>();
}
std::unique_ptr<CommandHandler> NewModifyWorkflowPropertiesHandler() {
  return std::make_unique<ModifyWorkflowPropertiesHandler>();
}
std::unique_ptr<CommandHandler> NewProtocolMessageHandler() { return std::make_unique<ProtocolMessageHandler>(); }

}  // namespace temporalite::history::commands
