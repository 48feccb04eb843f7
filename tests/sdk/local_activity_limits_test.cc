// C++ SDK local activities against sdk-core's behaviour: commands held with the completion until
// the local activity ends, queries on a heartbeat's returned task, the close timeouts, and an
// abandoned local activity holding no worker thread.
#include <future>

#include "sdk_fixture.h"

namespace sdk_test {
namespace {

int64_t CompletedBy(const HistoryEvent& e) {
  if (e.has_timer_started_event_attributes()) return e.timer_started_event_attributes().workflow_task_completed_event_id();
  if (e.has_marker_recorded_event_attributes()) {
    return e.marker_recorded_event_attributes().workflow_task_completed_event_id();
  }
  return 0;
}

// ---- 1. commands issued before a local activity leave with its marker (sdk-core's WaitingOnLAs) ----

Task<std::string> TimerThenLocal(WorkflowContext& ctx) {
  auto timer = ctx.Sleep(1h);  // never awaited: its command is what matters
  LocalActivityOptions lo;
  lo.schedule_to_close = 10s;
  auto a = ctx.ExecuteLocalActivity<int>("Nap", lo, 300);
  int r = co_await a;
  co_return std::to_string(r);
}

TEST_F(SdkTest, CommandsBeforeALocalActivityLeaveWithItsCompletion) {
  auto w = NewWorker();
  w->RegisterWorkflow("TimerThenLocal", TimerThenLocal);
  w->RegisterActivity("Nap", [](int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  });
  w->Start();
  auto h = client_->Start("TimerThenLocal", Opts("la-timer-then-local"));
  EXPECT_EQ(h.Result<std::string>(30s), "300");
  int64_t timer_by = -1, marker_by = -2;
  int completed = 0;
  for (const auto& e : h.FetchHistory()) {
    completed += e.has_workflow_task_completed_event_attributes();
    if (e.has_timer_started_event_attributes()) timer_by = CompletedBy(e);
    if (e.has_marker_recorded_event_attributes()) marker_by = CompletedBy(e);
  }
  // As sdk-core (managed_run.rs: the completion waits while outstanding_local_activity_count() > 0,
  // until the local activities resolve or the heartbeat timeout): one completion carries both.
  EXPECT_EQ(timer_by, marker_by);
  EXPECT_EQ(completed, 1);
}

// ---- 2. a query attached to the task a heartbeat returned is answered ----

std::mutex g_mu;
std::condition_variable g_cv;
bool g_release = false, g_held_returned = false;
int g_held_started = 0;

void ResetHeld() {
  std::lock_guard<std::mutex> l(g_mu);
  g_release = false;
  g_held_returned = false;
  g_held_started = 0;
}
void ReleaseHeld() {
  {
    std::lock_guard<std::mutex> l(g_mu);
    g_release = true;
  }
  g_cv.notify_all();
}
bool HeldReturned() {
  std::lock_guard<std::mutex> l(g_mu);
  return g_held_returned;
}
int HeldStarted() {
  std::lock_guard<std::mutex> l(g_mu);
  return g_held_started;
}
bool WaitHeld(const std::function<bool()>& pred, std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(g_mu);
  return g_cv.wait_for(l, d, pred);
}
// Blocks until the test releases it (at most 20 s), ignoring cancellation.
std::string Held(ActivityContext&) {
  std::unique_lock<std::mutex> l(g_mu);
  ++g_held_started;
  g_cv.notify_all();
  g_cv.wait_for(l, 20s, [] { return g_release; });
  g_held_returned = true;
  g_cv.notify_all();
  return "released";
}

Task<std::string> QueriedDuringLocal(WorkflowContext& ctx) {
  auto state = std::make_shared<std::string>("in the local activity");
  ctx.SetQueryHandler("state", [state]() { return *state; });
  LocalActivityOptions lo;
  lo.schedule_to_close = 60s;
  auto a = ctx.ExecuteLocalActivity<std::string>("Held", lo);
  std::string r = co_await a;
  *state = "done";
  co_return r;
}

TEST_F(SdkTest, AQueryOnAHeartbeatsReturnedTaskIsAnswered) {
  ResetHeld();
  auto w = NewWorker();
  w->RegisterWorkflow("QueriedDuringLocal", QueriedDuringLocal);
  w->RegisterActivity("Held", Held);
  w->Start();
  auto o = Opts("la-query-heartbeat");
  o.task_timeout = 3s;  // heartbeats every 2.4 s
  auto h = client_->Start("QueriedDuringLocal", o);
  ASSERT_TRUE(WaitHeld([] { return g_held_started > 0; }, 10s));
  // The task is running: the server holds the query for the next task, the one the first
  // heartbeat returns; its answer leaves with the next heartbeat, the local activity still held.
  auto q = std::async(std::launch::async, [&h] { return h.Query<std::string>("state"); });
  const bool answered = q.wait_for(15s) == std::future_status::ready;
  const bool still_held = !HeldReturned();
  ReleaseHeld();
  EXPECT_TRUE(answered);
  EXPECT_TRUE(still_held);
  EXPECT_EQ(q.get(), "in the local activity");
  EXPECT_EQ(h.Result<std::string>(30s), "released");
  int heartbeats = 0;
  for (const auto& e : h.FetchHistory()) {
    heartbeats += e.has_workflow_task_started_event_attributes() &&
                  e.workflow_task_started_event_attributes().request_id() == "request-from-RespondWorkflowTaskCompleted";
  }
  EXPECT_GE(heartbeats, 1);
}

// ---- 3. schedule_to_close bounds all attempts; start_to_close each ----

std::atomic<int> g_stuck_calls{0}, g_stuck_cancelled{0};

// Waits for its context's cancellation (at most 10 s), then fails.
std::string Stuck(ActivityContext& ctx) {
  ++g_stuck_calls;
  for (int i = 0; i < 1000 && !ctx.IsCancelled(); ++i) std::this_thread::sleep_for(10ms);
  if (ctx.IsCancelled()) ++g_stuck_cancelled;
  throw ApplicationFailure("stuck", "Stuck");
}

std::string TimeoutOf(const ActivityFailure& f) {
  auto* t = dynamic_cast<TimeoutFailure*>(f.cause().get());
  if (!t) return "other: " + (f.cause() ? std::string(f.cause()->what()) : "");
  return enums::TimeoutType_Name(t->timeout_type);
}

Task<std::string> TimedOutLocal(WorkflowContext& ctx, int which) {
  LocalActivityOptions lo;
  if (which == 0) {  // attempts of 500 ms, 100 ms apart, within 1.6 s: the third one is cut to 400 ms
    lo.schedule_to_close = 1600ms;
    lo.start_to_close = 500ms;
    lo.retry_policy = RetryPolicy{.initial_interval = 100ms, .backoff_coefficient = 1.0, .maximum_attempts = 0};
  } else {  // start_to_close alone: two attempts of 300 ms
    lo.start_to_close = 300ms;
    lo.retry_policy = RetryPolicy{.initial_interval = 50ms, .maximum_attempts = 2};
  }
  auto a = ctx.ExecuteLocalActivity<std::string>("Stuck", lo);
  std::string out;
  try {
    out = co_await a;
  } catch (const ActivityFailure& f) {
    out = TimeoutOf(f);
  }
  co_return out;
}

TEST_F(SdkTest, LocalActivityAttemptsStayWithinTheCloseTimeouts) {
  auto w = NewWorker();
  w->RegisterWorkflow("TimedOutLocal", TimedOutLocal);
  w->RegisterActivity("Stuck", Stuck);
  w->Start();
  struct Case {
    int which;
    std::string result;
    int calls;
  };
  for (const Case& c : {Case{0, "TIMEOUT_TYPE_SCHEDULE_TO_CLOSE", 3}, Case{1, "TIMEOUT_TYPE_START_TO_CLOSE", 2}}) {
    g_stuck_calls = 0;
    g_stuck_cancelled = 0;
    const std::string id = "la-close-timeouts-" + std::to_string(c.which);
    const auto t0 = std::chrono::steady_clock::now();
    auto h = client_->Start("TimedOutLocal", Opts(id), c.which);
    EXPECT_EQ(h.Result<std::string>(30s), c.result) << id;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << id;
    EXPECT_EQ(g_stuck_calls.load(), c.calls) << id;
    // Each timed-out attempt's context was cancelled (its function then returned).
    for (int i = 0; i < 500 && g_stuck_cancelled < c.calls; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(g_stuck_cancelled.load(), c.calls) << id;
    int markers = 0;
    for (const auto& e : h.FetchHistory()) {
      if (!e.has_marker_recorded_event_attributes()) continue;
      ++markers;
      const auto& f = e.marker_recorded_event_attributes().failure();
      EXPECT_EQ(enums::TimeoutType_Name(f.timeout_failure_info().timeout_type()), c.result) << id;
    }
    EXPECT_EQ(markers, 1) << id;
    Replayer r;
    r.RegisterWorkflow("TimedOutLocal", TimedOutLocal);
    EXPECT_NO_THROW(r.ReplayHistory(h.FetchHistory())) << id;
  }
}

// ---- 4. an abandoned local activity holds no workflow thread, and shutdown waits only its grace ----

Task<std::string> AbandonsLocal(WorkflowContext& ctx) {
  auto scope = ctx.NewCancellationScope();
  LocalActivityOptions held;
  held.schedule_to_close = 60s;
  held.scope = scope;
  held.cancellation_type = ActivityCancellationType::kAbandon;
  held.retry_policy = RetryPolicy{.maximum_attempts = 1};
  LocalActivityOptions quick;
  quick.schedule_to_close = 10s;
  auto s = ctx.ExecuteLocalActivity<std::string>("Held", held);
  auto q = ctx.ExecuteLocalActivity<int>("Nap", quick, 100);
  co_await q;
  scope.Cancel();
  std::string out;
  try {
    out = co_await s;
  } catch (const ActivityFailure& f) {
    out = dynamic_cast<CanceledFailure*>(f.cause().get()) ? "abandoned" : "failed";
  }
  co_return out;
}

Task<std::string> Plain(WorkflowContext&) { co_return "plain"; }

TEST_F(SdkTest, AnAbandonedLocalActivityHoldsNoWorkerThread) {
  ResetHeld();
  WorkerOptions wo;
  wo.task_queue = task_queue_;
  wo.max_concurrent_workflow_tasks = 1;
  wo.graceful_shutdown_timeout = 500ms;
  auto w = std::make_unique<Worker>(client_, wo);
  w->RegisterWorkflow("AbandonsLocal", AbandonsLocal);
  w->RegisterWorkflow("Plain", Plain);
  w->RegisterActivity("Held", Held);
  w->RegisterActivity("Nap", [](int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  });
  w->Start();
  auto h = client_->Start("AbandonsLocal", Opts("la-abandoned"));
  EXPECT_EQ(h.Result<std::string>(15s), "abandoned");
  // The worker's only workflow-task slot is free for the next workflow while Held still runs.
  std::string plain;
  try {
    plain = client_->Start("Plain", Opts("la-abandoned-next")).Result<std::string>(10s);
  } catch (const std::exception& e) {
    plain = e.what();
  }
  EXPECT_EQ(plain, "plain");
  EXPECT_EQ(HeldStarted(), 1);
  EXPECT_FALSE(HeldReturned());
  // Shutdown waits its grace period (500 ms) for the abandoned local activity, no longer.
  const auto t0 = std::chrono::steady_clock::now();
  auto stopped = std::async(std::launch::async, [&w] { w->Shutdown(); });
  const bool prompt = stopped.wait_for(5s) == std::future_status::ready;
  const auto took = std::chrono::steady_clock::now() - t0;
  const bool still_held = !HeldReturned();
  ReleaseHeld();
  stopped.wait();
  EXPECT_TRUE(prompt);
  EXPECT_TRUE(still_held);
  EXPECT_GE(took, 400ms);
  EXPECT_TRUE(WaitHeld([] { return g_held_returned; }, 10s));
  w.reset();
}

}  // namespace
}  // namespace sdk_test
