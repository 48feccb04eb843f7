// A C++ SDK worker for the TypeScript interop test (tests/sdk/interop.test.js): serves workflows
// on task queue "cpp-interop" against TEMPORAL_ADDRESS until SIGTERM. Prints "ready" once polling.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

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

// Called by a TS workflow.
std::string CppShout(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s + "!";
}

// A C++ parent running a TS child workflow on the TS worker's queue.
Task<std::string> CppParentOfTs(WorkflowContext& ctx, std::string name) {
  ChildWorkflowOptions o;
  o.task_queue = "ts-interop";
  auto child = ctx.ExecuteChildWorkflow<std::string>("tsChild", o, name);
  std::string r = co_await child;
  co_return "C++ parent got: " + r;
}

// For the SIGKILL-restart test: each step appends its index to $SDK_INTEROP_SIDE_EFFECTS.
int CppStep(int i) {
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const char* path = std::getenv("SDK_INTEROP_SIDE_EFFECTS");
  if (path) {
    std::ofstream f(path, std::ios::app);
    f << i << "\n";
    f.flush();
  }
  return i;
}

Task<int> CppSteps(WorkflowContext& ctx, int n) {
  ActivityOptions o;
  o.start_to_close = 3s;
  o.retry_policy = RetryPolicy{.initial_interval = 100ms, .backoff_coefficient = 1.0, .maximum_attempts = 0};
  int sum = 0;
  for (int i = 0; i < n; ++i) {
    auto step = ctx.ExecuteActivity<int>("cppStep", o, i);
    sum += co_await step;
  }
  co_return sum;
}

}  // namespace

// argv[1]: the task queue (default "cpp-interop").
int main(int argc, char** argv) {
  auto client = Client::Connect(ClientOptions::FromEnvironment());
  Worker worker(client, WorkerOptions{.task_queue = argc > 1 ? argv[1] : "cpp-interop"});
  worker.RegisterActivity("cppShout", CppShout);
  worker.RegisterActivity("cppStep", CppStep);
  worker.RegisterWorkflow("CppParentOfTs", CppParentOfTs);
  worker.RegisterWorkflow("CppSteps", CppSteps);
  worker.RegisterWorkflow("CppGreet", CppGreet);
  worker.RegisterWorkflow("CppFail", CppFail);
  worker.RegisterWorkflow("CppCallsFailingTs", CppCallsFailingTs);
  worker.RegisterWorkflow("CppMessages", CppMessages);
  std::cout << "ready" << std::endl;
  worker.RunUntilSignal();
  return 0;
}
