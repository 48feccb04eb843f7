// temporalite workflow update execute | start | result | describe
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/output.h"
#include "common/ids.h"

namespace temporalite::cli {
namespace {

namespace wsv1 = temporal::api::workflowservice::v1;
namespace enums = temporal::api::enums::v1;

struct UpdateFlags {
  std::string name;
  std::string workflow_id;
  std::string run_id;
  std::string update_id;
  std::string first_execution_run_id;
  std::vector<std::string> headers;
  std::string wait_for_stage;
  PayloadInput input;
};

// Polls until the update reaches `stage` (a long poll, re-issued while the server says "not yet").
wsv1::PollWorkflowExecutionUpdateResponse PollUpdate(Context& ctx, const std::string& workflow_id,
                                                     const std::string& run_id, const std::string& update_id,
                                                     enums::UpdateWorkflowExecutionLifecycleStage stage) {
  wsv1::PollWorkflowExecutionUpdateRequest req;
  req.set_namespace_(ctx.ns());
  req.mutable_update_ref()->mutable_workflow_execution()->set_workflow_id(workflow_id);
  req.mutable_update_ref()->mutable_workflow_execution()->set_run_id(run_id);
  req.mutable_update_ref()->set_update_id(update_id);
  req.set_identity(ctx.identity());
  if (stage != enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED) {
    req.mutable_wait_policy()->set_lifecycle_stage(stage);
  }
  Connection& c = ctx.conn();
  for (;;) {
    try {
      auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::PollWorkflowExecutionUpdate,
                         "PollWorkflowExecutionUpdate", req, "failed polling update", true);
      if (stage == enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED || resp.stage() >= stage) return resp;
    } catch (const RpcError& e) {
      if (!e.poll_timeout()) throw;
    }
  }
}

void RunUpdate(Context& ctx, const UpdateFlags& f, enums::UpdateWorkflowExecutionLifecycleStage wait) {
  wsv1::UpdateWorkflowExecutionRequest req;
  req.set_namespace_(ctx.ns());
  req.mutable_workflow_execution()->set_workflow_id(f.workflow_id);
  req.mutable_workflow_execution()->set_run_id(f.run_id);
  req.set_first_execution_run_id(f.first_execution_run_id);
  req.mutable_wait_policy()->set_lifecycle_stage(wait);
  std::string update_id = f.update_id.empty() ? NewUuid() : f.update_id;
  req.mutable_request()->mutable_meta()->set_update_id(update_id);
  req.mutable_request()->mutable_meta()->set_identity(ctx.identity());
  req.mutable_request()->mutable_input()->set_name(f.name);
  auto args = BuildPayloads(f.input);
  if (args.payloads_size() > 0) *req.mutable_request()->mutable_input()->mutable_args() = args;
  if (!f.headers.empty()) *req.mutable_request()->mutable_input()->mutable_header() = BuildHeader(f.headers);
  Connection& c = ctx.conn();
  wsv1::UpdateWorkflowExecutionResponse resp;
  // The server may answer before the requested stage (its long-poll limit): ask again.
  for (;;) {
    try {
      resp = c.Call(c.workflow(), &Connection::WorkflowStub::UpdateWorkflowExecution, "UpdateWorkflowExecution", req,
                    "unable to update workflow", true);
    } catch (const RpcError& e) {
      if (e.poll_timeout()) continue;
      throw;
    }
    if (resp.stage() >= wait || resp.has_outcome()) break;
  }
  temporal::api::update::v1::Outcome outcome = resp.outcome();
  if (wait == enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED && !resp.has_outcome()) {
    outcome = PollUpdate(ctx, f.workflow_id, resp.update_ref().workflow_execution().run_id(), update_id, wait).outcome();
  }
  if (outcome.has_failure()) throw CommandError("unable to update workflow: " + FailureSummary(outcome.failure()));
  Printer& out = ctx.out();
  Json j = {{"name", f.name}, {"updateId", update_id}};
  if (wait == enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED) j["result"] = PayloadsValue(outcome.success());
  if (out.json()) {
    out.PrintJson(j);
    return;
  }
  std::vector<Field> fields = {{"Name", f.name}, {"UpdateID", update_id}};
  if (j.contains("result")) fields.push_back({"Result", CompactJson(j["result"])});
  out.Card(fields);
}

void PrintOutcome(Context& ctx, const std::string& update_id, const wsv1::PollWorkflowExecutionUpdateResponse& resp,
                  bool with_stage) {
  Printer& out = ctx.out();
  Json j = {{"updateId", update_id}};
  std::vector<Field> fields = {{"UpdateId", update_id}};
  if (resp.outcome().has_success()) {
    j["result"] = PayloadsValue(resp.outcome().success());
    fields.push_back({"Result", CompactJson(j["result"])});
  } else if (resp.outcome().has_failure()) {
    j["failure"] = out.json() ? ProtoJson(resp.outcome().failure()) : Json(resp.outcome().failure().message());
    fields.push_back({"Failure", FailureSummary(resp.outcome().failure())});
  }
  if (with_stage) {
    j["stage"] = EnumName(resp.stage());
    fields.push_back({"Stage", EnumName(resp.stage())});
  }
  if (out.json()) out.PrintJson(j);
  else out.Card(fields);
}

void AddStartingFlags(CLI::App* cmd, UpdateFlags* f) {
  cmd->add_option("--name,--type", f->name, "Handler method name")->required();
  cmd->add_option("-w,--workflow-id", f->workflow_id, "Workflow ID")->required();
  cmd->add_option("--update-id", f->update_id, "Update ID (default: a UUID)");
  cmd->add_option("-r,--run-id", f->run_id, "Run ID (default: the running execution)");
  cmd->add_option("--first-execution-run-id", f->first_execution_run_id,
                  "Send the update to the last execution in the chain started with this Run ID");
  cmd->add_option("--headers", f->headers, "Temporal workflow headers as KEY=VALUE, VALUE JSON")
      ->type_name("KEY=VALUE");
  AddPayloadInputFlags(cmd, &f->input);
}

void AddTargetingFlags(CLI::App* cmd, UpdateFlags* f) {
  cmd->add_option("-w,--workflow-id", f->workflow_id, "Workflow ID")->required();
  cmd->add_option("--update-id", f->update_id, "Update ID")->required();
  cmd->add_option("-r,--run-id", f->run_id, "Run ID (default: the running execution)");
}

}  // namespace

void RegisterWorkflowUpdateCommands(CLI::App* workflow, int* exit_code) {
  CLI::App* update = AddGroup(workflow, "update", "Send and interact with Updates",
                              "An Update is a synchronous call to a Workflow Execution that can change its\n"
                              "state, control its flow, and return a result:\n\n"
                              "  temporalite workflow update execute \\\n"
                              "      --workflow-id YourWorkflowId \\\n"
                              "      --name YourUpdate \\\n"
                              "      --input '{\"some-key\": \"some-value\"}'\n");
  {
    auto f = std::make_shared<UpdateFlags>();
    CLI::App* cmd = AddCommand(update, "execute", "Send an Update and wait for it to complete",
                               "Send an Update to a Workflow Execution and print its result:\n\n"
                               "  temporalite workflow update execute \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --name YourUpdate \\\n"
                               "      --input '{\"some-key\": \"some-value\"}'\n",
                               exit_code, [f](Context& ctx) {
                                 RunUpdate(ctx, *f, enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED);
                               });
    AddStartingFlags(cmd, f.get());
  }
  {
    auto f = std::make_shared<UpdateFlags>();
    CLI::App* cmd = AddCommand(update, "start", "Send an Update and wait for it to be accepted or rejected",
                               "Send an Update and return once it was accepted (or fail if rejected):\n\n"
                               "  temporalite workflow update start \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --name YourUpdate \\\n"
                               "      --wait-for-stage accepted\n",
                               exit_code, [f](Context& ctx) {
                                 RunUpdate(ctx, *f, enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED);
                               });
    AddStartingFlags(cmd, f.get());
    cmd->add_option("--wait-for-stage", f->wait_for_stage, "Update stage to wait for (only \"accepted\")")
        ->required()
        ->check(CLI::IsMember({"accepted"}));
  }
  {
    auto f = std::make_shared<UpdateFlags>();
    CLI::App* cmd = AddCommand(update, "result", "Wait for and show the result of an Update",
                               "  temporalite workflow update result \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --update-id YourUpdateId\n",
                               exit_code, [f](Context& ctx) {
                                 auto resp = PollUpdate(ctx, f->workflow_id, f->run_id, f->update_id,
                                                        enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED);
                                 PrintOutcome(ctx, f->update_id, resp, false);
                                 if (resp.outcome().has_failure()) throw CommandError("update failed");
                               });
    AddTargetingFlags(cmd, f.get());
  }
  {
    auto f = std::make_shared<UpdateFlags>();
    CLI::App* cmd = AddCommand(update, "describe", "Show the status of an Update (and its result if finished)",
                               "  temporalite workflow update describe \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --update-id YourUpdateId\n",
                               exit_code, [f](Context& ctx) {
                                 auto resp = PollUpdate(ctx, f->workflow_id, f->run_id, f->update_id,
                                                        enums::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED);
                                 PrintOutcome(ctx, f->update_id, resp, true);
                               });
    AddTargetingFlags(cmd, f.get());
  }
}

}  // namespace temporalite::cli
