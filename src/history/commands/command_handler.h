// One handler per workflow-task command type: the validation and the application of a command
// live together in one unit (as Temporal's workflow_task_handler.go keeps handleCommandXxx), and
// the dispatcher (dispatcher.h) routes each command of a RespondWorkflowTaskCompleted to its
// handler. Handlers see the engine only through CommandContext, so they can be exercised on a
// SimClock without the rest of the engine's surface.
//
// A completion is handled in two passes so that a rejected completion writes nothing but the
// WorkflowTaskFailed event: every command is validated first (Validate, no writes), then every
// command is applied in order (Apply, events and side effects in the completion's transaction).
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "history/engine.h"
#include "history/execution.h"
#include "temporal/api/command/v1/message.pb.h"
#include "temporal/api/enums/v1/failed_cause.pb.h"
#include "temporal/api/protocol/v1/message.pb.h"
#include "visibility/search_attributes.h"

namespace temporalite::history::commands {

namespace cmdv1 = ::temporal::api::command::v1;
namespace cv1 = ::temporal::api::common::v1;
namespace fv1 = ::temporal::api::failure::v1;
using ProtocolMessages = google::protobuf::RepeatedPtrField<temporal::api::protocol::v1::Message>;

// The outcome of validating a command (or a whole completion): OK, or the INVALID_ARGUMENT the
// RespondWorkflowTaskCompleted call is answered with and how the workflow task fails.
struct CommandStatus {
  Status status;
  // WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED: the request itself is malformed; nothing is written.
  // Otherwise the task fails with this cause and the reply is "<Cause>: <detail>".
  ev1::WorkflowTaskFailedCause cause = ev1::WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED;
  // A payload over the size limit would fail every retry the same way: the run is terminated.
  bool terminate_run = false;

  bool ok() const { return status.ok(); }
  static CommandStatus Ok() { return {}; }
  // The task fails with `cause`; the reply's message is "<CauseName>: <detail>".
  static CommandStatus Reject(ev1::WorkflowTaskFailedCause cause, const std::string& detail);
  // The request is malformed (no task failure is recorded).
  static CommandStatus Malformed(const std::string& message);
  CommandStatus&& TerminatingRun() && {
    terminate_run = true;
    return std::move(*this);
  }
};

// "WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES" -> "BadScheduleActivityAttributes".
std::string CauseName(ev1::WorkflowTaskFailedCause cause);

class CommandHandler;

// One validated command, ready to apply.
struct PlannedCommand {
  const cmdv1::Command* command = nullptr;
  const CommandHandler* handler = nullptr;
  // ScheduleActivityTask only: the attributes after Temporal's normalisation.
  cmdv1::ScheduleActivityTaskCommandAttributes activity;
};

// A completion whose commands all validated.
struct CommandPlan {
  std::vector<PlannedCommand> commands;
  bool closes = false;  // the last command closes the workflow
  // The completion's protocol messages (updates); PROTOCOL_MESSAGE commands refer to them by id.
  const ProtocolMessages* messages = nullptr;
};

// What the commands validated so far in one completion claimed, on top of the run's state: a
// later command is checked against these (duplicate ids, pending limits).
struct ValidationScope {
  const ProtocolMessages* messages = nullptr;
  std::set<std::string> activity_ids;      // pending plus scheduled by this completion
  std::set<std::string> timer_ids;         // pending plus started, minus cancelled
  std::set<int64_t> cancel_requested;      // activities asked to cancel by this completion
  std::set<std::string> started_children;  // workflow ids of children started by this completion
  size_t pending_activities = 0;
  size_t pending_children = 0;
  // External signals / cancel requests resolve in the completion's own transaction, so only the
  // ones of this completion are pending when the next one is checked.
  size_t pending_signals = 0;
  size_t pending_cancels = 0;
  bool closes = false;  // a closing command was accepted
};

// What applying the commands changed that the engine acts on after them.
struct ApplyResult {
  bool closed = false;    // a command closed the run (the context holds its next run, if any)
  bool need_wft = false;  // a new workflow task must be scheduled
};

// Everything a handler may see or do. The engine implements it for one completion of one run,
// inside that completion's transaction (REQUIRES the engine mutex throughout).
class CommandContext {
 public:
  virtual ~CommandContext() = default;

  // --- reading (validation and application) ---
  virtual Execution& run() = 0;
  virtual const EngineOptions& limits() const = 0;
  virtual TimePoint now() const = 0;
  virtual bool NamespaceExists(const std::string& name) const = 0;
  virtual const std::string& namespace_name() const = 0;
  // Custom search attributes of the run's namespace.
  virtual const visibility::TypeMap& custom_search_attributes() const = 0;

  // --- application only ---
  // The WorkflowTaskCompleted event the command events refer to.
  virtual int64_t completed_event_id() const = 0;
  // Appends a history event to the run.
  hv1::HistoryEvent* AddEvent(ev1::EventType type) { return history::AddEvent(run(), type, now()); }
  // A newly scheduled activity (already in the run's state): arms its timeouts and queues it.
  // `eager_requested` (the command's request_eager_execution): when the server allows it, the
  // activity is not queued but started for the completing worker once all commands are applied.
  virtual void DispatchActivity(const state::ActivityInfo& ai, bool eager_requested) = 0;
  // Arms a user timer started by a StartTimer command.
  virtual void ArmUserTimer(const state::TimerInfo& timer) = 0;
  // The next run of the chain when the run closes. Each returns the new run's id ("" for none);
  // the context keeps that run and the engine starts it after the close.
  virtual std::string PlanCronRun(const cv1::Payloads* result, const fv1::Failure* failure) = 0;
  virtual ev1::RetryState PlanRetry(const fv1::Failure& failure, std::string* new_run_id) = 0;
  virtual const hv1::WorkflowExecutionStartedEventAttributes& PlanContinueAsNew(
      const cmdv1::ContinueAsNewWorkflowExecutionCommandAttributes& attrs, std::string* new_run_id) = 0;
  // Children and external workflows: initiated events, and (external) the target's change in the
  // same transaction. `source_closes`: the completion also closes this run.
  virtual void StartChild(const cmdv1::StartChildWorkflowExecutionCommandAttributes& attrs, bool* need_wft) = 0;
  virtual void SignalExternal(const cmdv1::SignalExternalWorkflowExecutionCommandAttributes& attrs, bool source_closes,
                              bool* need_wft) = 0;
  virtual void RequestCancelExternal(const cmdv1::RequestCancelExternalWorkflowExecutionCommandAttributes& attrs,
                                     bool source_closes, bool* need_wft) = 0;
  // An update protocol message (acceptance, rejection, response).
  virtual void ApplyProtocolMessage(const temporal::api::protocol::v1::Message& message) = 0;
};

class CommandHandler {
 public:
  virtual ~CommandHandler() = default;
  // Checks `command` against the run (ctx), the limits and what earlier commands of the same
  // completion claimed (`scope`, updated with this command's claims). Writes nothing; may
  // normalise attributes into `planned`.
  virtual CommandStatus Validate(const cmdv1::Command& command, CommandContext& ctx, ValidationScope& scope,
                                 PlannedCommand& planned) const = 0;
  // Writes the command's events and starts its side effects.
  // REQUIRES: Validate accepted `planned` in this completion, and the earlier commands are applied.
  virtual void Apply(const PlannedCommand& planned, const CommandPlan& plan, CommandContext& ctx,
                     ApplyResult& result) const = 0;
};

}  // namespace temporalite::history::commands
