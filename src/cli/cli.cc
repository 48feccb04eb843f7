#include "cli/cli.h"

#include "cli/command.h"
#include "cli/commands.h"

namespace temporalite::cli {

void RegisterCommands(CLI::App& app, int* exit_code) {
  CLI::App* workflow = AddGroup(&app, "workflow", "Start, list, and operate on Workflows",
                                "Workflow commands perform operations on Workflow Executions:\n\n"
                                "  temporalite workflow [command] [options]\n\n"
                                "For example:\n\n"
                                "  temporalite workflow list --status running\n\n"
                                "Every command takes the global flags (--address, --namespace, --output, TLS and\n"
                                "API key); TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and the\n"
                                "TEMPORAL_TLS_* variables, also read from a .env file in the working directory,\n"
                                "set their defaults.\n");
  RegisterWorkflowStartCommands(workflow, exit_code);
  RegisterWorkflowViewCommands(workflow, exit_code);
  RegisterWorkflowControlCommands(workflow, exit_code);
  RegisterWorkflowUpdateCommands(workflow, exit_code);
  RegisterOperatorCommands(&app, exit_code);
  RegisterTaskQueueCommands(&app, exit_code);
  RegisterScheduleCommands(&app, exit_code);
  RegisterCompletionCommand(&app);
}

}  // namespace temporalite::cli
