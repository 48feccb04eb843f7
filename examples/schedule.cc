// A schedule: creates a schedule that would start a workflow every hour, triggers it once now,
// waits for that run's result, lists and describes the schedule, then deletes it. Runs against
// TEMPORAL_ADDRESS and exits 0.
#include <temporalite/sdk/sdk.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

using namespace temporalite::sdk;
using namespace std::chrono_literals;

Task<std::string> ReportWorkflow(WorkflowContext& ctx) {
  co_await ctx.Sleep(10ms);
  co_return std::string("report ready");
}

int main() {
  auto client = Client::Connect(ClientOptions::FromEnvironment());
  Worker worker(client, WorkerOptions{.task_queue = "schedules"});
  worker.RegisterWorkflow("ReportWorkflow", ReportWorkflow);
  worker.Start();

  const std::string id = "hourly-report-" + NewUuid();
  StartWorkflowOptions action;
  action.id = id + "-run";
  action.task_queue = "schedules";
  temporal::api::schedule::v1::Schedule schedule;
  *schedule.mutable_spec()->add_interval()->mutable_interval() = ToProtoDuration(std::chrono::hours(1));
  *schedule.mutable_action() = client->MakeStartWorkflowAction("ReportWorkflow", action);
  client->CreateSchedule(id, schedule);
  client->TriggerSchedule(id);

  // The triggered run's id is the action's id with the time appended: find it by type.
  std::string result;
  for (int i = 0; i < 200 && result.empty(); ++i) {
    for (const auto& info : client->List("WorkflowType = 'ReportWorkflow'")) {
      if (info.execution().workflow_id().rfind(action.id, 0) != 0) continue;
      result = client->GetHandle(info.execution().workflow_id()).Result<std::string>();
    }
    if (result.empty()) std::this_thread::sleep_for(50ms);
  }
  auto described = client->DescribeSchedule(id);
  std::cout << "schedule " << id << ": " << described.info().action_count() << " action(s), result '" << result
            << "'" << std::endl;
  bool listed = false;
  for (const auto& s : client->ListSchedules()) listed |= s.schedule_id() == id;
  client->DeleteSchedule(id);
  worker.Shutdown();
  return result == "report ready" && listed && described.info().action_count() >= 1 ? 0 : 1;
}
