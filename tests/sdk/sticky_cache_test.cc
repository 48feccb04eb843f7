// C++ SDK: the sticky cache of workflow instances (unit and against the server).
#include "sdk_fixture.h"
#include "workflow_cache.h"     // sdk/src (internal)
#include "workflow_instance.h"  // sdk/src (internal)

namespace sdk_test {
namespace {

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

}  // namespace
}  // namespace sdk_test
