// C++ SDK eager workflow start: the first workflow task that a StartWorkflowExecution reply
// carries runs on the worker's workflow-task threads (the ones that poll), in one of its slots,
// and eager execution is asked for only while a slot is free.
#include <algorithm>
#include <functional>
#include <iterator>
#include <set>

#include "sdk_fixture.h"

namespace sdk_test {
namespace {

// The workflow thread that ran the run's (only) workflow task.
Task<std::string> WhichThread(WorkflowContext&) {
  co_return std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
}

std::mutex g_mu;
std::condition_variable g_cv;
bool g_release = false;
int g_started = 0;

std::string Block() {
  std::unique_lock<std::mutex> l(g_mu);
  ++g_started;
  g_cv.notify_all();
  g_cv.wait_for(l, 20s, [] { return g_release; });
  return "released";
}

// Holds its workflow task (and so the worker's only slot) until Block returns.
Task<std::string> HoldsTheTask(WorkflowContext& ctx) {
  LocalActivityOptions lo;
  lo.schedule_to_close = 60s;
  auto a = ctx.ExecuteLocalActivity<std::string>("Block", lo);
  std::string r = co_await a;
  co_return r;
}

// One slot, no sticky cache: two workflow threads, one polling. A polled task runs on the thread
// that polled it (the other takes up the poll), and the next eager task on the one left idle,
// so eager and polled tasks share their threads (a separate eager thread would never poll).
TEST_F(SdkTest, AnEagerStartsTaskRunsOnTheWorkersPollingThreads) {
  WorkerOptions wo;
  wo.task_queue = task_queue_;
  wo.max_concurrent_workflow_tasks = 1;
  wo.max_cached_workflows = 0;
  Worker w(client_, wo);
  w.RegisterWorkflow("WhichThread", WhichThread);
  w.Start();
  std::set<std::string> eager_threads, polled_threads;
  // An eager start right after a run's end may find the slot not given back yet (then it is a
  // normal start, its task polled): each run is counted by how its task came.
  for (int i = 0; i < 20 && w.stats().eager_tasks < 3; ++i) {
    StartWorkflowOptions e = Opts("eager-thread-e" + std::to_string(i));
    e.eager_start = true;
    const int64_t before = w.stats().eager_tasks;
    const std::string thread = client_->Start("WhichThread", e).Result<std::string>(30s);
    (w.stats().eager_tasks > before ? eager_threads : polled_threads).insert(thread);
    polled_threads.insert(client_->Start("WhichThread", Opts("eager-thread-p" + std::to_string(i))).Result<std::string>(30s));
  }
  EXPECT_EQ(w.stats().eager_tasks, 3);
  std::vector<std::string> both;
  std::set_intersection(eager_threads.begin(), eager_threads.end(), polled_threads.begin(), polled_threads.end(),
                        std::back_inserter(both));
  EXPECT_FALSE(both.empty()) << eager_threads.size() << " eager thread(s), " << polled_threads.size() << " polling";
  w.Shutdown();
}

// With the worker's only slot taken, an eager start asks for no eager execution: the run's first
// task goes through the queue and runs once the slot is free.
TEST_F(SdkTest, AnEagerStartWithNoFreeSlotIsANormalStart) {
  {
    std::lock_guard<std::mutex> l(g_mu);
    g_release = false;
    g_started = 0;
  }
  WorkerOptions wo;
  wo.task_queue = task_queue_;
  wo.max_concurrent_workflow_tasks = 1;
  Worker w(client_, wo);
  w.RegisterWorkflow("WhichThread", WhichThread);
  w.RegisterWorkflow("HoldsTheTask", HoldsTheTask);
  w.RegisterActivity("Block", Block);
  w.Start();
  auto holder = client_->Start("HoldsTheTask", Opts("eager-slot-holder"));
  {
    std::unique_lock<std::mutex> l(g_mu);
    ASSERT_TRUE(g_cv.wait_for(l, 10s, [] { return g_started == 1; }));
  }
  StartWorkflowOptions e = Opts("eager-no-slot");
  e.eager_start = true;
  auto h = client_->Start("WhichThread", e);
  EXPECT_EQ(w.stats().eager_tasks, 0);
  {
    std::lock_guard<std::mutex> l(g_mu);
    g_release = true;
  }
  g_cv.notify_all();
  EXPECT_EQ(holder.Result<std::string>(30s), "released");
  EXPECT_FALSE(h.Result<std::string>(30s).empty());
  EXPECT_EQ(w.stats().eager_tasks, 0);
  // Once the slot is free again (its thread gives it back just after the completion that ended
  // the last run), an eager start is eager.
  for (int i = 0; i < 50 && w.stats().eager_tasks == 0; ++i) {
    StartWorkflowOptions e2 = Opts("eager-slot-free-" + std::to_string(i));
    e2.eager_start = true;
    EXPECT_FALSE(client_->Start("WhichThread", e2).Result<std::string>(30s).empty());
  }
  EXPECT_EQ(w.stats().eager_tasks, 1);
  w.Shutdown();
}

// The pool's stall (seen once in 3 of 8 runs of a small program, deterministic here): an eager
// start reserves the only slot, then both workflow threads poll a task each and wait for that
// slot. The eager task its reply carries must still run (on a thread waiting for a slot), or
// no thread ever runs it, its slot is never freed, and all three runs wait until shutdown.
TEST_F(SdkTest, AnEagerTaskRunsWhileEveryThreadWaitsForTheSlotItHolds) {
  WorkerOptions wo;
  wo.task_queue = task_queue_;
  wo.max_concurrent_workflow_tasks = 1;
  wo.max_cached_workflows = 0;  // two threads
  Worker w(client_, wo);
  w.RegisterWorkflow("WhichThread", WhichThread);
  w.Start();
  // As Client::StartPayloads does before its RPC (a C-style cast: the base class is private).
  auto& executor = (EagerWorkflowExecutor&)w;
  ASSERT_TRUE(executor.TryReserveEagerSlot());
  auto p1 = client_->Start("WhichThread", Opts("stall-p1"));
  auto p2 = client_->Start("WhichThread", Opts("stall-p2"));
  // Both polled tasks are started (each on its own thread, waiting for the slot).
  for (auto* h : {&p1, &p2}) {
    bool started = false;
    for (int i = 0; i < 200 && !started; ++i) {
      started = h->Describe().pending_workflow_task().state() == enums::PENDING_WORKFLOW_TASK_STATE_STARTED;
      if (!started) std::this_thread::sleep_for(50ms);  // no signal to wait on across the RPC
    }
    ASSERT_TRUE(started);
  }
  wsv1::StartWorkflowExecutionRequest req;
  req.set_namespace_(client_->ns());
  req.set_workflow_id("stall-eager");
  req.mutable_workflow_type()->set_name("WhichThread");
  req.mutable_task_queue()->set_name(task_queue_);
  req.set_identity(wo.identity.empty() ? "stall-test" : wo.identity);
  req.set_request_id("stall-eager-request");
  req.set_request_eager_execution(true);
  wsv1::StartWorkflowExecutionResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  ASSERT_TRUE(client_->stub().StartWorkflowExecution(&ctx, req, &resp).ok());
  ASSERT_FALSE(resp.eager_workflow_task().task_token().empty());
  executor.RunEagerTask(std::move(*resp.mutable_eager_workflow_task()));
  EXPECT_FALSE(client_->GetHandle("stall-eager").Result<std::string>(20s).empty());
  EXPECT_FALSE(p1.Result<std::string>(20s).empty());
  EXPECT_FALSE(p2.Result<std::string>(20s).empty());
  EXPECT_EQ(w.stats().eager_tasks, 1);
  w.Shutdown();
}

}  // namespace
}  // namespace sdk_test
