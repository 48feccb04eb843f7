// temporalite task-queue describe
#include "cli/client.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/output.h"

namespace temporalite::cli {
namespace {

namespace wsv1 = temporal::api::workflowservice::v1;
namespace enums = temporal::api::enums::v1;

struct DescribeFlags {
  std::string task_queue;
  std::vector<std::string> types;
  bool disable_stats = false;
  bool report_config = false;
  bool legacy_mode = false;
};

std::string RateText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void RunDescribe(Context& ctx, const DescribeFlags& f) {
  std::vector<std::string> types = f.types;
  if (types.empty()) types = {"workflow", "activity"};
  Connection& c = ctx.conn();
  Printer& out = ctx.out();
  Json pollers = Json::array();
  Json stats = Json::array();
  Json configs = Json::object();
  std::vector<std::vector<std::string>> poller_rows;
  std::vector<std::vector<std::string>> stats_rows;
  for (const std::string& type : types) {
    wsv1::DescribeTaskQueueRequest req;
    req.set_namespace_(ctx.ns());
    req.mutable_task_queue()->set_name(f.task_queue);
    req.mutable_task_queue()->set_kind(enums::TASK_QUEUE_KIND_NORMAL);
    req.set_task_queue_type(type == "workflow"   ? enums::TASK_QUEUE_TYPE_WORKFLOW
                            : type == "activity" ? enums::TASK_QUEUE_TYPE_ACTIVITY
                                                 : enums::TASK_QUEUE_TYPE_NEXUS);
    req.set_report_stats(!f.disable_stats);
    req.set_report_config(f.report_config);
    auto resp = c.Call(c.workflow(), &Connection::WorkflowStub::DescribeTaskQueue, "DescribeTaskQueue", req,
                       "unable to describe task queue");
    for (const auto& p : resp.pollers()) {
      Json j = {{"buildId", "UNVERSIONED"}, {"taskQueueType", type}, {"identity", p.identity()},
                {"lastAccessTime", ProtoJson(p.last_access_time())}, {"ratePerSecond", p.rate_per_second()}};
      pollers.push_back(j);
      poller_rows.push_back({"UNVERSIONED", type, p.identity(), out.Time(p.last_access_time()),
                             RateText(p.rate_per_second())});
    }
    if (!f.disable_stats) {
      const auto& s = resp.stats();
      std::string age = FormatDuration(FromProto(s.approximate_backlog_age()));
      double increase = s.tasks_add_rate() - s.tasks_dispatch_rate();
      stats.push_back({{"buildId", "UNVERSIONED"},
                       {"taskQueueType", type},
                       {"approximateBacklogCount", s.approximate_backlog_count()},
                       {"approximateBacklogAge", age},
                       {"backlogIncreaseRate", increase},
                       {"tasksAddRate", s.tasks_add_rate()},
                       {"tasksDispatchRate", s.tasks_dispatch_rate()}});
      stats_rows.push_back({"UNVERSIONED", type, std::to_string(s.approximate_backlog_count()), age,
                            RateText(increase), RateText(s.tasks_add_rate()), RateText(s.tasks_dispatch_rate())});
    }
    if (f.report_config && resp.has_config()) configs[type] = ProtoJson(resp.config());
  }
  if (out.json()) {
    Json j = {{"pollers", pollers}};
    if (!f.disable_stats) j["stats"] = stats;
    if (f.report_config) j["config"] = configs;
    out.PrintJson(j);
    return;
  }
  if (!f.disable_stats) {
    out.Title("Task Queue Statistics");
    out.Table({{"BuildID"}, {"TaskQueueType"}, {"ApproximateBacklogCount"}, {"ApproximateBacklogAge"},
               {"BacklogIncreaseRate"}, {"TasksAddRate"}, {"TasksDispatchRate"}},
              stats_rows);
  }
  out.Title("Pollers");
  out.Table({{"BuildID"}, {"TaskQueueType"}, {"Identity"}, {"LastAccessTime"}, {"RatePerSecond"}}, poller_rows);
  if (f.report_config && !configs.empty()) {
    out.Title("Config");
    for (auto& [type, cfg] : configs.items()) out.Card({{type, CompactJson(cfg)}});
  }
}

}  // namespace

void RegisterTaskQueueCommands(CLI::App* app, int* exit_code) {
  CLI::App* tq = AddGroup(app, "task-queue", "Manage Task Queues",
                          "Inspect Task Queues, the queues that Workers poll for Workflow and Activity tasks:\n\n"
                          "  temporalite task-queue describe \\\n"
                          "      --task-queue YourTaskQueue\n");
  auto f = std::make_shared<DescribeFlags>();
  CLI::App* cmd = AddCommand(tq, "describe", "Show active Workers",
                             "Show the Workers that recently polled a Task Queue, and backlog statistics.\n"
                             "Workflow and Activity polling use separate Task Queue types:\n\n"
                             "  temporalite task-queue describe \\\n"
                             "      --task-queue YourTaskQueue \\\n"
                             "      --task-queue-type activity\n",
                             exit_code, [f](Context& ctx) { RunDescribe(ctx, *f); });
  cmd->add_option("-t,--task-queue", f->task_queue, "Task Queue name")->required();
  cmd->add_option("--task-queue-type", f->types,
                  "Task Queue type: workflow, activity or nexus (default: workflow and activity). Can be passed "
                  "multiple times.")
      ->check(CLI::IsMember({"workflow", "activity", "nexus"}));
  cmd->add_flag("--disable-stats", f->disable_stats, "Disable task queue statistics");
  cmd->add_flag("--report-config", f->report_config, "Include the task queue configuration");
  cmd->add_flag("--legacy-mode", f->legacy_mode, "Accepted for compatibility (this describe is always per type)");
}

}  // namespace temporalite::cli
