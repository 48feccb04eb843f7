// Idle open runs leave memory (history/run_cache.h): a run waiting only on a timer keeps neither
// its state nor its history in memory once durable, is read back when a timer, signal or read
// needs it, and a restart does not load it. Each test fails if idle runs' histories stay loaded.
#include "engine_test_util.h"

namespace temporalite::history::testing {
namespace {

using EngineEvictionTest = EngineTest;
using FileEngineEvictionTest = FileEngineTest;

int CountType(const std::vector<hv1::HistoryEvent>& events, ev1::EventType type) {
  int n = 0;
  for (const auto& e : events) n += e.event_type() == type;
  return n;
}

TEST_F(EngineEvictionTest, RunWaitingOnTimerLeavesMemoryAndFiresFromStore) {
  StartAndComplete("wf-idle", {StartTimer("t1", Sec(5))});
  Barrier();
  auto c = engine_->CountRuns();
  EXPECT_EQ(c.in_memory, 0u);
  EXPECT_EQ(c.evicted, 1u);
  EXPECT_EQ(c.events_in_memory, 0u);

  // A read brings it back; the sweep evicts it again as nothing changed.
  auto hist = History("wf-idle");
  ASSERT_EQ(hist.size(), 5u) << Describe(hist);
  EXPECT_EQ(engine_->CountRuns().in_memory, 1u);
  Advance(Sec(1));
  EXPECT_EQ(engine_->CountRuns().in_memory, 0u);

  Advance(Sec(4));  // the timer fires on the evicted run
  hist = History("wf-idle");
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(CountType(hist, ev1::EVENT_TYPE_TIMER_FIRED), 1) << Describe(hist);
  EXPECT_EQ(hist.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  c = engine_->CountRuns();
  EXPECT_EQ(c.in_memory, 1u) << "a run with a workflow task pending stays in memory";
  EXPECT_EQ(c.evicted, 0u);

  auto task = PollWft();
  EXPECT_EQ(task.started_event_id(), 8);
  ASSERT_TRUE(CompleteWft(task.task_token(), {CompleteWorkflow("done")}).ok());
  Barrier();
  c = engine_->CountRuns();
  EXPECT_EQ(c.in_memory + c.evicted, 0u);
  EXPECT_EQ(History("wf-idle").back().event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
}

TEST_F(EngineEvictionTest, SignalToEvictedRunSchedulesTask) {
  StartAndComplete("wf-sig", {StartTimer("t1", Sec(3600))});
  Barrier();
  ASSERT_EQ(engine_->CountRuns().evicted, 1u);
  ASSERT_TRUE(Signal("wf-sig", "go").ok());
  auto hist = History("wf-sig");
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(CountType(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), 1) << Describe(hist);
  auto task = PollWft();
  EXPECT_EQ(task.previous_started_event_id(), 3);
  ASSERT_TRUE(CompleteWft(task.task_token(), {}).ok());  // still waiting on its timer: idle again
  Barrier();
  auto c = engine_->CountRuns();
  EXPECT_EQ(c.in_memory, 0u);
  EXPECT_EQ(c.evicted, 1u);
  ASSERT_TRUE(Terminate("wf-sig", "bye").ok());
  EXPECT_EQ(History("wf-sig").back().event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
}

TEST_F(EngineEvictionTest, RunWithPendingActivityStaysAndManyIdleRunsHoldNoEvents) {
  StartAndComplete("wf-act", {ScheduleActivity("a1", Sec(30))});
  for (int i = 0; i < 50; ++i) StartAndComplete("wf-t" + std::to_string(i), {StartTimer("t", Sec(60))});
  Barrier();
  auto c = engine_->CountRuns();
  EXPECT_EQ(c.in_memory, 1u);
  EXPECT_EQ(c.evicted, 50u);
  EXPECT_EQ(c.events_in_memory, 5u) << "only the run with an activity keeps its history";
}

TEST_F(EngineEvictionTest, DisabledKeepsRunsInMemory) {
  CloseEngine();
  options_.evict_idle_runs = false;
  OpenEngine(":memory:");
  StartAndComplete("wf-kept", {StartTimer("t1", Sec(5))});
  Barrier();
  auto c = engine_->CountRuns();
  EXPECT_EQ(c.in_memory, 1u);
  EXPECT_EQ(c.evicted, 0u);
  EXPECT_EQ(c.events_in_memory, 5u);
}

TEST_F(FileEngineEvictionTest, RestartLeavesIdleRunsOnDiskAndTheirTimersFireOnce) {
  StartAndComplete("wf-a", {StartTimer("t1", Sec(5))});
  StartAndComplete("wf-b", {ScheduleActivity("a1", Sec(30))});
  Restart();
  auto c = engine_->CountRuns();
  EXPECT_EQ(c.in_memory, 1u) << "only the run with an activity is loaded";
  EXPECT_EQ(c.evicted, 1u);
  Advance(Sec(5));
  Advance(Sec(10));
  auto hist = History("wf-a");
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(CountType(hist, ev1::EVENT_TYPE_TIMER_FIRED), 1) << Describe(hist);
  Restart();  // the fired timer is durable: it does not fire again
  Advance(Sec(10));
  hist = History("wf-a");
  EXPECT_EQ(CountType(hist, ev1::EVENT_TYPE_TIMER_FIRED), 1) << Describe(hist);
  EXPECT_EQ(CountType(hist, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED), 2) << Describe(hist);
}

}  // namespace
}  // namespace temporalite::history::testing
