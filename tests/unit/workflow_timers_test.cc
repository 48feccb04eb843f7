// The workflow timers unit (history/workflow_timers.h) over its narrow interfaces: runs built by
// hand, a SimClock, a test TimerEngine (the force-close of a workflow task, the close, the next
// run of a retry policy recorded) and the EngineContext of test_engine_context.h, which schedules
// workflow tasks. The timers themselves, the store and restarts are engine_test.cc's.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "execution_test_util.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/workflow_timers.h"
#include "test_engine_context.h"

namespace temporalite::history {
namespace {

constexpr char kNsId[] = "ns-id";

class TestTimerEngine : public TimerEngine {
 public:
  void ForceCloseWorkflowTask(Txn&, Execution& ex, const std::string& identity) override {
    force_closed.push_back(identity);
    ex.FlushBufferedEvents();
  }
  void FinishClose(Txn&, Execution& ex, bool chain_continues) override {
    ex.MarkClosed();
    closed.push_back(ex.st().run_id() + (chain_continues ? " (continues)" : ""));
  }
  // A retry when `retry_run_id` is set (as a workflow retry policy with attempts left).
  ev1::RetryState NextRunAfterTimeout(const Execution&, std::optional<StartFields>* next_run) override {
    ++next_run_asked;
    if (retry_run_id.empty()) return ev1::RETRY_STATE_RETRY_POLICY_NOT_SET;
    next_run->emplace();
    (*next_run)->run_id = retry_run_id;
    return ev1::RETRY_STATE_IN_PROGRESS;
  }
  void StartNextRun(Txn&, const std::string& ns_id, StartFields next_run) override {
    started.push_back(ns_id + "/" + next_run.run_id);
  }

  std::string retry_run_id;
  int next_run_asked = 0;
  std::vector<std::string> force_closed;
  std::vector<std::string> closed;
  std::vector<std::string> started;
};

class WorkflowTimersTest : public ::testing::Test {
 protected:
  WorkflowTimersTest() : clock_(TimePoint(std::chrono::seconds(1704067200))), context_(clock_, mu_) {
    testing::InitRun(run_, kNsId, "wf", "run-1", clock_.Now());
  }
  // Timer `id` started by event `started_id`, due in `in`.
  void StartTimer(const std::string& id, int64_t started_id, Duration in) {
    state::TimerInfo t;
    t.set_timer_id(id);
    t.set_started_event_id(started_id);
    *t.mutable_expiry_time() = ToProto(clock_.Now() + in);
    run_.AddTimer(std::move(t));
  }
  WorkflowTimers::Firing Fire(const std::string& id, int64_t started_id) {
    Txn txn;
    auto f = timers_.FireUserTimer(txn, run_, id, started_id);
    touched = txn.touched.size();
    return f;
  }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  TestTimerEngine host_;
  WorkflowTimers timers_{context_, host_};
  Execution run_;
  size_t touched = 0;
};

TEST_F(WorkflowTimersTest, AUserTimerFiresItsEventAndSchedulesAWorkflowTask) {
  run_.AddEvent(ev1::EVENT_TYPE_TIMER_STARTED, clock_.Now());  // event 2
  StartTimer("t1", 2, std::chrono::seconds(30));
  clock_.Advance(std::chrono::seconds(30));
  EXPECT_EQ(Fire("t1", 2), WorkflowTimers::Firing::kFired);
  ASSERT_EQ(run_.events.size(), 3u);
  const auto& e = run_.events[2];
  EXPECT_EQ(e.event_type(), ev1::EVENT_TYPE_TIMER_FIRED);
  EXPECT_EQ(e.event_id(), 3);
  EXPECT_EQ(FromProto(e.event_time()), clock_.Now());
  EXPECT_EQ(e.timer_fired_event_attributes().timer_id(), "t1");
  EXPECT_EQ(e.timer_fired_event_attributes().started_event_id(), 2);
  EXPECT_EQ(run_.st().timers_size(), 0);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
  EXPECT_EQ(run_.st().wft().scheduled_event_id(), 4);
  EXPECT_EQ(touched, 1u);
}

TEST_F(WorkflowTimersTest, ATimerFiringWhileATaskRunsIsBufferedWithoutAnotherTask) {
  StartTimer("t1", 2, std::chrono::seconds(1));
  run_.SetWorkflowTaskScheduledEventId(2);
  run_.SetWorkflowTaskStartedEventId(3);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Fire("t1", 2), WorkflowTimers::Firing::kFired);
  EXPECT_EQ(run_.events.size(), 1u);
  ASSERT_EQ(run_.st().buffered_events_size(), 1);
  EXPECT_EQ(run_.st().buffered_events(0).event_type(), ev1::EVENT_TYPE_TIMER_FIRED);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);
}

TEST_F(WorkflowTimersTest, EarlyAndStaleFiringsChangeNothing) {
  StartTimer("t1", 2, std::chrono::seconds(30));
  clock_.Advance(std::chrono::seconds(29));
  EXPECT_EQ(Fire("t1", 2), WorkflowTimers::Firing::kEarly);
  EXPECT_EQ(Fire("t1", 7), WorkflowTimers::Firing::kStale);  // the timer was started again since
  EXPECT_EQ(Fire("gone", 2), WorkflowTimers::Firing::kStale);
  EXPECT_EQ(run_.events.size(), 1u);
  EXPECT_EQ(run_.st().timers_size(), 1);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);
  EXPECT_EQ(touched, 0u);
}

TEST_F(WorkflowTimersTest, ARunTimeoutClosesTheRunAsTimedOut) {
  run_.SetWorkflowTaskScheduledEventId(2);
  run_.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, clock_.Now());
  clock_.Advance(std::chrono::seconds(60));
  Txn txn;
  timers_.TimeOutRun(txn, run_);
  EXPECT_EQ(host_.force_closed, std::vector<std::string>{""});
  EXPECT_EQ(host_.next_run_asked, 1);  // no execution deadline passed: a retry or cron may follow
  ASSERT_EQ(run_.events.size(), 3u);
  const auto& e = run_.events[2];
  EXPECT_EQ(e.event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT);
  EXPECT_EQ(FromProto(e.event_time()), clock_.Now());
  EXPECT_EQ(e.workflow_execution_timed_out_event_attributes().retry_state(), ev1::RETRY_STATE_RETRY_POLICY_NOT_SET);
  EXPECT_TRUE(e.workflow_execution_timed_out_event_attributes().new_execution_run_id().empty());
  EXPECT_EQ(run_.st().status(), ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT);
  EXPECT_FALSE(run_.wft_pending());
  EXPECT_EQ(host_.closed, std::vector<std::string>{"run-1"});
  EXPECT_TRUE(host_.started.empty());
  EXPECT_EQ(txn.touched.size(), 1u);
}

TEST_F(WorkflowTimersTest, ARetriedRunTimeoutNamesAndStartsTheNextRun) {
  host_.retry_run_id = "run-2";
  Txn txn;
  timers_.TimeOutRun(txn, run_);
  const auto& a = run_.events.back().workflow_execution_timed_out_event_attributes();
  EXPECT_EQ(a.retry_state(), ev1::RETRY_STATE_IN_PROGRESS);
  EXPECT_EQ(a.new_execution_run_id(), "run-2");
  EXPECT_EQ(host_.closed, std::vector<std::string>{"run-1 (continues)"});
  EXPECT_EQ(host_.started, std::vector<std::string>{"ns-id/run-2"});
}

TEST_F(WorkflowTimersTest, AnExpiredExecutionTimeoutIsNotRetried) {
  host_.retry_run_id = "run-2";
  EditState(run_, [&](state::ExecutionState& s) { *s.mutable_execution_expiration_time() = ToProto(clock_.Now()); });
  Txn txn;
  timers_.TimeOutRun(txn, run_);
  EXPECT_EQ(host_.next_run_asked, 0);
  const auto& a = run_.events.back().workflow_execution_timed_out_event_attributes();
  EXPECT_EQ(a.retry_state(), ev1::RETRY_STATE_TIMEOUT);
  EXPECT_TRUE(a.new_execution_run_id().empty());
  EXPECT_EQ(host_.closed, std::vector<std::string>{"run-1"});
  EXPECT_TRUE(host_.started.empty());
}

}  // namespace
}  // namespace temporalite::history
