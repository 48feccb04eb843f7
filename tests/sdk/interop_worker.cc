// A C++ SDK worker for the TypeScript interop test (tests/sdk/interop.test.js): serves workflows
// on task queue "cpp-interop" against TEMPORAL_ADDRESS until SIGTERM. Prints "ready" once polling.
#include <iostream>

#include "temporalite/sdk/sdk.h"

using namespace temporalite::sdk;
using namespace std::chrono_literals;

namespace {

ActivityOptions TsActivity() {
  ActivityOptions o;
  o.task_queue = "ts-interop";
  o.start_to_close = 10s;
  o.retry_policy = RetryPolicy{.initial_interval = 50ms, .maximum_attempts = 2};
  return o;
}

Task<std::string> CppGreet(WorkflowContext& ctx, std::string name) {
  std::string upper = co_await ctx.ExecuteActivity<std::string>("tsUpper", TsActivity(), name);
  co_return "Hello, " + upper;
}

Task<void> CppFail(WorkflowContext& ctx, std::string message) {
  co_await ctx.Sleep(1ms);
  throw ApplicationFailure(message, "CppError", true, ToPayloads(nlohmann::json{{"code", 42}}));
}

Task<void> CppCallsFailingTs(WorkflowContext& ctx) {
  co_await ctx.ExecuteActivity<void>("tsFail", TsActivity());
}

Task<int> CppMessages(WorkflowContext& ctx) {
  auto total = std::make_shared<int>(0);
  auto done = std::make_shared<bool>(false);
  ctx.SetSignalHandler("add", [total](int n) { *total += n; });
  ctx.SetSignalHandler("done", [done]() { *done = true; });
  ctx.SetQueryHandler("total", [total]() { return *total; });
  ctx.SetUpdateHandler(
      "double", [total]() { return *total *= 2; },
      []() {});
  ctx.SetUpdateHandler(
      "set", [total](int v) { return *total = v; },
      [](int v) {
        if (v < 0) throw ApplicationFailure("negative value", "ValidationError");
      });
  auto finished = ctx.Condition([done] { return *done; });
  co_await finished;
  co_return *total;
}

}  // namespace

int main() {
  auto client = Client::Connect(ClientOptions::FromEnvironment());
  Worker worker(client, WorkerOptions{.task_queue = "cpp-interop"});
  worker.RegisterWorkflow("CppGreet", CppGreet);
  worker.RegisterWorkflow("CppFail", CppFail);
  worker.RegisterWorkflow("CppCallsFailingTs", CppCallsFailingTs);
  worker.RegisterWorkflow("CppMessages", CppMessages);
  std::cout << "ready" << std::endl;
  worker.RunUntilSignal();
  return 0;
}
