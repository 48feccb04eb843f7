// C++ SDK: async activity completion by task token (complete, fail, heartbeat, cancellation, a
// stale token), and the worker's max concurrent activities / workflow tasks.
#include "sdk_fixture.h"

namespace sdk_test {
namespace {

// The task tokens handed out by "Deferred" (an activity that completes asynchronously).
struct Tokens {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> tokens;
  std::string Next(size_t index) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait_for(l, 20s, [&] { return tokens.size() > index; });
    return tokens.size() > index ? tokens[index] : "";
  }
};

Tokens* tokens = nullptr;

Task<std::string> DeferredWorkflow(WorkflowContext& ctx, bool wait_cancel) {
  ActivityOptions o;
  o.start_to_close = 60s;
  o.retry_policy = RetryPolicy{.maximum_attempts = 1};
  if (wait_cancel) o.cancellation_type = ActivityCancellationType::kWaitCancellationCompleted;
  try {
    std::string r = co_await ctx.ExecuteActivity<std::string>("Deferred", o);
    co_return "completed:" + r;
  } catch (const ActivityFailure& f) {
    auto* app = dynamic_cast<ApplicationFailure*>(f.cause().get());
    auto* cancel = dynamic_cast<CanceledFailure*>(f.cause().get());
    if (app) co_return "failed:" + app->type + ":" + app->message();
    if (cancel) co_return std::string("cancelled:") + (ctx.IsCancelRequested() ? "requested" : "no request");
    throw;
  }
}

std::unique_ptr<Worker> DeferredWorker(std::shared_ptr<Client> client, const std::string& tq) {
  WorkerOptions wo;
  wo.task_queue = tq;
  wo.graceful_shutdown_timeout = 2s;
  auto w = std::make_unique<Worker>(client, wo);
  w->RegisterWorkflow("DeferredWorkflow", DeferredWorkflow);
  w->RegisterActivity("Deferred", [](ActivityContext& ctx) {
    ctx.CompleteAsync();
    std::lock_guard<std::mutex> l(tokens->mu);
    tokens->tokens.push_back(ctx.info().task_token);
    tokens->cv.notify_all();
    return std::string();  // ignored: the worker sends nothing for an async activity
  });
  return w;
}

TEST_F(SdkTest, AsyncActivityCompletedAndFailedByTaskTokenFromTheClient) {
  Tokens t;
  tokens = &t;
  auto w = DeferredWorker(client_, task_queue_);
  w->Start();
  auto h1 = client_->Start("DeferredWorkflow", Opts("async-complete"), false);
  std::string tok1 = t.Next(0);
  ASSERT_FALSE(tok1.empty());
  // The worker returned from the function, yet the activity stays open.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(h1.Describe().pending_activities_size(), 1);
  EXPECT_FALSE(client_->HeartbeatActivity(tok1, ToPayloads(std::string("half way"))));
  auto pending = h1.Describe().pending_activities(0);
  ASSERT_EQ(pending.heartbeat_details().payloads_size(), 1);
  EXPECT_EQ(FirstPayload<std::string>(pending.heartbeat_details()), "half way");
  client_->CompleteActivity(tok1, ToPayloads(std::string("from the client")));
  EXPECT_EQ(h1.Result<std::string>(20s), "completed:from the client");
  // The token is spent: completing, failing or heartbeating it again is NOT_FOUND.
  try {
    client_->CompleteActivity(tok1, ToPayloads(std::string("again")));
    FAIL() << "expected NOT_FOUND";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND) << e.what();
  }
  try {
    client_->HeartbeatActivity(tok1);
    FAIL() << "expected NOT_FOUND";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND) << e.what();
  }
  // A token that is not one: INVALID_ARGUMENT, not retried.
  try {
    client_->CompleteActivity("not a token", {});
    FAIL() << "expected an error";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::INVALID_ARGUMENT) << e.what();
  }

  auto h2 = client_->Start("DeferredWorkflow", Opts("async-fail"), false);
  std::string tok2 = t.Next(1);
  ASSERT_FALSE(tok2.empty());
  client_->FailActivity(tok2, std::make_exception_ptr(ApplicationFailure("no stock", "StockError", true)));
  EXPECT_EQ(h2.Result<std::string>(20s), "failed:StockError:no stock");
  tokens = nullptr;
}

TEST_F(SdkTest, AsyncActivityLearnsCancellationFromAHeartbeatByTokenAndReportsIt) {
  Tokens t;
  tokens = &t;
  auto w = DeferredWorker(client_, task_queue_);
  w->Start();
  auto h = client_->Start("DeferredWorkflow", Opts("async-cancel"), true);
  std::string tok = t.Next(0);
  ASSERT_FALSE(tok.empty());
  EXPECT_FALSE(client_->HeartbeatActivity(tok));
  h.Cancel("stop");
  bool requested = false;
  for (int i = 0; i < 200 && !requested; ++i) {
    requested = client_->HeartbeatActivity(tok, ToPayloads(1));
    if (!requested) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(requested);
  // Waiting for the cancellation to complete: the workflow is still running until it is reported.
  EXPECT_EQ(h.Describe().workflow_execution_info().status(), enums::WORKFLOW_EXECUTION_STATUS_RUNNING);
  client_->ReportActivityCancellation(tok, ToPayloads(std::string("stopped")));
  EXPECT_EQ(h.Result<std::string>(20s), "cancelled:requested");
  bool canceled_event = false;
  for (const auto& e : h.FetchHistory()) {
    if (e.has_activity_task_canceled_event_attributes()) {
      canceled_event = true;
      EXPECT_EQ(FirstPayload<std::string>(e.activity_task_canceled_event_attributes().details()), "stopped");
    }
  }
  EXPECT_TRUE(canceled_event);
  EXPECT_THROW(client_->ReportActivityCancellation(tok), RpcError);  // spent
  tokens = nullptr;
}

// ---- max concurrent activities and workflow tasks ----

struct Gauge {
  std::atomic<int> now{0}, max{0}, total{0};
  void Enter() {
    int n = ++now;
    ++total;
    int m = max.load();
    while (n > m && !max.compare_exchange_weak(m, n)) {
    }
  }
  void Leave() { --now; }
};

Gauge* gauge = nullptr;

Task<int> FanOut(WorkflowContext& ctx, int n) {
  std::vector<Future<int>> all;
  for (int i = 0; i < n; ++i) all.push_back(ctx.ExecuteActivity<int>("Busy", Short(), i));
  int sum = 0;
  for (auto& f : all) sum += co_await f;
  co_return sum;
}

int RunFanOut(std::shared_ptr<Client> client, const std::string& tq, int max_activities, const std::string& id) {
  WorkerOptions wo;
  wo.task_queue = tq;
  wo.max_concurrent_activities = max_activities;
  wo.activity_pollers = 4;
  Worker w(client, wo);
  w.RegisterWorkflow("FanOut", FanOut);
  w.RegisterActivity("Busy", [](int i) {
    gauge->Enter();
    std::this_thread::sleep_for(150ms);
    gauge->Leave();
    return i;
  });
  w.Start();
  StartWorkflowOptions o;
  o.id = id;
  o.task_queue = tq;
  return client->Execute<int>("FanOut", o, 8);
}

TEST_F(SdkTest, MaxConcurrentActivitiesIsNeverExceeded) {
  Gauge g;
  gauge = &g;
  EXPECT_EQ(RunFanOut(client_, task_queue_, 2, "fanout-2"), 28);
  EXPECT_EQ(g.total.load(), 8);
  EXPECT_EQ(g.max.load(), 2);  // never more than 2, and the limit was reached
  // The same workflow with room for all: more than 2 ran at once (the gauge can see it).
  Gauge g8;
  gauge = &g8;
  EXPECT_EQ(RunFanOut(client_, task_queue_ + "-wide", 8, "fanout-8"), 28);
  EXPECT_GT(g8.max.load(), 2);
  gauge = nullptr;
}

// Runs 5 workflows whose first task blocks for a while (observation only: real workflow code
// must not block) on a worker with `max_tasks`; returns the most tasks seen running at once.
int MostWorkflowTasksAtOnce(std::shared_ptr<Client> client, const std::string& tq, int max_tasks) {
  Gauge g;
  gauge = &g;
  WorkerOptions wo;
  wo.task_queue = tq;
  wo.max_concurrent_workflow_tasks = max_tasks;
  Worker w(client, wo);
  w.RegisterWorkflow("Slow", [](WorkflowContext& ctx) -> Task<int> {
    if (!ctx.IsReplaying()) {
      gauge->Enter();
      std::this_thread::sleep_for(100ms);
      gauge->Leave();
    }
    co_await ctx.Sleep(1ms);
    co_return 1;
  });
  std::vector<WorkflowHandle> hs;
  for (int i = 0; i < 5; ++i) {
    StartWorkflowOptions o;
    o.id = tq + "-slow-" + std::to_string(i);
    o.task_queue = tq;
    hs.push_back(client->Start("Slow", o));
  }
  w.Start();  // all 5 first tasks are waiting in the queue
  for (auto& h : hs) EXPECT_EQ(h.Result<int>(30s), 1);
  EXPECT_GE(g.total.load(), 5);
  gauge = nullptr;
  return g.max.load();
}

TEST_F(SdkTest, MaxConcurrentWorkflowTasksIsNeverExceeded) {
  EXPECT_EQ(MostWorkflowTasksAtOnce(client_, task_queue_, 1), 1);
  EXPECT_GT(MostWorkflowTasksAtOnce(client_, task_queue_ + "-wide", 4), 1);  // the gauge sees overlap
}

}  // namespace
}  // namespace sdk_test
