// C++ SDK local activities waiting for a slot, and worker shutdown while a workflow task waits on
// a local activity: a wait for a free slot ends with the local activity's cancellation (resolved
// as cancelled, never run), and shutdown holds no workflow-task thread past its grace period (the
// task fails, to be retried by another worker, as the official SDKs' feature tests ask).
#include <future>

#include "sdk_fixture.h"

namespace sdk_test {
namespace {

std::mutex g_mu;
std::condition_variable g_cv;
bool g_release = false, g_returned = false;
int g_started = 0;
std::atomic<int> g_counted{0};

void Reset() {
  std::lock_guard<std::mutex> l(g_mu);
  g_release = false;
  g_returned = false;
  g_started = 0;
  g_counted = 0;
}
void Release() {
  {
    std::lock_guard<std::mutex> l(g_mu);
    g_release = true;
  }
  g_cv.notify_all();
}
bool Wait(const std::function<bool()>& pred, std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(g_mu);
  return g_cv.wait_for(l, d, pred);
}
bool Returned() {
  std::lock_guard<std::mutex> l(g_mu);
  return g_returned;
}

// Holds the worker's only local-activity slot until the test releases it (at most 20 s),
// ignoring cancellation.
std::string Hold(ActivityContext&) {
  std::unique_lock<std::mutex> l(g_mu);
  ++g_started;
  g_cv.notify_all();
  g_cv.wait_for(l, 20s, [] { return g_release; });
  g_returned = true;
  g_cv.notify_all();
  return "released";
}

std::string Counted() {
  ++g_counted;
  return "ran";
}

Task<std::string> HoldsTheSlot(WorkflowContext& ctx) {
  LocalActivityOptions lo;
  lo.schedule_to_close = 60s;
  auto a = ctx.ExecuteLocalActivity<std::string>("Hold", lo);
  std::string r = co_await a;
  co_return r;
}

// Runs "Counted" as a local activity of the given cancellation type (it waits for a slot).
Task<std::string> WaitsForASlot(WorkflowContext& ctx, int type) {
  LocalActivityOptions lo;
  lo.schedule_to_close = 60s;
  lo.cancellation_type = static_cast<ActivityCancellationType>(type);
  auto a = ctx.ExecuteLocalActivity<std::string>("Counted", lo);
  std::string out;
  try {
    out = co_await a;
  } catch (const ActivityFailure& f) {
    out = dynamic_cast<CanceledFailure*>(f.cause().get()) ? "cancelled" : "failed";
  }
  co_return out;
}

std::unique_ptr<Worker> OneSlotWorker(const std::shared_ptr<Client>& client, const std::string& tq,
                                      std::chrono::milliseconds grace) {
  WorkerOptions wo;
  wo.task_queue = tq;
  wo.max_concurrent_local_activities = 1;
  wo.graceful_shutdown_timeout = grace;
  auto w = std::make_unique<Worker>(client, wo);
  w->RegisterWorkflow("HoldsTheSlot", HoldsTheSlot);
  w->RegisterWorkflow("WaitsForASlot", WaitsForASlot);
  w->RegisterActivity("Hold", Hold);
  w->RegisterActivity("Counted", Counted);
  return w;
}

// The workflow's cancellation reaches a local activity waiting for a slot: it resolves as
// cancelled at once (both cancellation types that wait or not) and never runs.
TEST_F(SdkTest, ALocalActivityWaitingForASlotIsCancellable) {
  Reset();
  auto w = OneSlotWorker(client_, task_queue_, 2s);
  w->Start();
  auto holder = client_->Start("HoldsTheSlot", Opts("la-slot-holder"));
  ASSERT_TRUE(Wait([] { return g_started == 1; }, 10s));
  std::vector<WorkflowHandle> waiting;
  for (auto type : {ActivityCancellationType::kWaitCancellationCompleted, ActivityCancellationType::kTryCancel}) {
    auto o = Opts("la-slot-wait-" + std::to_string(static_cast<int>(type)));
    o.task_timeout = 2s;  // its task heartbeats every 1.6 s: the cancel request arrives with one
    waiting.push_back(client_->Start("WaitsForASlot", o, static_cast<int>(type)));
  }
  for (auto& h : waiting) h.Cancel();
  std::vector<std::string> results;
  for (auto& h : waiting) {
    try {
      results.push_back(h.Result<std::string>(10s));
    } catch (const std::exception& e) {
      results.push_back(e.what());
    }
  }
  const bool held = !Returned();
  Release();
  EXPECT_EQ(results, (std::vector<std::string>{"cancelled", "cancelled"}));
  EXPECT_TRUE(held);  // resolved while the slot was still taken
  EXPECT_EQ(holder.Result<std::string>(30s), "released");
  w->Shutdown();
  EXPECT_EQ(g_counted.load(), 0);  // the freed slot went to no cancelled local activity
  for (auto& h : waiting) {
    int markers = 0;
    for (const auto& e : h.FetchHistory()) markers += e.has_marker_recorded_event_attributes();
    EXPECT_EQ(markers, 1);  // the cancellation's
  }
}

// Shutdown with a workflow task waiting on a running local activity (which ignores its
// cancellation) and another waiting for a slot: Shutdown returns after its grace period, both
// tasks fail (RespondWorkflowTaskFailed, no marker), and another worker completes both runs.
TEST_F(SdkTest, ShutdownReleasesWorkflowTasksWaitingOnLocalActivities) {
  Reset();
  auto w = OneSlotWorker(client_, task_queue_, 500ms);
  w->Start();
  auto holder = client_->Start("HoldsTheSlot", Opts("la-shutdown-holder"));
  ASSERT_TRUE(Wait([] { return g_started == 1; }, 10s));
  auto waiter = client_->Start("WaitsForASlot", Opts("la-shutdown-waiter"),
                               static_cast<int>(ActivityCancellationType::kWaitCancellationCompleted));
  // Its workflow task has started (and waits for the slot).
  bool task_started = false;
  for (int i = 0; i < 200 && !task_started; ++i) {
    for (const auto& e : waiter.FetchHistory()) task_started |= e.has_workflow_task_started_event_attributes();
    if (!task_started) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(task_started);
  const auto t0 = std::chrono::steady_clock::now();
  auto stopped = std::async(std::launch::async, [&w] { w->Shutdown(); });
  const bool prompt = stopped.wait_for(5s) == std::future_status::ready;
  const auto took = std::chrono::steady_clock::now() - t0;
  const bool held = !Returned();
  Release();
  stopped.wait();
  EXPECT_TRUE(prompt);
  EXPECT_TRUE(held);
  EXPECT_GE(took, 400ms);
  EXPECT_TRUE(Wait([] { return g_returned; }, 10s));
  EXPECT_EQ(g_counted.load(), 0);
  for (auto* h : {&holder, &waiter}) {
    int failed = 0, markers = 0;
    for (const auto& e : h->FetchHistory()) {
      failed += e.has_workflow_task_failed_event_attributes();
      markers += e.has_marker_recorded_event_attributes();
    }
    EXPECT_EQ(failed, 1) << h->id();
    EXPECT_EQ(markers, 0) << h->id();
  }
  auto w2 = OneSlotWorker(client_, task_queue_, 2s);
  w2->Start();
  EXPECT_EQ(holder.Result<std::string>(30s), "released");
  EXPECT_EQ(waiter.Result<std::string>(30s), "ran");
  w2->Shutdown();
}

}  // namespace
}  // namespace sdk_test
