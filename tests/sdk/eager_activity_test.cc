// C++ SDK: eager activity execution (WorkerOptions::eager_activities): an activity scheduled on
// the worker's own task queue comes back in the workflow-task completion reply and runs within
// the worker's activity slots; other queues and a worker with it off go through the poll. The
// first one of a reply runs on the workflow thread that received it.
#include "sdk_fixture.h"

namespace sdk_test {
namespace {

int SlowIdentity(int i) {
  std::this_thread::sleep_for(100ms);  // the tasks overlap: every slot is taken at times
  return i;
}

// n activities scheduled by one workflow task, then awaited.
Task<int> FanOutWorkflow(WorkflowContext& ctx, int n) {
  std::vector<Future<int>> pending;
  for (int i = 0; i < n; ++i) pending.push_back(ctx.ExecuteActivity<int>("SlowIdentity", Short(), i));
  int sum = 0;
  for (auto& f : pending) sum += co_await f;
  co_return sum;
}

Task<std::string> GreetOnQueueWorkflow(WorkflowContext& ctx, std::string queue) {
  ActivityOptions o = Short();
  o.task_queue = queue;  // "" : the workflow's own
  auto f = ctx.ExecuteActivity<std::string>("Hello", o, std::string("ada"));
  std::string r = co_await f;
  co_return r;
}

std::string Hello(std::string n) { return "Hello, " + n; }

TEST_F(SdkTest, EagerActivitiesStayWithinTheActivitySlots) {
  WorkerOptions wo;
  wo.task_queue = task_queue_;
  wo.max_concurrent_activities = 2;
  wo.activity_pollers = 1;
  Worker w(client_, wo);
  w.RegisterWorkflow("FanOut", FanOutWorkflow);
  w.RegisterActivity("SlowIdentity", SlowIdentity);
  w.Start();
  EXPECT_EQ(client_->Start("FanOut", Opts("fan-out-1"), 5).Result<int>(30s), 0 + 1 + 2 + 3 + 4);
  // The poller holds one of the two slots while it polls (both, if it had not polled yet): one
  // task (two) came eagerly, the others through the poll.
  const int64_t eager = w.stats().eager_activities;
  EXPECT_GE(eager, 1);
  EXPECT_LE(eager, 2);
  // Every slot comes back (the last activity's thread gives its slot back after its completion
  // call returns, which can be after the workflow's result reached the client): a second run
  // then gets its eager task and its polls as the first did.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (w.stats().activity_slots_available < 1 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_GE(w.stats().activity_slots_available, 1);
  EXPECT_EQ(client_->Start("FanOut", Opts("fan-out-2"), 3).Result<int>(30s), 0 + 1 + 2);
  EXPECT_GE(w.stats().eager_activities, eager + 1);
  w.Shutdown();
}

TEST_F(SdkTest, EagerActivitiesOnlyForTheWorkersOwnQueueAndWhenOn) {
  auto w = NewWorker();
  w->RegisterWorkflow("GreetOnQueue", GreetOnQueueWorkflow);
  w->RegisterActivity("Hello", Hello);
  w->Start();
  WorkerOptions other;
  other.task_queue = task_queue_ + "-activities";
  Worker acts(client_, other);
  acts.RegisterActivity("Hello", Hello);
  acts.Start();
  // Another queue: no eager request, the activity is polled from there.
  EXPECT_EQ(client_->Start("GreetOnQueue", Opts("other-queue"), other.task_queue).Result<std::string>(30s),
            "Hello, ada");
  EXPECT_EQ(w->stats().eager_activities, 0);
  EXPECT_EQ(acts.stats().eager_activities, 0);
  // Its own queue: the completion reply carries the task.
  EXPECT_EQ(client_->Start("GreetOnQueue", Opts("own-queue"), std::string()).Result<std::string>(30s), "Hello, ada");
  EXPECT_EQ(w->stats().eager_activities, 1);
  acts.Shutdown();
  w->Shutdown();

  WorkerOptions off;
  off.task_queue = task_queue_ + "-off";
  off.eager_activities = false;
  Worker lazy(client_, off);
  lazy.RegisterWorkflow("GreetOnQueue", GreetOnQueueWorkflow);
  lazy.RegisterActivity("Hello", Hello);
  lazy.Start();
  StartWorkflowOptions so = Opts("eager-activities-off");
  so.task_queue = off.task_queue;
  EXPECT_EQ(client_->Start("GreetOnQueue", so, std::string()).Result<std::string>(30s), "Hello, ada");
  EXPECT_EQ(lazy.stats().eager_activities, 0);
  lazy.Shutdown();
}

// Where the first workflow task and the activity ran.
std::mutex g_ids_mu;
std::thread::id g_workflow_thread, g_activity_thread;

Task<std::string> ThreadIdsWorkflow(WorkflowContext& ctx) {
  {
    std::lock_guard<std::mutex> l(g_ids_mu);
    g_workflow_thread = std::this_thread::get_id();
  }
  std::string r = co_await ctx.ExecuteActivity<std::string>("ThreadId", Short());
  co_return r;
}

std::string ThreadId() {
  std::lock_guard<std::mutex> l(g_ids_mu);
  g_activity_thread = std::this_thread::get_id();
  return "ran";
}

// The eager activity runs on the thread that ran the workflow task which scheduled it (no
// hand-off to an activity thread); with the option off, or a single workflow-task thread of each
// kind (one must stay free to poll), on an activity thread.
TEST_F(SdkTest, AnEagerActivityRunsOnTheWorkflowThreadThatReceivedIt) {
  struct Case {
    bool on;
    int wft_threads;
    bool same_thread;
  };
  for (const Case c : {Case{true, 4, true}, Case{false, 4, false}, Case{true, 1, false}}) {
    WorkerOptions wo;
    wo.task_queue = task_queue_ + "-threads-" + std::to_string(c.on) + std::to_string(c.wft_threads);
    wo.max_concurrent_workflow_tasks = c.wft_threads;
    wo.run_eager_activity_on_workflow_thread = c.on;
    Worker w(client_, wo);
    w.RegisterWorkflow("ThreadIds", ThreadIdsWorkflow);
    w.RegisterActivity("ThreadId", ThreadId);
    w.Start();
    StartWorkflowOptions so = Opts("thread-ids-" + wo.task_queue);
    so.task_queue = wo.task_queue;
    EXPECT_EQ(client_->Start("ThreadIds", so).Result<std::string>(30s), "ran");
    EXPECT_EQ(w.stats().eager_activities, 1);
    {
      std::lock_guard<std::mutex> l(g_ids_mu);
      EXPECT_EQ(g_workflow_thread == g_activity_thread, c.same_thread) << wo.task_queue;
    }
    // Its slot comes back, as from the pool.
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (w.stats().activity_slots_available < wo.max_concurrent_activities - wo.activity_pollers &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
    EXPECT_GE(w.stats().activity_slots_available, wo.max_concurrent_activities - wo.activity_pollers);
    w.Shutdown();
  }
}

// Shutdown with an eager activity running on a workflow thread: the grace period, then the
// activity is cancelled (as the pool's), and Shutdown returns.
TEST_F(SdkTest, ShutdownCancelsAnEagerActivityOnAWorkflowThreadAfterTheGracePeriod) {
  WorkerOptions wo;
  wo.task_queue = task_queue_;
  wo.graceful_shutdown_timeout = 300ms;
  Worker w(client_, wo);
  std::atomic<bool> started{false}, cancelled{false};
  w.RegisterWorkflow("ThreadIds", ThreadIdsWorkflow);
  w.RegisterActivity("ThreadId", [&](ActivityContext& ctx) -> std::string {
    {
      std::lock_guard<std::mutex> l(g_ids_mu);
      g_activity_thread = std::this_thread::get_id();
    }
    started = true;
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (!ctx.IsCancelled() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
    cancelled = ctx.IsCancelled();
    ctx.ThrowIfCancelled();
    return "not cancelled";
  });
  w.Start();
  client_->Start("ThreadIds", Opts("shutdown-kept"));
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!started && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(started);
  {
    std::lock_guard<std::mutex> l(g_ids_mu);
    EXPECT_EQ(g_workflow_thread, g_activity_thread);
  }
  const auto t0 = std::chrono::steady_clock::now();
  w.Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_TRUE(cancelled);
}

}  // namespace
}  // namespace sdk_test
