// temporalite workflow signal | query | stack | cancel | terminate | delete | reset
#include <temporal/api/batch/v1/message.pb.h>

#include <algorithm>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/history.h"
#include "cli/output.h"
#include "common/ids.h"

namespace temporalite::cli {
namespace {

namespace wsv1 = temporal::api::workflowservice::v1;
namespace enums = temporal::api::enums::v1;

struct SignalFlags {
  SingleOrBatch target;
  std::string name;
  PayloadInput input;
};

void RunSignal(Context& ctx, const SignalFlags& f) {
  auto input = BuildPayloads(f.input);
  Target t = ResolveTarget(ctx, f.target, false, false);
  Connection& c = ctx.conn();
  if (!t.batch) {
    wsv1::SignalWorkflowExecutionRequest req;
    req.set_namespace_(ctx.ns());
    *req.mutable_workflow_execution() = t.execution;
    req.set_signal_name(f.name);
    if (input.payloads_size() > 0) *req.mutable_input() = input;
    req.set_identity(ctx.identity());
    req.set_request_id(NewUuid());
    if (!f.target.headers.empty()) *req.mutable_header() = BuildHeader(f.target.headers);
    c.Call(c.workflow(), &Connection::WorkflowStub::SignalWorkflowExecution, "SignalWorkflowExecution", req,
           "failed signalling workflow");
    ctx.out().Line("Signal workflow succeeded");
    return;
  }
  wsv1::StartBatchOperationRequest req;
  auto* op = req.mutable_signal_operation();
  op->set_signal(f.name);
  if (input.payloads_size() > 0) *op->mutable_input() = input;
  op->set_identity(ctx.identity());
  if (!f.target.headers.empty()) *op->mutable_header() = BuildHeader(f.target.headers);
  StartBatchJob(ctx, f.target, t, std::move(req));
}

struct QueryFlags {
  WorkflowRef ref;
  std::string name;
  PayloadInput input;
  std::string reject_condition;
  std::vector<std::string> headers;
};

// The server holds a query while a worker has polled the workflow's task queue recently, or until
// the next workflow task while one is pending (it fails it at once with FAILED_PRECONDITION when no
// worker has polled for matching.queryPollerUnavailableWindow): a query no worker answers runs into
// the deadline. Says that, naming the task queue when a describe call answers within half a second
// (past --command-timeout by that much at most), rather than "got no answer from <address>", which
// reads like a dead server.
RpcError QueryTimedOut(Context& ctx, const wsv1::QueryWorkflowRequest& req, std::chrono::steady_clock::duration waited) {
  const bool command_deadline =
      ctx.deadline() && std::chrono::system_clock::now() + std::chrono::milliseconds(50) >= *ctx.deadline();
  const std::string within =
      command_deadline
          ? ctx.flags().command_timeout + " (--command-timeout)"
          : FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(waited + std::chrono::milliseconds(500)));
  std::string queue = "the workflow's task queue";
  try {
    wsv1::DescribeWorkflowExecutionRequest dreq;
    dreq.set_namespace_(req.namespace_());
    *dreq.mutable_execution() = req.execution();
    wsv1::DescribeWorkflowExecutionResponse dresp;
    Connection& c = ctx.conn();
    auto dctx = c.NewCallContext();  // the connection's metadata; its own short deadline below
    dctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    if (c.workflow().DescribeWorkflowExecution(dctx.get(), dreq, &dresp).ok() &&
        !dresp.execution_config().task_queue().name().empty()) {
      queue = "task queue \"" + dresp.execution_config().task_queue().name() + "\"";
    }
  } catch (const RpcError&) {
    // Not connected within the command's deadline: the message goes without the queue's name.
  }
  return RpcError("querying workflow failed: no worker answered the query within " + within + ": is a worker for " +
                      queue + " running, and not stuck? (DEADLINE_EXCEEDED)",
                  grpc::StatusCode::DEADLINE_EXCEEDED, "");
}

void RunQuery(Context& ctx, const QueryFlags& f, const std::string& query_type) {
  wsv1::QueryWorkflowRequest req;
  req.set_namespace_(ctx.ns());
  *req.mutable_execution() = ToExecution(f.ref);
  req.mutable_query()->set_query_type(query_type);
  auto input = BuildPayloads(f.input);
  if (input.payloads_size() > 0) *req.mutable_query()->mutable_query_args() = input;
  if (!f.headers.empty()) *req.mutable_query()->mutable_header() = BuildHeader(f.headers);
  if (f.reject_condition == "not_open") {
    req.set_query_reject_condition(enums::QUERY_REJECT_CONDITION_NOT_OPEN);
  } else if (f.reject_condition == "not_completed_cleanly") {
    req.set_query_reject_condition(enums::QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY);
  }
  Connection& c = ctx.conn();
  const auto sent = std::chrono::steady_clock::now();
  wsv1::QueryWorkflowResponse resp;
  try {
    resp = c.Call(c.workflow(), &Connection::WorkflowStub::QueryWorkflow, "QueryWorkflow", req, "querying workflow failed");
  } catch (const RpcError& e) {
    if (e.code() != grpc::StatusCode::DEADLINE_EXCEEDED || e.poll_timeout()) throw;
    throw QueryTimedOut(ctx, req, std::chrono::steady_clock::now() - sent);
  }
  if (resp.has_query_rejected()) {
    throw CommandError("query was rejected, workflow has status: " + EnumName(resp.query_rejected().status()));
  }
  Printer& out = ctx.out();
  if (out.json()) {
    out.PrintJson(ProtoJson(resp));
    return;
  }
  Json value = PayloadsValue(resp.query_result());
  if (query_type == "__stack_trace" && value.is_string()) {
    // A stack trace is multi-line text: print it as such rather than as one JSON string.
    out.Title("Stack trace");
    out.Line(value.get<std::string>());
    return;
  }
  out.Title("Query result");
  out.Card({{"QueryResult", CompactJson(value), true}});
}

void AddQueryFlags(CLI::App* cmd, QueryFlags* f, bool with_input) {
  AddWorkflowRefFlags(cmd, &f->ref);
  cmd->add_option("--reject-condition", f->reject_condition, "Reject Queries based on Workflow state")
      ->check(CLI::IsMember({"not_open", "not_completed_cleanly"}));
  if (with_input) {
    AddPayloadInputFlags(cmd, &f->input);
    cmd->add_option("--headers", f->headers, "Temporal workflow headers as KEY=VALUE, VALUE JSON")
        ->type_name("KEY=VALUE");
  }
}

void RunCancel(Context& ctx, const SingleOrBatch& f) {
  Target t = ResolveTarget(ctx, f, false, false);
  if (t.batch) {
    wsv1::StartBatchOperationRequest req;
    req.mutable_cancellation_operation()->set_identity(ctx.identity());
    StartBatchJob(ctx, f, t, std::move(req));
    return;
  }
  wsv1::RequestCancelWorkflowExecutionRequest req;
  req.set_namespace_(ctx.ns());
  *req.mutable_workflow_execution() = t.execution;
  req.set_identity(ctx.identity());
  req.set_request_id(NewUuid());
  if (!f.reason.empty()) req.set_reason(f.reason);
  Connection& c = ctx.conn();
  c.Call(c.workflow(), &Connection::WorkflowStub::RequestCancelWorkflowExecution, "RequestCancelWorkflowExecution",
         req, "failed to cancel workflow");
  ctx.out().Line("Canceled workflow");
}

void RunTerminate(Context& ctx, const SingleOrBatch& f) {
  Target t = ResolveTarget(ctx, f, /*allow_reason_with_id=*/true, false);
  if (t.batch) {
    wsv1::StartBatchOperationRequest req;
    req.mutable_termination_operation()->set_identity(ctx.identity());
    StartBatchJob(ctx, f, t, std::move(req));
    return;
  }
  wsv1::TerminateWorkflowExecutionRequest req;
  req.set_namespace_(ctx.ns());
  *req.mutable_workflow_execution() = t.execution;
  req.set_reason(f.reason.empty() ? DefaultReason() : f.reason);
  req.set_identity(ctx.identity());
  Connection& c = ctx.conn();
  c.Call(c.workflow(), &Connection::WorkflowStub::TerminateWorkflowExecution, "TerminateWorkflowExecution", req,
         "failed to terminate workflow");
  ctx.out().Line("Workflow terminated");
}

void RunDelete(Context& ctx, const SingleOrBatch& f) {
  Target t = ResolveTarget(ctx, f, false, /*allow_yes_with_id=*/true);
  if (t.batch) {
    wsv1::StartBatchOperationRequest req;
    req.mutable_deletion_operation()->set_identity(ctx.identity());
    StartBatchJob(ctx, f, t, std::move(req));
    return;
  }
  // One workflow by id: no prompt, as in `temporal` (only batch jobs by --query ask).
  wsv1::DeleteWorkflowExecutionRequest req;
  req.set_namespace_(ctx.ns());
  *req.mutable_workflow_execution() = t.execution;
  Connection& c = ctx.conn();
  c.Call(c.workflow(), &Connection::WorkflowStub::DeleteWorkflowExecution, "DeleteWorkflowExecution", req,
         "failed to delete workflow");
  ctx.out().Line("Delete workflow succeeded");
}

struct ResetFlags {
  std::string workflow_id;
  std::string run_id;
  int64_t event_id = 0;
  std::string reason;
  std::string reapply_type = "All";
  std::vector<std::string> reapply_exclude;
  std::string type;
  std::string build_id;
  std::string query;
  bool yes = false;
};

// All events of a run (no follow).
std::vector<HistoryEvent> ReadHistory(Context& ctx, const std::string& workflow_id, const std::string& run_id) {
  std::vector<HistoryEvent> events;
  HistoryReader reader(ctx, workflow_id, run_id, /*follow=*/false, /*chain=*/false);
  while (auto e = reader.Next()) events.push_back(*e);
  return events;
}

int64_t ResetEventId(Context& ctx, const ResetFlags& f, std::string* run_id) {
  auto first_or_last = [&](const std::vector<HistoryEvent>& events, bool last) -> int64_t {
    int64_t id = 0;
    for (const auto& e : events) {
      if (e.event_type() == enums::EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
        id = e.event_id();
        if (!last) return id;
      } else if (e.event_type() == enums::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED && id == 0) {
        id = e.event_id() + 1;  // no completed task yet: just after the first scheduled one
      }
    }
    return id;
  };
  if (f.type == "FirstWorkflowTask" || f.type == "LastWorkflowTask") {
    int64_t id = first_or_last(ReadHistory(ctx, f.workflow_id, f.run_id), f.type == "LastWorkflowTask");
    if (id == 0) throw CommandError("unable to find any scheduled or completed workflow task");
    return id;
  }
  if (f.type == "LastContinuedAsNew") {
    auto events = ReadHistory(ctx, f.workflow_id, f.run_id);
    if (events.empty() || !events[0].has_workflow_execution_started_event_attributes() ||
        events[0].workflow_execution_started_event_attributes().continued_execution_run_id().empty()) {
      throw CommandError("this run did not continue from a previous run (no continue-as-new)");
    }
    *run_id = events[0].workflow_execution_started_event_attributes().continued_execution_run_id();
    int64_t id = first_or_last(ReadHistory(ctx, f.workflow_id, *run_id), true);
    if (id == 0) throw CommandError("unable to find a workflow task in run " + *run_id);
    return id;
  }
  throw UsageError("--type " + f.type + " needs --query (batch reset); for one workflow use FirstWorkflowTask, "
                   "LastWorkflowTask or LastContinuedAsNew, or --event-id");
}

void RunReset(Context& ctx, const ResetFlags& f) {
  // --reapply-type (deprecated in the API) is expressed as exclusions: Signal = re-apply signals only.
  std::vector<enums::ResetReapplyExcludeType> excludes;
  auto exclude = [&](enums::ResetReapplyExcludeType x) {
    if (std::find(excludes.begin(), excludes.end(), x) == excludes.end()) excludes.push_back(x);
  };
  if (f.reapply_type == "None") exclude(enums::RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL);
  if (f.reapply_type == "None" || f.reapply_type == "Signal") {
    exclude(enums::RESET_REAPPLY_EXCLUDE_TYPE_UPDATE);
    exclude(enums::RESET_REAPPLY_EXCLUDE_TYPE_NEXUS);
  }
  for (const std::string& x : f.reapply_exclude) {
    if (x == "Signal" || x == "All") exclude(enums::RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL);
    if (x == "Update" || x == "All") exclude(enums::RESET_REAPPLY_EXCLUDE_TYPE_UPDATE);
    if (x == "All") exclude(enums::RESET_REAPPLY_EXCLUDE_TYPE_NEXUS);
  }
  Connection& c = ctx.conn();
  if (f.workflow_id.empty()) {
    // Batch reset by query.
    if (f.query.empty()) throw UsageError("must set either --workflow-id or --query");
    if (f.type.empty()) throw UsageError("must specify --type for a batch reset");
    if (!f.run_id.empty()) throw UsageError("must not specify --run-id with --query");
    if (f.event_id != 0) throw UsageError("must not specify --event-id with --query");
    if (f.type == "BuildId" && f.build_id.empty()) throw UsageError("--type BuildId needs --build-id");
    if (f.type == "LastContinuedAsNew") throw UsageError("--type LastContinuedAsNew is not supported for batch reset");
    SingleOrBatch sb;
    sb.query = f.query;
    sb.reason = f.reason;
    sb.yes = f.yes;
    Target t = ResolveTarget(ctx, sb, false, false);
    t.reason = f.reason;
    wsv1::StartBatchOperationRequest req;
    auto* op = req.mutable_reset_operation();
    op->set_identity(ctx.identity());
    auto* opts = op->mutable_options();
    if (f.type == "FirstWorkflowTask") opts->mutable_first_workflow_task();
    else if (f.type == "LastWorkflowTask") opts->mutable_last_workflow_task();
    else opts->set_build_id(f.build_id);
    for (auto x : excludes) opts->add_reset_reapply_exclude_types(x);
    StartBatchJob(ctx, sb, t, std::move(req));
    return;
  }
  if (!f.query.empty()) throw UsageError("cannot set --query when --workflow-id is set");
  if (f.type.empty() && f.event_id <= 0) throw UsageError("must specify either a valid --event-id or --type");
  std::string run_id = f.run_id;
  int64_t event_id = f.type.empty() ? f.event_id : ResetEventId(ctx, f, &run_id);
  Message("Resetting workflow " + f.workflow_id + " to event ID " + std::to_string(event_id));
  wsv1::ResetWorkflowExecutionRequest req;
  req.set_namespace_(ctx.ns());
  req.mutable_workflow_execution()->set_workflow_id(f.workflow_id);
  req.mutable_workflow_execution()->set_run_id(run_id);
  req.set_reason(f.reason);
  req.set_workflow_task_finish_event_id(event_id);
  req.set_request_id(NewUuid());
  for (auto x : excludes) req.add_reset_reapply_exclude_types(x);
  req.set_identity(ctx.identity());
  auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::ResetWorkflowExecution, "ResetWorkflowExecution", req,
                     "failed to reset workflow");
  if (ctx.out().json()) {
    ctx.out().PrintJson(ProtoJson(resp));
  } else {
    ctx.out().Line("Reset workflow succeeded, new run ID: " + resp.run_id());
  }
}

}  // namespace

void RegisterWorkflowControlCommands(CLI::App* workflow, int* exit_code) {
  {
    auto f = std::make_shared<SignalFlags>();
    CLI::App* cmd = AddCommand(workflow, "signal", "Send a message to a Workflow Execution",
                               "Send an asynchronous Signal to a running Workflow Execution:\n\n"
                               "  temporalite workflow signal \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --name YourSignal \\\n"
                               "      --input '{\"YourInputKey\": \"YourInputValue\"}'\n\n"
                               "Signal every Workflow matching a List Filter (a batch job, asks to confirm):\n\n"
                               "  temporalite workflow signal \\\n"
                               "      --query \"WorkflowType='YourWorkflow'\" \\\n"
                               "      --name YourSignal\n",
                               exit_code, [f](Context& ctx) { RunSignal(ctx, *f); });
    AddSingleOrBatchFlags(cmd, &f->target);
    cmd->add_option("--name,--type", f->name, "Signal name")->required();
    AddPayloadInputFlags(cmd, &f->input);
  }
  {
    auto f = std::make_shared<QueryFlags>();
    CLI::App* cmd = AddCommand(workflow, "query", "Retrieve Workflow Execution state",
                               "Send a Query to a Workflow Execution (running or closed):\n\n"
                               "  temporalite workflow query \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --name YourQueryType \\\n"
                               "      --input '{\"YourInputKey\": \"YourInputValue\"}'\n",
                               exit_code, [f](Context& ctx) { RunQuery(ctx, *f, f->name); });
    AddQueryFlags(cmd, f.get(), true);
    cmd->add_option("--name,--type", f->name, "Query Type/Name")->required();
  }
  {
    auto f = std::make_shared<QueryFlags>();
    CLI::App* cmd = AddCommand(workflow, "stack", "Trace a Workflow Execution",
                               "Show the stack trace of a Workflow Execution (a __stack_trace Query):\n\n"
                               "  temporalite workflow stack \\\n"
                               "      --workflow-id YourWorkflowId\n",
                               exit_code, [f](Context& ctx) { RunQuery(ctx, *f, "__stack_trace"); });
    AddQueryFlags(cmd, f.get(), false);
  }
  {
    auto f = std::make_shared<SingleOrBatch>();
    CLI::App* cmd = AddCommand(workflow, "cancel", "Send cancellation to Workflow Execution",
                               "Request cancellation of a Workflow Execution; the Workflow can clean up:\n\n"
                               "  temporalite workflow cancel \\\n"
                               "      --workflow-id YourWorkflowId\n\n"
                               "Cancel every Workflow matching a List Filter (a batch job, asks to confirm):\n\n"
                               "  temporalite workflow cancel \\\n"
                               "      --query \"ExecutionStatus='Running'\" \\\n"
                               "      --yes\n",
                               exit_code, [f](Context& ctx) { RunCancel(ctx, *f); });
    AddSingleOrBatchFlags(cmd, f.get(), false);
  }
  {
    auto f = std::make_shared<SingleOrBatch>();
    CLI::App* cmd = AddCommand(workflow, "terminate", "Forcefully end a Workflow Execution",
                               "Terminate a Workflow Execution (Workflow code cannot react; use cancel for\n"
                               "clean-up). The reason defaults to the current user's name:\n\n"
                               "  temporalite workflow terminate \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --reason YourReasonForTermination\n\n"
                               "Terminate every Workflow matching a List Filter (a batch job, asks to confirm):\n\n"
                               "  temporalite workflow terminate \\\n"
                               "      --query \"WorkflowType='YourWorkflow'\" \\\n"
                               "      --reason YourReasonForTermination\n",
                               exit_code, [f](Context& ctx) { RunTerminate(ctx, *f); });
    AddSingleOrBatchFlags(cmd, f.get(), false);
  }
  {
    auto f = std::make_shared<SingleOrBatch>();
    CLI::App* cmd = AddCommand(workflow, "delete", "Remove Workflow Execution",
                               "Delete a Workflow Execution and its Event History. A running Execution is\n"
                               "terminated first. With --query it starts a batch job (asks to confirm\n"
                               "unless --yes):\n\n"
                               "  temporalite workflow delete \\\n"
                               "      --workflow-id YourWorkflowId\n",
                               exit_code, [f](Context& ctx) { RunDelete(ctx, *f); });
    AddSingleOrBatchFlags(cmd, f.get(), false);
  }
  {
    auto f = std::make_shared<ResetFlags>();
    CLI::App* cmd = AddCommand(workflow, "reset", "Move Workflow Execution history point",
                               "Reset a Workflow Execution so it resumes from a point in its Event History:\n\n"
                               "  temporalite workflow reset \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --event-id YourLastEvent \\\n"
                               "      --reason YourReason\n\n"
                               "  temporalite workflow reset \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --type LastWorkflowTask \\\n"
                               "      --reason YourReason\n\n"
                               "Batch resets (--query) take --type FirstWorkflowTask, LastWorkflowTask or BuildId.\n",
                               exit_code, [f](Context& ctx) { RunReset(ctx, *f); });
    cmd->add_option("-w,--workflow-id", f->workflow_id, "Workflow ID. Required for non-batch reset operations.");
    cmd->add_option("-r,--run-id", f->run_id, "Run ID");
    cmd->add_option("-e,--event-id", f->event_id,
                    "Event ID to reset to (after WorkflowTaskStarted: WorkflowTaskCompleted, WorkflowTaskFailed, ...)");
    cmd->add_option("--reason", f->reason, "Reason for reset")->required();
    cmd->add_option("--reapply-type", f->reapply_type, "Types of events to re-apply after the reset point (deprecated)")
        ->check(CLI::IsMember({"All", "Signal", "None"}));
    cmd->add_option("--reapply-exclude", f->reapply_exclude, "Exclude these event types from re-application")
        ->check(CLI::IsMember({"All", "Signal", "Update"}));
    cmd->add_option("-t,--type", f->type, "The event type for the reset")
        ->check(CLI::IsMember({"FirstWorkflowTask", "LastWorkflowTask", "LastContinuedAsNew", "BuildId"}));
    cmd->add_option("--build-id", f->build_id, "A Build ID (only with --type BuildId)");
    cmd->add_option("-q,--query", f->query, "Content for an SQL-like QUERY List Filter (batch reset)");
    cmd->add_flag("-y,--yes", f->yes, "Don't prompt to confirm. Only with --query.");
  }
}

}  // namespace temporalite::cli
