// Routes each command of a RespondWorkflowTaskCompleted to its handler (one per command type;
// handlers.h), first to validate all of them, then to apply them in order.
#pragma once

#include <memory>
#include <unordered_map>

#include "history/commands/command_handler.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history::commands {

class CommandDispatcher {
 public:
  CommandDispatcher();  // registers the handler of every supported command type

  // The dispatcher of the process: immutable after construction, safe to share between threads.
  static const CommandDispatcher& Get();

  // Validates every command of `req` in order (nothing is written). On OK, `plan` holds the
  // commands with their handlers; otherwise the status says how the completion is answered.
  CommandStatus Validate(const wsv1::RespondWorkflowTaskCompletedRequest& req, CommandContext& ctx,
                         CommandPlan* plan) const;
  // Applies a validated plan: one event per command, in command order, then the protocol
  // messages no command referred to (e.g. update rejections), in order.
  ApplyResult Apply(const CommandPlan& plan, CommandContext& ctx) const;

 private:
  std::unordered_map<int, std::unique_ptr<CommandHandler>> handlers_;  // by Command::AttributesCase
};

}  // namespace temporalite::history::commands
