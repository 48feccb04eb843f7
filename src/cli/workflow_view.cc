// temporalite workflow describe | list | count | show | result
#include <algorithm>
#include <cctype>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/history.h"
#include "cli/output.h"

namespace temporalite::cli {
namespace {

namespace wsv1 = temporal::api::workflowservice::v1;
namespace enums = temporal::api::enums::v1;

// Reads the close event of a closed run without waiting.
std::optional<HistoryEvent> ReadCloseEvent(Context& ctx, const std::string& workflow_id, const std::string& run_id) {
  wsv1::GetWorkflowExecutionHistoryRequest req;
  req.set_namespace_(ctx.ns());
  req.mutable_execution()->set_workflow_id(workflow_id);
  req.mutable_execution()->set_run_id(run_id);
  req.set_history_event_filter_type(enums::HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT);
  Connection& c = ctx.conn();
  for (;;) {
    auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::GetWorkflowExecutionHistory,
                       "GetWorkflowExecutionHistory", req, "failed getting close event");
    for (const HistoryEvent& e : resp.history().events()) {
      if (IsCloseEvent(e.event_type())) return e;
    }
    if (resp.next_page_token().empty()) return std::nullopt;
    req.set_next_page_token(resp.next_page_token());
  }
}

std::string PayloadMapText(const google::protobuf::Map<std::string, temporal::api::common::v1::Payload>& m) {
  if (m.empty()) return "";
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  Json j = Json::object();
  for (const std::string& k : keys) j[k] = PayloadValue(m.at(k));
  return CompactJson(j);
}

std::string Num(int64_t v) { return std::to_string(v); }

// A user metadata payload (summary or details) as text: a JSON string shown bare, others as JSON.
std::string MetadataText(const temporal::api::common::v1::Payload& p) {
  if (p.data().empty() && p.metadata().empty()) return "";
  Json v = PayloadValue(p);
  return v.is_string() ? v.get<std::string>() : CompactJson(v);
}

std::string PriorityText(const temporal::api::common::v1::Priority& p) {
  std::vector<std::string> parts;
  if (p.priority_key() != 0) parts.push_back("key " + std::to_string(p.priority_key()));
  if (!p.fairness_key().empty()) parts.push_back("fairness key " + p.fairness_key());
  if (p.fairness_weight() != 0) parts.push_back("fairness weight " + CompactJson(Json(p.fairness_weight())));
  std::string s;
  for (const auto& part : parts) s += (s.empty() ? "" : ", ") + part;
  return s;
}

void PrintDescribeText(Context& ctx, const wsv1::DescribeWorkflowExecutionResponse& resp,
                       const std::optional<HistoryEvent>& close) {
  Printer& out = ctx.out();
  const auto& info = resp.workflow_execution_info();
  out.Title("Execution Info");
  out.Card({
      {"WorkflowId", info.execution().workflow_id()},
      {"RunId", info.execution().run_id()},
      {"Type", info.type().name()},
      {"Summary", MetadataText(resp.execution_config().user_metadata().summary()), true},
      {"Details", MetadataText(resp.execution_config().user_metadata().details()), true},
      {"Namespace", ctx.ns()},
      {"TaskQueue", info.task_queue()},
      {"Status", EnumName(info.status())},
      {"Priority", PriorityText(info.priority()), true},
      {"StartTime", out.Time(info.start_time())},
      {"CloseTime", out.Time(info.close_time()), true},
      {"ExecutionTime", out.Time(info.execution_time()), true},
      {"Memo", PayloadMapText(info.memo().fields()), true},
      {"SearchAttributes", PayloadMapText(info.search_attributes().indexed_fields()), true},
      {"StateTransitionCount", Num(info.state_transition_count())},
      {"HistoryLength", Num(info.history_length())},
      {"HistorySize", Num(info.history_size_bytes())},
      {"ParentWorkflowId", info.parent_execution().workflow_id(), true},
      {"ParentRunId", info.parent_execution().run_id(), true},
      {"RootWorkflowId", info.root_execution().workflow_id(), true},
      {"RootRunId", info.root_execution().run_id(), true},
  });
  if (resp.has_workflow_extended_info()) {
    const auto& ext = resp.workflow_extended_info();
    out.Title("Extended Execution Info");
    out.Card({
        {"CancelRequested", ext.cancel_requested() ? "true" : "false"},
        {"ExecutionExpirationTime", out.Time(ext.execution_expiration_time()), true},
        {"RunExpirationTime", out.Time(ext.run_expiration_time()), true},
        {"LastResetTime", out.Time(ext.last_reset_time()), true},
        {"OriginalStartTime", out.Time(ext.original_start_time()), true},
    });
  }
  if (info.status() == enums::WORKFLOW_EXECUTION_STATUS_RUNNING) {
    out.Line();
    out.Heading("Pending Activities: " + std::to_string(resp.pending_activities_size()));
    if (resp.pending_activities_size() > 0) {
      out.Line();
      bool first = true;
      for (const auto& a : resp.pending_activities()) {
        if (!first) out.Line();
        first = false;
        std::string heartbeat = a.heartbeat_details().payloads_size() > 0
                                    ? CompactJson(PayloadsValue(a.heartbeat_details()))
                                    : "";
        out.Card({
            {"ActivityId", a.activity_id()},
            {"Type", a.activity_type().name()},
            {"State", EnumName(a.state())},
            {"Attempt", std::to_string(a.attempt())},
            {"MaximumAttempts", std::to_string(a.maximum_attempts())},
            {"ScheduledTime", out.Time(a.scheduled_time())},
            {"LastStartedTime", out.Time(a.last_started_time()), true},
            {"LastHeartbeatTime", out.Time(a.last_heartbeat_time()), true},
            {"ExpirationTime", out.Time(a.expiration_time()), true},
            {"NextAttemptScheduleTime", out.Time(a.next_attempt_schedule_time()), true},
            {"LastFailure", a.has_last_failure() ? out.Paint(Style::kRed, FailureSummary(a.last_failure())) : "", true},
            {"LastWorkerIdentity", a.last_worker_identity(), true},
            {"LastHeartbeatDetails", heartbeat, true},
        });
      }
      out.Line();
    }
    out.Heading("Pending Child Workflows: " + std::to_string(resp.pending_children_size()));
    if (resp.pending_children_size() > 0) {
      out.Line();
      std::vector<std::vector<std::string>> rows;
      for (const auto& c : resp.pending_children()) {
        rows.push_back({c.workflow_id(), c.run_id(), c.workflow_type_name(), Num(c.initiated_id()),
                        EnumName(c.parent_close_policy())});
      }
      out.Table({{"WorkflowId"}, {"RunId"}, {"WorkflowTypeName"}, {"InitiatedId"}, {"ParentClosePolicy"}}, rows);
    }
  } else if (close) {
    out.Line();
    std::chrono::nanoseconds run_time(0);
    if (IsSet(info.start_time()) && IsSet(info.close_time())) {
      run_time = std::chrono::duration_cast<std::chrono::nanoseconds>(FromProto(info.close_time()) -
                                                                     FromProto(info.start_time()));
    }
    PrintResultCard(out, *close, run_time);
  }
}

void RunDescribe(Context& ctx, const WorkflowRef& ref, bool reset_points) {
  wsv1::DescribeWorkflowExecutionRequest req;
  req.set_namespace_(ctx.ns());
  *req.mutable_execution() = ToExecution(ref);
  Connection& c = ctx.conn();
  auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::DescribeWorkflowExecution, "DescribeWorkflowExecution",
                     req, "failed describing workflow");
  Printer& out = ctx.out();
  const auto& info = resp.workflow_execution_info();
  if (reset_points) {
    const auto& points = info.auto_reset_points().points();
    if (out.json()) {
      out.StartList();
      for (const auto& p : points) out.ListItem(ProtoJson(p));
      out.EndList();
      return;
    }
    out.Heading("Auto Reset Points: " + std::to_string(points.size()));
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : points) {
      rows.push_back({p.build_id(), out.Time(p.create_time()), p.run_id(),
                      Num(p.first_workflow_task_completed_id())});
    }
    out.Table({{"BuildId"}, {"CreateTime"}, {"RunId"}, {"EventId"}}, rows);
    return;
  }
  std::optional<HistoryEvent> close;
  if (info.status() != enums::WORKFLOW_EXECUTION_STATUS_RUNNING) {
    close = ReadCloseEvent(ctx, info.execution().workflow_id(), info.execution().run_id());
  }
  if (out.json()) {
    Json j = ProtoJson(resp);
    if (close) {
      j["closeEvent"] = ProtoJson(*close);
      if (close->has_workflow_execution_completed_event_attributes()) {
        j["result"] = PayloadsValue(close->workflow_execution_completed_event_attributes().result());
      }
    }
    out.PrintJson(j);
    return;
  }
  PrintDescribeText(ctx, resp, close);
}

// --status shorthand: "running" -> ExecutionStatus='Running'.
std::string StatusClause(const std::vector<std::string>& statuses) {
  std::vector<std::string> clauses;
  for (std::string s : statuses) {
    std::string key;
    for (char c : s) {
      if (c != '-' && c != '_' && c != ' ') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    int v = 0;
    if (key == "cancelled") key = "canceled";
    if (!ParseEnumName(enums::WorkflowExecutionStatus_descriptor(), key, &v) || v == 0) {
      throw UsageError("unknown --status " + s +
                       " (expected running, completed, failed, canceled, terminated, continued-as-new or timed-out)");
    }
    clauses.push_back("ExecutionStatus='" + EnumName(static_cast<enums::WorkflowExecutionStatus>(v)) + "'");
  }
  std::string out;
  for (size_t i = 0; i < clauses.size(); ++i) out += (i ? " OR " : "") + clauses[i];
  return clauses.size() > 1 ? "(" + out + ")" : out;
}

struct ListFlags {
  std::string query;
  std::vector<std::string> status;
  bool archived = false;
  int limit = 0;
  int page_size = 0;
};

void RunList(Context& ctx, const ListFlags& f) {
  std::string query = f.query;
  if (!f.status.empty()) {
    std::string clause = StatusClause(f.status);
    query = query.empty() ? clause : "(" + query + ") AND " + clause;
  }
  int page_size = f.page_size;
  if (f.limit > 0 && (page_size <= 0 || f.limit < page_size)) page_size = std::min(f.limit, 1000);
  Printer& out = ctx.out();
  Connection& c = ctx.conn();
  out.StartList();
  std::string token;
  int printed = 0;
  for (int page = 0;; ++page) {
    google::protobuf::RepeatedPtrField<temporal::api::workflow::v1::WorkflowExecutionInfo> executions;
    std::string next;
    if (f.archived) {
      wsv1::ListArchivedWorkflowExecutionsRequest req;
      req.set_namespace_(ctx.ns());
      req.set_query(query);
      req.set_page_size(page_size);
      req.set_next_page_token(token);
      auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::ListArchivedWorkflowExecutions,
                         "ListArchivedWorkflowExecutions", req, "failed listing workflows");
      executions = resp.executions();
      next = resp.next_page_token();
    } else {
      wsv1::ListWorkflowExecutionsRequest req;
      req.set_namespace_(ctx.ns());
      req.set_query(query);
      req.set_page_size(page_size);
      req.set_next_page_token(token);
      auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::ListWorkflowExecutions, "ListWorkflowExecutions",
                         req, "failed listing workflows");
      executions = resp.executions();
      next = resp.next_page_token();
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : executions) {
      if (f.limit > 0 && printed >= f.limit) break;
      ++printed;
      if (out.json()) {
        out.ListItem(ProtoJson(e));
      } else {
        Style st = e.status() == enums::WORKFLOW_EXECUTION_STATUS_RUNNING     ? Style::kBlue
                   : e.status() == enums::WORKFLOW_EXECUTION_STATUS_COMPLETED ? Style::kGreen
                                                                               : Style::kRed;
        rows.push_back({out.Paint(st, EnumName(e.status())), e.execution().workflow_id(), e.type().name(),
                        out.Time(e.start_time())});
      }
    }
    if (!rows.empty()) {
      out.Table({{"Status"}, {"WorkflowId"}, {"Type"}, {"StartTime"}}, rows, /*header=*/page == 0);
    }
    out.Flush();
    token = next;
    if (token.empty() || (f.limit > 0 && printed >= f.limit)) break;
  }
  out.EndList();
}

void RunCount(Context& ctx, const std::string& query) {
  wsv1::CountWorkflowExecutionsRequest req;
  req.set_namespace_(ctx.ns());
  req.set_query(query);
  Connection& c = ctx.conn();
  auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::CountWorkflowExecutions, "CountWorkflowExecutions", req,
                     "failed counting workflows");
  Printer& out = ctx.out();
  if (out.json()) {
    out.PrintJson(ProtoJson(resp));
    return;
  }
  out.Line("Total: " + std::to_string(resp.count()));
  for (const auto& g : resp.groups()) {
    std::string values;
    for (const auto& p : g.group_values()) {
      Json v = PayloadValue(p);
      values += (values.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : CompactJson(v));
    }
    out.Line("Group total: " + std::to_string(g.count()) + ", values: " + values);
  }
}

struct ShowFlags {
  WorkflowRef ref;
  bool follow = false;
  bool detailed = false;
  bool reverse = false;
};

void RunShow(Context& ctx, const ShowFlags& f) {
  if (f.reverse && f.follow) throw UsageError("--reverse cannot be combined with --follow");
  Printer& out = ctx.out();
  std::vector<HistoryEvent> reversed;
  if (f.reverse) {
    wsv1::GetWorkflowExecutionHistoryReverseRequest req;
    req.set_namespace_(ctx.ns());
    *req.mutable_execution() = ToExecution(f.ref);
    Connection& c = ctx.conn();
    do {
      auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::GetWorkflowExecutionHistoryReverse,
                         "GetWorkflowExecutionHistoryReverse", req, "failed reading history");
      for (const auto& e : resp.history().events()) reversed.push_back(e);
      req.set_next_page_token(resp.next_page_token());
    } while (!req.next_page_token().empty());
  }
  if (out.json()) {
    temporal::api::history::v1::History history;
    if (f.reverse) {
      for (const auto& e : reversed) *history.add_events() = e;
    } else {
      // One run only: the JSON is a history an SDK can replay.
      HistoryReader reader(ctx, f.ref.workflow_id, f.ref.run_id, f.follow, /*chain=*/false);
      while (auto e = reader.Next()) *history.add_events() = *e;
    }
    out.PrintJson(ProtoJson(history));
    return;
  }
  out.Title("Progress");
  std::optional<HistoryEvent> close;
  if (f.reverse) {
    const std::vector<Column> cols = {{"ID", 3, true}, {"Time", 20, false}, {"Type", 26, false}};
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : reversed) {
      if (!close && IsCloseEvent(e.event_type())) close = e;
      rows.push_back({std::to_string(e.event_id()), Rfc3339(e.event_time()), EnumName(e.event_type())});
    }
    out.Table(cols, rows);
  } else {
    HistoryReader reader(ctx, f.ref.workflow_id, f.ref.run_id, f.follow);
    PrintEvents(ctx, reader, f.detailed);
    close = reader.close_event();
  }
  out.Line();
  if (close) PrintResultCard(out, *close, std::chrono::nanoseconds(0));
}

void RunResult(Context& ctx, const WorkflowRef& ref) {
  std::string run_id;
  HistoryEvent close = WaitForCloseEvent(ctx, ref.workflow_id, ref.run_id, &run_id);
  Printer& out = ctx.out();
  if (out.json()) {
    out.PrintJson(ResultJson(ref.workflow_id, run_id, "", ctx.ns(), "", std::chrono::milliseconds(0), close));
  } else {
    PrintResultCard(out, close, std::chrono::nanoseconds(0));
  }
  ThrowUnlessCompleted(close);
}

}  // namespace

void RegisterWorkflowViewCommands(CLI::App* workflow, int* exit_code) {
  {
    auto ref = std::make_shared<WorkflowRef>();
    auto reset_points = std::make_shared<bool>(false);
    auto raw = std::make_shared<bool>(false);
    CLI::App* cmd = AddCommand(workflow, "describe", "Show Workflow Execution info",
                               "Display information about a Workflow Execution: its status, pending activities\n"
                               "(with attempts and last failure) and, once closed, its result or failure:\n\n"
                               "  temporalite workflow describe \\\n"
                               "      --workflow-id YourWorkflowId\n\n"
                               "Show the Workflow Execution's auto-reset points:\n\n"
                               "  temporalite workflow describe \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --reset-points\n",
                               exit_code, [ref, reset_points](Context& ctx) { RunDescribe(ctx, *ref, *reset_points); });
    AddWorkflowRefFlags(cmd, ref.get());
    cmd->add_flag("--reset-points", *reset_points, "Show auto-reset points only");
    cmd->add_flag("--raw", *raw, "Print properties without changing their format (accepted for compatibility)");
  }
  {
    auto f = std::make_shared<ListFlags>();
    CLI::App* cmd = AddCommand(
        workflow, "list", "Show Workflow Executions",
        "List Workflow Executions. The optional --query limits the output to Workflows\n"
        "matching a List Filter; --status is a shorthand for ExecutionStatus:\n\n"
        "  temporalite workflow list \\\n"
        "      --query \"WorkflowType='CheckersIngestionWorkflow'\"\n\n"
        "  temporalite workflow list \\\n"
        "      --status running \\\n"
        "      --limit 20\n",
        exit_code, [f](Context& ctx) { RunList(ctx, *f); });
    cmd->add_option("-q,--query", f->query, "Content for an SQL-like QUERY List Filter")->type_name("QUERY");
    cmd->add_option("--status", f->status,
                    "Only executions with this status (running, completed, failed, canceled, terminated, "
                    "continued-as-new, timed-out); same as -q \"ExecutionStatus='Running'\". Can be passed "
                    "multiple times.")
        ->type_name("STATUS");
    cmd->add_flag("--archived", f->archived, "Limit output to archived Workflow Executions");
    cmd->add_option("--limit", f->limit, "Maximum number of Workflow Executions to display");
    cmd->add_option("--page-size", f->page_size, "Maximum number of Workflow Executions to fetch at a time");
  }
  {
    auto query = std::make_shared<std::string>();
    CLI::App* cmd = AddCommand(workflow, "count", "Number of Workflow Executions",
                               "Show a count of Workflow Executions, regardless of execution state.\n"
                               "Use --query to select a subset:\n\n"
                               "  temporalite workflow count \\\n"
                               "      --query \"ExecutionStatus='Running'\"\n",
                               exit_code, [query](Context& ctx) { RunCount(ctx, *query); });
    cmd->add_option("-q,--query", *query, "Content for an SQL-like QUERY List Filter")->type_name("QUERY");
  }
  {
    auto f = std::make_shared<ShowFlags>();
    CLI::App* cmd = AddCommand(workflow, "show", "Display Event History",
                               "Show a Workflow Execution's Event History. With --output json the history is\n"
                               "the protobuf JSON an SDK replayer accepts:\n\n"
                               "  temporalite workflow show \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --output json\n\n"
                               "Follow a running workflow until it closes:\n\n"
                               "  temporalite workflow show \\\n"
                               "      --workflow-id YourWorkflowId \\\n"
                               "      --follow\n",
                               exit_code, [f](Context& ctx) { RunShow(ctx, *f); });
    AddWorkflowRefFlags(cmd, &f->ref);
    cmd->add_flag("-f,--follow", f->follow, "Follow the Workflow Execution progress in real time");
    cmd->add_flag("--detailed", f->detailed, "Display events as detailed sections instead of a table");
    cmd->add_flag("--reverse", f->reverse, "Fetch Event History newest-event-first (not with --follow)");
  }
  {
    auto ref = std::make_shared<WorkflowRef>();
    CLI::App* cmd = AddCommand(workflow, "result", "Wait for and show the result of a Workflow Execution",
                               "Wait for a Workflow Execution to close and print its result. Exits with status 1\n"
                               "unless it completed successfully:\n\n"
                               "  temporalite workflow result \\\n"
                               "      --workflow-id YourWorkflowId\n",
                               exit_code, [ref](Context& ctx) { RunResult(ctx, *ref); });
    AddWorkflowRefFlags(cmd, ref.get());
  }
}

}  // namespace temporalite::cli
