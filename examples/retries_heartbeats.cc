// An activity with retries and heartbeats: its first two attempts fail (retried by the retry
// policy); each attempt heartbeats its progress, and the next attempt resumes from the last
// heartbeat's details. Runs against TEMPORAL_ADDRESS (default 127.0.0.1:7233) and exits 0.
#include <temporalite/sdk/sdk.h>

#include <chrono>
#include <iostream>
#include <string>

using namespace temporalite::sdk;
using namespace std::chrono_literals;

// Processes items 0..9; attempts 1 and 2 fail after a few items.
int ProcessItems(ActivityContext& ctx, int count) {
  int next = ctx.info().attempt > 1 ? ctx.LastHeartbeatDetails<int>() : 0;
  for (int i = next; i < count; ++i) {
    ctx.Heartbeat(i);  // progress: item i is being processed
    if (ctx.info().attempt < 3 && i == 3 * ctx.info().attempt) {
      throw ApplicationFailure("transient failure at item " + std::to_string(i), "Transient");
    }
  }
  return ctx.info().attempt;
}

Task<int> BatchWorkflow(WorkflowContext& ctx, int count) {
  ActivityOptions options;
  options.start_to_close = 10s;
  options.heartbeat = 5s;
  options.retry_policy = RetryPolicy{.initial_interval = 100ms, .backoff_coefficient = 1.0, .maximum_attempts = 5};
  int attempts = co_await ctx.ExecuteActivity<int>("ProcessItems", options, count);
  co_return attempts;
}

int main() {
  auto client = Client::Connect(ClientOptions::FromEnvironment());
  Worker worker(client, WorkerOptions{.task_queue = "retries-heartbeats"});
  worker.RegisterWorkflow("BatchWorkflow", BatchWorkflow);
  worker.RegisterActivity("ProcessItems", ProcessItems);
  worker.Start();

  StartWorkflowOptions start;
  start.id = "retries-heartbeats-" + NewUuid();
  start.task_queue = "retries-heartbeats";
  int attempts = client->Execute<int>("BatchWorkflow", start, 10);
  std::cout << "done after " << attempts << " attempts" << std::endl;
  worker.Shutdown();
  return attempts == 3 ? 0 : 1;
}
