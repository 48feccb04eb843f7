// A C++ SDK worker for the TypeScript interop test (tests/sdk/interop.test.js): serves workflows
// on task queue "cpp-interop" against TEMPORAL_ADDRESS until SIGTERM. Prints "ready" once polling.
// With SDK_INTEROP_CODEC=zlib its client (and so the worker) uses the zlib payload codec.
// Other modes (argv[1]):
//   client-msgs <workflow id>   a C++ client signals, queries and updates a (TS) workflow and
//                               prints what it saw as one JSON line
//   replay <file> <workflow id> replays a history JSON file with the Replayer; prints "replayed"
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "temporalite/sdk/replayer.h"
#include "temporalite/sdk/sdk.h"
#include "zlib_codec.h"

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

// A C++ workflow signalling a TS workflow (the signal crosses the languages from workflow code).
Task<std::string> CppSignalsTs(WorkflowContext& ctx, std::string ts_workflow_id) {
  auto sent = ctx.SignalExternalWorkflow(ts_workflow_id, "add", 2);
  co_await sent;
  co_return std::string("signalled ") + ts_workflow_id;
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

// An activity that outlives its timeouts: with `heartbeat` it records one heartbeat ("tick")
// then goes silent; it stops early once its cancellation is known.
void CppSlow(ActivityContext& ctx, bool heartbeat) {
  if (heartbeat) ctx.Heartbeat(std::string("tick"));
  for (int i = 0; i < 40 && !ctx.IsCancelled(); ++i) std::this_thread::sleep_for(50ms);
}

// Runs CppSlow into its start-to-close (kind "startToClose") or heartbeat timeout; the
// ActivityFailure(TimeoutFailure) fails the workflow.
Task<void> CppTimesOut(WorkflowContext& ctx, std::string kind) {
  ActivityOptions o;
  o.retry_policy = RetryPolicy{.maximum_attempts = 1};
  bool heartbeat = kind == "heartbeat";
  o.start_to_close = heartbeat ? 10s : 300ms;
  if (heartbeat) o.heartbeat = 300ms;
  co_await ctx.ExecuteActivity<void>("cppSlow", o, heartbeat);
}

}  // namespace

// A C++ client driving a TS workflow's signal, query and update handlers.
int ClientMessages(const std::shared_ptr<Client>& client, const std::string& workflow_id) {
  auto h = client->GetHandle(workflow_id);
  h.Signal("add", 5);
  int total = 0;
  for (int i = 0; i < 200 && total != 5; ++i) {
    total = h.Query<int>("total");
    if (total != 5) std::this_thread::sleep_for(50ms);
  }
  nlohmann::json out{{"queried", total}};
  out["doubled"] = h.ExecuteUpdate<int>("double");
  out["set"] = h.ExecuteUpdate<int>("set", 7);
  try {
    h.ExecuteUpdate<int>("set", -1);
    out["rejected"] = "no";
  } catch (const WorkflowUpdateFailedError& e) {
    auto* app = dynamic_cast<ApplicationFailure*>(e.cause().get());
    out["rejected"] = app ? app->type + ": " + app->what() : std::string("not an ApplicationFailure");
  }
  try {
    h.Query<int>("nope");
    out["badQuery"] = "answered";
  } catch (const std::exception& e) {  // QueryFailedError (or an RpcError, by the server's code)
    out["badQuery"] = e.what();
  }
  h.Signal("done");
  out["result"] = h.Result<int>(std::chrono::milliseconds(20000));
  std::cout << out.dump() << std::endl;
  return 0;
}

int Replay(const std::string& file, const std::string& workflow_id) {
  std::ifstream f(file);
  std::stringstream ss;
  ss << f.rdbuf();
  Replayer r;
  r.RegisterWorkflow("CppGreet", CppGreet);
  r.RegisterWorkflow("CppMessages", CppMessages);
  try {
    r.ReplayHistoryJson(ss.str(), workflow_id);
  } catch (const std::exception& e) {
    std::cout << "replay failed: " << e.what() << std::endl;
    return 1;
  }
  std::cout << "replayed" << std::endl;
  return 0;
}

// argv[1]: the task queue (default "cpp-interop"), or a mode above.
int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "replay" && argc > 3) return Replay(argv[2], argv[3]);
  ClientOptions co = ClientOptions::FromEnvironment();
  const char* codec = std::getenv("SDK_INTEROP_CODEC");
  if (codec && std::string(codec) == "zlib") co.codecs.push_back(std::make_shared<sdk_test::ZlibCodec>());
  auto client = Client::Connect(co);
  if (mode == "client-msgs" && argc > 2) return ClientMessages(client, argv[2]);
  Worker worker(client, WorkerOptions{.task_queue = argc > 1 ? argv[1] : "cpp-interop"});
  worker.RegisterWorkflow("CppSignalsTs", CppSignalsTs);
  worker.RegisterActivity("cppShout", CppShout);
  worker.RegisterActivity("cppStep", CppStep);
  worker.RegisterWorkflow("CppParentOfTs", CppParentOfTs);
  worker.RegisterWorkflow("CppSteps", CppSteps);
  worker.RegisterWorkflow("CppGreet", CppGreet);
  worker.RegisterWorkflow("CppFail", CppFail);
  worker.RegisterWorkflow("CppCallsFailingTs", CppCallsFailingTs);
  worker.RegisterWorkflow("CppMessages", CppMessages);
  worker.RegisterWorkflow("CppTimesOut", CppTimesOut);
  worker.RegisterActivity("cppSlow", CppSlow);
  std::cout << "ready" << std::endl;
  worker.RunUntilSignal();
  return 0;
}
