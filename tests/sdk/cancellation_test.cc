// C++ SDK: cancellation scopes, cancellation types, child and external cancellation.
#include "sdk_fixture.h"

namespace sdk_test {
namespace {

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

}  // namespace
}  // namespace sdk_test
