// The handler of each command type (one unit each; files by family). Built by CommandDispatcher.
#pragma once

#include <memory>

#include "history/commands/command_handler.h"

namespace temporalite::history::commands {

// activity_commands.cc
std::unique_ptr<CommandHandler> NewScheduleActivityTaskHandler();
std::unique_ptr<CommandHandler> NewRequestCancelActivityTaskHandler();
// timer_commands.cc
std::unique_ptr<CommandHandler> NewStartTimerHandler();
std::unique_ptr<CommandHandler> NewCancelTimerHandler();
// close_commands.cc
std::unique_ptr<CommandHandler> NewCompleteWorkflowExecutionHandler();
std::unique_ptr<CommandHandler> NewFailWorkflowExecutionHandler();
std::unique_ptr<CommandHandler> NewCancelWorkflowExecutionHandler();
std::unique_ptr<CommandHandler> NewContinueAsNewWorkflowExecutionHandler();
// external_commands.cc
std::unique_ptr<CommandHandler> NewStartChildWorkflowExecutionHandler();
std::unique_ptr<CommandHandler> NewSignalExternalWorkflowExecutionHandler();
std::unique_ptr<CommandHandler> NewRequestCancelExternalWorkflowExecutionHandler();
// record_commands.cc
std::unique_ptr<CommandHandler> NewRecordMarkerHandler();
std::unique_ptr<CommandHandler> NewUpsertWorkflowSearchAttributesHandler();
std::unique_ptr<CommandHandler> NewModifyWorkflowPropertiesHandler();
std::unique_ptr<CommandHandler> NewProtocolMessageHandler();

// Checks shared by several handlers (checks.cc).
bool ValidDuration(const google::protobuf::Duration& d);  // not negative

}  // namespace temporalite::history::commands
