// C++ SDK against the real server: workflows with activities, timers, signals, queries, updates,
// children, continue-as-new, cancellation, describe/list, graceful shutdown.
#include "sdk_fixture.h"

namespace sdk_test {
namespace {

Task<std::string> GreetWorkflow(WorkflowContext& ctx, std::string name) {
  std::string greeting = co_await ctx.ExecuteActivity<std::string>("Hello", Short(), name);
  co_return greeting + "!";
}


TEST_F(SdkTest, WorkflowRunsAnActivityToCompletion) {
  auto w = NewWorker();
  w->RegisterWorkflow("Greet", GreetWorkflow);
  w->RegisterActivity("Hello", [](ActivityContext& ctx, std::string name) {
    return "Hello, " + name + " from " + ctx.info().activity_type;
  });
  w->Start();
  EXPECT_EQ(client_->Execute<std::string>("Greet", Opts("greet-1"), std::string("Ada")), "Hello, Ada from Hello!");
  auto d = client_->GetHandle("greet-1").Describe();
  EXPECT_EQ(d.workflow_execution_info().status(), enums::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  auto events = client_->GetHandle("greet-1").FetchHistory();
  ASSERT_GE(events.size(), 10u);
  EXPECT_EQ(events.back().event_type(), enums::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  // The recorded history replays against the same code.
  Replayer r;
  r.RegisterWorkflow("Greet", GreetWorkflow);
  EXPECT_NO_THROW(r.ReplayHistory(events));
}

Task<std::string> InfoWorkflow(WorkflowContext& ctx) {
  co_return ctx.info().workflow_id + "|" + ctx.info().run_id + "|" + ctx.info().workflow_type;
}

TEST_F(SdkTest, WorkflowInfoNamesTheExecution) {
  auto w = NewWorker();
  w->RegisterWorkflow("Info", InfoWorkflow);
  w->Start();
  auto h = client_->Start("Info", Opts("info-1"));
  EXPECT_EQ(h.Result<std::string>(), "info-1|" + h.run_id() + "|Info");
}

TEST_F(SdkTest, UserTypesAndRetriesThenNonRetryableFailureReachTheClient) {
  static std::atomic<int> attempts{0};
  attempts = 0;
  auto w = NewWorker();
  w->RegisterWorkflow("Order", [](WorkflowContext& ctx, Order o) -> Task<Order> {
    Order r = co_await ctx.ExecuteActivity<Order>("Flaky", Short(), o);
    try {
      co_await ctx.ExecuteActivity<void>("Reject", Short(), o);
    } catch (const ActivityFailure& f) {
      auto* app = dynamic_cast<ApplicationFailure*>(f.cause().get());
      if (app && app->type == "StockError" && r.quantity == 3) {
        throw ApplicationFailure("order failed: " + app->message(), "OrderError", true, ToPayloads(r));
      }
      throw ApplicationFailure("unexpected failure", "Unexpected", true);
    }
    co_return r;
  });
  w->RegisterActivity("Flaky", [](ActivityContext& ctx, Order o) {
    ++attempts;
    if (ctx.info().attempt < 3) throw std::runtime_error("transient");
    o.quantity = ctx.info().attempt;
    return o;
  });
  w->RegisterActivity("Reject", [](Order o) {
    throw ApplicationFailure::NonRetryable("no " + o.item, "StockError");
  });
  w->Start();
  try {
    client_->Execute<Order>("Order", Opts("order-1"), Order{"milk", 1});
    FAIL() << "expected WorkflowFailedError";
  } catch (const WorkflowFailedError& e) {
    auto* app = dynamic_cast<ApplicationFailure*>(e.cause().get());
    ASSERT_NE(app, nullptr);
    EXPECT_EQ(app->type, "OrderError");
    EXPECT_EQ(app->message(), "order failed: no milk");
    EXPECT_TRUE(app->non_retryable);
    EXPECT_EQ(FirstPayload<Order>(app->details).quantity, 3);
  }
  EXPECT_EQ(attempts.load(), 3);
}

TEST_F(SdkTest, SignalsQueriesConditionsAndTimers) {
  auto w = NewWorker();
  w->RegisterWorkflow("Counter", [](WorkflowContext& ctx, int target) -> Task<int> {
    auto total = std::make_shared<int>(0);
    ctx.SetSignalHandler("add", [total](int n) { *total += n; });
    ctx.SetQueryHandler("total", [total]() { return *total; });
    auto never = ctx.Condition([] { return false; }, 100ms);
    bool timed_out = !(co_await never);
    if (!timed_out) throw ApplicationFailure("condition should have timed out");
    auto t0 = ctx.Now();
    co_await ctx.Sleep(200ms);
    if (ctx.Now() - t0 < 200ms) throw ApplicationFailure("workflow clock did not advance");
    auto reached = ctx.Condition([total, target] { return *total >= target; }, 60s);
    bool ok = co_await reached;
    co_return ok ? *total : -1;
  });
  w->Start();
  auto h = client_->Start("Counter", Opts("counter-1"), 5);
  // Signals sent before the worker registered the handler are buffered.
  h.Signal("add", 2);
  EXPECT_EQ(h.Query<int>("total") >= 0, true);
  h.Signal("add", 3);
  EXPECT_EQ(h.Result<int>(), 5);
  // Queries work on a closed workflow (replayed from history).
  EXPECT_EQ(h.Query<int>("total"), 5);
  EXPECT_THROW(h.Query<int>("nope"), QueryFailedError);
  EXPECT_THROW(h.Signal("add", 1), RpcError);  // closed
}

TEST_F(SdkTest, UpdatesWithValidatorAcceptRejectAndFail) {
  auto w = NewWorker();
  w->RegisterWorkflow("Cart", [](WorkflowContext& ctx) -> Task<std::vector<std::string>> {
    auto items = std::make_shared<std::vector<std::string>>();
    auto done = std::make_shared<bool>(false);
    ctx.SetUpdateHandler(
        "add",
        [items, &ctx](std::string item) -> Task<int> {
          co_await ctx.Sleep(10ms);
          if (item == "boom") throw ApplicationFailure("cannot add boom", "CartError");
          items->push_back(item);
          co_return static_cast<int>(items->size());
        },
        [](std::string item) {
          if (item.empty()) throw ApplicationFailure("empty item", "Invalid");
        });
    ctx.SetSignalHandler("checkout", [done]() { *done = true; });
    auto checked_out = ctx.Condition([done] { return *done; });
    co_await checked_out;
    co_return *items;
  });
  w->Start();
  auto h = client_->Start("Cart", Opts("cart-1"));
  EXPECT_EQ(FirstPayload<int>(h.UpdatePayloads("add", ToPayloads(std::string("apple")))), 1);
  EXPECT_EQ(h.ExecuteUpdate<int>("add", std::string("pear")), 2);
  try {
    h.ExecuteUpdate<int>("add", std::string(""));
    FAIL() << "expected rejection";
  } catch (const WorkflowUpdateFailedError& e) {
    auto* app = dynamic_cast<ApplicationFailure*>(e.cause().get());
    ASSERT_NE(app, nullptr);
    EXPECT_EQ(app->type, "Invalid");
  }
  try {
    h.ExecuteUpdate<int>("add", std::string("boom"));
    FAIL() << "expected handler failure";
  } catch (const WorkflowUpdateFailedError& e) {
    EXPECT_EQ(e.cause()->message(), "cannot add boom");
  }
  EXPECT_THROW(h.ExecuteUpdate<int>("unknown"), WorkflowUpdateFailedError);
  h.Signal("checkout");
  EXPECT_EQ(h.Result<std::vector<std::string>>(), (std::vector<std::string>{"apple", "pear"}));
  // The history with accepted and completed updates replays.
  Replayer r;
  r.RegisterWorkflow("Cart", [](WorkflowContext& ctx) -> Task<std::vector<std::string>> {
    auto items = std::make_shared<std::vector<std::string>>();
    auto done = std::make_shared<bool>(false);
    ctx.SetUpdateHandler("add", [items, &ctx](std::string item) -> Task<int> {
      co_await ctx.Sleep(10ms);
      if (item == "boom") throw ApplicationFailure("cannot add boom", "CartError");
      items->push_back(item);
      co_return static_cast<int>(items->size());
    });
    ctx.SetSignalHandler("checkout", [done]() { *done = true; });
    auto checked_out = ctx.Condition([done] { return *done; });
    co_await checked_out;
    co_return *items;
  });
  EXPECT_NO_THROW(r.ReplayHistory(h.FetchHistory()));
}

TEST_F(SdkTest, ChildWorkflowsResultAndFailure) {
  auto w = NewWorker();
  w->RegisterWorkflow("Child", [](WorkflowContext& ctx, int n) -> Task<int> {
    if (n < 0) throw ApplicationFailure("negative", "ChildError", true);
    co_return n * 2;
  });
  w->RegisterWorkflow("Parent", [](WorkflowContext& ctx, int n) -> Task<std::string> {
    ChildWorkflowOptions o;
    o.id = ctx.info().workflow_id + "-child";
    auto child = ctx.StartChildWorkflow("Child", o, n);
    std::string run_id = co_await child.started;
    int doubled = FirstPayload<int>(co_await child.result);
    std::string type = "no failure";
    try {
      ChildWorkflowOptions o2;
      o2.id = ctx.info().workflow_id + "-bad";
      co_await ctx.ExecuteChildWorkflow<int>("Child", o2, -1);
    } catch (const ChildWorkflowFailure& f) {
      auto* app = dynamic_cast<ApplicationFailure*>(f.cause().get());
      type = app ? app->type : "?";
    }
    co_return std::to_string(doubled) + "/" + type + "/" + (run_id.empty() ? "no-run" : "run");
  });
  w->Start();
  EXPECT_EQ(client_->Execute<std::string>("Parent", Opts("parent-1"), 21), "42/ChildError/run");
}

TEST_F(SdkTest, ContinueAsNewIsFollowedByResult) {
  auto w = NewWorker();
  w->RegisterWorkflow("Loop", [](WorkflowContext& ctx, int n) -> Task<int> {
    if (n < 3) ctx.ContinueAsNew(n + 1);
    co_return n * 10 + (ctx.info().continued_from_run_id.empty() ? 0 : 1);
  });
  w->Start();
  auto h = client_->Start("Loop", Opts("loop-1"), 0);
  EXPECT_EQ(h.Result<int>(), 31);
}

TEST_F(SdkTest, CancellationReachesWorkflowAndHeartbeatingActivity) {
  static std::atomic<bool> activity_saw_cancel{false};
  static std::atomic<bool> activity_started{false};
  activity_saw_cancel = false;
  activity_started = false;
  auto w = NewWorker();
  w->RegisterWorkflow("Long", [](WorkflowContext& ctx) -> Task<std::string> {
    ActivityOptions o;
    o.start_to_close = 60s;
    o.heartbeat = 1s;
    std::exception_ptr failure;
    try {
      co_await ctx.ExecuteActivity<void>("Spin", o);
    } catch (const ActivityFailure& f) {
      if (!dynamic_cast<CanceledFailure*>(f.cause().get())) throw;
      failure = std::current_exception();
    }
    if (failure) {
      // Cleanup still runs: a non-cancellable activity after the cancellation.
      ActivityOptions cleanup = Short();
      cleanup.cancellable = false;
      co_await ctx.ExecuteActivity<void>("Cleanup", cleanup);
      std::rethrow_exception(failure);
    }
    co_return std::string("finished");
  });
  w->RegisterActivity("Spin", [](ActivityContext& ctx) {
    activity_started = true;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      ctx.Heartbeat(1);
      if (ctx.IsCancelled()) {
        activity_saw_cancel = true;
        ctx.ThrowIfCancelled();
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  w->RegisterActivity("Cleanup", []() {});
  w->Start();
  auto h = client_->Start("Long", Opts("long-1"));
  for (int i = 0; i < 200 && !activity_started; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(activity_started);
  h.Cancel("user asked");
  try {
    h.Result<std::string>();
    FAIL() << "expected cancellation";
  } catch (const WorkflowFailedError& e) {
    EXPECT_NE(dynamic_cast<CanceledFailure*>(e.cause().get()), nullptr) << e.cause()->what();
  }
  for (int i = 0; i < 100 && !activity_saw_cancel; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(activity_saw_cancel);
  bool cleanup_ran = false;
  for (const auto& e : h.FetchHistory()) {
    if (e.has_activity_task_scheduled_event_attributes() &&
        e.activity_task_scheduled_event_attributes().activity_type().name() == "Cleanup") {
      cleanup_ran = true;
    }
  }
  EXPECT_TRUE(cleanup_ran);
}

TEST_F(SdkTest, TerminateDescribeListCountAndSignalWithStart) {
  auto w = NewWorker();
  w->RegisterWorkflow("Waiter", [](WorkflowContext& ctx) -> Task<std::string> {
    auto got = std::make_shared<std::string>();
    ctx.SetSignalHandler("go", [got](std::string s) { *got = s; });
    auto signalled = ctx.Condition([got] { return !got->empty(); });
    co_await signalled;
    co_return *got;
  });
  w->Start();
  auto h = client_->SignalWithStartPayloads("Waiter", Opts("sws-1"), {}, "go", ToPayloads(std::string("now")));
  EXPECT_EQ(h.Result<std::string>(), "now");
  auto t = client_->Start("Waiter", Opts("term-1"));
  EXPECT_EQ(t.Describe().workflow_execution_info().status(), enums::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_THROW(client_->Start("Waiter", Opts("term-1")), WorkflowAlreadyStartedError);
  t.Terminate("stop");
  try {
    t.Result<std::string>();
    FAIL();
  } catch (const WorkflowFailedError& e) {
    EXPECT_NE(dynamic_cast<TerminatedFailure*>(e.cause().get()), nullptr);
  }
  EXPECT_GE(client_->Count("WorkflowType='Waiter'"), 2);
  EXPECT_EQ(client_->List("WorkflowId='term-1'").size(), 1u);
  EXPECT_THROW(client_->GetHandle("no-such-workflow").Describe(), RpcError);
}

TEST_F(SdkTest, StackTraceQueryAndGracefulShutdownFinishesActivity) {
  static std::atomic<bool> finished{false};
  finished = false;
  auto w = NewWorker();
  w->RegisterWorkflow("Slow", [](WorkflowContext& ctx) -> Task<void> {
    ActivityOptions o = Short();
    co_await ctx.ExecuteActivity<void>("Nap", o);
    co_await ctx.Sleep(1h);
  });
  static std::atomic<bool> started{false};
  started = false;
  w->RegisterActivity("Nap", []() {
    started = true;
    std::this_thread::sleep_for(300ms);
    finished = true;
  });
  w->Start();
  auto h = client_->Start("Slow", Opts("slow-1"));
  for (int i = 0; i < 200 && !started; ++i) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(started);
  w->Shutdown();  // waits for the running activity
  EXPECT_TRUE(finished);
  auto w2 = NewWorker();
  w2->RegisterWorkflow("Slow", [](WorkflowContext& ctx) -> Task<void> {
    co_await ctx.ExecuteActivity<void>("Nap", Short());
    co_await ctx.Sleep(1h);
  });
  w2->Start();
  std::string trace;
  for (int i = 0; i < 100; ++i) {
    trace = h.Query<std::string>("__stack_trace");
    if (trace.find("timer") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(trace.find("waiting on timer"), std::string::npos) << trace;
  h.Terminate();
}

// Eager start: the first workflow task comes back in the start response and the client's own
// worker runs it; without a worker of this client on the queue the start is a normal one.
TEST_F(SdkTest, EagerStartRunsTheFirstTaskInTheClientsWorker) {
  auto w = NewWorker();
  w->RegisterWorkflow("Greet", GreetWorkflow);
  w->RegisterActivity("Hello", [](std::string n) { return "Hello, " + n; });
  w->Start();
  for (int i = 0; i < 3; ++i) {
    StartWorkflowOptions so = Opts("eager-" + std::to_string(i));
    so.eager_start = true;
    EXPECT_EQ(client_->Start("Greet", so, std::string("ada")).Result<std::string>(30s), "Hello, ada!");
  }
  EXPECT_EQ(w->stats().eager_tasks, 3);
  auto lazy = client_->Start("Greet", Opts("eager-off"), std::string("bo"));
  EXPECT_EQ(lazy.Result<std::string>(30s), "Hello, bo!");
  EXPECT_EQ(w->stats().eager_tasks, 3);
  // A queue no worker of this client polls: a normal start, run by a worker started later.
  StartWorkflowOptions other = Opts("eager-other");
  other.task_queue = task_queue_ + "-other";
  other.eager_start = true;
  auto h = client_->Start("Greet", other, std::string("cy"));
  WorkerOptions wo;
  wo.task_queue = other.task_queue;
  Worker w2(client_, wo);
  w2.RegisterWorkflow("Greet", GreetWorkflow);
  w2.RegisterActivity("Hello", [](std::string n) { return "Hello, " + n; });
  w2.Start();
  EXPECT_EQ(h.Result<std::string>(30s), "Hello, cy!");
  EXPECT_EQ(w2.stats().eager_tasks, 0);
  w2.Shutdown();
}

}  // namespace
}  // namespace sdk_test
