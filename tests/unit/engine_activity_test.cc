// Engine state-machine tests for activities: normalisation, lazy ActivityTaskStarted, retries in
// mutable state, timeouts, heartbeats, cancellation and recovery. Expected behaviour:
// /work/shared/protocol-notes.md §3 (normalisation) and §4.
#include "engine_test_util.h"

namespace temporalite::history::testing {
namespace {

using EngineActivityTest = EngineTest;
using EngineRecoveryTest = FileEngineTest;

int CountType(const std::vector<hv1::HistoryEvent>& events, ev1::EventType type) {
  int n = 0;
  for (const auto& e : events) n += e.event_type() == type;
  return n;
}

auto WithMaxAttempts(int n) {
  return [n](cmdv1::ScheduleActivityTaskCommandAttributes& a) { a.mutable_retry_policy()->set_maximum_attempts(n); };
}

TEST_F(EngineActivityTest, ScheduleStartCompleteWritesStartedLazily) {
  auto first = StartAndComplete("wf-act", {ScheduleActivity("a1", Sec(10))});
  auto hist = History("wf-act");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
  ASSERT_EQ(hist.size(), 5u);
  const auto& completed = hist[3].workflow_task_completed_event_attributes();
  EXPECT_EQ(completed.scheduled_event_id(), 2);
  EXPECT_EQ(completed.started_event_id(), 3);
  EXPECT_EQ(completed.identity(), kWorker);
  const auto& sched = hist[4].activity_task_scheduled_event_attributes();
  EXPECT_EQ(sched.activity_id(), "a1");
  EXPECT_EQ(sched.activity_type().name(), "TestActivity");
  EXPECT_EQ(sched.task_queue().name(), kTaskQueue) << "empty queue defaults to the workflow's";
  EXPECT_EQ(sched.workflow_task_completed_event_id(), 4);
  EXPECT_EQ(FromPb(sched.start_to_close_timeout()), Sec(10));
  EXPECT_EQ(FromPb(sched.schedule_to_close_timeout()), Duration::zero()) << "no run timeout";
  EXPECT_EQ(FromPb(sched.schedule_to_start_timeout()), Duration::zero()) << "no run timeout";
  EXPECT_EQ(FromPb(sched.heartbeat_timeout()), Duration::zero());
  ASSERT_TRUE(sched.has_retry_policy());
  EXPECT_EQ(FromPb(sched.retry_policy().initial_interval()), Sec(1));
  EXPECT_DOUBLE_EQ(sched.retry_policy().backoff_coefficient(), 2.0);
  EXPECT_EQ(FromPb(sched.retry_policy().maximum_interval()), Sec(100));
  EXPECT_EQ(sched.retry_policy().maximum_attempts(), 0);

  clock_.Advance(Ms(250));
  auto act = PollActivity();
  EXPECT_FALSE(act.task_token().empty());
  EXPECT_EQ(act.activity_id(), "a1");
  EXPECT_EQ(act.activity_type().name(), "TestActivity");
  EXPECT_EQ(act.workflow_namespace(), kNamespace);
  EXPECT_EQ(act.workflow_type().name(), "TestWorkflow");
  EXPECT_EQ(act.workflow_execution().workflow_id(), "wf-act");
  EXPECT_EQ(act.workflow_execution().run_id(), first.workflow_execution().run_id());
  ASSERT_EQ(act.input().payloads_size(), 1);
  EXPECT_EQ(act.input().payloads(0).data(), "\"input-a1\"");
  EXPECT_EQ(act.attempt(), 1);
  ASSERT_TRUE(act.has_scheduled_time());
  ASSERT_TRUE(act.has_current_attempt_scheduled_time());
  EXPECT_EQ(FromPb(act.scheduled_time()), FromPb(hist[4].event_time()));
  EXPECT_EQ(FromPb(act.current_attempt_scheduled_time()), FromPb(hist[4].event_time()));
  EXPECT_EQ(FromPb(act.started_time()), FromPb(hist[4].event_time()) + Ms(250));
  EXPECT_TRUE(act.has_schedule_to_close_timeout()) << "TS needs a zero duration rather than none";
  EXPECT_EQ(FromPb(act.start_to_close_timeout()), Sec(10));
  EXPECT_EQ(act.retry_policy().maximum_attempts(), 0);
  EXPECT_EQ(History("wf-act").size(), 5u) << "ActivityTaskStarted is written lazily, with the close event";

  ASSERT_TRUE(CompleteActivity(act.task_token(), "result").ok());
  hist = History("wf-act");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_TRUE(WellFormed(hist));
  ASSERT_EQ(hist.size(), 8u);
  const auto& started = hist[5].activity_task_started_event_attributes();
  EXPECT_EQ(started.scheduled_event_id(), 5);
  EXPECT_EQ(started.attempt(), 1);
  EXPECT_EQ(started.identity(), kWorker);
  EXPECT_FALSE(started.has_last_failure());
  EXPECT_EQ(FromPb(hist[5].event_time()), FromPb(act.started_time()));
  const auto& done = hist[6].activity_task_completed_event_attributes();
  EXPECT_EQ(done.scheduled_event_id(), 5);
  EXPECT_EQ(done.started_event_id(), 6);
  EXPECT_EQ(done.result().payloads(0).data(), "\"result\"");

  EXPECT_EQ(CompleteActivity(act.task_token(), "again").code(), Code::kNotFound);
  auto next = PollWft();
  EXPECT_EQ(next.previous_started_event_id(), 3);
  EXPECT_EQ(next.started_event_id(), 9);
  EXPECT_EQ(next.history().events_size(), 9);
}

TEST_F(EngineActivityTest, TimeoutsNormalisedAgainstRunTimeout) {
  StartWorkflow("wf-norm", [](auto& req) { *req.mutable_workflow_run_timeout() = PbDur(Sec(30)); });
  auto task = PollWft();
  ASSERT_TRUE(CompleteWft(task.task_token(),
                          {ScheduleActivity("stc-only", Sec(60)),
                           ScheduleActivity("s2c", Duration::zero(), [](auto& a) {
                             *a.mutable_schedule_to_close_timeout() = PbDur(Sec(20));
                             *a.mutable_heartbeat_timeout() = PbDur(Sec(40));
                           })})
                  .ok());
  auto hist = History("wf-norm");
  ASSERT_EQ(hist.size(), 6u) << Describe(hist);
  const auto& a = hist[4].activity_task_scheduled_event_attributes();
  EXPECT_EQ(FromPb(a.schedule_to_close_timeout()), Sec(30));
  EXPECT_EQ(FromPb(a.schedule_to_start_timeout()), Sec(30));
  EXPECT_EQ(FromPb(a.start_to_close_timeout()), Sec(30));
  const auto& b = hist[5].activity_task_scheduled_event_attributes();
  EXPECT_EQ(FromPb(b.schedule_to_close_timeout()), Sec(20));
  EXPECT_EQ(FromPb(b.schedule_to_start_timeout()), Sec(20));
  EXPECT_EQ(FromPb(b.start_to_close_timeout()), Sec(20));
  EXPECT_EQ(FromPb(b.heartbeat_timeout()), Sec(20)) << "heartbeat is capped at start_to_close";
}

TEST_F(EngineActivityTest, RetryLivesInMutableStateOnly) {
  StartAndComplete("wf-retry", {ScheduleActivity("a1", Sec(10))});
  auto attempt1 = PollActivity();
  ASSERT_EQ(attempt1.attempt(), 1);
  const TimePoint failed_at = clock_.Now();
  ASSERT_TRUE(FailActivity(attempt1.task_token(), AppFailure("boom")).ok());

  EXPECT_EQ(History("wf-retry").size(), 5u) << "a retry writes no events and schedules no workflow task";
  auto desc = DescribeWf("wf-retry");
  ASSERT_EQ(desc.pending_activities_size(), 1);
  const auto& pa = desc.pending_activities(0);
  EXPECT_EQ(pa.activity_id(), "a1");
  EXPECT_EQ(pa.attempt(), 2);
  EXPECT_EQ(pa.state(), ev1::PENDING_ACTIVITY_STATE_SCHEDULED);
  EXPECT_EQ(pa.last_failure().message(), "boom");
  EXPECT_EQ(FromPb(pa.next_attempt_schedule_time()), failed_at + Sec(1));
  EXPECT_FALSE(desc.has_pending_workflow_task());

  auto poll = StartActivityPoll();
  Advance(Sec(1) - Ms(1));
  EXPECT_FALSE(poll.finished()) << "dispatched before the backoff elapsed";
  Advance(Ms(1));
  auto attempt2 = Await(poll);
  EXPECT_EQ(attempt2.attempt(), 2);
  EXPECT_EQ(FromPb(attempt2.current_attempt_scheduled_time()), failed_at + Sec(1));
  EXPECT_EQ(FromPb(attempt2.scheduled_time()), FromPb(attempt1.scheduled_time()));
  EXPECT_EQ(CompleteActivity(attempt1.task_token(), "stale").code(), Code::kNotFound);

  ASSERT_TRUE(CompleteActivity(attempt2.task_token(), "ok").ok());
  auto hist = History("wf-retry");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_TRUE(WellFormed(hist));
  ASSERT_EQ(hist.size(), 8u);
  EXPECT_EQ(CountType(hist, ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED), 1);
  const auto& started = hist[5].activity_task_started_event_attributes();
  EXPECT_EQ(started.attempt(), 2);
  EXPECT_EQ(started.last_failure().message(), "boom");
  EXPECT_EQ(FromPb(hist[5].event_time()), failed_at + Sec(1));
  EXPECT_EQ(hist[6].activity_task_completed_event_attributes().started_event_id(), 6);
}

TEST_F(EngineActivityTest, NonRetryableFailureClosesActivity) {
  StartAndComplete("wf-nonretry", {ScheduleActivity("a1", Sec(10))});
  auto act = PollActivity();
  ASSERT_TRUE(FailActivity(act.task_token(), AppFailure("fatal", /*non_retryable=*/true)).ok());
  auto hist = History("wf-nonretry");
  ASSERT_EQ(hist.size(), 8u) << Describe(hist);
  EXPECT_EQ(hist[5].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  ASSERT_EQ(hist[6].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_FAILED);
  const auto& f = hist[6].activity_task_failed_event_attributes();
  EXPECT_EQ(f.failure().message(), "fatal");
  EXPECT_EQ(f.retry_state(), ev1::RETRY_STATE_NON_RETRYABLE_FAILURE);
  EXPECT_EQ(f.scheduled_event_id(), 5);
  EXPECT_EQ(f.started_event_id(), 6);
  EXPECT_EQ(hist[7].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
}

TEST_F(EngineActivityTest, StartToCloseTimeoutWithoutRetries) {
  StartAndComplete("wf-stc", {ScheduleActivity("a1", Sec(10), WithMaxAttempts(1))});
  auto act = PollActivity();
  Advance(Sec(10) - Ms(1));
  EXPECT_EQ(History("wf-stc").size(), 5u);
  Advance(Ms(1));

  auto hist = History("wf-stc");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_TRUE(WellFormed(hist));
  ASSERT_EQ(hist.size(), 8u);
  const auto& to = hist[6].activity_task_timed_out_event_attributes();
  EXPECT_EQ(to.failure().timeout_failure_info().timeout_type(), ev1::TIMEOUT_TYPE_START_TO_CLOSE);
  EXPECT_EQ(to.retry_state(), ev1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
  EXPECT_EQ(to.scheduled_event_id(), 5);
  EXPECT_EQ(to.started_event_id(), 6);
  EXPECT_EQ(CompleteActivity(act.task_token(), "too late").code(), Code::kNotFound);
}

TEST_F(EngineActivityTest, StartToCloseTimeoutRetries) {
  StartAndComplete("wf-stc-retry", {ScheduleActivity("a1", Sec(10))});
  PollActivity();
  Advance(Sec(10));
  EXPECT_EQ(History("wf-stc-retry").size(), 5u);
  auto desc = DescribeWf("wf-stc-retry");
  ASSERT_EQ(desc.pending_activities_size(), 1);
  EXPECT_EQ(desc.pending_activities(0).attempt(), 2);
  EXPECT_EQ(desc.pending_activities(0).last_failure().timeout_failure_info().timeout_type(),
            ev1::TIMEOUT_TYPE_START_TO_CLOSE);
  auto poll = StartActivityPoll();
  Advance(Sec(1));
  EXPECT_EQ(Await(poll).attempt(), 2);
}

TEST_F(EngineActivityTest, HeartbeatTimeout) {
  StartAndComplete("wf-hb", {ScheduleActivity("a1", Sec(60), [](auto& a) {
                     *a.mutable_heartbeat_timeout() = PbDur(Sec(2));
                     a.mutable_retry_policy()->set_maximum_attempts(1);
                   })});
  auto act = PollActivity();
  EXPECT_EQ(FromPb(act.heartbeat_timeout()), Sec(2));
  Advance(Sec(1));
  wsv1::RecordActivityTaskHeartbeatResponse hb;
  ASSERT_TRUE(Heartbeat(act.task_token(), "progress-1", &hb).ok());
  EXPECT_FALSE(hb.cancel_requested());

  Advance(Ms(1500));  // +2.5 s: within 2 s of the heartbeat
  EXPECT_EQ(History("wf-hb").size(), 5u);
  auto desc = DescribeWf("wf-hb");
  ASSERT_EQ(desc.pending_activities_size(), 1);
  EXPECT_EQ(desc.pending_activities(0).state(), ev1::PENDING_ACTIVITY_STATE_STARTED);
  EXPECT_EQ(desc.pending_activities(0).heartbeat_details().payloads(0).data(), "\"progress-1\"");

  Advance(Ms(600));  // +3.1 s: 2.1 s since the heartbeat
  auto hist = History("wf-hb");
  ASSERT_EQ(hist.size(), 8u) << Describe(hist);
  EXPECT_EQ(hist[5].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  ASSERT_EQ(hist[6].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT);
  const auto& to = hist[6].activity_task_timed_out_event_attributes();
  EXPECT_EQ(to.failure().timeout_failure_info().timeout_type(), ev1::TIMEOUT_TYPE_HEARTBEAT);
  EXPECT_EQ(to.failure().timeout_failure_info().last_heartbeat_details().payloads(0).data(), "\"progress-1\"");
  EXPECT_EQ(to.retry_state(), ev1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
  EXPECT_EQ(to.started_event_id(), 6);
  EXPECT_EQ(hist[7].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(Heartbeat(act.task_token(), "late").code(), Code::kNotFound);
}

TEST_F(EngineActivityTest, CancelUnstartedActivity) {
  StartAndComplete("wf-cancel", {ScheduleActivity("a1", Sec(10))});
  ASSERT_TRUE(Signal("wf-cancel", "cancel-it").ok());  // Signaled(6), WFTScheduled(7)
  auto task = PollWft();
  ASSERT_EQ(task.started_event_id(), 8);
  ASSERT_TRUE(CompleteWft(task.task_token(), {RequestCancelActivity(5)}).ok());

  auto hist = History("wf-cancel");
  ASSERT_EQ(hist.size(), 12u) << Describe(hist);
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(hist[8].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  ASSERT_EQ(hist[9].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED);
  EXPECT_EQ(hist[9].activity_task_cancel_requested_event_attributes().scheduled_event_id(), 5);
  EXPECT_EQ(hist[9].activity_task_cancel_requested_event_attributes().workflow_task_completed_event_id(), 9);
  ASSERT_EQ(hist[10].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_CANCELED);
  const auto& c = hist[10].activity_task_canceled_event_attributes();
  EXPECT_EQ(c.scheduled_event_id(), 5);
  EXPECT_EQ(c.started_event_id(), 0);
  EXPECT_EQ(c.latest_cancel_requested_event_id(), 10);
  ASSERT_EQ(c.details().payloads_size(), 1);
  EXPECT_EQ(c.details().payloads(0).data(), "ACTIVITY_ID_NOT_STARTED");
  EXPECT_EQ(hist[11].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(DescribeWf("wf-cancel").pending_activities_size(), 0);

  // The cancelled activity's queued task is stale.
  auto poll = StartActivityPoll(Sec(5));
  Advance(Sec(5));
  EXPECT_TRUE(Await(poll).task_token().empty());
}

TEST_F(EngineActivityTest, CancelStartedActivityWaitsForWorker) {
  StartAndComplete("wf-cancel-run", {ScheduleActivity("a1", Sec(60))});
  auto act = PollActivity();
  ASSERT_TRUE(Signal("wf-cancel-run", "cancel-it").ok());
  auto task = PollWft();
  ASSERT_TRUE(CompleteWft(task.task_token(), {RequestCancelActivity(5)}).ok());
  auto hist = History("wf-cancel-run");
  ASSERT_EQ(hist.size(), 10u) << "only CancelRequested while the activity runs\n" << Describe(hist);
  EXPECT_EQ(hist[9].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED);
  EXPECT_EQ(DescribeWf("wf-cancel-run").pending_activities(0).state(), ev1::PENDING_ACTIVITY_STATE_CANCEL_REQUESTED);

  wsv1::RecordActivityTaskHeartbeatResponse hb;
  ASSERT_TRUE(Heartbeat(act.task_token(), "x", &hb).ok());
  EXPECT_TRUE(hb.cancel_requested());
  ASSERT_TRUE(CancelActivity(act.task_token(), "bye").ok());
  hist = History("wf-cancel-run");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED, ev1::EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED, ev1::EVENT_TYPE_ACTIVITY_TASK_CANCELED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_TRUE(WellFormed(hist));
  ASSERT_EQ(hist.size(), 13u);
  const auto& c = hist[11].activity_task_canceled_event_attributes();
  EXPECT_EQ(c.started_event_id(), 11);
  EXPECT_EQ(c.latest_cancel_requested_event_id(), 10);
  EXPECT_EQ(c.details().payloads(0).data(), "\"bye\"");
}

TEST_F(EngineActivityTest, ActivityCompletedDuringStartedTaskIsBuffered) {
  StartAndComplete("wf-act-buf", {ScheduleActivity("a1", Sec(60))});
  auto act = PollActivity();
  ASSERT_TRUE(Signal("wf-act-buf", "s").ok());  // Signaled(6), WFTScheduled(7)
  auto task = PollWft();                         // WFTStarted(8)
  ASSERT_TRUE(CompleteActivity(act.task_token(), "r").ok());
  EXPECT_EQ(History("wf-act-buf").size(), 8u);
  ASSERT_TRUE(CompleteWft(task.task_token(), {}).ok());
  auto hist = History("wf-act-buf");
  ASSERT_EQ(hist.size(), 12u) << Describe(hist);
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(hist[8].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  EXPECT_EQ(hist[9].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  ASSERT_EQ(hist[10].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
  EXPECT_EQ(hist[10].activity_task_completed_event_attributes().started_event_id(), 10)
      << "the buffered Started placeholder must be resolved at flush";
  EXPECT_EQ(hist[11].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
}

TEST_F(EngineActivityTest, ScheduleToStartTimeout) {
  StartAndComplete("wf-s2s", {ScheduleActivity("a1", Sec(10), [](auto& a) {
                     *a.mutable_schedule_to_start_timeout() = PbDur(Sec(5));
                   })});
  Advance(Sec(5) - Ms(1));
  EXPECT_EQ(History("wf-s2s").size(), 5u);
  Advance(Ms(1));
  auto hist = History("wf-s2s");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
               ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  ASSERT_EQ(hist.size(), 7u);
  const auto& to = hist[5].activity_task_timed_out_event_attributes();
  EXPECT_EQ(to.failure().timeout_failure_info().timeout_type(), ev1::TIMEOUT_TYPE_SCHEDULE_TO_START);
  EXPECT_EQ(to.retry_state(), ev1::RETRY_STATE_TIMEOUT);
  EXPECT_EQ(to.started_event_id(), 0);
}

// Only schedule-to-close set and no worker: schedule-to-start defaults to it and is what
// Temporal reports (SDK code checking the type relies on it).
TEST_F(EngineActivityTest, OnlyScheduleToCloseAndNoWorkerReportsScheduleToStart) {
  StartAndComplete("wf-s2c-only", {ScheduleActivity("a1", Duration::zero(), [](auto& a) {
                     *a.mutable_schedule_to_close_timeout() = PbDur(Sec(5));
                   })});
  Advance(Sec(5));
  auto hist = History("wf-s2c-only");
  ASSERT_EQ(hist.size(), 7u) << Describe(hist);
  ASSERT_EQ(hist[5].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT);
  const auto& to = hist[5].activity_task_timed_out_event_attributes();
  EXPECT_EQ(to.failure().timeout_failure_info().timeout_type(), ev1::TIMEOUT_TYPE_SCHEDULE_TO_START);
  EXPECT_EQ(to.retry_state(), ev1::RETRY_STATE_TIMEOUT);
}

TEST_F(EngineActivityTest, StartToCloseTimeoutWithoutTimeToRetryReportsScheduleToClose) {
  StartAndComplete("wf-s2c", {ScheduleActivity("a1", Ms(2500), [](auto& a) {
                     *a.mutable_schedule_to_close_timeout() = PbDur(Sec(3));
                   })});
  PollActivity();
  Advance(Ms(2500));  // retrying would need until 3.5 s > 3 s
  auto hist = History("wf-s2c");
  ASSERT_EQ(hist.size(), 8u) << Describe(hist);
  EXPECT_EQ(hist[5].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  ASSERT_EQ(hist[6].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT);
  const auto& to = hist[6].activity_task_timed_out_event_attributes();
  EXPECT_EQ(to.failure().timeout_failure_info().timeout_type(), ev1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE);
  EXPECT_EQ(to.retry_state(), ev1::RETRY_STATE_TIMEOUT);
  EXPECT_EQ(to.started_event_id(), 6);
}

TEST_F(EngineActivityTest, NextRetryDelayAndHeartbeatDetailsCarryOver) {
  StartAndComplete("wf-delay-retry", {ScheduleActivity("a1", Sec(60))});
  auto attempt1 = PollActivity();
  ASSERT_TRUE(Heartbeat(attempt1.task_token(), "hb-1").ok());
  auto f = AppFailure("later");
  *f.mutable_application_failure_info()->mutable_next_retry_delay() = PbDur(Sec(3));
  ASSERT_TRUE(FailActivity(attempt1.task_token(), f).ok());
  auto poll = StartActivityPoll();
  Advance(Sec(3) - Ms(1));
  EXPECT_FALSE(poll.finished()) << "next_retry_delay overrides the policy's 1 s";
  Advance(Ms(1));
  auto attempt2 = Await(poll);
  EXPECT_EQ(attempt2.attempt(), 2);
  ASSERT_EQ(attempt2.heartbeat_details().payloads_size(), 1);
  EXPECT_EQ(attempt2.heartbeat_details().payloads(0).data(), "\"hb-1\"");
  EXPECT_EQ(Heartbeat(attempt1.task_token(), "stale").code(), Code::kNotFound);
}

TEST_F(EngineActivityTest, DuplicateActivityIdFailsTheTask) {
  StartWorkflow("wf-dup-act");
  auto task = PollWft();
  Status s = CompleteWft(task.task_token(), {ScheduleActivity("a1", Sec(5)), ScheduleActivity("a1", Sec(5))});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("ScheduleActivityDuplicateId: ", 0), 0u) << s.message();
  auto hist = History("wf-dup-act");
  ASSERT_EQ(hist.size(), 4u) << Describe(hist);  // the retry (attempt 2) is transient
  EXPECT_EQ(hist[3].workflow_task_failed_event_attributes().cause(),
            ev1::WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID);
  EXPECT_EQ(DescribeWf("wf-dup-act").pending_activities_size(), 0) << "nothing of the failed task applies";
}

TEST_F(EngineActivityTest, CompleteByIdWithoutPoll) {
  StartAndComplete("wf-by-id", {ScheduleActivity("a1", Sec(10))});
  wsv1::RespondActivityTaskCompletedByIdRequest req;
  req.set_namespace_(kNamespace);
  req.set_workflow_id("wf-by-id");
  req.set_activity_id("a1");
  req.set_identity("by-id");
  *req.mutable_result() = TextPayloads("r");
  ASSERT_TRUE(Call([&](Done d) { engine_->RespondActivityTaskCompletedById(req, std::move(d)); }).ok());
  auto hist = History("wf-by-id");
  ASSERT_EQ(hist.size(), 8u) << Describe(hist);
  EXPECT_EQ(hist[5].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  EXPECT_EQ(hist[6].activity_task_completed_event_attributes().started_event_id(), 6);
  EXPECT_EQ(hist[6].activity_task_completed_event_attributes().identity(), "by-id");
}

// A rejected by-id call must not change the activity: it stays pollable.
TEST_F(EngineActivityTest, RejectedCancelByIdLeavesActivityPollable) {
  StartAndComplete("wf-cancel-by-id", {ScheduleActivity("a1", Sec(10))});
  wsv1::RespondActivityTaskCanceledByIdRequest req;
  req.set_namespace_(kNamespace);
  req.set_workflow_id("wf-cancel-by-id");
  req.set_activity_id("a1");
  EXPECT_EQ(Call([&](Done d) { engine_->RespondActivityTaskCanceledById(req, std::move(d)); }).code(),
            Code::kInvalidArgument)
      << "cancellation was not requested";
  auto desc = DescribeWf("wf-cancel-by-id");
  ASSERT_EQ(desc.pending_activities_size(), 1);
  EXPECT_EQ(desc.pending_activities(0).state(), ev1::PENDING_ACTIVITY_STATE_SCHEDULED);
  auto poll = StartActivityPoll(Sec(5));
  Advance(Sec(5));
  EXPECT_EQ(Await(poll).activity_id(), "a1");
}

// A by-id heartbeat on an attempt nobody polled either fails (the attempt stays pollable) or
// starts it; a started attempt must be bounded by start_to_close.
TEST_F(EngineActivityTest, HeartbeatByIdOnUnstartedAttemptDoesNotStrandIt) {
  StartAndComplete("wf-hb-by-id", {ScheduleActivity("a1", Sec(10))});
  Advance(Ms(1));  // the activity waits in its queue; timers due so far have run
  wsv1::RecordActivityTaskHeartbeatByIdRequest req;
  req.set_namespace_(kNamespace);
  req.set_workflow_id("wf-hb-by-id");
  req.set_activity_id("a1");
  Status s = Call<wsv1::RecordActivityTaskHeartbeatByIdResponse>(
      [&](auto* r, Done d) { engine_->RecordActivityTaskHeartbeatById(req, r, std::move(d)); }, nullptr);
  if (!s.ok()) {
    EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
    EXPECT_EQ(PollActivity().activity_id(), "a1");
    return;
  }
  Advance(Sec(10));
  auto desc = DescribeWf("wf-hb-by-id");
  ASSERT_EQ(desc.pending_activities_size(), 1);
  EXPECT_EQ(desc.pending_activities(0).attempt(), 2) << "attempt 1 must time out after start_to_close";
}

TEST_F(EngineRecoveryTest, PendingActivitySurvivesRestart) {
  StartAndComplete("wf-recover", {ScheduleActivity("a1", Sec(10))});
  ASSERT_EQ(History("wf-recover").size(), 5u);
  Restart();

  auto act = PollActivity();
  EXPECT_EQ(act.activity_id(), "a1");
  EXPECT_EQ(act.attempt(), 1);
  EXPECT_EQ(act.input().payloads(0).data(), "\"input-a1\"");
  ASSERT_TRUE(CompleteActivity(act.task_token(), "after-restart").ok());
  auto hist = History("wf-recover");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED,
               ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_TRUE(WellFormed(hist));
  auto next = PollWft();
  EXPECT_EQ(next.previous_started_event_id(), 3);
  EXPECT_EQ(next.started_event_id(), 9);

  // And again, with the workflow task started at the restart: its timeout is re-armed.
  Restart();
  EXPECT_EQ(CompleteWft(next.task_token(), {}).ok(), true) << "a started task survives a restart";
  hist = History("wf-recover");
  ASSERT_EQ(hist.size(), 10u) << Describe(hist);
  EXPECT_TRUE(WellFormed(hist));
}

TEST_F(EngineRecoveryTest, StartedActivityTimesOutAfterRestart) {
  StartAndComplete("wf-recover-timeout", {ScheduleActivity("a1", Sec(10), WithMaxAttempts(1))});
  PollActivity();
  Restart();
  Advance(Sec(10));
  auto hist = History("wf-recover-timeout");
  ASSERT_EQ(hist.size(), 8u) << Describe(hist);
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(hist[6].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT);
}

TEST_F(EngineRecoveryTest, StartedWorkflowTaskTimesOutAfterRestart) {
  StartWorkflow("wf-recover-wft");
  PollWft();
  Restart();
  Advance(Sec(10));
  auto hist = History("wf-recover-wft");
  ASSERT_GE(hist.size(), 4u) << Describe(hist);
  EXPECT_EQ(hist[3].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
  EXPECT_EQ(PollWft().attempt(), 2);
}

TEST_F(EngineRecoveryTest, TimerAndBufferedSignalSurviveRestart) {
  StartAndComplete("wf-recover-buf", {StartTimer("t1", Sec(30))});
  ASSERT_TRUE(Signal("wf-recover-buf", "s1").ok());  // 6 Signaled, 7 WFTScheduled
  auto task = PollWft();                             // 8 WFTStarted
  ASSERT_TRUE(Signal("wf-recover-buf", "s2").ok());  // buffered
  Restart();
  EXPECT_EQ(History("wf-recover-buf").size(), 8u);
  ASSERT_TRUE(CompleteWft(task.task_token(), {}).ok());
  auto hist = History("wf-recover-buf");
  ASSERT_EQ(hist.size(), 11u) << Describe(hist);
  EXPECT_EQ(hist[9].workflow_execution_signaled_event_attributes().signal_name(), "s2");
  EXPECT_EQ(hist[10].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  auto next = PollWft();
  ASSERT_TRUE(CompleteWft(next.task_token(), {}).ok());
  Advance(Sec(30));
  hist = History("wf-recover-buf");
  ASSERT_EQ(hist.size(), 15u) << Describe(hist);
  EXPECT_EQ(hist[13].event_type(), ev1::EVENT_TYPE_TIMER_FIRED);
  EXPECT_TRUE(WellFormed(hist));
}

}  // namespace
}  // namespace temporalite::history::testing
