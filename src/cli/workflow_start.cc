// temporalite workflow start | execute | signal-with-start
#include <temporal/api/errordetails/v1/message.pb.h>

#include <algorithm>
#include <cctype>
#include <chrono>

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

// The "shared-workflow-start", "workflow-start" and "payload-input" option sets.
struct StartFlags {
  std::string workflow_id;
  std::string type;
  std::string task_queue;
  std::string run_timeout;
  std::string execution_timeout;
  std::string task_timeout = "10s";
  std::vector<std::string> search_attributes;
  std::vector<std::string> headers;
  std::vector<std::string> memo;
  std::string static_summary;
  std::string static_details;
  int priority_key = 0;
  std::string fairness_key;
  float fairness_weight = 0;
  std::string cron;
  bool fail_existing = false;
  std::string start_delay;
  std::string id_reuse_policy;
  std::string id_conflict_policy;
  PayloadInput input;
};

void AddStartFlags(CLI::App* cmd, StartFlags* f) {
  cmd->add_option("-w,--workflow-id", f->workflow_id, "Workflow ID. If not supplied, a UUID is generated.")
      ->type_name("ID");
  cmd->add_option("--type,--name,--workflow", f->type, "Workflow Type name (--workflow and --name are aliases)")
      ->required()
      ->type_name("TYPE");
  cmd->add_option("-t,--task-queue", f->task_queue, "Workflow Task queue")->required()->type_name("QUEUE");
  cmd->add_option("--run-timeout", f->run_timeout, "Fail a Workflow Run if it lasts longer than DURATION")
      ->type_name("DURATION");
  cmd->add_option("--execution-timeout", f->execution_timeout,
                  "Fail a Workflow Execution (including retries and continue-as-new) after DURATION")
      ->type_name("DURATION");
  cmd->add_option("--task-timeout", f->task_timeout, "Start-to-close timeout of a Workflow Task")
      ->default_str("10s")
      ->type_name("DURATION");
  cmd->add_option("--search-attribute", f->search_attributes,
                  "Search Attribute as KEY=VALUE, VALUE JSON. Can be passed multiple times.")
      ->type_name("KEY=VALUE");
  cmd->add_option("--headers", f->headers,
                  "Temporal workflow headers as KEY=VALUE, VALUE JSON. Can be passed multiple times.")
      ->type_name("KEY=VALUE");
  cmd->add_option("--memo", f->memo, "Memo as KEY=VALUE, VALUE JSON. Can be passed multiple times.")
      ->type_name("KEY=VALUE");
  cmd->add_option("--static-summary", f->static_summary, "Static Workflow summary for UIs (single line)");
  cmd->add_option("--static-details", f->static_details, "Static Workflow details for UIs");
  cmd->add_option("--priority-key", f->priority_key, "Priority key (1-5, lower numbers = higher priority)");
  cmd->add_option("--fairness-key", f->fairness_key, "Fairness key for proportional task dispatch");
  cmd->add_option("--fairness-weight", f->fairness_weight, "Weight [0.001-1000] of the fairness key");
  cmd->add_option("--cron", f->cron, "Cron schedule for the Workflow (deprecated: use Schedules)");
  cmd->add_flag("--fail-existing", f->fail_existing,
                "Fail if the Workflow is already running (by default the running execution is returned)");
  cmd->add_option("--start-delay", f->start_delay, "Delay before starting the Workflow Execution")
      ->type_name("DURATION");
  cmd->add_option("--id-reuse-policy", f->id_reuse_policy, "Re-use policy for the Workflow ID")
      ->check(CLI::IsMember({"AllowDuplicate", "AllowDuplicateFailedOnly", "RejectDuplicate", "TerminateIfRunning"},
                            CLI::ignore_case));
  cmd->add_option("--id-conflict-policy", f->id_conflict_policy,
                  "How to resolve a conflict with a running Workflow of the same ID")
      ->check(CLI::IsMember({"Fail", "UseExisting", "TerminateExisting"}, CLI::ignore_case));
  AddPayloadInputFlags(cmd, &f->input);
}

// Fills the fields StartWorkflowExecutionRequest and SignalWithStartWorkflowExecutionRequest share.
template <class Req>
void FillStart(Context& ctx, const StartFlags& f, Req* req) {
  req->set_namespace_(ctx.ns());
  req->set_workflow_id(f.workflow_id.empty() ? NewUuid() : f.workflow_id);
  req->mutable_workflow_type()->set_name(f.type);
  req->mutable_task_queue()->set_name(f.task_queue);
  req->mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_NORMAL);
  auto input = BuildPayloads(f.input);
  if (input.payloads_size() > 0) *req->mutable_input() = input;
  if (!f.execution_timeout.empty()) {
    *req->mutable_workflow_execution_timeout() = ToProtoDuration(ParseDuration(f.execution_timeout, "--execution-timeout"));
  }
  if (!f.run_timeout.empty()) {
    *req->mutable_workflow_run_timeout() = ToProtoDuration(ParseDuration(f.run_timeout, "--run-timeout"));
  }
  if (!f.task_timeout.empty()) {
    *req->mutable_workflow_task_timeout() = ToProtoDuration(ParseDuration(f.task_timeout, "--task-timeout"));
  }
  if (!f.start_delay.empty()) {
    if (!f.cron.empty()) throw UsageError("--start-delay can't be used with --cron");
    *req->mutable_workflow_start_delay() = ToProtoDuration(ParseDuration(f.start_delay, "--start-delay"));
  }
  req->set_identity(ctx.identity());
  req->set_request_id(NewUuid());
  int v = 0;
  if (!f.id_reuse_policy.empty() && ParseEnumName(enums::WorkflowIdReusePolicy_descriptor(), f.id_reuse_policy, &v)) {
    req->set_workflow_id_reuse_policy(static_cast<enums::WorkflowIdReusePolicy>(v));
  }
  if (!f.id_conflict_policy.empty() &&
      ParseEnumName(enums::WorkflowIdConflictPolicy_descriptor(), f.id_conflict_policy, &v)) {
    req->set_workflow_id_conflict_policy(static_cast<enums::WorkflowIdConflictPolicy>(v));
  }
  req->set_cron_schedule(f.cron);
  for (auto& [k, p] : KeyJsonPayloads(f.memo, "--memo")) (*req->mutable_memo()->mutable_fields())[k] = p;
  for (auto& [k, p] : KeyJsonPayloads(f.search_attributes, "--search-attribute")) {
    (*req->mutable_search_attributes()->mutable_indexed_fields())[k] = p;
  }
  if (!f.headers.empty()) *req->mutable_header() = BuildHeader(f.headers);
  if (!f.static_summary.empty()) *req->mutable_user_metadata()->mutable_summary() = JsonPayload(f.static_summary);
  if (!f.static_details.empty()) *req->mutable_user_metadata()->mutable_details() = JsonPayload(f.static_details);
  if (f.priority_key != 0 || !f.fairness_key.empty() || f.fairness_weight != 0) {
    req->mutable_priority()->set_priority_key(f.priority_key);
    req->mutable_priority()->set_fairness_key(f.fairness_key);
    req->mutable_priority()->set_fairness_weight(f.fairness_weight);
  }
}

struct Started {
  std::string workflow_id;
  std::string run_id;
};

Started StartWorkflow(Context& ctx, const StartFlags& f) {
  wsv1::StartWorkflowExecutionRequest req;
  FillStart(ctx, f, &req);
  Connection& c = ctx.conn();
  try {
    auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::StartWorkflowExecution, "StartWorkflowExecution", req,
                       "failed starting workflow");
    return {req.workflow_id(), resp.run_id()};
  } catch (const RpcError& e) {
    // Like `temporal` (and the Go SDK): without --fail-existing, an already running workflow with
    // this ID is not an error; its execution is returned.
    temporal::api::errordetails::v1::WorkflowExecutionAlreadyStartedFailure already;
    if (e.code() == grpc::StatusCode::ALREADY_EXISTS && !f.fail_existing && UnpackErrorDetail(e.details(), &already) &&
        !already.run_id().empty()) {
      Message("Workflow " + req.workflow_id() + " is already running (run " + already.run_id() +
              "); showing that execution. Use --fail-existing to make this an error.");
      return {req.workflow_id(), already.run_id()};
    }
    throw;
  }
}

void PrintRunning(Printer& out, const Started& s, const StartFlags& f, const std::string& ns, bool with_queue) {
  if (out.json()) {
    Json j = {{"workflowId", s.workflow_id}, {"runId", s.run_id}, {"type", f.type}, {"namespace", ns}};
    if (with_queue) j["taskQueue"] = f.task_queue;
    out.PrintJson(j);
    return;
  }
  out.Title("Running execution");
  std::vector<Field> fields = {{"WorkflowId", s.workflow_id}, {"RunId", s.run_id}, {"Type", f.type}, {"Namespace", ns}};
  if (with_queue) fields.push_back({"TaskQueue", f.task_queue});
  out.Card(fields);
}

void RunExecute(Context& ctx, const StartFlags& f, bool detailed) {
  Printer& out = ctx.out();
  auto t0 = std::chrono::steady_clock::now();
  Started s = StartWorkflow(ctx, f);
  std::optional<HistoryEvent> close;
  if (out.text()) {
    PrintRunning(out, s, f, ctx.ns(), true);
    out.Line();
    out.Title("Progress");
    out.Flush();
    HistoryReader reader(ctx, s.workflow_id, s.run_id, /*follow=*/true);
    PrintEvents(ctx, reader, detailed);
    out.Line();
    close = reader.close_event();
  }
  if (!close) close = WaitForCloseEvent(ctx, s.workflow_id, s.run_id);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  if (out.json()) {
    Json j = ResultJson(s.workflow_id, s.run_id, f.type, ctx.ns(), f.task_queue,
                        std::chrono::duration_cast<std::chrono::milliseconds>(elapsed), *close);
    if (detailed) {
      temporal::api::history::v1::History history;
      HistoryReader reader(ctx, s.workflow_id, s.run_id, /*follow=*/false, /*chain=*/false);
      while (auto e = reader.Next()) *history.add_events() = *e;
      j["history"] = ProtoJson(history);
    }
    out.PrintJson(j);
  } else {
    PrintResultCard(out, *close, std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed));
  }
  ThrowUnlessCompleted(*close);
}

}  // namespace

void RegisterWorkflowStartCommands(CLI::App* workflow, int* exit_code) {
  {
    auto f = std::make_shared<StartFlags>();
    CLI::App* cmd = AddCommand(workflow, "start", "Initiate a Workflow Execution",
                               "Start a new Workflow Execution. Returns the Workflow and Run IDs:\n\n"
                               "  temporalite workflow start \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --type YourWorkflow \\\n"
                               "      --task-queue YourTaskQueue \\\n"
                               "      --input '{\"some-key\": \"some-value\"}'\n",
                               exit_code, [f](Context& ctx) {
                                 Started s = StartWorkflow(ctx, *f);
                                 PrintRunning(ctx.out(), s, *f, ctx.ns(), true);
                               });
    AddStartFlags(cmd, f.get());
  }
  {
    auto f = std::make_shared<StartFlags>();
    auto detailed = std::make_shared<bool>(false);
    CLI::App* cmd = AddCommand(
        workflow, "execute", "Start new Workflow Execution and wait for its result",
        "Start a Workflow Execution, show its progress (events) as it runs and print its result.\n"
        "Exits with status 1 unless the workflow completes successfully:\n\n"
        "  temporalite workflow execute \\\n"
        "      --workflow-id YourWorkflowId \\\n"
        "      --type YourWorkflow \\\n"
        "      --task-queue YourTaskQueue \\\n"
        "      --input '{\"some-key\": \"some-value\"}'\n\n"
        "With --output json, prints one object with the status, result and close event\n"
        "(and the whole history with --detailed).\n",
        exit_code, [f, detailed](Context& ctx) { RunExecute(ctx, *f, *detailed); });
    AddStartFlags(cmd, f.get());
    cmd->add_flag("--detailed", *detailed,
                  "Display events as sections instead of a table (JSON output: include the history)");
  }
  {
    struct SwsFlags {
      StartFlags start;
      std::string signal_name;
      PayloadInput signal_input;
    };
    auto f = std::make_shared<SwsFlags>();
    CLI::App* cmd = AddCommand(
        workflow, "signal-with-start", "Send a Signal to a Workflow Execution, starting it if it isn't running",
        "Send a Signal to a Workflow Execution. If the Workflow Execution is not running\n"
        "(or not found), start it and then deliver the Signal:\n\n"
        "  temporalite workflow signal-with-start \\\n"
        "      --signal-name YourSignal \\\n"
        "      --signal-input '{\"some-key\": \"some-value\"}' \\\n"
        "      --workflow-id YourWorkflowId \\\n"
        "      --type YourWorkflowType \\\n"
        "      --task-queue YourTaskQueue \\\n"
        "      --input '{\"some-key\": \"some-value\"}'\n",
        exit_code, [f](Context& ctx) {
          if (f->start.workflow_id.empty()) throw UsageError("--workflow-id flag must be provided");
          wsv1::SignalWithStartWorkflowExecutionRequest req;
          FillStart(ctx, f->start, &req);
          req.set_signal_name(f->signal_name);
          auto signal_input = BuildPayloads(f->signal_input, "signal-input");
          if (signal_input.payloads_size() > 0) *req.mutable_signal_input() = signal_input;
          Connection& c = ctx.conn();
          auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::SignalWithStartWorkflowExecution,
                             "SignalWithStartWorkflowExecution", req, "failed signal-with-start");
          PrintRunning(ctx.out(), {req.workflow_id(), resp.run_id()}, f->start, ctx.ns(), false);
        });
    AddStartFlags(cmd, &f->start);
    cmd->add_option("--signal-name,--signal-type", f->signal_name, "Signal name")->required();
    AddPayloadInputFlags(cmd, &f->signal_input, "signal-input");
  }
}

}  // namespace temporalite::cli
