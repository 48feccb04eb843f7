// temporalite alert check: the runbook's CI form of alerting. Exits 1 (printing the runs) when
// the last N closed runs of a workflow type all failed or timed out; optionally posts the Slack
// message, only for a streak that is new since the previous check.
#include <temporal/api/workflowservice/v1/request_response.pb.h>

#include <chrono>
#include <thread>

#include "cli/client.h"
#include "cli/command.h"
#include "cli/format.h"
#include "cli/output.h"
#include "ops/backup_commands.h"
#include "ops/webhook.h"

namespace temporalite::ops {
namespace {

namespace wsv1 = temporal::api::workflowservice::v1;
namespace enums = temporal::api::enums::v1;
using cli::Connection;
using cli::Context;
using cli::Json;

struct CheckFlags {
  std::string type;
  int consecutive = 2;
  std::string webhook;
  std::string new_within;
};

bool Failed(enums::WorkflowExecutionStatus s) {
  return s == enums::WORKFLOW_EXECUTION_STATUS_FAILED || s == enums::WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
}

std::string StatusName(enums::WorkflowExecutionStatus s) {
  switch (s) {
    case enums::WORKFLOW_EXECUTION_STATUS_COMPLETED: return "Completed";
    case enums::WORKFLOW_EXECUTION_STATUS_FAILED: return "Failed";
    case enums::WORKFLOW_EXECUTION_STATUS_TIMED_OUT: return "TimedOut";
    case enums::WORKFLOW_EXECUTION_STATUS_CANCELED: return "Canceled";
    case enums::WORKFLOW_EXECUTION_STATUS_TERMINATED: return "Terminated";
    case enums::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: return "ContinuedAsNew";
    default: return "Running";
  }
}

int64_t ToMs(const google::protobuf::Timestamp& t) { return t.seconds() * 1000 + t.nanos() / 1000000; }

void RunCheck(Context& ctx, const CheckFlags& f, int* exit_code) {
  if (f.consecutive < 1) throw cli::UsageError("--consecutive must be at least 1");
  if (f.type.find('\'') != std::string::npos) throw cli::UsageError("--workflow-type must not contain quotes");
  Connection& c = ctx.conn();
  wsv1::ListWorkflowExecutionsRequest req;
  req.set_namespace_(ctx.ns());
  // Closed runs, most recently closed first (the default order), continued-as-new links skipped.
  req.set_query("WorkflowType='" + f.type + "' AND ExecutionStatus!='Running' AND ExecutionStatus!='ContinuedAsNew'");
  req.set_page_size(f.consecutive);
  auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::ListWorkflowExecutions, "ListWorkflowExecutions", req,
                     "failed listing workflows");
  int failed = 0;
  for (const auto& e : resp.executions()) {
    if (!Failed(e.status())) break;
    ++failed;
  }
  const bool streak = failed >= f.consecutive;
  cli::Printer& p = ctx.out();
  Json runs = Json::array();
  std::string lines;
  for (int i = 0; i < resp.executions_size() && i < f.consecutive; ++i) {
    const auto& e = resp.executions(i);
    runs.push_back({{"workflowId", e.execution().workflow_id()},
                    {"runId", e.execution().run_id()},
                    {"status", StatusName(e.status())},
                    {"closeTime", cli::ProtoJson(e.close_time())}});
    lines += "\n  " + StatusName(e.status()) + "  " + e.execution().workflow_id() + "  " + e.execution().run_id() + "  " +
             p.Time(e.close_time());
  }
  // A streak is "new" when its newest failure closed within --new-within (the CI job's period):
  // one post per streak when the job runs every period.
  bool is_new = streak;
  if (streak && !f.new_within.empty()) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    int64_t newest = ToMs(resp.executions(0).close_time());
    auto within = std::chrono::duration_cast<std::chrono::milliseconds>(cli::ParseDuration(f.new_within, "--new-within")).count();
    is_new = now - newest <= within;
  }
  bool posted = false;
  if (streak && is_new && !f.webhook.empty()) {
    std::string text = ":rotating_light: " + f.type + ": the last " + std::to_string(f.consecutive) +
                       " runs failed (namespace " + ctx.ns() + ")" + lines;
    Status s;
    for (int attempt = 1; attempt <= 5; ++attempt) {
      s = PostJson(f.webhook, SlackText(text));
      if (s.ok() || s.code() != Code::kUnavailable) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500 << (attempt - 1)));
    }
    if (!s.ok()) throw cli::CommandError("cannot post the alert: " + s.message());
    posted = true;
  }
  if (p.json()) {
    p.PrintJson({{"workflowType", f.type}, {"consecutiveFailures", failed}, {"alert", streak}, {"posted", posted}, {"runs", runs}});
  } else if (streak) {
    p.Line("ALERT: the last " + std::to_string(f.consecutive) + " runs of " + f.type + " failed:" + lines);
  } else {
    p.Line("OK: " + f.type + " has " + std::to_string(failed) + " consecutive failed run(s) (alert at " +
           std::to_string(f.consecutive) + ")");
  }
  *exit_code = streak ? 1 : 0;
}

}  // namespace

void RegisterAlertCommands(CLI::App* app, int* exit_code) {
  CLI::App* group = cli::AddGroup(app, "alert", "Failure alerts for CI",
                                  "  temporalite alert check --workflow-type CheckersIngestionWorkflow --consecutive 2\n");
  auto f = std::make_shared<CheckFlags>();
  CLI::App* check = cli::AddCommand(
      group, "check", "Exit 1 when the last N runs of a workflow type failed",
      "Looks at the most recently closed runs of the type (Failed and TimedOut count as failures).\n"
      "Exit code 1 and the runs printed when the last --consecutive runs all failed, else 0. With\n"
      "--slack-webhook it also posts Slack's incoming-webhook JSON, only when the newest failure\n"
      "closed within --new-within (set it to the CI job's period: one post per streak):\n\n"
      "  temporalite alert check --workflow-type CheckersIngestionWorkflow --consecutive 2 \\\n"
      "      --slack-webhook \"$SLACK_WEBHOOK_URL\" --new-within 30m\n",
      exit_code, [f, exit_code](Context& ctx) { RunCheck(ctx, *f, exit_code); });
  check->add_option("--workflow-type,--type", f->type, "Workflow type")->required();
  check->add_option("--consecutive", f->consecutive, "How many failed runs in a row make an alert")->capture_default_str();
  check->add_option("--slack-webhook", f->webhook, "Post the alert to this webhook (default SLACK_WEBHOOK_URL)")
      ->envname("SLACK_WEBHOOK_URL");
  check->add_option("--new-within", f->new_within, "Post only when the newest failure closed within this duration (e.g. 30m)");
}

}  // namespace temporalite::ops
