// A worker and a client in one program: runs a workflow with an activity to completion against
// TEMPORAL_ADDRESS (default 127.0.0.1:7233) and exits 0.
#include <temporalite/sdk/sdk.h>

#include <chrono>
#include <iostream>
#include <string>

using namespace temporalite::sdk;

std::string ComposeGreeting(ActivityContext& ctx, std::string name) {
  return "Hello, " + name + "! (attempt " + std::to_string(ctx.info().attempt) + ")";
}

Task<std::string> GreetingWorkflow(WorkflowContext& ctx, std::string name) {
  ActivityOptions options;
  options.start_to_close = std::chrono::seconds(10);
  std::string greeting = co_await ctx.ExecuteActivity<std::string>("ComposeGreeting", options, name);
  co_return greeting;
}

int main() {
  auto client = Client::Connect(ClientOptions::FromEnvironment());
  Worker worker(client, WorkerOptions{.task_queue = "hello-world"});
  worker.RegisterWorkflow("GreetingWorkflow", GreetingWorkflow);
  worker.RegisterActivity("ComposeGreeting", ComposeGreeting);
  worker.Start();

  StartWorkflowOptions start;
  start.id = "hello-world-" + NewUuid();
  start.task_queue = "hello-world";
  std::string result = client->Execute<std::string>("GreetingWorkflow", start, std::string("Temporal"));
  std::cout << result << std::endl;
  worker.Shutdown();
  return result == "Hello, Temporal! (attempt 1)" ? 0 : 1;
}
