// C++ SDK tests against the real temporalite binary (ephemeral, free port): client, worker,
// workflows (activities, timers, signals, queries, updates, children, continue-as-new,
// cancellation, side effects, patches), failures, replay and non-determinism detection.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

#include "temporal/api/sdk/v1/workflow_metadata.pb.h"
#include "temporalite/sdk/replayer.h"
#include "temporalite/sdk/sdk.h"
#include "temporalite/sdk/testing.h"
#include "workflow_cache.h"  // sdk/src (internal): the sticky cache's unit test
#include "workflow_instance.h"

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
      if (hist.size() >= 10 && hist.back().event_type() == enums::EVENT_TYPE_WORKFLOW_TASK_COMPLETED) break;
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

// ---- sticky cache ----

TEST(WorkflowCacheTest, TakePutAndLeastRecentlyUsedEviction) {
  internal::WorkflowCache cache(2);
  auto run = [](int64_t id) { return std::make_unique<internal::CachedRun>(nullptr, id); };
  EXPECT_TRUE(cache.Put("a", run(1)).empty());
  EXPECT_TRUE(cache.Put("b", run(2)).empty());
  auto a = cache.Take("a");  // taken out while worked on
  ASSERT_TRUE(a);
  EXPECT_EQ(a->last_started_event_id, 1);
  EXPECT_EQ(cache.Take("a"), nullptr);
  EXPECT_TRUE(cache.Put("a", std::move(a)).empty());  // now most recently used
  auto evicted = cache.Put("c", run(3));               // evicts b, the least recently used
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_EQ(evicted[0]->last_started_event_id, 2);
  EXPECT_EQ(cache.Take("b"), nullptr);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Clear().size(), 2u);
  EXPECT_EQ(cache.size(), 0u);
}

std::atomic<int> g_sum_starts{0};
Task<int> SumWorkflow(WorkflowContext& ctx, int n) {
  ++g_sum_starts;  // once per replay from the first event
  int sum = 0;
  for (int i = 0; i < n; ++i) {
    auto f = ctx.ExecuteActivity<int>("Double", Short(), i);
    sum += co_await f;
  }
  co_return sum;
}

TEST_F(SdkTest, StickyCacheAppliesOnlyNewEventsToTheCachedInstance) {
  g_sum_starts = 0;
  auto w = NewWorker();
  w->RegisterWorkflow("Sum", SumWorkflow);
  w->RegisterActivity("Double", [](int i) { return 2 * i; });
  w->Start();
  EXPECT_EQ(client_->Execute<int>("Sum", Opts("sum-50"), 50), 2 * (49 * 50 / 2));
  auto s = w->stats();
  // 51 workflow tasks: the first replays from event 1, the others continue the cached instance
  // with only their new events; the workflow function ran once.
  EXPECT_EQ(g_sum_starts.load(), 1);
  EXPECT_EQ(s.full_replays, 1);
  EXPECT_EQ(s.sticky_hits, 50);
  EXPECT_EQ(s.workflow_tasks, 51);
  EXPECT_EQ(s.evictions, 0);
  EXPECT_EQ(s.cached_workflows, 0);  // closed runs leave the cache
  auto events = client_->GetHandle("sum-50").FetchHistory();
  // Every event up to the last task's start applied exactly once.
  int64_t last_started = 0;
  for (const auto& e : events) {
    if (e.event_type() == enums::EVENT_TYPE_WORKFLOW_TASK_STARTED) last_started = e.event_id();
  }
  EXPECT_EQ(s.events_applied, last_started);
  // A sticky task's history started right after the previous task: it went to the sticky queue.
  int sticky_scheduled = 0;
  for (const auto& e : events) {
    if (e.has_workflow_task_scheduled_event_attributes() &&
        e.workflow_task_scheduled_event_attributes().task_queue().kind() == enums::TASK_QUEUE_KIND_STICKY) {
      ++sticky_scheduled;
    }
  }
  EXPECT_EQ(sticky_scheduled, 50);
  Replayer r;
  r.RegisterWorkflow("Sum", SumWorkflow);
  EXPECT_NO_THROW(r.ReplayHistory(events));
}

TEST_F(SdkTest, StickyCacheEvictsLeastRecentlyUsedAndReplaysCorrectly) {
  g_sum_starts = 0;
  WorkerOptions wo;
  wo.task_queue = task_queue_;
  wo.max_cached_workflows = 1;  // two runs in flight: each task evicts the other run
  auto w = std::make_unique<Worker>(client_, wo);
  w->RegisterWorkflow("Sum", SumWorkflow);
  w->RegisterActivity("Double", [](int i) { return 2 * i; });
  w->Start();
  auto a = client_->Start("Sum", Opts("sum-a"), 12);
  auto b = client_->Start("Sum", Opts("sum-b"), 12);
  EXPECT_EQ(a.Result<int>(30s), 132);
  EXPECT_EQ(b.Result<int>(30s), 132);
  auto s = w->stats();
  EXPECT_GT(s.evictions, 0);
  // An evicted run's sticky task brings only new events: the worker fetched the full history
  // and replayed (the workflow function started again).
  EXPECT_GT(s.history_fetches, 0);
  EXPECT_GT(s.full_replays, 2);
  EXPECT_EQ(g_sum_starts.load(), s.full_replays);
  EXPECT_LE(s.cached_workflows, 1);
  Replayer r;
  r.RegisterWorkflow("Sum", SumWorkflow);
  EXPECT_NO_THROW(r.ReplayHistory(a.FetchHistory()));
  EXPECT_NO_THROW(r.ReplayHistory(b.FetchHistory()));
}

TEST_F(SdkTest, ShutdownWorkerMovesStickyTasksToTheNormalQueueAtOnce) {
  auto waiter = [](WorkflowContext& ctx) -> Task<std::string> {
    auto go = std::make_shared<std::string>();
    ctx.SetSignalHandler("go", [go](std::string v) { *go = v; });
    auto got = ctx.Condition([go] { return !go->empty(); });
    co_await got;
    co_return *go;
  };
  WorkerOptions wo;
  wo.task_queue = task_queue_;
  wo.sticky_schedule_to_start_timeout = 60s;  // without ShutdownWorker the task would wait this long
  auto w1 = std::make_unique<Worker>(client_, wo);
  w1->RegisterWorkflow("Waiter", waiter);
  w1->Start();
  auto h = client_->Start("Waiter", Opts("waiter-1"));
  for (int i = 0; i < 200 && w1->stats().cached_workflows == 0; ++i) std::this_thread::sleep_for(20ms);
  ASSERT_EQ(w1->stats().cached_workflows, 1);
  w1->Shutdown();
  auto w2 = std::make_unique<Worker>(client_, wo);
  w2->RegisterWorkflow("Waiter", waiter);
  w2->Start();
  auto t0 = std::chrono::steady_clock::now();
  h.Signal("go", std::string("done"));
  EXPECT_EQ(h.Result<std::string>(30s), "done");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
  EXPECT_EQ(w2->stats().full_replays, 1);  // the new worker replayed the run from its history
}

// ---- cancellation scopes, cancellation types, child and external cancellation ----

std::atomic<int> g_blocks_cancelled{0};

// Heartbeats until cancelled, then reports the cancellation after a short cleanup.
void BlockActivity(ActivityContext& ctx) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    ctx.Heartbeat(1);
    if (ctx.IsCancelled()) {
      std::this_thread::sleep_for(200ms);
      ++g_blocks_cancelled;
      ctx.ThrowIfCancelled();
    }
    std::this_thread::sleep_for(50ms);
  }
}

ActivityOptions Blocking(ActivityCancellationType type, const CancellationScope& scope, const std::string& id) {
  ActivityOptions o;
  o.start_to_close = 30s;
  o.heartbeat = 500ms;
  o.cancellation_type = type;
  o.scope = scope;
  o.activity_id = id;
  return o;
}

bool IsCancelledActivity(const ActivityFailure& f) { return dynamic_cast<CanceledFailure*>(f.cause().get()) != nullptr; }

Task<void> SleepForever(WorkflowContext& ctx) {
  auto t = ctx.Sleep(1h);
  co_await t;
}

Task<std::string> ScopesWorkflow(WorkflowContext& ctx) {
  std::string out;
  {  // TRY_CANCEL: the activity's future fails as soon as its scope is cancelled; so does a timer.
    auto scope = ctx.NewCancellationScope();
    auto act = ctx.ExecuteActivity<void>("Block", Blocking(ActivityCancellationType::kTryCancel, scope, "try"));
    auto timer = ctx.Sleep(1h, scope);
    auto settle = ctx.Sleep(300ms);
    co_await settle;
    scope.Cancel();
    try {
      co_await act;
      out += "try:completed ";
    } catch (const ActivityFailure& f) {
      out += IsCancelledActivity(f) ? "try:cancelled " : "try:failed ";
    }
    try {
      co_await timer;
      out += "timer:fired ";
    } catch (const CanceledFailure&) {
      out += "timer:cancelled ";
    }
  }
  {  // WAIT_CANCELLATION_COMPLETED: the future fails once the activity acknowledged.
    auto scope = ctx.NewCancellationScope();
    auto act =
        ctx.ExecuteActivity<void>("Block", Blocking(ActivityCancellationType::kWaitCancellationCompleted, scope, "wait"));
    auto settle = ctx.Sleep(300ms);
    co_await settle;
    scope.Cancel();
    try {
      co_await act;
    } catch (const ActivityFailure& f) {
      out += IsCancelledActivity(f) ? "wait:cancelled " : "wait:failed ";
    }
    ActivityOptions o = Short();
    o.activity_id = "after-wait";
    auto after = ctx.ExecuteActivity<void>("Noop", o);
    co_await after;
  }
  {  // ABANDON: no cancellation request reaches the activity.
    auto scope = ctx.NewCancellationScope();
    auto act = ctx.ExecuteActivity<void>("Block", Blocking(ActivityCancellationType::kAbandon, scope, "abandon"));
    auto settle = ctx.Sleep(300ms);
    co_await settle;
    scope.Cancel();
    try {
      co_await act;
    } catch (const ActivityFailure& f) {
      out += IsCancelledActivity(f) ? "abandon:cancelled " : "abandon:failed ";
    }
  }
  {  // Cancelled in the same workflow task: the activity is never scheduled.
    auto scope = ctx.NewCancellationScope();
    ActivityOptions o = Short();
    o.activity_id = "never";
    o.scope = scope;
    auto act = ctx.ExecuteActivity<void>("Noop", o);
    scope.Cancel();
    try {
      co_await act;
    } catch (const ActivityFailure& f) {
      out += IsCancelledActivity(f) ? "never:cancelled " : "never:failed ";
    }
  }
  {  // A child cancelled through its handle.
    ChildWorkflowOptions co;
    co.id = "scopes-child";
    auto child = ctx.StartChildWorkflow("SleepForever", co);
    co_await child.started;
    child.Cancel();
    try {
      co_await child.result;
      out += "child:completed ";
    } catch (const ChildWorkflowFailure& f) {
      out += dynamic_cast<CanceledFailure*>(f.cause().get()) ? "child:cancelled " : "child:failed ";
    }
  }
  {  // External cancellation: of a running workflow, and of one that does not exist.
    auto ext = ctx.RequestCancelExternalWorkflow("scopes-target");
    co_await ext;
    out += "external:requested ";
    auto missing = ctx.RequestCancelExternalWorkflow("scopes-no-such-workflow");
    try {
      co_await missing;
    } catch (const ApplicationFailure& f) {
      out += "missing:" + f.type;
    }
  }
  co_return out;
}

TEST_F(SdkTest, CancellationScopesTypesChildAndExternalCancellation) {
  g_blocks_cancelled = 0;
  auto w = NewWorker();
  w->RegisterWorkflow("Scopes", ScopesWorkflow);
  w->RegisterWorkflow("SleepForever", SleepForever);
  w->RegisterActivity("Block", BlockActivity);
  w->RegisterActivity("Noop", []() {});
  w->Start();
  auto target = client_->Start("SleepForever", Opts("scopes-target"));
  auto h = client_->Start("Scopes", Opts("scopes-1"));
  EXPECT_EQ(h.Result<std::string>(60s),
            "try:cancelled timer:cancelled wait:cancelled abandon:cancelled never:cancelled child:cancelled "
            "external:requested missing:ExternalWorkflowExecutionNotFound");
  try {
    target.Result<void>(20s);
    FAIL() << "the external target should be cancelled";
  } catch (const WorkflowFailedError& e) {
    EXPECT_NE(dynamic_cast<CanceledFailure*>(e.cause().get()), nullptr) << e.what();
  }
  auto events = h.FetchHistory();
  std::map<std::string, int64_t> scheduled;  // activity id -> scheduled event id
  std::set<int64_t> cancel_requested, canceled;
  int64_t wait_canceled_at = 0, after_wait_at = 0;
  for (const auto& e : events) {
    if (e.has_activity_task_scheduled_event_attributes()) {
      scheduled[e.activity_task_scheduled_event_attributes().activity_id()] = e.event_id();
      if (e.activity_task_scheduled_event_attributes().activity_id() == "after-wait") after_wait_at = e.event_id();
    }
    if (e.has_activity_task_cancel_requested_event_attributes()) {
      cancel_requested.insert(e.activity_task_cancel_requested_event_attributes().scheduled_event_id());
    }
    if (e.has_activity_task_canceled_event_attributes()) {
      auto sched = e.activity_task_canceled_event_attributes().scheduled_event_id();
      canceled.insert(sched);
      if (sched == scheduled["wait"]) wait_canceled_at = e.event_id();
    }
  }
  EXPECT_EQ(scheduled.count("never"), 0u);                  // cancelled before it was sent
  EXPECT_TRUE(cancel_requested.count(scheduled["try"]));   // TRY_CANCEL asks the server
  EXPECT_TRUE(cancel_requested.count(scheduled["wait"]));
  EXPECT_FALSE(cancel_requested.count(scheduled["abandon"]));  // ABANDON does not
  // WAIT_CANCELLATION_COMPLETED: the workflow went on only after the activity's cancellation.
  ASSERT_GT(wait_canceled_at, 0);
  EXPECT_LT(wait_canceled_at, after_wait_at);
  auto child = client_->GetHandle("scopes-child").Describe();
  EXPECT_EQ(child.workflow_execution_info().status(), enums::WORKFLOW_EXECUTION_STATUS_CANCELED);
  Replayer r;
  r.RegisterWorkflow("Scopes", ScopesWorkflow);
  EXPECT_NO_THROW(r.ReplayHistory(events));
}

TEST_F(SdkTest, WorkflowCancellationSparesDetachedScopes) {
  auto w = NewWorker();
  w->RegisterWorkflow("Detached", [](WorkflowContext& ctx) -> Task<std::string> {
    auto detached = ctx.NewDetachedCancellationScope();
    auto inner = ctx.NewCancellationScope();
    auto cancelled_timer = ctx.Sleep(1h, inner);
    auto kept_timer = ctx.Sleep(500ms, detached);
    std::string out;
    try {
      co_await cancelled_timer;
    } catch (const CanceledFailure&) {
      out += "inner:cancelled ";
    }
    co_await kept_timer;  // survives the workflow's cancellation
    out += "detached:fired";
    co_return out;
  });
  w->Start();
  auto h = client_->Start("Detached", Opts("detached-1"));
  for (int i = 0; i < 200; ++i) {
    bool started = false;
    for (const auto& e : h.FetchHistory()) started |= e.has_timer_started_event_attributes();
    if (started) break;
    std::this_thread::sleep_for(20ms);
  }
  h.Cancel("stop");
  EXPECT_EQ(h.Result<std::string>(20s), "inner:cancelled detached:fired");
}

// ---- local activities ----

std::atomic<int> g_triple_calls{0}, g_flaky_calls{0};

Task<std::string> LocalWorkflow(WorkflowContext& ctx) {
  LocalActivityOptions lo;
  auto a = ctx.ExecuteLocalActivity<int>("Triple", lo, 7);
  int x = co_await a;
  LocalActivityOptions flaky;
  flaky.retry_policy = RetryPolicy{.initial_interval = 10ms, .maximum_attempts = 5};
  auto b = ctx.ExecuteLocalActivity<std::string>("Flaky", flaky);
  std::string y = co_await b;
  auto t = ctx.Sleep(10ms);
  co_await t;
  std::string z;
  auto c = ctx.ExecuteLocalActivity<void>("Broken", lo);
  try {
    co_await c;
  } catch (const ActivityFailure& f) {
    auto* app = dynamic_cast<ApplicationFailure*>(f.cause().get());
    z = app ? app->type : "?";
  }
  co_return std::to_string(x) + " " + y + " " + z;
}

TEST_F(SdkTest, LocalActivitiesRunInTheWorkerAndReplayFromMarkers) {
  g_triple_calls = 0;
  g_flaky_calls = 0;
  auto w = NewWorker();
  w->RegisterWorkflow("Local", LocalWorkflow);
  w->RegisterActivity("Triple", [](int v) {
    ++g_triple_calls;
    return 3 * v;
  });
  w->RegisterActivity("Flaky", [](ActivityContext& ctx) {
    ++g_flaky_calls;
    if (ctx.info().attempt < 3) throw std::runtime_error("not yet");
    return std::string("ok after ") + std::to_string(ctx.info().attempt);
  });
  w->RegisterActivity("Broken", []() { throw ApplicationFailure::NonRetryable("broken", "BrokenError"); });
  w->Start();
  auto h = client_->Start("Local", Opts("local-1"));
  EXPECT_EQ(h.Result<std::string>(30s), "21 ok after 3 BrokenError");
  EXPECT_EQ(g_triple_calls.load(), 1);
  EXPECT_EQ(g_flaky_calls.load(), 3);
  auto events = h.FetchHistory();
  int markers = 0, scheduled = 0;
  for (const auto& e : events) {
    if (e.has_marker_recorded_event_attributes() && e.marker_recorded_event_attributes().marker_name() == "LocalActivity") {
      ++markers;
    }
    scheduled += e.has_activity_task_scheduled_event_attributes();
  }
  EXPECT_EQ(markers, 3);
  EXPECT_EQ(scheduled, 0);
  // Replay reads the markers: nothing runs again.
  Replayer r;
  r.RegisterWorkflow("Local", LocalWorkflow);
  EXPECT_NO_THROW(r.ReplayHistory(events));
  EXPECT_EQ(g_triple_calls.load(), 1);
  // A changed local activity is a non-determinism error.
  Replayer changed;
  changed.RegisterWorkflow("Local", [](WorkflowContext& ctx) -> Task<std::string> {
    LocalActivityOptions lo;
    auto a = ctx.ExecuteLocalActivity<int>("Quadruple", lo, 7);
    int x = co_await a;
    co_return std::to_string(x);
  });
  try {
    changed.ReplayHistory(events);
    FAIL() << "expected a non-determinism error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("local activity Quadruple"), std::string::npos) << e.what();
  }
}

// ---- search attributes, memo, workflow metadata ----

TEST_F(SdkTest, UpsertSearchAttributesMemoAndWorkflowMetadataQuery) {
  std::string cmd = ServerBinary() + " operator search-attribute create --address " + server_->address() +
                    " --name SdkCustomer --type Keyword >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto w = NewWorker();
  w->RegisterWorkflow("Tagged", [](WorkflowContext& ctx) -> Task<std::string> {
    ctx.SetQueryHandler("state", []() { return std::string("ok"); });
    auto go = std::make_shared<bool>(false);
    ctx.SetSignalHandler("go", [go]() { *go = true; });
    ctx.SetUpdateHandler("bump", [](int v) { return v + 1; });
    ctx.UpsertSearchAttribute("SdkCustomer", std::string("acme"));
    ctx.UpsertMemo("note", std::string("first"));
    ctx.UpsertMemo("drop", std::string("x"));
    ctx.SetCurrentDetails("waiting for go");
    auto gone = ctx.Condition([go] { return *go; });
    co_await gone;
    ctx.UpsertMemoPayloads({{"drop", NullPayload()}});
    std::string seen = FromPayload<std::string>(ctx.info().search_attributes.at("SdkCustomer"));
    co_return seen + " " + std::to_string(ctx.info().memo.size());
  });
  w->Start();
  auto h = client_->Start("Tagged", Opts("tagged-1"));
  temporal::api::sdk::v1::WorkflowMetadata md;
  for (int i = 0; i < 200; ++i) {
    md = h.Query<temporal::api::sdk::v1::WorkflowMetadata>("__temporal_workflow_metadata");
    if (!md.current_details().empty()) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(md.definition().type(), "Tagged");
  EXPECT_EQ(md.current_details(), "waiting for go");
  std::vector<std::string> queries;
  for (const auto& q : md.definition().query_definitions()) queries.push_back(q.name());
  EXPECT_EQ(queries, (std::vector<std::string>{"__stack_trace", "__temporal_workflow_metadata", "state"}));
  ASSERT_EQ(md.definition().signal_definitions_size(), 1);
  EXPECT_EQ(md.definition().signal_definitions(0).name(), "go");
  ASSERT_EQ(md.definition().update_definitions_size(), 1);
  EXPECT_EQ(md.definition().update_definitions(0).name(), "bump");
  // Visible to the server: memo and search attributes of the running workflow.
  auto d = h.Describe();
  EXPECT_TRUE(d.workflow_execution_info().memo().fields().count("note"));
  EXPECT_TRUE(d.workflow_execution_info().search_attributes().indexed_fields().count("SdkCustomer"));
  h.Signal("go");
  EXPECT_EQ(h.Result<std::string>(20s), "acme 1");  // "drop" removed again
  d = h.Describe();
  EXPECT_FALSE(d.workflow_execution_info().memo().fields().count("drop"));
  EXPECT_EQ(client_->Count("SdkCustomer = 'acme'"), 1);
  Replayer r;
  r.RegisterWorkflow("Tagged", [](WorkflowContext& ctx) -> Task<std::string> {
    ctx.UpsertSearchAttribute("SdkCustomer", std::string("acme"));
    ctx.UpsertMemo("other", std::string("first"));  // changed memo key: non-determinism
    co_return std::string();
  });
  try {
    r.ReplayHistory(h.FetchHistory());
    FAIL() << "expected a non-determinism error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("memo=note"), std::string::npos) << e.what();
  }
}

// ---- update-with-start and schedules ----

TEST_F(SdkTest, UpdateWithStartStartsOrReusesTheWorkflow) {
  auto w = NewWorker();
  w->RegisterWorkflow("Counter", [](WorkflowContext& ctx) -> Task<int> {
    auto total = std::make_shared<int>(0);
    auto done = std::make_shared<bool>(false);
    ctx.SetUpdateHandler("add", [total](int v) {
      *total += v;
      return *total;
    });
    ctx.SetSignalHandler("done", [done]() { *done = true; });
    auto finished = ctx.Condition([done] { return *done; });
    co_await finished;
    co_return *total;
  });
  w->Start();
  Payloads r1, r2;
  auto h1 = client_->UpdateWithStartPayloads("Counter", Opts("counter-1"), {}, "add", ToPayloads(5), &r1);
  EXPECT_EQ(FirstPayload<int>(r1), 5);
  auto h2 = client_->UpdateWithStartPayloads("Counter", Opts("counter-1"), {}, "add", ToPayloads(3), &r2);
  EXPECT_EQ(FirstPayload<int>(r2), 8);
  EXPECT_EQ(h1.run_id(), h2.run_id());  // the running workflow was used
  h2.Signal("done");
  EXPECT_EQ(h2.Result<int>(20s), 8);
  // An update the workflow does not handle fails; the workflow was started all the same.
  Payloads r3;
  EXPECT_THROW(client_->UpdateWithStartPayloads("Counter", Opts("counter-2"), {}, "nope", {}, &r3),
               WorkflowUpdateFailedError);
  EXPECT_EQ(client_->GetHandle("counter-2").Describe().workflow_execution_info().status(),
            enums::WORKFLOW_EXECUTION_STATUS_RUNNING);
  client_->GetHandle("counter-2").Terminate();
}

TEST_F(SdkTest, SchedulesCreateDescribeUpdatePauseTriggerBackfillListDelete) {
  auto w = NewWorker();
  w->RegisterWorkflow("Greet", GreetWorkflow);
  w->RegisterActivity("Hello", [](std::string name) { return "Hello, " + name; });
  w->Start();
  temporal::api::schedule::v1::Schedule sched;
  auto* interval = sched.mutable_spec()->add_interval();
  *interval->mutable_interval() = ToProtoDuration(std::chrono::hours(1));
  *sched.mutable_action() = client_->MakeStartWorkflowAction("Greet", Opts("scheduled-greet"), ToPayloads(std::string("S")));
  client_->CreateSchedule("sdk-schedule", sched);
  EXPECT_THROW(client_->CreateSchedule("sdk-schedule", sched), RpcError);  // already exists
  auto d = client_->DescribeSchedule("sdk-schedule");
  EXPECT_EQ(d.schedule().action().start_workflow().workflow_type().name(), "Greet");
  EXPECT_FALSE(d.schedule().state().paused());
  client_->PauseSchedule("sdk-schedule", "maintenance");
  d = client_->DescribeSchedule("sdk-schedule");
  EXPECT_TRUE(d.schedule().state().paused());
  EXPECT_EQ(d.schedule().state().notes(), "maintenance");
  client_->UnpauseSchedule("sdk-schedule");
  EXPECT_FALSE(client_->DescribeSchedule("sdk-schedule").schedule().state().paused());
  client_->TriggerSchedule("sdk-schedule");
  auto now = std::chrono::system_clock::now();
  client_->BackfillSchedule("sdk-schedule", now - std::chrono::hours(3) - 1min, now - 1min);
  int64_t actions = 0;
  for (int i = 0; i < 200 && actions < 4; ++i) {
    actions = client_->DescribeSchedule("sdk-schedule").info().action_count();
    if (actions < 4) std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(actions, 4);  // the trigger and three backfilled intervals
  *sched.mutable_spec()->mutable_interval(0)->mutable_interval() = ToProtoDuration(std::chrono::hours(2));
  client_->UpdateSchedule("sdk-schedule", sched);
  d = client_->DescribeSchedule("sdk-schedule");
  EXPECT_EQ(FromProtoDuration(d.schedule().spec().interval(0).interval()), std::chrono::hours(2));
  bool listed = false;
  for (int i = 0; i < 100 && !listed; ++i) {
    for (const auto& e : client_->ListSchedules()) listed |= e.schedule_id() == "sdk-schedule";
    if (!listed) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(listed);
  client_->DeleteSchedule("sdk-schedule");
  try {
    client_->DescribeSchedule("sdk-schedule");
    FAIL() << "expected NOT_FOUND";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
  }
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
