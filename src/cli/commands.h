// Registration of the command families, and flag sets shared between commands of a family.
#pragma once

#include <temporal/api/common/v1/message.pb.h>
#include <temporal/api/workflowservice/v1/request_response.pb.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/payloads.h"

namespace temporalite::cli {

// workflow_start.cc: start, execute, signal-with-start.
void RegisterWorkflowStartCommands(CLI::App* workflow, int* exit_code);
// workflow_view.cc: describe, list, count, show, result.
void RegisterWorkflowViewCommands(CLI::App* workflow, int* exit_code);
// workflow_control.cc: signal, query, stack, cancel, terminate, delete, reset.
void RegisterWorkflowControlCommands(CLI::App* workflow, int* exit_code);
// workflow_update.cc: update execute/start/result/describe.
void RegisterWorkflowUpdateCommands(CLI::App* workflow, int* exit_code);
// operator_commands.cc: operator namespace ..., operator search-attribute ...
void RegisterOperatorCommands(CLI::App* app, int* exit_code);
// task_queue_commands.cc: task-queue describe.
void RegisterTaskQueueCommands(CLI::App* app, int* exit_code);
// completion.cc: completion bash|zsh (generated from the command tree under the root app).
void RegisterCompletionCommand(CLI::App* app);
// schedule_commands.cc: schedule create/update/describe/list/delete/toggle/trigger/backfill/...
void RegisterScheduleCommands(CLI::App* app, int* exit_code);

// The `temporal` "workflow-reference" option set: -w/--workflow-id (required) and -r/--run-id.
struct WorkflowRef {
  std::string workflow_id;
  std::string run_id;
};
void AddWorkflowRefFlags(CLI::App* cmd, WorkflowRef* ref);
temporal::api::common::v1::WorkflowExecution ToExecution(const WorkflowRef& ref);

// The "single-workflow-or-batch" option set: one workflow by -w, or a batch by -q.
struct SingleOrBatch {
  std::string workflow_id;
  std::string run_id;
  std::string query;
  std::string reason;
  bool yes = false;
  double rps = 0;
  std::vector<std::string> headers;
};
void AddSingleOrBatchFlags(CLI::App* cmd, SingleOrBatch* f, bool with_headers = true);

// How a single-or-batch command should proceed: on one workflow, or as a batch job.
struct Target {
  bool batch = false;
  temporal::api::common::v1::WorkflowExecution execution;  // when !batch
  std::string reason;                                       // when batch (defaulted)
};
// Validates the flag combination (`allow_reason`/`allow_yes` with -w) and, for a batch, counts the
// matching workflows and asks for confirmation (unless --yes). Throws on refusal or bad flags.
Target ResolveTarget(Context& ctx, const SingleOrBatch& f, bool allow_reason_with_id, bool allow_yes_with_id);

// Fills namespace/job id/query/reason/rps of a batch request for `target`, starts it and prints
// "Started batch for job ID: ..." (or {"batchJobId": ...}). `req` carries the operation.
void StartBatchJob(Context& ctx, const SingleOrBatch& f, const Target& target,
                   temporal::api::workflowservice::v1::StartBatchOperationRequest req);

// "Requested from CLI by <user>".
std::string DefaultReason();

// Workflow headers from KEY=JSON pairs.
temporal::api::common::v1::Header BuildHeader(const std::vector<std::string>& pairs);

}  // namespace temporalite::cli
