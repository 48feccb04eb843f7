// Signals, queries and updates: a shopping-cart workflow adds items on a signal, answers its
// total to a query, and applies a discount by an update whose validator rejects bad input; a
// "checkout" signal completes it. Runs against TEMPORAL_ADDRESS and exits 0.
#include <temporalite/sdk/sdk.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

using namespace temporalite::sdk;
using namespace std::chrono_literals;

Task<int> CartWorkflow(WorkflowContext& ctx) {
  auto total = std::make_shared<int>(0);
  auto checked_out = std::make_shared<bool>(false);
  ctx.SetSignalHandler("add", [total](int price) { *total += price; });
  ctx.SetSignalHandler("checkout", [checked_out]() { *checked_out = true; });
  ctx.SetQueryHandler("total", [total]() { return *total; });
  ctx.SetUpdateHandler(
      "discount", [total](int percent) { return *total -= *total * percent / 100; },
      [](int percent) {
        if (percent <= 0 || percent > 50) throw ApplicationFailure("discount must be 1..50 %", "InvalidDiscount");
      });
  auto done = ctx.Condition([checked_out] { return *checked_out; });
  co_await done;
  co_return *total;
}

int main() {
  auto client = Client::Connect(ClientOptions::FromEnvironment());
  Worker worker(client, WorkerOptions{.task_queue = "signal-query-update"});
  worker.RegisterWorkflow("CartWorkflow", CartWorkflow);
  worker.Start();

  StartWorkflowOptions start;
  start.id = "cart-" + NewUuid();
  start.task_queue = "signal-query-update";
  WorkflowHandle cart = client->Start("CartWorkflow", start);
  cart.Signal("add", 40);
  cart.Signal("add", 60);
  int total = 0;
  for (int i = 0; i < 100 && total != 100; ++i) {  // signals are applied by the next workflow task
    total = cart.Query<int>("total");
    if (total != 100) std::this_thread::sleep_for(50ms);
  }
  std::cout << "total " << total << std::endl;
  int discounted = cart.ExecuteUpdate<int>("discount", 10);
  bool rejected = false;
  try {
    cart.ExecuteUpdate<int>("discount", 90);
  } catch (const WorkflowUpdateFailedError& e) {
    rejected = true;
    std::cout << "rejected: " << e.cause()->what() << std::endl;
  }
  cart.Signal("checkout");
  int paid = cart.Result<int>();
  std::cout << "paid " << paid << std::endl;
  worker.Shutdown();
  return total == 100 && discounted == 90 && rejected && paid == 90 ? 0 : 1;
}
