// Engine state-machine tests: workflow tasks, buffering, timers, timeouts, terminate, start
// dedupe and command validation. Expected behaviour: /work/shared/protocol-notes.md §1, §3, §5.
// Activities are in engine_activity_test.cc.
#include <google/protobuf/any.pb.h>

#include "engine_test_util.h"
#include "history/dynamic_config.h"

namespace temporalite::history::testing {
namespace {

using EngineWorkflowTest = EngineTest;

TEST_F(EngineWorkflowTest, StartThenPollDeliversFirstTask) {
  const std::string run_id = StartWorkflow("wf-start");
  ASSERT_FALSE(run_id.empty());

  auto task = PollWft();
  EXPECT_FALSE(task.task_token().empty());
  EXPECT_EQ(task.workflow_execution().workflow_id(), "wf-start");
  EXPECT_EQ(task.workflow_execution().run_id(), run_id);
  EXPECT_EQ(task.workflow_type().name(), "TestWorkflow");
  EXPECT_EQ(task.started_event_id(), 3);
  EXPECT_EQ(task.previous_started_event_id(), 0);
  EXPECT_EQ(task.attempt(), 1);
  EXPECT_EQ(task.workflow_execution_task_queue().name(), kTaskQueue);
  EXPECT_EQ(task.workflow_execution_task_queue().kind(), ev1::TASK_QUEUE_KIND_NORMAL);
  EXPECT_TRUE(task.has_scheduled_time());
  EXPECT_TRUE(task.has_started_time());

  std::vector<hv1::HistoryEvent> polled(task.history().events().begin(), task.history().events().end());
  EXPECT_TYPES(polled, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED);
  EXPECT_TRUE(WellFormed(polled));
  ASSERT_EQ(polled.size(), 3u);
  EXPECT_EQ(polled.back().event_id(), task.started_event_id());

  const auto& started = polled[0].workflow_execution_started_event_attributes();
  EXPECT_EQ(started.workflow_type().name(), "TestWorkflow");
  EXPECT_EQ(started.task_queue().name(), kTaskQueue);
  EXPECT_EQ(FromPb(started.workflow_task_timeout()), Sec(10));
  EXPECT_EQ(started.attempt(), 1);
  EXPECT_EQ(started.original_execution_run_id(), run_id);
  EXPECT_EQ(started.first_execution_run_id(), run_id);
  EXPECT_EQ(started.input().payloads(0).data(), "\"workflow-input\"");
  const auto& sched = polled[1].workflow_task_scheduled_event_attributes();
  EXPECT_EQ(sched.task_queue().name(), kTaskQueue);
  EXPECT_EQ(sched.task_queue().kind(), ev1::TASK_QUEUE_KIND_NORMAL);
  EXPECT_EQ(FromPb(sched.start_to_close_timeout()), Sec(10));
  EXPECT_EQ(sched.attempt(), 1);
  EXPECT_EQ(polled[2].workflow_task_started_event_attributes().scheduled_event_id(), 2);
  EXPECT_EQ(polled[2].workflow_task_started_event_attributes().identity(), kWorker);

  // The client's view is the same durable history.
  auto hist = History("wf-start");
  ASSERT_EQ(hist.size(), 3u);
  for (size_t i = 0; i < hist.size(); ++i) EXPECT_EQ(hist[i].SerializeAsString(), polled[i].SerializeAsString());
}

TEST_F(EngineWorkflowTest, SecondPollWithoutTaskExpiresEmpty) {
  StartWorkflow("wf-empty");
  PollWft();
  auto poll = StartWftPoll(Sec(5));
  Advance(Sec(4));
  EXPECT_FALSE(poll.finished());
  Advance(Sec(1));
  auto resp = Await(poll);
  EXPECT_EQ(resp.ByteSizeLong(), 0u) << "an expired poll must be all-default: " << resp.ShortDebugString();
}

TEST_F(EngineWorkflowTest, SignalDuringStartedTaskIsBufferedThenFlushedAfterCommandEvents) {
  StartWorkflow("wf-buf");
  auto task = PollWft();
  ASSERT_TRUE(Signal("wf-buf", "sig1").ok());

  // Nothing may be appended after WorkflowTaskStarted while the task runs.
  auto during = History("wf-buf");
  EXPECT_EQ(during.size(), 3u) << Describe(during);

  ASSERT_TRUE(CompleteWft(task.task_token(), {StartTimer("t1", Sec(60))}).ok());
  auto hist = History("wf-buf");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_TIMER_STARTED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_TRUE(WellFormed(hist));
  ASSERT_EQ(hist.size(), 7u);
  EXPECT_EQ(hist[5].workflow_execution_signaled_event_attributes().signal_name(), "sig1");
  EXPECT_EQ(hist[6].workflow_task_scheduled_event_attributes().attempt(), 1);

  auto next = PollWft();
  EXPECT_EQ(next.previous_started_event_id(), 3);
  EXPECT_EQ(next.started_event_id(), 8);
}

TEST_F(EngineWorkflowTest, SignalWhileTaskOnlyScheduledIsAppendedWithoutExtraTask) {
  StartWorkflow("wf-sched-sig");
  ASSERT_TRUE(Signal("wf-sched-sig", "early").ok());
  auto task = PollWft();
  std::vector<hv1::HistoryEvent> polled(task.history().events().begin(), task.history().events().end());
  EXPECT_TYPES(polled, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED);
  EXPECT_TRUE(WellFormed(polled));
  EXPECT_EQ(task.started_event_id(), 4);
  ASSERT_TRUE(CompleteWft(task.task_token(), {}).ok());
  EXPECT_EQ(History("wf-sched-sig").size(), 5u) << "no new input, so no new workflow task";
}

TEST_F(EngineWorkflowTest, ClosingOverBufferedSignalFailsWithUnhandledCommand) {
  StartWorkflow("wf-unhandled");
  auto task = PollWft();
  ASSERT_TRUE(Signal("wf-unhandled", "late").ok());

  Status s = CompleteWft(task.task_token(), {CompleteWorkflow("done")});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "UnhandledCommand");

  auto hist = History("wf-unhandled");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED,
               ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_TRUE(WellFormed(hist));
  ASSERT_EQ(hist.size(), 6u);
  const auto& failed = hist[3].workflow_task_failed_event_attributes();
  EXPECT_EQ(failed.cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND);
  EXPECT_EQ(failed.scheduled_event_id(), 2);
  EXPECT_EQ(failed.started_event_id(), 3);
  EXPECT_EQ(DescribeWf("wf-unhandled").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);

  // The worker sees the signal and may now close the run.
  auto next = PollWft();
  EXPECT_EQ(next.previous_started_event_id(), 0) << "no workflow task has completed yet";
  EXPECT_EQ(next.started_event_id(), 7);
  ASSERT_TRUE(CompleteWft(next.task_token(), {CompleteWorkflow("done")}).ok());
  auto closed = History("wf-unhandled");
  ASSERT_EQ(closed.size(), 9u) << Describe(closed);
  EXPECT_EQ(closed.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  EXPECT_EQ(DescribeWf("wf-unhandled").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

// protocol-notes §1.4/§1.6: buffered events flushed at reschedule make the next task a normal
// task with attempt 1 (Temporal resets the attempt when it flushes buffered events).
TEST_F(EngineWorkflowTest, TaskAfterUnhandledCommandHasAttemptOne) {
    StartWorkflow("wf-unhandled-attempt");
  auto task = PollWft();
  ASSERT_TRUE(Signal("wf-unhandled-attempt", "late").ok());
  EXPECT_EQ(CompleteWft(task.task_token(), {CompleteWorkflow("done")}).code(), Code::kInvalidArgument);
  auto hist = History("wf-unhandled-attempt");
  ASSERT_EQ(hist.size(), 6u) << Describe(hist);
  EXPECT_EQ(hist[5].workflow_task_scheduled_event_attributes().attempt(), 1);
  EXPECT_EQ(PollWft().attempt(), 1);
}

TEST_F(EngineWorkflowTest, StartToCloseTimeoutReschedulesWithNextAttempt) {
  StartWorkflow("wf-wft-timeout");
  auto task = PollWft();
  Advance(Sec(10) - Ms(1));
  EXPECT_EQ(History("wf-wft-timeout").size(), 3u);
  Advance(Ms(1));

  auto hist = History("wf-wft-timeout");
  ASSERT_GE(hist.size(), 4u) << Describe(hist);
  EXPECT_TRUE(WellFormed(hist));
  ASSERT_EQ(hist[3].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) << Describe(hist);
  const auto& to = hist[3].workflow_task_timed_out_event_attributes();
  EXPECT_EQ(to.timeout_type(), ev1::TIMEOUT_TYPE_START_TO_CLOSE);
  EXPECT_EQ(to.scheduled_event_id(), 2);
  EXPECT_EQ(to.started_event_id(), 3);

  EXPECT_EQ(CompleteWft(task.task_token(), {}).code(), Code::kNotFound) << "stale token";

  auto retry = PollWft();
  EXPECT_EQ(retry.attempt(), 2);
  EXPECT_EQ(retry.previous_started_event_id(), 0);
  ASSERT_GE(retry.history().events_size(), 2);
  const auto& sched = retry.history().events(retry.history().events_size() - 2);
  ASSERT_EQ(sched.event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(sched.workflow_task_scheduled_event_attributes().attempt(), 2);
  EXPECT_EQ(retry.history().events(retry.history().events_size() - 1).event_id(), retry.started_event_id());
  EXPECT_EQ(retry.started_event_id(), 6);
  EXPECT_TRUE(CompleteWft(retry.task_token(), {}).ok());
}

// protocol-notes §1.6: a retried task (attempt > 1) is transient; its Scheduled/Started events are
// only in the poll response until it completes, and further failures write nothing.
TEST_F(EngineWorkflowTest, RetriedTaskIsTransient) {
  StartWorkflow("wf-transient");
  PollWft();
  Advance(Sec(10));
  EXPECT_EQ(History("wf-transient").size(), 4u) << "only WorkflowTaskTimedOut is durable";
  auto retry = PollWft();
  EXPECT_EQ(retry.started_event_id(), 6);
  Advance(Sec(10));
  EXPECT_EQ(History("wf-transient").size(), 4u) << "a failing transient task writes nothing";
  auto third = PollWft();
  EXPECT_EQ(third.attempt(), 3);
  EXPECT_EQ(third.started_event_id(), 6);
  ASSERT_TRUE(CompleteWft(third.task_token(), {}).ok());
  auto hist = History("wf-transient");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
               ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
}

TEST_F(EngineWorkflowTest, WorkflowTaskFailedByWorkerReschedules) {
  StartWorkflow("wf-wft-failed");
  auto task = PollWft();
  wsv1::RespondWorkflowTaskFailedRequest req;
  req.set_namespace_(kNamespace);
  req.set_task_token(task.task_token());
  req.set_cause(ev1::WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE);
  *req.mutable_failure() = AppFailure("nondeterminism");
  req.set_identity(kWorker);
  ASSERT_TRUE(Call([&](Done d) { engine_->RespondWorkflowTaskFailed(req, std::move(d)); }).ok());
  auto hist = History("wf-wft-failed");
  ASSERT_GE(hist.size(), 4u) << Describe(hist);
  ASSERT_EQ(hist[3].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED);
  const auto& f = hist[3].workflow_task_failed_event_attributes();
  EXPECT_EQ(f.cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE);
  EXPECT_EQ(f.failure().message(), "nondeterminism");
  EXPECT_EQ(f.identity(), kWorker);
  EXPECT_EQ(PollWft().attempt(), 2);
}

TEST_F(EngineWorkflowTest, UserTimerFires) {
  StartAndComplete("wf-timer", {StartTimer("t1", Sec(5))});
  auto hist = History("wf-timer");
  ASSERT_EQ(hist.size(), 5u) << Describe(hist);
  ASSERT_EQ(hist[4].event_type(), ev1::EVENT_TYPE_TIMER_STARTED);
  EXPECT_EQ(hist[4].timer_started_event_attributes().timer_id(), "t1");
  EXPECT_EQ(FromPb(hist[4].timer_started_event_attributes().start_to_fire_timeout()), Sec(5));
  EXPECT_EQ(hist[4].timer_started_event_attributes().workflow_task_completed_event_id(), 4);

  Advance(Sec(5) - Ms(1));
  EXPECT_EQ(History("wf-timer").size(), 5u) << "fired early";
  Advance(Ms(1));
  hist = History("wf-timer");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_TIMER_STARTED, ev1::EVENT_TYPE_TIMER_FIRED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_TRUE(WellFormed(hist));
  ASSERT_EQ(hist.size(), 7u);
  EXPECT_EQ(hist[5].timer_fired_event_attributes().timer_id(), "t1");
  EXPECT_EQ(hist[5].timer_fired_event_attributes().started_event_id(), 5);
  EXPECT_EQ(FromPb(hist[5].event_time()), FromPb(hist[4].event_time()) + Sec(5));
  auto next = PollWft();
  EXPECT_EQ(next.previous_started_event_id(), 3);
  EXPECT_EQ(next.started_event_id(), 8);
}

TEST_F(EngineWorkflowTest, TimerFiringDuringStartedTaskIsBuffered) {
  StartAndComplete("wf-timer-buf", {StartTimer("t1", Sec(5)), StartTimer("t2", Sec(60))});
  ASSERT_TRUE(Signal("wf-timer-buf", "wake").ok());
  auto task = PollWft();  // Signaled(7), WFTScheduled(8), WFTStarted(9)
  EXPECT_EQ(task.started_event_id(), 9);
  Advance(Sec(5));
  EXPECT_EQ(History("wf-timer-buf").size(), 9u) << "TimerFired must be buffered while the task runs";
  ASSERT_TRUE(CompleteWft(task.task_token(), {}).ok());
  auto hist = History("wf-timer-buf");
  ASSERT_EQ(hist.size(), 12u) << Describe(hist);
  EXPECT_EQ(hist[9].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  EXPECT_EQ(hist[10].event_type(), ev1::EVENT_TYPE_TIMER_FIRED);
  EXPECT_EQ(hist[10].timer_fired_event_attributes().started_event_id(), 5);
  EXPECT_EQ(hist[11].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_TRUE(WellFormed(hist));
}

TEST_F(EngineWorkflowTest, RunTimeoutClosesWorkflow) {
  StartWorkflow("wf-run-timeout", [](auto& req) { *req.mutable_workflow_run_timeout() = PbDur(Sec(30)); });
  StartWorkflow("wf-exec-timeout", [](auto& req) { *req.mutable_workflow_execution_timeout() = PbDur(Sec(30)); });
  auto hist = History("wf-run-timeout");
  EXPECT_EQ(FromPb(hist[0].workflow_execution_started_event_attributes().workflow_run_timeout()), Sec(30));
  EXPECT_EQ(FromPb(History("wf-exec-timeout")[0].workflow_execution_started_event_attributes().workflow_run_timeout()),
            Sec(30))
      << "run timeout defaults to the execution timeout";
  Advance(Sec(30) - Ms(1));
  EXPECT_EQ(DescribeWf("wf-run-timeout").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  Advance(Ms(1));

  hist = History("wf-run-timeout");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT);
  EXPECT_TRUE(WellFormed(hist));
  ASSERT_EQ(hist.size(), 3u);
  // No workflow retry policy was given (protocol-notes §3, "Workflow retry").
  EXPECT_EQ(hist[2].workflow_execution_timed_out_event_attributes().retry_state(), ev1::RETRY_STATE_RETRY_POLICY_NOT_SET);
  auto exec = History("wf-exec-timeout");
  ASSERT_EQ(exec.size(), 3u) << Describe(exec);
  EXPECT_EQ(exec[2].workflow_execution_timed_out_event_attributes().retry_state(), ev1::RETRY_STATE_TIMEOUT)
      << "the execution timeout ends the chain";
  auto desc = DescribeWf("wf-run-timeout");
  EXPECT_EQ(desc.workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT);
  EXPECT_TRUE(desc.workflow_execution_info().has_close_time());
  EXPECT_FALSE(desc.has_pending_workflow_task());

  // The task left in the queue is stale: a poll gets nothing.
  auto poll = StartWftPoll(Sec(5));
  Advance(Sec(5));
  EXPECT_TRUE(Await(poll).task_token().empty());
  EXPECT_EQ(Signal("wf-run-timeout", "late").code(), Code::kNotFound);
}

TEST_F(EngineWorkflowTest, RunTimeoutForceClosesStartedTask) {
  StartWorkflow("wf-run-timeout-wft", [](auto& req) { *req.mutable_workflow_run_timeout() = PbDur(Sec(30)); });
  Advance(Sec(25));
  auto task = PollWft();
  Advance(Sec(5));
  auto hist = History("wf-run-timeout-wft");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED,
               ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT);
  ASSERT_EQ(hist.size(), 5u);
  EXPECT_EQ(hist[3].workflow_task_failed_event_attributes().cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND);
  EXPECT_EQ(CompleteWft(task.task_token(), {}).code(), Code::kNotFound);
}

TEST_F(EngineWorkflowTest, TerminateWhileTaskStarted) {
  StartWorkflow("wf-term");
  auto task = PollWft();
  ASSERT_TRUE(Signal("wf-term", "buffered").ok());
  ASSERT_TRUE(Terminate("wf-term", "enough").ok());

  auto hist = History("wf-term");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED,
               ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
  EXPECT_TRUE(WellFormed(hist));
  ASSERT_EQ(hist.size(), 6u);
  const auto& failed = hist[3].workflow_task_failed_event_attributes();
  EXPECT_EQ(failed.cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND);
  EXPECT_EQ(failed.scheduled_event_id(), 2);
  EXPECT_EQ(failed.started_event_id(), 3);
  EXPECT_EQ(hist[5].workflow_execution_terminated_event_attributes().reason(), "enough");
  EXPECT_EQ(hist[5].workflow_execution_terminated_event_attributes().identity(), "client");

  EXPECT_EQ(CompleteWft(task.task_token(), {CompleteWorkflow("late")}).code(), Code::kNotFound);
  EXPECT_EQ(History("wf-term").size(), 6u);
  EXPECT_EQ(DescribeWf("wf-term").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_EQ(Terminate("wf-term", "again").code(), Code::kNotFound);
}

TEST_F(EngineWorkflowTest, DuplicateStart) {
  auto req = StartRequest("wf-dup");
  wsv1::StartWorkflowExecutionResponse first;
  ASSERT_TRUE(Start(req, &first).ok());
  EXPECT_TRUE(first.started());

  // Same request id (a client retry): same run, not started again; answered "started" as the
  // first reply was (Temporal's respondToRetriedRequest).
  wsv1::StartWorkflowExecutionResponse retry;
  ASSERT_TRUE(Start(req, &retry).ok());
  EXPECT_EQ(retry.run_id(), first.run_id());
  EXPECT_TRUE(retry.started());

  // Another request id: ALREADY_EXISTS with WorkflowExecutionAlreadyStartedFailure.
  req.set_request_id("another-request");
  wsv1::StartWorkflowExecutionResponse other;
  Status s = Start(req, &other);
  ASSERT_EQ(s.code(), Code::kAlreadyExists);
  ASSERT_FALSE(s.details().empty());
  google::protobuf::Any any;
  ASSERT_TRUE(any.ParseFromString(s.details()));
  ::temporal::api::errordetails::v1::WorkflowExecutionAlreadyStartedFailure detail;
  ASSERT_TRUE(any.UnpackTo(&detail)) << any.type_url();
  EXPECT_EQ(detail.run_id(), first.run_id());
  EXPECT_EQ(detail.start_request_id(), "req-wf-dup");

  EXPECT_EQ(History("wf-dup").size(), 2u) << "no second run, no extra events";
}

TEST_F(EngineWorkflowTest, ClosingCommandNotLastIsRejectedWithoutEvents) {
  StartWorkflow("wf-bad");
  auto task = PollWft();
  Status s = CompleteWft(task.task_token(), {CompleteWorkflow("r"), StartTimer("t1", Sec(1))});
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  auto hist = History("wf-bad");
  EXPECT_EQ(hist.size(), 3u) << "nothing written, not even WorkflowTaskFailed:\n" << Describe(hist);
  EXPECT_EQ(DescribeWf("wf-bad").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);

  // The task is still started; a valid completion with the same token closes the run.
  ASSERT_TRUE(CompleteWft(task.task_token(), {CompleteWorkflow("r")}).ok());
  hist = History("wf-bad");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  EXPECT_EQ(hist[4].workflow_execution_completed_event_attributes().workflow_task_completed_event_id(), 4);
}

TEST_F(EngineWorkflowTest, InvalidCommandAttributesFailTheTask) {
  StartWorkflow("wf-bad-attrs");
  auto task = PollWft();
  Status s = CompleteWft(task.task_token(), {ScheduleActivity("a1", Duration::zero())});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("BadScheduleActivityAttributes: ", 0), 0u) << s.message();
  auto hist = History("wf-bad-attrs");
  ASSERT_EQ(hist.size(), 4u) << Describe(hist);  // the retry (attempt 2) is transient
  EXPECT_EQ(hist[3].workflow_task_failed_event_attributes().cause(),
            ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES);
  EXPECT_EQ(DescribeWf("wf-bad-attrs").pending_workflow_task().attempt(), 2);
}

TEST_F(EngineWorkflowTest, TimeoutWithBufferedSignalFlushesAfterTimedOut) {
  StartWorkflow("wf-timeout-buf");
  PollWft();
  ASSERT_TRUE(Signal("wf-timeout-buf", "during").ok());
  Advance(Sec(10));
  auto hist = History("wf-timeout-buf");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
               ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_TRUE(WellFormed(hist));
}

TEST_F(EngineWorkflowTest, StickyQueueGetsPartialHistoryAndFallsBackOnScheduleToStartTimeout) {
  const std::string kSticky = "worker-1-sticky";
  auto sticky_attrs = [&](wsv1::RespondWorkflowTaskCompletedRequest& req) {
    auto* a = req.mutable_sticky_attributes();
    a->mutable_worker_task_queue()->set_name(kSticky);
    a->mutable_worker_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_STICKY);
    a->mutable_worker_task_queue()->set_normal_name(kTaskQueue);
    *a->mutable_schedule_to_start_timeout() = PbDur(Sec(5));
  };
  StartWorkflow("wf-sticky");
  auto first = PollWft();
  auto sticky_poll = StartWftPoll(Sec(60), kSticky);
  ASSERT_TRUE(CompleteWft(first.task_token(), {StartTimer("t1", Sec(1))}, sticky_attrs).ok());
  Advance(Sec(1));  // TimerFired(6), WFTScheduled(7) on the sticky queue, WFTStarted(8)

  auto task = Await(sticky_poll);
  EXPECT_EQ(task.started_event_id(), 8);
  EXPECT_EQ(task.previous_started_event_id(), 3);
  EXPECT_EQ(task.workflow_execution_task_queue().name(), kTaskQueue);
  EXPECT_EQ(task.workflow_execution_task_queue().kind(), ev1::TASK_QUEUE_KIND_NORMAL);
  ASSERT_EQ(task.history().events_size(), 5) << "partial history: events 4..8";
  EXPECT_EQ(task.history().events(0).event_id(), 4);
  const auto& sched = task.history().events(3).workflow_task_scheduled_event_attributes();
  EXPECT_EQ(sched.task_queue().name(), kSticky);
  EXPECT_EQ(sched.task_queue().kind(), ev1::TASK_QUEUE_KIND_STICKY);
  EXPECT_EQ(sched.task_queue().normal_name(), kTaskQueue);

  // Next task goes to the sticky queue, but nobody polls it: schedule-to-start timeout.
  ASSERT_TRUE(CompleteWft(task.task_token(), {StartTimer("t2", Sec(1))}, sticky_attrs).ok());
  Advance(Sec(1));  // 11 TimerFired, 12 WFTScheduled (sticky)
  Advance(Sec(5) - Ms(1));
  EXPECT_EQ(History("wf-sticky").size(), 12u);
  Advance(Ms(1));
  auto hist = History("wf-sticky");
  ASSERT_EQ(hist.size(), 14u) << Describe(hist);
  EXPECT_TRUE(WellFormed(hist));
  ASSERT_EQ(hist[12].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
  EXPECT_EQ(hist[12].workflow_task_timed_out_event_attributes().timeout_type(), ev1::TIMEOUT_TYPE_SCHEDULE_TO_START);
  EXPECT_EQ(hist[12].workflow_task_timed_out_event_attributes().scheduled_event_id(), 12);
  EXPECT_EQ(hist[12].workflow_task_timed_out_event_attributes().started_event_id(), 0);
  const auto& normal = hist[13].workflow_task_scheduled_event_attributes();
  EXPECT_EQ(normal.task_queue().name(), kTaskQueue);
  EXPECT_EQ(normal.task_queue().kind(), ev1::TASK_QUEUE_KIND_NORMAL);
  EXPECT_EQ(normal.attempt(), 1) << "a sticky timeout does not count as an attempt";

  auto fallback = PollWft();
  EXPECT_EQ(fallback.started_event_id(), 15);
  EXPECT_EQ(fallback.previous_started_event_id(), 8);
  EXPECT_EQ(fallback.history().events_size(), 15) << "full history on the normal queue";
}

TEST_F(EngineWorkflowTest, StartDelayDefersFirstTask) {
  StartWorkflow("wf-delay", [](auto& req) { *req.mutable_workflow_start_delay() = PbDur(Sec(10)); });
  auto hist = History("wf-delay");
  ASSERT_EQ(hist.size(), 1u) << Describe(hist);
  EXPECT_EQ(FromPb(hist[0].workflow_execution_started_event_attributes().first_workflow_task_backoff()), Sec(10));
  ASSERT_TRUE(Signal("wf-delay", "early").ok());
  EXPECT_EQ(History("wf-delay").size(), 2u) << "a signal during the delay schedules no task";
  Advance(Sec(10) - Ms(1));
  EXPECT_EQ(History("wf-delay").size(), 2u);
  Advance(Ms(1));
  hist = History("wf-delay");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(PollWft().started_event_id(), 4);
}

TEST_F(EngineWorkflowTest, CancelTimer) {
  StartAndComplete("wf-cancel-timer", {StartTimer("t1", Sec(10))});
  ASSERT_TRUE(Signal("wf-cancel-timer", "s").ok());
  auto task = PollWft();  // 6 Signaled, 7 WFTScheduled, 8 WFTStarted
  ASSERT_TRUE(CompleteWft(task.task_token(), {CancelTimer("t1")}).ok());
  Advance(Sec(10));
  auto hist = History("wf-cancel-timer");
  ASSERT_EQ(hist.size(), 10u) << Describe(hist);
  ASSERT_EQ(hist[9].event_type(), ev1::EVENT_TYPE_TIMER_CANCELED);
  EXPECT_EQ(hist[9].timer_canceled_event_attributes().timer_id(), "t1");
  EXPECT_EQ(hist[9].timer_canceled_event_attributes().started_event_id(), 5);
  EXPECT_EQ(hist[9].timer_canceled_event_attributes().workflow_task_completed_event_id(), 9);
}

TEST_F(EngineWorkflowTest, CancelTimerWhoseFiredEventIsBuffered) {
  StartAndComplete("wf-cancel-fired", {StartTimer("t1", Sec(5))});
  ASSERT_TRUE(Signal("wf-cancel-fired", "s").ok());
  auto task = PollWft();
  Advance(Sec(5));  // TimerFired buffered
  ASSERT_TRUE(CompleteWft(task.task_token(), {CancelTimer("t1")}).ok());
  auto hist = History("wf-cancel-fired");
  ASSERT_EQ(hist.size(), 10u) << Describe(hist);
  EXPECT_EQ(hist[9].event_type(), ev1::EVENT_TYPE_TIMER_CANCELED);
  EXPECT_EQ(hist[9].timer_canceled_event_attributes().started_event_id(), 5);
  EXPECT_FALSE(DescribeWf("wf-cancel-fired").has_pending_workflow_task()) << "nothing new for the worker";
}

TEST_F(EngineWorkflowTest, SignalDedupedByRequestId) {
  StartWorkflow("wf-sig-dedupe");
  ASSERT_TRUE(Signal("wf-sig-dedupe", "once").ok());
  ASSERT_TRUE(Signal("wf-sig-dedupe", "once").ok());  // same request id
  EXPECT_EQ(History("wf-sig-dedupe").size(), 3u);
}

// Temporal looks for the request id before the run's status (signalworkflow/api.go): a retry of
// a signal the run took before it closed succeeds without a new event; another signal is refused.
TEST_F(EngineWorkflowTest, SignalRetryAfterTheRunClosedIsAnsweredAsTheFirstAttempt) {
  StartWorkflow("wf-sig-closed");
  ASSERT_TRUE(Signal("wf-sig-closed", "finish").ok());
  auto task = PollWft();
  ASSERT_TRUE(CompleteWft(task.task_token(), {CompleteWorkflow("done")}).ok());
  const size_t events = History("wf-sig-closed").size();
  Status retry = Signal("wf-sig-closed", "finish");  // same request id ("sig-finish")
  EXPECT_TRUE(retry.ok()) << retry.ToString();
  Status other = Signal("wf-sig-closed", "other");
  EXPECT_EQ(other.code(), Code::kNotFound) << other.ToString();
  EXPECT_EQ(other.message(), "workflow execution already completed");
  EXPECT_EQ(History("wf-sig-closed").size(), events) << "no event added to the closed run";
}

// SignalWithStart dedupes its signal by request id as a signal does (Temporal's signalWorkflow and
// NewWorkflowWithSignal): a retry of the request that started the run, or of one that signalled a
// running run, adds no second WorkflowExecutionSignaled.
TEST_F(EngineWorkflowTest, SignalWithStartRetryAddsNoSecondSignal) {
  auto sws = [&](const std::string& request_id, wsv1::SignalWithStartWorkflowExecutionResponse* resp) {
    wsv1::SignalWithStartWorkflowExecutionRequest req;
    req.set_namespace_(kNamespace);
    req.set_workflow_id("wf-sws-retry");
    req.mutable_workflow_type()->set_name("TestWorkflow");
    req.mutable_task_queue()->set_name(kTaskQueue);
    req.set_signal_name("go");
    req.set_request_id(request_id);
    return Call<wsv1::SignalWithStartWorkflowExecutionResponse>(
        [&](auto* r, Done d) { engine_->SignalWithStartWorkflowExecution(req, r, std::move(d)); }, resp);
  };
  auto signals = [&] {
    int n = 0;
    for (const auto& e : History("wf-sws-retry")) n += e.event_type() == ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;
    return n;
  };
  wsv1::SignalWithStartWorkflowExecutionResponse first, retry, other, other_retry;
  ASSERT_TRUE(sws("sws-a", &first).ok());
  EXPECT_TRUE(first.started());
  ASSERT_TRUE(sws("sws-a", &retry).ok());  // the start's reply lost: the client sends it again
  EXPECT_EQ(retry.run_id(), first.run_id());
  EXPECT_EQ(signals(), 1) << Describe(History("wf-sws-retry"));
  ASSERT_TRUE(sws("sws-b", &other).ok());  // a running run is signalled
  ASSERT_TRUE(sws("sws-b", &other_retry).ok());
  EXPECT_FALSE(other_retry.started());
  EXPECT_EQ(other_retry.run_id(), first.run_id());
  EXPECT_EQ(signals(), 2) << Describe(History("wf-sws-retry"));
}

TEST_F(EngineWorkflowTest, CancelRequestThenCancelCommand) {
  StartWorkflow("wf-cancel-req");
  wsv1::RequestCancelWorkflowExecutionRequest req;
  req.set_namespace_(kNamespace);
  req.mutable_workflow_execution()->set_workflow_id("wf-cancel-req");
  req.set_reason("please");
  req.set_identity("client");
  auto cancel = [&] { return Call([&](Done d) { engine_->RequestCancelWorkflowExecution(req, std::move(d)); }); };
  ASSERT_TRUE(cancel().ok());
  ASSERT_TRUE(cancel().ok());
  auto hist = History("wf-cancel-req");
  ASSERT_EQ(hist.size(), 3u) << "one event, no extra task:\n" << Describe(hist);
  EXPECT_EQ(hist[2].workflow_execution_cancel_requested_event_attributes().cause(), "please");

  auto task = PollWft();
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION);
  c.mutable_cancel_workflow_execution_command_attributes();
  ASSERT_TRUE(CompleteWft(task.task_token(), {c}).ok());
  EXPECT_EQ(DescribeWf("wf-cancel-req").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_CANCELED);
  EXPECT_TRUE(cancel().ok()) << "cancelling a closed run succeeds";
  EXPECT_EQ(History("wf-cancel-req").size(), 6u);
}

TEST_F(EngineWorkflowTest, CancelledPollDoesNotSwallowTask) {
  auto poll = StartWftPoll();
  engine_->CancelPoll(poll.waiter);
  ASSERT_EQ(poll.done.wait_for(kCallbackWait), std::future_status::ready);
  EXPECT_EQ(poll.done.get().code(), Code::kCancelled);
  StartWorkflow("wf-cancel-poll");
  EXPECT_EQ(PollWft().started_event_id(), 3);
}

TEST_F(EngineWorkflowTest, NewRunAfterCompletion) {
  auto first = StartAndComplete("wf-rerun", {CompleteWorkflow("1")});
  auto req = StartRequest("wf-rerun");
  wsv1::StartWorkflowExecutionResponse same;
  ASSERT_TRUE(Start(req, &same).ok());
  EXPECT_EQ(same.run_id(), first.workflow_execution().run_id()) << "same request id finds the closed run";
  req.set_request_id("second");
  wsv1::StartWorkflowExecutionResponse second;
  ASSERT_TRUE(Start(req, &second).ok());
  EXPECT_NE(second.run_id(), first.workflow_execution().run_id());
  EXPECT_EQ(History("wf-rerun").size(), 2u) << "history of the new (current) run";
  EXPECT_EQ(DescribeWf("wf-rerun").workflow_execution_info().execution().run_id(), second.run_id());
}

// protocol-notes §3: an oversized payload in a command fails the task and closes the run (a retry
// can only fail the same way).
TEST_F(EngineWorkflowTest, OversizedCommandPayloadClosesRun) {
    CloseEngine();
  options_.blob_size_limit_error = 1000;
  options_.blob_size_limit_warn = 500;
  OpenEngine(":memory:");
  StartWorkflow("wf-big");
  auto task = PollWft();
  EXPECT_EQ(CompleteWft(task.task_token(), {CompleteWorkflow(std::string(2000, 'x'))}).code(), Code::kInvalidArgument);
  auto hist = History("wf-big");
  ASSERT_GE(hist.size(), 5u) << Describe(hist);
  EXPECT_EQ(hist[3].workflow_task_failed_event_attributes().cause(),
            ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES);
  EXPECT_NE(DescribeWf("wf-big").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
}

TEST_F(EngineWorkflowTest, HistoryLongPoll) {
  StartWorkflow("wf-long-poll");
  wsv1::GetWorkflowExecutionHistoryRequest req;
  req.set_namespace_(kNamespace);
  req.mutable_execution()->set_workflow_id("wf-long-poll");
  req.set_wait_new_event(true);
  wsv1::GetWorkflowExecutionHistoryResponse page;
  auto get = [&](wsv1::GetWorkflowExecutionHistoryResponse* out) {
    return Call<wsv1::GetWorkflowExecutionHistoryResponse>(
        [&](auto* r, Done d) { engine_->GetWorkflowExecutionHistory(req, r, std::move(d)); }, out);
  };
  ASSERT_TRUE(get(&page).ok());
  EXPECT_EQ(page.history().events_size(), 2);
  ASSERT_FALSE(page.next_page_token().empty()) << "open run: the long-poll token stays";

  // Caught up: the next call waits for a new event.
  req.set_next_page_token(page.next_page_token());
  auto resp = std::make_shared<wsv1::GetWorkflowExecutionHistoryResponse>();
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  engine_->GetWorkflowExecutionHistory(req, resp.get(), [p, resp](const Status& s) { p->set_value(s); });
  Barrier();
  EXPECT_NE(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  ASSERT_TRUE(Signal("wf-long-poll", "wake").ok());
  ASSERT_EQ(f.wait_for(kCallbackWait), std::future_status::ready);
  EXPECT_TRUE(f.get().ok());
  ASSERT_EQ(resp->history().events_size(), 1);
  EXPECT_EQ(resp->history().events(0).event_id(), 3);

  // Caught up again: after the long-poll limit, an empty page with a token.
  req.set_next_page_token(resp->next_page_token());
  auto resp2 = std::make_shared<wsv1::GetWorkflowExecutionHistoryResponse>();
  auto p2 = std::make_shared<std::promise<Status>>();
  auto f2 = p2->get_future();
  engine_->GetWorkflowExecutionHistory(req, resp2.get(), [p2, resp2](const Status& s) { p2->set_value(s); });
  Advance(options_.history_long_poll);
  ASSERT_EQ(f2.wait_for(kCallbackWait), std::future_status::ready);
  EXPECT_EQ(resp2->history().events_size(), 0);
  EXPECT_FALSE(resp2->next_page_token().empty());

  // Close-event filter on a closed run: just the close event, no token.
  ASSERT_TRUE(Terminate("wf-long-poll", "end").ok());
  req.clear_next_page_token();
  req.set_history_event_filter_type(ev1::HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT);
  ASSERT_TRUE(get(&page).ok());
  ASSERT_EQ(page.history().events_size(), 1);
  EXPECT_EQ(page.history().events(0).event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
  EXPECT_TRUE(page.next_page_token().empty());
}

// A history long poll ends when its caller cancels (client gone): CANCELLED at once, and its
// waiter is unregistered then, not at the run's next commit or the poll's deadline. Answered and
// timed-out polls leave no waiter behind either.
TEST_F(EngineWorkflowTest, HistoryLongPollCancelDropsItsWaiter) {
  StartWorkflow("wf-lp-cancel");
  wsv1::GetWorkflowExecutionHistoryRequest req;
  req.set_namespace_(kNamespace);
  req.mutable_execution()->set_workflow_id("wf-lp-cancel");
  req.set_wait_new_event(true);
  wsv1::GetWorkflowExecutionHistoryResponse head;
  ASSERT_TRUE(Call<wsv1::GetWorkflowExecutionHistoryResponse>(
                  [&](auto* r, Done d) { engine_->GetWorkflowExecutionHistory(req, r, std::move(d)); }, &head)
                  .ok());
  ASSERT_FALSE(head.next_page_token().empty());
  req.set_next_page_token(head.next_page_token());
  EXPECT_EQ(engine_->HistoryWaiterCount(), 0u);

  struct Waiting {
    std::shared_ptr<wsv1::GetWorkflowExecutionHistoryResponse> resp = std::make_shared<wsv1::GetWorkflowExecutionHistoryResponse>();
    std::shared_ptr<CancelHook> cancel = std::make_shared<CancelHook>();
    std::shared_future<Status> done;
  };
  auto start = [&] {
    Waiting w;
    auto p = std::make_shared<std::promise<Status>>();
    w.done = p->get_future().share();
    auto resp = w.resp;
    engine_->GetWorkflowExecutionHistory(req, resp.get(), [p, resp](const Status& s) { p->set_value(s); }, w.cancel);
    return w;
  };
  Waiting a = start(), b = start();
  EXPECT_EQ(engine_->HistoryWaiterCount(), 2u);
  std::weak_ptr<CancelHook> a_hook = a.cancel;

  a.cancel->Cancel();
  ASSERT_EQ(a.done.wait_for(kCallbackWait), std::future_status::ready);
  EXPECT_EQ(a.done.get().code(), Code::kCancelled);
  EXPECT_EQ(engine_->HistoryWaiterCount(), 1u) << "the cancelled poll's waiter is gone at once";
  a.cancel.reset();
  EXPECT_TRUE(a_hook.expired()) << "nothing of the cancelled poll is held (its deadline timer holds it weakly)";
  EXPECT_EQ(b.done.wait_for(std::chrono::seconds(0)), std::future_status::timeout) << "the other poll still waits";

  // A cancel before the engine installs its hook ends the call as soon as it would wait.
  auto early = std::make_shared<CancelHook>();
  early->Cancel();
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  auto resp = std::make_shared<wsv1::GetWorkflowExecutionHistoryResponse>();
  engine_->GetWorkflowExecutionHistory(req, resp.get(), [p, resp](const Status& s) { p->set_value(s); }, early);
  ASSERT_EQ(f.wait_for(kCallbackWait), std::future_status::ready);
  EXPECT_EQ(f.get().code(), Code::kCancelled);
  EXPECT_EQ(engine_->HistoryWaiterCount(), 1u);

  // The deadline answers b (an empty page) and unregisters it; a cancel after that changes nothing.
  Advance(options_.history_long_poll);
  ASSERT_EQ(b.done.wait_for(kCallbackWait), std::future_status::ready);
  EXPECT_TRUE(b.done.get().ok());
  EXPECT_EQ(engine_->HistoryWaiterCount(), 0u);
  b.cancel->Cancel();
  EXPECT_TRUE(b.done.get().ok());

  // A poll answered by a commit leaves nothing registered.
  Waiting c = start();
  EXPECT_EQ(engine_->HistoryWaiterCount(), 1u);
  ASSERT_TRUE(Signal("wf-lp-cancel", "wake").ok());
  ASSERT_EQ(c.done.wait_for(kCallbackWait), std::future_status::ready);
  EXPECT_TRUE(c.done.get().ok());
  EXPECT_EQ(c.resp->history().events_size(), 1);
  EXPECT_EQ(engine_->HistoryWaiterCount(), 0u);
}

// A query for a run whose task queue has had no poller for 20 s fails at once, as Temporal's
// matching does ("no poller seen for task queue recently"), instead of waiting for the deadline.
TEST_F(EngineWorkflowTest, QueryWithNoRecentPollerFailsFast) {
  StartAndComplete("wf-q", {});
  auto query = [&] {
    wsv1::QueryWorkflowRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_execution()->set_workflow_id("wf-q");
    req.mutable_query()->set_query_type("state");
    Poll<wsv1::QueryWorkflowResponse> poll;
    poll.resp = std::make_shared<wsv1::QueryWorkflowResponse>();
    poll.waiter = std::make_shared<matching::PollWaiter<wsv1::QueryWorkflowResponse>>(poll.resp.get());
    auto p = std::make_shared<std::promise<Status>>();
    poll.done = p->get_future().share();
    poll.waiter->finish = [p, resp = poll.resp](const Status& st) { p->set_value(st); };
    engine_->QueryWorkflow(req, poll.waiter);
    return poll;
  };
  // A poller seen 19 s ago: the query waits for the worker.
  Advance(Sec(19));
  auto waiting = query();
  EXPECT_FALSE(waiting.finished());
  // 21 s after the last poll: refused at once.
  Advance(Sec(2));
  auto refused = query();
  ASSERT_TRUE(refused.finished());
  Status s = refused.done.get();
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.message(), "no poller seen for task queue recently, worker may be down");
}

// One table of keys, each with its parser (history/dynamic_config.cc).
TEST(DynamicConfig, EachKeyParsesItsKindOfValue) {
  EngineOptions o;
  EXPECT_TRUE(ApplyDynamicConfigValue("limit.historyCount.suggestContinueAsNew=123", &o).ok());
  EXPECT_EQ(o.history_count_suggest_continue_as_new, 123);
  EXPECT_TRUE(ApplyDynamicConfigValue("history.workflowTaskHeartbeatTimeout=7", &o).ok());
  EXPECT_EQ(o.workflow_task_heartbeat_timeout_seconds, 7);
  EXPECT_TRUE(ApplyDynamicConfigValue("history.maxTotalUpdates.suggestContinueAsNewThreshold=0.5", &o).ok());
  EXPECT_DOUBLE_EQ(o.max_total_updates_suggest_continue_as_new_threshold, 0.5);
  EXPECT_TRUE(ApplyDynamicConfigValue("system.enableActivityEagerExecution=false", &o).ok());
  EXPECT_FALSE(o.enable_activity_eager_execution);
  EXPECT_TRUE(ApplyDynamicConfigValue("system.enableActivityEagerExecution=true", &o).ok());
  EXPECT_TRUE(o.enable_activity_eager_execution);
  EXPECT_TRUE(ApplyDynamicConfigValue("temporalite.evictIdleRuns=1", &o).ok());
  EXPECT_TRUE(o.evict_idle_runs);
  EXPECT_TRUE(ApplyDynamicConfigValue("matching.queryPollerUnavailableWindow=500ms", &o).ok());
  EXPECT_EQ(o.query_poller_unavailable_window, std::chrono::milliseconds(500));
  EXPECT_TRUE(ApplyDynamicConfigValue("matching.queryPollerUnavailableWindow=3", &o).ok());
  EXPECT_EQ(o.query_poller_unavailable_window, std::chrono::seconds(3));
  EXPECT_TRUE(ApplyDynamicConfigValue("matching.queryPollerUnavailableWindow=2m", &o).ok());
  EXPECT_EQ(o.query_poller_unavailable_window, std::chrono::minutes(2));
  EXPECT_TRUE(ApplyDynamicConfigValue("history.workflowIdReuseMinimalInterval=250ms", &o).ok());
  EXPECT_EQ(o.workflow_id_reuse_minimal_interval, std::chrono::milliseconds(250));
  EXPECT_TRUE(ApplyDynamicConfigValue("history.enableWorkflowIdReuseStartTimeValidation=true", &o).ok());
  EXPECT_TRUE(o.workflow_id_reuse_start_time_validation);

  const EngineOptions before = o;
  auto bad = [&](const std::string& kv, const std::string& message) {
    Status s = ApplyDynamicConfigValue(kv, &o);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << kv;
    EXPECT_EQ(s.message(), message) << kv;
  };
  bad("history.maxInFlightUpdates=-1", "dynamic config history.maxInFlightUpdates: \"-1\" is not a non-negative integer");
  bad("history.maxInFlightUpdates=1.5", "dynamic config history.maxInFlightUpdates: \"1.5\" is not a non-negative integer");
  bad("history.maxInFlightUpdates=", "dynamic config history.maxInFlightUpdates: \"\" is not a non-negative integer");
  bad("history.maxTotalUpdates.suggestContinueAsNewThreshold=nan",
      "dynamic config history.maxTotalUpdates.suggestContinueAsNewThreshold: \"nan\" is not a non-negative number");
  bad("system.enableActivityEagerExecution=1", "dynamic config system.enableActivityEagerExecution: \"1\" is not true or false");
  bad("temporalite.evictIdleRuns=true", "dynamic config temporalite.evictIdleRuns: \"true\" is not 0 or 1");
  bad("noequals", "dynamic config value \"noequals\": want KEY=VALUE");
  for (const char* v : {"-1s", "1d", "s", "", "1.5s"}) {
    bad(std::string("matching.queryPollerUnavailableWindow=") + v, std::string("dynamic config matching.queryPollerUnavailableWindow: \"") +
                                                                        v + "\" is not a non-negative duration (e.g. 20s, 500ms)");
  }
  EXPECT_EQ(o.query_poller_unavailable_window, std::chrono::minutes(2));
  EXPECT_EQ(o.max_in_flight_updates, before.max_in_flight_updates);
  EXPECT_TRUE(o.evict_idle_runs);
  EXPECT_EQ(ApplyDynamicConfigValue("frontend.nope=1", &o).code(), Code::kNotFound);

  // Every listed key is accepted by its parser with some value of its kind.
  const std::vector<std::string> keys = DynamicConfigKeys();
  EXPECT_EQ(keys.size(), 14u);
  for (const std::string& k : keys) {
    EngineOptions x;
    const bool ok = ApplyDynamicConfigValue(k + "=1", &x).ok() || ApplyDynamicConfigValue(k + "=true", &x).ok();
    EXPECT_TRUE(ok) << k;
  }
}

}  // namespace
}  // namespace temporalite::history::testing
