// Transient workflow tasks (Temporal's semantics, issue 15 item 10): after a failed or timed-out
// workflow task, the retries (attempt > 1) write nothing to history until one completes; a poll
// shows their WorkflowTaskScheduled/Started as the tail of the history it returns; from attempt 4
// their start-to-close timeout carries Temporal's backoff; new events turn the retry into a
// normal attempt-1 task; the transient state survives a restart.
#include <algorithm>
#include <map>
#include <set>

#include "engine_test_util.h"

namespace temporalite::history::testing {
namespace {

class EngineTransientWftTest : public FileEngineTest {
 protected:
  Status FailWft(const std::string& token) {
    wsv1::RespondWorkflowTaskFailedRequest req;
    req.set_namespace_(kNamespace);
    req.set_task_token(token);
    req.set_identity(kWorker);
    req.set_cause(ev1::WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE);
    req.mutable_failure()->set_message("deployed bug");
    return Call([&](Done d) { engine_->RespondWorkflowTaskFailed(req, std::move(d)); });
  }
  static int64_t Seconds(const google::protobuf::Duration& d) { return d.seconds(); }
  static int64_t Millis(const google::protobuf::Duration& d) { return d.seconds() * 1000 + d.nanos() / 1000000; }
  static int64_t Nanos(const google::protobuf::Duration& d) { return d.seconds() * 1000000000 + d.nanos(); }
  // The pending task's start-to-close timeout in ms, as the next poll shows it (transient tail).
  int64_t PolledTimeoutMs(const wsv1::PollWorkflowTaskQueueResponse& t) { return PolledTimeoutNs(t) / 1000000; }
  int64_t PolledTimeoutNs(const wsv1::PollWorkflowTaskQueueResponse& t) {
    return Nanos(t.history().events(t.history().events_size() - 2).workflow_task_scheduled_event_attributes().start_to_close_timeout());
  }
};

const std::vector<ev1::EventType> kAfterFirstFailure = {
    ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED};

TEST_F(EngineTransientWftTest, RetriesAreTransientUntilOneCompletes) {
  StartWorkflow("wf-tr");
  auto t1 = PollWft();
  ASSERT_EQ(t1.attempt(), 1);
  ASSERT_TRUE(FailWft(t1.task_token()).ok());
  EXPECT_EQ(Types(History("wf-tr")), kAfterFirstFailure);

  // Attempts 2 (failed) and 3, 4 (timed out): history does not move.
  auto t2 = PollWft();
  ASSERT_EQ(t2.attempt(), 2);
  ASSERT_EQ(t2.history().events_size(), 6);
  const auto& sched = t2.history().events(4);
  const auto& started = t2.history().events(5);
  EXPECT_EQ(sched.event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(sched.event_id(), 5);
  EXPECT_EQ(sched.workflow_task_scheduled_event_attributes().attempt(), 2);
  EXPECT_EQ(started.event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED);
  EXPECT_EQ(started.event_id(), 6);
  EXPECT_EQ(started.workflow_task_started_event_attributes().scheduled_event_id(), 5);
  EXPECT_EQ(t2.started_event_id(), 6);
  ASSERT_TRUE(FailWft(t2.task_token()).ok());
  EXPECT_EQ(Types(History("wf-tr")), kAfterFirstFailure);

  auto t3 = PollWft();
  ASSERT_EQ(t3.attempt(), 3);
  EXPECT_EQ(Seconds(t3.history().events(4).workflow_task_scheduled_event_attributes().start_to_close_timeout()), 10);
  Advance(Sec(10));  // attempt 3 times out: nothing written
  EXPECT_EQ(Types(History("wf-tr")), kAfterFirstFailure);
  auto t4 = PollWft();
  ASSERT_EQ(t4.attempt(), 4);
  // Backoff from attempt 4: 10 s + 5 s, then + 10 s at attempt 5, each less up to 20 % jitter.
  const int64_t t4_ms = Millis(t4.history().events(4).workflow_task_scheduled_event_attributes().start_to_close_timeout());
  EXPECT_GE(t4_ms, 14000);
  EXPECT_LT(t4_ms, 15000);
  Advance(Sec(10));
  EXPECT_EQ(DescribeWf("wf-tr").pending_workflow_task().attempt(), 4);  // still running at 10 s
  Advance(Sec(5));
  EXPECT_EQ(Types(History("wf-tr")), kAfterFirstFailure);
  EXPECT_EQ(DescribeWf("wf-tr").pending_workflow_task().attempt(), 5);

  // The transient state is durable: a restart keeps attempt 5 and writes nothing.
  Restart();
  EXPECT_EQ(Types(History("wf-tr")), kAfterFirstFailure);
  auto t5 = PollWft();
  ASSERT_EQ(t5.attempt(), 5);
  const int64_t t5_ms = Millis(t5.history().events(4).workflow_task_scheduled_event_attributes().start_to_close_timeout());
  EXPECT_GE(t5_ms, 18000);
  EXPECT_LT(t5_ms, 20000);
  ASSERT_TRUE(CompleteWft(t5.task_token(), {CompleteWorkflow("done")}).ok());

  auto hist = History("wf-tr");
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(Types(hist), (std::vector<ev1::EventType>{
                             ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                             ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED,
                             ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED,
                             ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED}))
      << Describe(hist);
  EXPECT_EQ(hist[4].workflow_task_scheduled_event_attributes().attempt(), 5);
  EXPECT_EQ(hist[5].workflow_task_started_event_attributes().scheduled_event_id(), 5);
  EXPECT_EQ(hist[5].workflow_task_started_event_attributes().request_id(),
            t5.history().events(5).workflow_task_started_event_attributes().request_id());
  EXPECT_EQ(hist[6].workflow_task_completed_event_attributes().scheduled_event_id(), 5);
  EXPECT_EQ(hist[6].workflow_task_completed_event_attributes().started_event_id(), 6);
}

// Temporal's jitter on the workflow-task retry backoff: workflows failing together get timeouts
// spread over [80 %, 100 %) of the backoff, and each times out exactly at its own (SimClock).
TEST_F(EngineTransientWftTest, RetryBackoffHasJitterSpreadingWorkflowsThatFailTogether) {
  constexpr int kRuns = 8;
  for (int i = 0; i < kRuns; ++i) StartWorkflow("wf-jitter-" + std::to_string(i));
  // All fail attempts 1 and 2 together, and attempt 3 by timeout.
  for (int attempt = 1; attempt <= 2; ++attempt) {
    for (int i = 0; i < kRuns; ++i) {
      auto t = PollWft();
      ASSERT_EQ(t.attempt(), attempt);
      ASSERT_TRUE(FailWft(t.task_token()).ok());
    }
  }
  for (int i = 0; i < kRuns; ++i) ASSERT_EQ(PollWft().attempt(), 3);
  Advance(Sec(10));
  std::set<int64_t> distinct;
  std::map<std::string, int64_t> timeouts;
  for (int i = 0; i < kRuns; ++i) {
    auto t4 = PollWft();
    ASSERT_EQ(t4.attempt(), 4);
    const int64_t ms = PolledTimeoutMs(t4);
    EXPECT_GE(ms, 10000 + 4000);  // 10 s task timeout + 80 % of 5 s
    EXPECT_LT(ms, 10000 + 5000);
    distinct.insert(ms);
    timeouts[t4.workflow_execution().workflow_id()] = PolledTimeoutNs(t4);
  }
  EXPECT_GE(distinct.size(), kRuns - 2u) << "the backoffs are not spread";
  // Each times out at its own jittered deadline (ns): 1 ms before it attempt 4 is pending, at it 5.
  auto earliest = std::min_element(timeouts.begin(), timeouts.end(), [](auto& a, auto& b) { return a.second < b.second; });
  auto latest = std::max_element(timeouts.begin(), timeouts.end(), [](auto& a, auto& b) { return a.second < b.second; });
  ASSERT_LT(earliest->second, latest->second);
  Advance(std::chrono::nanoseconds(earliest->second) - std::chrono::milliseconds(1));
  EXPECT_EQ(DescribeWf(earliest->first).pending_workflow_task().attempt(), 4);
  Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(DescribeWf(earliest->first).pending_workflow_task().attempt(), 5);
  EXPECT_EQ(DescribeWf(latest->first).pending_workflow_task().attempt(), 4);
  Advance(std::chrono::nanoseconds(latest->second - earliest->second));
  EXPECT_EQ(DescribeWf(latest->first).pending_workflow_task().attempt(), 5);
  // Attempt 5's backoff: 10 s, jittered likewise.
  auto t5 = PollWft();
  ASSERT_EQ(t5.attempt(), 5);
  EXPECT_GE(PolledTimeoutMs(t5), 10000 + 8000);
  EXPECT_LT(PolledTimeoutMs(t5), 10000 + 10000);
}

TEST_F(EngineTransientWftTest, ANewEventMakesTheRetryANormalAttemptOneTask) {
  StartWorkflow("wf-tr-sig");
  auto t1 = PollWft();
  ASSERT_TRUE(FailWft(t1.task_token()).ok());
  // Attempt 2 is scheduled (transient); a signal lands in history before it starts.
  ASSERT_TRUE(Signal("wf-tr-sig", "wake").ok());
  auto t2 = PollWft();
  EXPECT_EQ(t2.attempt(), 1);
  auto hist = History("wf-tr-sig");
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(Types(hist), (std::vector<ev1::EventType>{
                             ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                             ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED,
                             ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                             ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED}))
      << Describe(hist);
  EXPECT_EQ(hist[5].workflow_task_scheduled_event_attributes().attempt(), 1);
  ASSERT_EQ(t2.history().events_size(), 7);  // exactly the durable history
  ASSERT_TRUE(CompleteWft(t2.task_token(), {CompleteWorkflow("done")}).ok());
  EXPECT_TRUE(WellFormed(History("wf-tr-sig")));
}

TEST_F(EngineTransientWftTest, ASignalWhileATransientTaskRunsIsBufferedThenFlushed) {
  StartWorkflow("wf-tr-buf");
  ASSERT_TRUE(FailWft(PollWft().task_token()).ok());
  auto t2 = PollWft();  // transient attempt 2, started
  ASSERT_EQ(t2.attempt(), 2);
  ASSERT_TRUE(Signal("wf-tr-buf", "late").ok());
  ASSERT_TRUE(CompleteWft(t2.task_token(), {}).ok());
  auto hist = History("wf-tr-buf");
  EXPECT_TRUE(WellFormed(hist)) << Describe(hist);
  EXPECT_EQ(Types(hist), (std::vector<ev1::EventType>{
                             ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                             ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED,
                             ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED,
                             ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
                             ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED}))
      << Describe(hist);
  EXPECT_EQ(hist[8].workflow_task_scheduled_event_attributes().attempt(), 1);
}

}  // namespace
}  // namespace temporalite::history::testing
