// The command handlers' context of one workflow-task completion as the WorkflowTasks unit
// (workflow_tasks.h) sees it: commands::CommandContext, plus what the completion sets and reads
// back around the commands. The engine's is EngineCommandContext (engine_command_context.h); the
// unit's tests have their own.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "history/commands/command_handler.h"
#include "history/start_workflow.h"

namespace temporalite::history {

class CompletionContext : public commands::CommandContext {
 public:
  // The WorkflowTaskCompleted event the command events refer to.
  virtual void set_completed_event_id(int64_t id) = 0;
  // The next run a closing command planned (continue-as-new, retry or cron), if any.
  virtual std::optional<StartFields>& next_run() = 0;
  // Activities scheduled for eager execution (not queued), by scheduled event id, in order.
  virtual const std::vector<int64_t>& eager_activities() const = 0;
};

}  // namespace temporalite::history
