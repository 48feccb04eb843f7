// Idle open runs leave memory (history/run_cache.h): a run waiting only on a timer keeps neither
// its state nor its history in memory once durable, is read back when a timer, signal or read
// needs it, and a restart does not load it. Each test fails if idle runs' histories stay loaded.
#include "engine_test_util.h"

#include <sqlite3.h>

namespace temporalite::history::testing {
namespace {

using EngineEvictionTest = EngineTest;
using FileEngineEvictionTest = FileEngineTest;

// Runs `sql` on the closed engine's database file; returns the first column of the first row
// ("" for none or NULL).
std::string Sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int rc = sqlite3_step(s);
  EXPECT_TRUE(rc == SQLITE_ROW || rc == SQLITE_DONE) << sqlite3_errmsg(db);
  if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

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

// Schema 7: an idle run's row carries its earliest timer (`wake`) and recovery arms that alone,
// reading no state. Moving the column later moves the timer: recovery did not use the state.
TEST_F(FileEngineEvictionTest, RestartArmsAnIdleRunByItsWakeColumnAlone) {
  const int64_t start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now().time_since_epoch()).count();
  StartAndComplete("wf-a", {StartTimer("t1", Sec(5))});
  StartAndComplete("wf-b", {ScheduleActivity("a1", Sec(30))});
  CloseEngine();
  const std::string wake = Sql(path(), "SELECT wake FROM executions WHERE open = 1 AND workflow_id = 'wf-a'");
  ASSERT_FALSE(wake.empty());
  EXPECT_GE(std::stoll(wake), start_ns + 5'000'000'000LL);
  EXPECT_LE(std::stoll(wake), start_ns + 6'000'000'000LL);
  EXPECT_EQ(Sql(path(), "SELECT count(*) FROM executions WHERE open = 1 AND wake IS NULL"), "1") << "the busy run has none";
  Sql(path(), "UPDATE executions SET wake = wake + 20000000000 WHERE workflow_id = 'wf-a'");
  OpenEngine(path());
  EXPECT_EQ(engine_->CountRuns().evicted, 1u);
  Advance(Sec(10));
  auto hist = History("wf-a");  // reads the run back; its timer is still armed only by the wake-up
  EXPECT_EQ(CountType(hist, ev1::EVENT_TYPE_TIMER_FIRED), 0) << Describe(hist);
  Advance(Sec(20));
  hist = History("wf-a");
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(CountType(hist, ev1::EVENT_TYPE_TIMER_FIRED), 1) << Describe(hist);
  Restart();
  Advance(Sec(60));
  EXPECT_EQ(CountType(History("wf-a"), ev1::EVENT_TYPE_TIMER_FIRED), 1);
}

// A row without `wake` (a file migrated from schema 6) is parsed as before, and recovery writes
// its wake time, once; a timer that came due while the server was down fires once at start.
TEST_F(FileEngineEvictionTest, RecoveryGivesIdleRowsOfAnOlderFileTheirWakeTime) {
  StartAndComplete("wf-a", {StartTimer("t1", Sec(5))});
  CloseEngine();
  const std::string wake = Sql(path(), "SELECT wake FROM executions WHERE open = 1");
  ASSERT_FALSE(wake.empty());
  Sql(path(), "UPDATE executions SET wake = NULL");
  clock_.Advance(Sec(30));  // down past the timer's time
  OpenEngine(path());
  EXPECT_EQ(engine_->CountRuns().evicted, 1u);
  Advance(Sec(0));
  auto hist = History("wf-a");
  EXPECT_EQ(CountType(hist, ev1::EVENT_TYPE_TIMER_FIRED), 1) << Describe(hist);
  CloseEngine();
  EXPECT_EQ(Sql(path(), "SELECT count(*) FROM executions WHERE open = 1 AND wake IS NULL"), "1")
      << "the fired timer scheduled a workflow task: no longer idle";
  OpenEngine(path());
  Advance(Sec(60));
  EXPECT_EQ(CountType(History("wf-a"), ev1::EVENT_TYPE_TIMER_FIRED), 1);
}

TEST_F(FileEngineEvictionTest, RecoveryWritesTheWakeTimeOfAnIdleRowThatHadNone) {
  StartAndComplete("wf-a", {StartTimer("t1", Sec(5))});
  CloseEngine();
  const std::string wake = Sql(path(), "SELECT wake FROM executions WHERE open = 1");
  Sql(path(), "UPDATE executions SET wake = NULL");
  OpenEngine(path());
  CloseEngine();
  EXPECT_EQ(Sql(path(), "SELECT wake FROM executions WHERE open = 1"), wake);
  OpenEngine(path());
  Advance(Sec(5));
  EXPECT_EQ(CountType(History("wf-a"), ev1::EVENT_TYPE_TIMER_FIRED), 1);
}

// A closed run is read from the store after a restart: a retried signal's request id is found in
// its state there too (Temporal's IsSignalRequested before the running check).
TEST_F(FileEngineEvictionTest, SignalRetryFindsTheClosedRunsRequestIdAfterRestart) {
  StartWorkflow("wf-sig-closed-store");
  ASSERT_TRUE(Signal("wf-sig-closed-store", "finish").ok());
  auto task = PollWft();
  ASSERT_TRUE(CompleteWft(task.task_token(), {CompleteWorkflow("done")}).ok());
  Barrier();
  Restart();
  Status retry = Signal("wf-sig-closed-store", "finish");
  EXPECT_TRUE(retry.ok()) << retry.ToString();
  EXPECT_EQ(Signal("wf-sig-closed-store", "other").code(), Code::kNotFound);
}

}  // namespace
}  // namespace temporalite::history::testing
