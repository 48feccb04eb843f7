// C++ SDK tests against the real temporalite binary (ephemeral, free port): client, worker,
// workflows (activities, timers, signals, queries, updates, children, continue-as-new,
// cancellation, side effects, patches), failures, replay and non-determinism detection.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

#include "temporalite/sdk/replayer.h"
#include "temporalite/sdk/sdk.h"
#include "temporalite/sdk/testing.h"

using namespace temporalite::sdk;
using namespace std::chrono_literals;
namespace enums = temporal::api::enums::v1;

namespace {

// GCC 12 destroys brace-initialised temporaries (lambdas included) of a co_await expression
// twice; workflow code here names them first (see README "Write a worker in C++").

std::string ServerBinary() {
  const char* b = std::getenv("TEMPORALITE_BIN");
  return b ? b : TEMPORALITE_DEFAULT_BIN;
}

struct Order {
  std::string item;
  int quantity = 0;
};
void to_json(nlohmann::json& j, const Order& o) { j = {{"item", o.item}, {"quantity", o.quantity}}; }
void from_json(const nlohmann::json& j, Order& o) {
  j.at("item").get_to(o.item);
  j.at("quantity").get_to(o.quantity);
}

ActivityOptions Short() {
  ActivityOptions o;
  o.start_to_close = 10s;
  o.retry_policy = RetryPolicy{.initial_interval = 50ms, .maximum_attempts = 3};
  return o;
}

class SdkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(ServerBinary()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ClientOptions o;
    o.address = server_->address();
    client_ = Client::Connect(o);
    task_queue_ = std::string("tq-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  StartWorkflowOptions Opts(const std::string& id) {
    StartWorkflowOptions o;
    o.id = id;
    o.task_queue = task_queue_;
    return o;
  }
  std::unique_ptr<Worker> NewWorker() {
    WorkerOptions wo;
    wo.task_queue = task_queue_;
    wo.graceful_shutdown_timeout = 2s;
    return std::make_unique<Worker>(client_, wo);
  }

  static TestServer* server_;
  std::shared_ptr<Client> client_;
  std::string task_queue_;
};
TestServer* SdkTest::server_ = nullptr;

// ---- payloads and failures (no server) ----

TEST(PayloadTest, RoundTripsJsonBinaryNullAndUserTypes) {
  Payload p = ToPayload(Order{"milk", 2});
  EXPECT_EQ(PayloadEncoding(p), "json/plain");
  EXPECT_EQ(p.data(), R"({"item":"milk","quantity":2})");
  Order o = FromPayload<Order>(p);
  EXPECT_EQ(o.item, "milk");
  EXPECT_EQ(o.quantity, 2);
  EXPECT_EQ(PayloadEncoding(ToPayload(Bytes{"\x01\x02"})), "binary/plain");
  EXPECT_EQ(FromPayload<Bytes>(ToPayload(Bytes{"\x01\x02"})).data, "\x01\x02");
  EXPECT_EQ(PayloadEncoding(ToPayload(nullptr)), "binary/null");
  EXPECT_FALSE(FromPayload<std::optional<int>>(ToPayload(std::optional<int>())).has_value());
  EXPECT_EQ(*FromPayload<std::optional<int>>(ToPayload(std::optional<int>(7))), 7);
  EXPECT_THROW(FromPayload<int>(ToPayload(std::string("x"))), DataConverterError);
  EXPECT_THROW(FromPayload<Bytes>(ToPayload(1)), DataConverterError);
  temporal::api::common::v1::WorkflowExecution we;
  we.set_workflow_id("w");
  Payload pp = ToPayload(we);
  EXPECT_EQ(PayloadEncoding(pp), "json/protobuf");
  EXPECT_EQ(FromPayload<temporal::api::common::v1::WorkflowExecution>(pp).workflow_id(), "w");
}

TEST(FailureTest, ConvertsToAndFromProtoWithCauses) {
  ApplicationFailure inner("out of stock", "StockError", true, ToPayloads(std::string("milk")));
  inner.next_retry_delay = 1500ms;
  ActivityFailure outer("Activity task failed", std::make_shared<ApplicationFailure>(inner));
  outer.activity_type = "Reserve";
  FailureProto f = ToFailureProto(std::make_exception_ptr(outer));
  EXPECT_EQ(f.activity_failure_info().activity_type().name(), "Reserve");
  EXPECT_EQ(f.cause().application_failure_info().type(), "StockError");
  EXPECT_TRUE(f.cause().application_failure_info().non_retryable());
  EXPECT_EQ(f.cause().application_failure_info().next_retry_delay().seconds(), 1);
  auto back = FromFailureProto(f);
  auto* af = dynamic_cast<ActivityFailure*>(back.get());
  ASSERT_NE(af, nullptr);
  auto* cause = dynamic_cast<ApplicationFailure*>(af->cause().get());
  ASSERT_NE(cause, nullptr);
  EXPECT_EQ(cause->type, "StockError");
  EXPECT_EQ(cause->message(), "out of stock");
  EXPECT_EQ(FirstPayload<std::string>(cause->details), "milk");
  EXPECT_EQ(cause->next_retry_delay, 1500ms);
  FailureProto plain = ToFailureProto(std::make_exception_ptr(std::out_of_range("bad index")));
  EXPECT_EQ(plain.application_failure_info().type(), "std::out_of_range");
  EXPECT_FALSE(plain.application_failure_info().non_retryable());
}

// ---- workflows against the server ----

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

TEST_F(SdkTest, SideEffectsRandomUuidAndPatchesReplay) {
  static std::atomic<int> side_effect_calls{0};
  side_effect_calls = 0;
  auto v1 = [](WorkflowContext& ctx) -> Task<std::string> {
    int v = ctx.SideEffect([] {
      ++side_effect_calls;
      return 7;
    });
    std::string id = ctx.Uuid();
    co_await ctx.Sleep(10ms);
    co_return std::to_string(v) + ":" + id;
  };
  auto w = NewWorker();
  w->RegisterWorkflow("Effects", v1);
  w->Start();
  auto h = client_->Start("Effects", Opts("effects-1"));
  std::string out = h.Result<std::string>();
  EXPECT_EQ(out.substr(0, 2), "7:");
  EXPECT_EQ(out.size(), 2u + 36u);
  EXPECT_EQ(side_effect_calls.load(), 1);  // replays of later tasks took the recorded value
  auto history = h.FetchHistory();
  Replayer same;
  same.RegisterWorkflow("Effects", v1);
  EXPECT_NO_THROW(same.ReplayHistory(history));
  EXPECT_EQ(side_effect_calls.load(), 1);

  // A patched version replays the old history (old branch) and runs the new branch live.
  auto v2 = [](WorkflowContext& ctx) -> Task<std::string> {
    int v = ctx.SideEffect([] { return 7; });
    std::string id = ctx.Uuid();
    if (ctx.Patched("extra-timer")) co_await ctx.Sleep(5ms);
    co_await ctx.Sleep(10ms);
    co_return std::to_string(v) + ":" + id;
  };
  Replayer patched;
  patched.RegisterWorkflow("Effects", v2);
  EXPECT_NO_THROW(patched.ReplayHistory(history));
  w->Shutdown();
  auto w2 = NewWorker();
  w2->RegisterWorkflow("Effects", v2);
  w2->Start();
  auto h2 = client_->Start("Effects", Opts("effects-2"));
  h2.Result<std::string>();
  auto history2 = h2.FetchHistory();
  int timers = 0;
  for (const auto& e : history2) timers += e.has_timer_started_event_attributes();
  EXPECT_EQ(timers, 2);
  EXPECT_NO_THROW(patched.ReplayHistory(history2));
  // The unpatched code cannot replay the new history.
  EXPECT_THROW(same.ReplayHistory(history2), std::runtime_error);
}

TEST_F(SdkTest, ChangedWorkflowFailsTaskWithNondeterminismMessage) {
  auto v1 = [](WorkflowContext& ctx) -> Task<std::string> {
    co_await ctx.ExecuteActivity<void>("A", Short());
    auto go = std::make_shared<bool>(false);
    ctx.SetSignalHandler("go", [go]() { *go = true; });
    auto went = ctx.Condition([go] { return *go; });
    co_await went;
    co_return std::string("v1");
  };
  auto v2 = [](WorkflowContext& ctx) -> Task<std::string> {
    co_await ctx.ExecuteActivity<void>("B", Short());
    co_return std::string("v2");
  };
  {
    auto w = NewWorker();
    w->RegisterWorkflow("Changing", v1);
    w->RegisterActivity("A", []() {});
    w->Start();
    auto h = client_->Start("Changing", Opts("changing-1"));
    // Wait until the workflow waits for the signal (activity done, second task completed).
    for (int i = 0; i < 200; ++i) {
      auto hist = h.FetchHistory();
      if (hist.size() >= 11 && hist.back().event_type() == enums::EVENT_TYPE_WORKFLOW_TASK_COMPLETED) break;
      std::this_thread::sleep_for(50ms);
    }
    Replayer r;
    r.RegisterWorkflow("Changing", v2);
    try {
      r.ReplayHistory(h.FetchHistory());
      FAIL() << "expected a non-determinism error";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("ActivityTaskScheduled(activity_id=1, activity_type=A)"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("ScheduleActivityTask(activity_id=1, activity_type=B)"), std::string::npos)
          << e.what();
    }
  }
  // A worker with the changed code picks the running workflow up: its task fails.
  auto w2 = NewWorker();
  w2->RegisterWorkflow("Changing", v2);
  w2->RegisterActivity("B", []() {});
  w2->Start();
  auto h = client_->GetHandle("changing-1");
  h.Signal("go");
  std::string message;
  for (int i = 0; i < 200 && message.empty(); ++i) {
    for (const auto& e : h.FetchHistory()) {
      if (e.has_workflow_task_failed_event_attributes()) {
        EXPECT_EQ(e.workflow_task_failed_event_attributes().cause(),
                  enums::WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR);
        message = e.workflow_task_failed_event_attributes().failure().message();
      }
    }
    if (message.empty()) std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(message.find("does not match the workflow's command ScheduleActivityTask"), std::string::npos) << message;
  h.Terminate("test done");
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

TEST_F(SdkTest, HelloWorldExampleRunsToCompletion) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("TEMPORAL_ADDRESS", server_->address().c_str(), 1);
    execl(HELLO_WORLD_BIN, HELLO_WORLD_BIN, nullptr);
    _exit(127);
  }
  int status = 0;
  for (int i = 0; i < 600 && waitpid(pid, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(50ms);
  if (waitpid(pid, &status, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "hello_world did not finish in 30 s";
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
