// Flag sets and helpers shared by the workflow commands.
#include <pwd.h>
#include <unistd.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/ids.h"

namespace temporalite::cli {

namespace wsv1 = temporal::api::workflowservice::v1;

void AddWorkflowRefFlags(CLI::App* cmd, WorkflowRef* ref) {
  cmd->add_option("-w,--workflow-id", ref->workflow_id, "Workflow ID")->required()->type_name("ID");
  cmd->add_option("-r,--run-id", ref->run_id, "Run ID (default: the latest run)")->type_name("ID");
}

temporal::api::common::v1::WorkflowExecution ToExecution(const WorkflowRef& ref) {
  temporal::api::common::v1::WorkflowExecution e;
  e.set_workflow_id(ref.workflow_id);
  e.set_run_id(ref.run_id);
  return e;
}

void AddSingleOrBatchFlags(CLI::App* cmd, SingleOrBatch* f, bool with_headers) {
  cmd->add_option("-w,--workflow-id", f->workflow_id, "Workflow ID. You must set either --workflow-id or --query.")
      ->type_name("ID");
  cmd->add_option("-q,--query", f->query,
                  "Content for an SQL-like QUERY List Filter (batch). You must set either --workflow-id or --query.")
      ->type_name("QUERY");
  cmd->add_option("-r,--run-id", f->run_id, "Run ID. Only with --workflow-id.")->type_name("ID");
  cmd->add_option("--reason", f->reason, "Reason for the batch operation. Only with --query. Defaults to user name.");
  cmd->add_flag("-y,--yes", f->yes, "Don't prompt to confirm. Only with --query.");
  cmd->add_option("--rps", f->rps, "Limit the batch's requests per second. Only with --query.");
  if (with_headers) {
    cmd->add_option("--headers", f->headers,
                    "Temporal workflow headers as KEY=VALUE, values JSON. Can be passed multiple times.")
        ->type_name("KEY=VALUE");
  }
}

std::string DefaultReason() {
  std::string user = "<unknown-user>";
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_name != nullptr) user = pw->pw_name;
  return "Requested from CLI by " + user;
}

temporal::api::common::v1::Header BuildHeader(const std::vector<std::string>& pairs) {
  temporal::api::common::v1::Header h;
  for (auto& [k, v] : KeyJsonPayloads(pairs, "--headers")) (*h.mutable_fields())[k] = v;
  return h;
}

Target ResolveTarget(Context& ctx, const SingleOrBatch& f, bool allow_reason_with_id, bool allow_yes_with_id) {
  Target t;
  if (!f.workflow_id.empty()) {
    if (!f.query.empty()) throw UsageError("cannot set --query when --workflow-id is set");
    if (!f.reason.empty() && !allow_reason_with_id) throw UsageError("cannot set --reason when --workflow-id is set");
    if (f.yes && !allow_yes_with_id) throw UsageError("cannot set --yes when --workflow-id is set");
    if (f.rps != 0) throw UsageError("cannot set --rps when --workflow-id is set");
    t.execution.set_workflow_id(f.workflow_id);
    t.execution.set_run_id(f.run_id);
    return t;
  }
  if (f.query.empty()) throw UsageError("must set either --workflow-id or --query");
  if (!f.run_id.empty()) throw UsageError("cannot set --run-id when --query is set");
  if (ctx.out().json() && !f.yes) throw UsageError("must bypass prompts with --yes when using JSON output");
  std::string prompt;
  if (f.yes) {
    prompt = "Start batch against workflows matching query \"" + f.query + "\"? y/N";
  } else {
    // The count only feeds the prompt; with --yes it is skipped (as `temporal` does).
    wsv1::CountWorkflowExecutionsRequest req;
    req.set_namespace_(ctx.ns());
    req.set_query(f.query);
    Connection& c = ctx.conn();
    auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::CountWorkflowExecutions, "CountWorkflowExecutions", req,
                       "failed counting workflows from query");
    prompt = "Start batch against approximately " + std::to_string(resp.count()) + " workflow(s)? y/N";
  }
  if (!ctx.Confirm(prompt, f.yes)) throw CommandError("user denied confirmation");
  t.batch = true;
  t.reason = f.reason.empty() ? DefaultReason() : f.reason;
  return t;
}

void StartBatchJob(Context& ctx, const SingleOrBatch& f, const Target& target, wsv1::StartBatchOperationRequest req) {
  req.set_namespace_(ctx.ns());
  req.set_job_id(NewUuid());
  req.set_visibility_query(f.query);
  req.set_reason(target.reason);
  req.set_max_operations_per_second(static_cast<float>(f.rps));
  Connection& c = ctx.conn();
  c.Call(c.workflow(), &Connection::WorkflowStub::StartBatchOperation, "StartBatchOperation", req,
         "failed starting batch operation");
  if (ctx.out().json()) {
    ctx.out().PrintJson(Json{{"batchJobId", req.job_id()}});
  } else {
    ctx.out().Line("Started batch for job ID: " + req.job_id());
  }
}

}  // namespace temporalite::cli
