// Child workflows: a parent starts one child per order line, waits for all of them and sums
// their results; a failing child reaches the parent as ChildWorkflowFailure. Runs against
// TEMPORAL_ADDRESS and exits 0.
#include <temporalite/sdk/sdk.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

using namespace temporalite::sdk;
using namespace std::chrono_literals;

Task<int> PriceLine(WorkflowContext& ctx, std::string item, int quantity) {
  co_await ctx.Sleep(10ms);
  if (quantity < 0) throw ApplicationFailure("negative quantity for " + item, "BadLine", true);
  co_return static_cast<int>(item.size()) * quantity;
}

Task<std::string> OrderWorkflow(WorkflowContext& ctx, std::vector<int> quantities) {
  std::vector<Future<int>> lines;
  for (size_t i = 0; i < quantities.size(); ++i) {
    ChildWorkflowOptions o;
    o.id = ctx.info().workflow_id + "-line-" + std::to_string(i);
    lines.push_back(ctx.ExecuteChildWorkflow<int>("PriceLine", o, std::string("item") + std::to_string(i),
                                                  quantities[i]));
  }
  int total = 0;
  int failed = 0;
  for (auto& line : lines) {
    try {
      total += co_await line;
    } catch (const ChildWorkflowFailure&) {
      ++failed;
    }
  }
  co_return "total " + std::to_string(total) + ", failed lines " + std::to_string(failed);
}

int main() {
  auto client = Client::Connect(ClientOptions::FromEnvironment());
  Worker worker(client, WorkerOptions{.task_queue = "child-workflows"});
  worker.RegisterWorkflow("OrderWorkflow", OrderWorkflow);
  worker.RegisterWorkflow("PriceLine", PriceLine);
  worker.Start();

  StartWorkflowOptions start;
  start.id = "order-" + NewUuid();
  start.task_queue = "child-workflows";
  std::string result = client->Execute<std::string>("OrderWorkflow", start, std::vector<int>{1, 2, -1, 3});
  std::cout << result << std::endl;
  worker.Shutdown();
  return result == "total 30, failed lines 1" ? 0 : 1;
}
