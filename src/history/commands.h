// Validation and normalisation of the commands in a RespondWorkflowTaskCompleted, done before
// anything is written (a rejected completion changes nothing but the WorkflowTaskFailed event).
#pragma once

#include <functional>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "history/engine.h"
#include "history/execution.h"
#include "temporal/api/command/v1/message.pb.h"

namespace temporalite::history {

namespace cmdv1 = ::temporal::api::command::v1;

struct PlannedCommand {
  const cmdv1::Command* command = nullptr;
  // ScheduleActivityTask only: attributes after Temporal's normalisation.
  cmdv1::ScheduleActivityTaskCommandAttributes activity;
};

struct CommandPlan {
  std::vector<PlannedCommand> commands;
  bool closes = false;  // the last command closes the workflow
  // Set with a non-OK Validate() result when the task must be failed with this cause
  // (ev1::WorkflowTaskFailedCause); 0 means the request itself is malformed.
  int failure_cause = 0;
  bool terminate_run = false;
  // The completion's protocol messages (updates); PROTOCOL_MESSAGE commands refer to them by id.
  const google::protobuf::RepeatedPtrField<temporal::api::protocol::v1::Message>* messages = nullptr;  // with failure_cause: a payload over the size limit ends the run
};

class CommandValidator {
 public:
  CommandValidator(const Execution& ex, const EngineOptions& options, TimePoint now,
                   std::function<bool(const std::string&)> namespace_exists,
                   std::function<Status(const temporal::api::common::v1::SearchAttributes&)> validate_search_attributes = nullptr)
      : ex_(ex), options_(options), now_(now), namespace_exists_(std::move(namespace_exists)),
        validate_search_attributes_(std::move(validate_search_attributes)) {}
  Status Validate(const wsv1::RespondWorkflowTaskCompletedRequest& req, CommandPlan* plan);
  // The workflow's namespace: children started in it get their search attributes validated.
  void set_namespace_name(std::string name) { namespace_name_ = std::move(name); }

 private:
  Status Fail(CommandPlan* plan, ev1::WorkflowTaskFailedCause cause, const std::string& detail);
  Status NormaliseActivity(const cmdv1::ScheduleActivityTaskCommandAttributes& in,
                           cmdv1::ScheduleActivityTaskCommandAttributes* out, std::string* error);

  const Execution& ex_;
  const EngineOptions& options_;
  TimePoint now_;
  std::function<bool(const std::string&)> namespace_exists_;
  std::function<Status(const temporal::api::common::v1::SearchAttributes&)> validate_search_attributes_;
  std::string namespace_name_;
  bool oversized_ = false;  // the last NormaliseActivity failure was a payload over the limit
};

// "WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES" -> "BadScheduleActivityAttributes".
std::string CauseName(ev1::WorkflowTaskFailedCause cause);

}  // namespace temporalite::history
