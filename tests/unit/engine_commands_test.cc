// The workflow-task command handlers (src/history/commands/), driven through
// RespondWorkflowTaskCompleted on the SimClock: each command type's happy path (its events and
// state), and its validation failures (the reply's gRPC code and "<Cause>: <detail>" message, the
// WorkflowTaskFailed event's cause, and that nothing of the completion was written).
#include "engine_test_util.h"

namespace temporalite::history::testing {
namespace {

namespace pv1 = ::temporal::api::protocol::v1;

constexpr char kRunUuid[] = "0b5a2c3e-1f4d-4e6a-9b7c-8d9e0f1a2b3c";

cmdv1::Command Cmd(ev1::CommandType type, const std::function<void(cmdv1::Command&)>& fill) {
  cmdv1::Command c;
  c.set_command_type(type);
  fill(c);
  return c;
}
cmdv1::Command FailWorkflow(const std::string& message) {
  return Cmd(ev1::COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION, [&](auto& c) {
    *c.mutable_fail_workflow_execution_command_attributes()->mutable_failure() = AppFailure(message);
  });
}
cmdv1::Command CancelWorkflow(const std::string& details) {
  return Cmd(ev1::COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION, [&](auto& c) {
    *c.mutable_cancel_workflow_execution_command_attributes()->mutable_details() = TextPayloads(details);
  });
}
cmdv1::Command ContinueAsNew(const std::function<void(cmdv1::ContinueAsNewWorkflowExecutionCommandAttributes&)>& edit = {}) {
  return Cmd(ev1::COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION, [&](auto& c) {
    auto* a = c.mutable_continue_as_new_workflow_execution_command_attributes();
    a->mutable_workflow_type()->set_name("TestWorkflow");
    *a->mutable_input() = TextPayloads("next-input");
    if (edit) edit(*a);
  });
}
cmdv1::Command Marker(const std::string& name) {
  return Cmd(ev1::COMMAND_TYPE_RECORD_MARKER, [&](auto& c) {
    auto* a = c.mutable_record_marker_command_attributes();
    a->set_marker_name(name);
    (*a->mutable_details())["data"] = TextPayloads("marker-data");
  });
}
cmdv1::Command Upsert(const std::string& name, const std::string& json_value) {
  return Cmd(ev1::COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, [&](auto& c) {
    auto& p = (*c.mutable_upsert_workflow_search_attributes_command_attributes()
                    ->mutable_search_attributes()
                    ->mutable_indexed_fields())[name];
    (*p.mutable_metadata())["encoding"] = "json/plain";
    p.set_data(json_value);
  });
}
cmdv1::Command ModifyMemo(const std::string& key, const std::string& value) {
  return Cmd(ev1::COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES, [&](auto& c) {
    auto& fields = *c.mutable_modify_workflow_properties_command_attributes()->mutable_upserted_memo()->mutable_fields();
    fields[key] = TextPayloads(value).payloads(0);
  });
}
cmdv1::Command StartChild(const std::string& wid,
                          const std::function<void(cmdv1::StartChildWorkflowExecutionCommandAttributes&)>& edit = {}) {
  return Cmd(ev1::COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION, [&](auto& c) {
    auto* a = c.mutable_start_child_workflow_execution_command_attributes();
    a->set_workflow_id(wid);
    a->mutable_workflow_type()->set_name("ChildWorkflow");
    a->mutable_task_queue()->set_name(kTaskQueue);
    if (edit) edit(*a);
  });
}
cmdv1::Command SignalExternal(const std::string& wid, const std::string& run_id, const std::string& signal) {
  return Cmd(ev1::COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION, [&](auto& c) {
    auto* a = c.mutable_signal_external_workflow_execution_command_attributes();
    a->mutable_execution()->set_workflow_id(wid);
    a->mutable_execution()->set_run_id(run_id);
    a->set_signal_name(signal);
    *a->mutable_input() = TextPayloads("external-" + signal);
  });
}
cmdv1::Command CancelExternal(const std::string& wid) {
  return Cmd(ev1::COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION, [&](auto& c) {
    c.mutable_request_cancel_external_workflow_execution_command_attributes()->set_workflow_id(wid);
  });
}
cmdv1::Command ProtocolMessage(const std::string& message_id) {
  return Cmd(ev1::COMMAND_TYPE_PROTOCOL_MESSAGE, [&](auto& c) {
    c.mutable_protocol_message_command_attributes()->set_message_id(message_id);
  });
}
cmdv1::Command BigActivity(size_t bytes) {
  return ScheduleActivity("big", Sec(10), [bytes](auto& a) {
    a.mutable_input()->mutable_payloads(0)->set_data(std::string(bytes, 'x'));
  });
}

const hv1::HistoryEvent* Find(const std::vector<hv1::HistoryEvent>& events, ev1::EventType type) {
  for (const auto& e : events) {
    if (e.event_type() == type) return &e;
  }
  return nullptr;
}

class CommandsTest : public EngineTest {
 protected:
  void SetUp() override {
    options_.startup_search_attributes["CustomKeywordField"] = ev1::INDEXED_VALUE_TYPE_KEYWORD;
    EngineTest::SetUp();
  }
  // Reopens the engine with `edit` applied to the options (limits).
  void Reopen(const std::function<void(EngineOptions&)>& edit) {
    CloseEngine();
    edit(options_);
    OpenEngine(":memory:");
  }

  // Starts `wid`, completes its first task with `commands`, and expects the completion to be
  // rejected with `cause` and a message "<CauseName>: <detail>" containing `detail`: the history
  // then ends in WorkflowTaskFailed (and WorkflowExecutionTerminated when `terminates`), with none
  // of the completion's commands written.
  void ExpectRejected(const std::string& wid, const std::vector<cmdv1::Command>& commands,
                      ev1::WorkflowTaskFailedCause cause, const std::string& cause_name, const std::string& detail,
                      bool terminates = false,
                      const std::function<void(wsv1::RespondWorkflowTaskCompletedRequest&)>& edit = {}) {
    SCOPED_TRACE(wid);
    StartWorkflow(wid);
    auto task = PollWft();
    Status s = CompleteWft(task.task_token(), commands, edit);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.message().rfind(cause_name + ": ", 0), 0u) << s.message();
    EXPECT_NE(s.message().find(detail), std::string::npos) << s.message();
    auto hist = History(wid);
    if (terminates) {
      EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                   ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED,
                   ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
      EXPECT_EQ(DescribeWf(wid).workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
    } else {
      // The retry (attempt 2) is transient: not in history until it completes.
      EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                   ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED);
    }
    ASSERT_GE(hist.size(), 4u);
    const auto& failed = hist[3].workflow_task_failed_event_attributes();
    EXPECT_EQ(failed.cause(), cause) << ev1::WorkflowTaskFailedCause_Name(failed.cause());
    EXPECT_EQ(failed.failure().message(), s.message());
    EXPECT_EQ(failed.identity(), kWorker);
    // Its retry task must not be what the next check in the same test polls.
    if (!terminates) EXPECT_TRUE(Terminate(wid, "checked").ok());
  }
  // Expects the completion to be refused as malformed: INVALID_ARGUMENT `message`, nothing written.
  void ExpectMalformed(const std::string& wid, const std::vector<cmdv1::Command>& commands, const std::string& message) {
    SCOPED_TRACE(wid);
    StartWorkflow(wid);
    auto task = PollWft();
    Status s = CompleteWft(task.task_token(), commands);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.message(), message);
    EXPECT_EQ(History(wid).size(), 3u) << "a malformed completion writes nothing";
    EXPECT_TRUE(Terminate(wid, "checked").ok());
  }
};

// --- Dispatcher ---

TEST_F(CommandsTest, CloseCommandNotLastIsMalformed) {
  ExpectMalformed("wf-close-first", {CompleteWorkflow("done"), StartTimer("t", Sec(1))},
                  "Workflow close command must be the last command in the workflow task.");
}

TEST_F(CommandsTest, CommandWithoutAttributesIsMalformed) {
  cmdv1::Command unknown;
  unknown.set_command_type(ev1::COMMAND_TYPE_START_TIMER);  // type set, attributes missing
  ExpectMalformed("wf-unknown", {unknown}, "Unknown command type: " + std::to_string(ev1::COMMAND_TYPE_START_TIMER) + ".");
}

TEST_F(CommandsTest, RejectedCommandWritesNoneOfTheCompletion) {
  // The timer and the activity are valid, but the marker after them is not: none is written.
  ExpectRejected("wf-atomic", {StartTimer("t1", Sec(5)), ScheduleActivity("a1", Sec(10)), Marker("")},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES, "BadRecordMarkerAttributes",
                 "MarkerName is not set on command.");
  // ExpectRejected checked the whole history: no TimerStarted, no ActivityTaskScheduled.
}

TEST_F(CommandsTest, CommandsAreWrittenInOrderAfterTaskCompleted) {
  StartAndComplete("wf-order", {Marker("m1"), StartTimer("t1", Sec(5)), Marker("m2")});
  auto hist = History("wf-order");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_MARKER_RECORDED, ev1::EVENT_TYPE_TIMER_STARTED, ev1::EVENT_TYPE_MARKER_RECORDED);
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(hist[4].marker_recorded_event_attributes().marker_name(), "m1");
  EXPECT_EQ(hist[4].marker_recorded_event_attributes().workflow_task_completed_event_id(), 4);
  EXPECT_EQ(hist[6].marker_recorded_event_attributes().marker_name(), "m2");
}

// --- ScheduleActivityTask / RequestCancelActivityTask ---

TEST_F(CommandsTest, ScheduleActivityAddsPendingActivity) {
  StartAndComplete("wf-sched", {ScheduleActivity("a1", Sec(10), [](auto& a) { a.mutable_priority()->set_priority_key(2); })});
  auto hist = History("wf-sched");
  ASSERT_EQ(hist.size(), 5u) << Describe(hist);
  const auto& sched = hist[4].activity_task_scheduled_event_attributes();
  EXPECT_EQ(sched.activity_id(), "a1");
  EXPECT_EQ(sched.task_queue().kind(), ev1::TASK_QUEUE_KIND_NORMAL);
  EXPECT_EQ(sched.priority().priority_key(), 2);
  auto desc = DescribeWf("wf-sched");
  ASSERT_EQ(desc.pending_activities_size(), 1);
  EXPECT_EQ(desc.pending_activities(0).activity_id(), "a1");
  EXPECT_EQ(PollActivity().activity_id(), "a1");
}

TEST_F(CommandsTest, ScheduleActivityValidation) {
  ExpectRejected("wf-a-noid", {ScheduleActivity("", Sec(10))},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, "BadScheduleActivityAttributes",
                 "ActivityId is not set.");
  ExpectRejected("wf-a-notype", {ScheduleActivity("a", Sec(10), [](auto& a) { a.mutable_activity_type()->clear_name(); })},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, "BadScheduleActivityAttributes",
                 "ActivityType is not set.");
  ExpectRejected("wf-a-neg",
                 {ScheduleActivity("a", Sec(10), [](auto& a) { a.mutable_heartbeat_timeout()->set_seconds(-1); })},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, "BadScheduleActivityAttributes",
                 "A valid timeout may not be negative.");
  ExpectRejected("wf-a-noto", {ScheduleActivity("a", Duration::zero())},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, "BadScheduleActivityAttributes",
                 "A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.");
  ExpectRejected("wf-a-retry",
                 {ScheduleActivity("a", Sec(10), [](auto& a) { a.mutable_retry_policy()->set_backoff_coefficient(0.5); })},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES, "BadScheduleActivityAttributes",
                 "BackoffCoefficient cannot be less than 1.");
  ExpectRejected("wf-a-dup", {ScheduleActivity("a", Sec(10)), ScheduleActivity("a", Sec(10))},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_SCHEDULE_ACTIVITY_DUPLICATE_ID, "ScheduleActivityDuplicateId",
                 "Activity with ID a is already pending.");
}

TEST_F(CommandsTest, ScheduleActivityOversizedInputTerminatesRun) {
  Reopen([](EngineOptions& o) { o.blob_size_limit_error = 1024; });
  ExpectRejected("wf-a-big", {BigActivity(2048)}, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
                 "BadScheduleActivityAttributes", "ScheduleActivityTaskCommandAttributes.Input exceeds size limit.",
                 /*terminates=*/true);
}

TEST_F(CommandsTest, PendingActivitiesLimitCountsThisCompletion) {
  Reopen([](EngineOptions& o) { o.pending_activities_limit = 2; });
  ExpectRejected("wf-a-limit", {ScheduleActivity("a", Sec(10)), ScheduleActivity("b", Sec(10)), ScheduleActivity("c", Sec(10))},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED, "PendingActivitiesLimitExceeded",
                 "the number of pending activities exceeds the limit of 2");
}

TEST_F(CommandsTest, RequestCancelUnstartedActivityCancelsAtOnce) {
  StartAndComplete("wf-cancel-act", {ScheduleActivity("a1", Sec(10))});  // ActivityTaskScheduled = 5
  ASSERT_TRUE(Signal("wf-cancel-act", "stop").ok());
  auto task = PollWft();
  ASSERT_TRUE(CompleteWft(task.task_token(), {RequestCancelActivity(5)}).ok());
  auto hist = History("wf-cancel-act");
  ASSERT_EQ(hist.size(), 12u) << Describe(hist);
  EXPECT_EQ(hist[9].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED);
  EXPECT_EQ(hist[9].activity_task_cancel_requested_event_attributes().scheduled_event_id(), 5);
  EXPECT_EQ(hist[9].activity_task_cancel_requested_event_attributes().workflow_task_completed_event_id(), 9);
  ASSERT_EQ(hist[10].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_CANCELED);
  EXPECT_EQ(hist[10].activity_task_canceled_event_attributes().scheduled_event_id(), 5);
  EXPECT_EQ(hist[10].activity_task_canceled_event_attributes().latest_cancel_requested_event_id(), 10);
  EXPECT_EQ(hist[11].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) << "the worker is told of the cancel";
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(DescribeWf("wf-cancel-act").pending_activities_size(), 0);
}

TEST_F(CommandsTest, RequestCancelActivityValidation) {
  ExpectRejected("wf-ca-none", {RequestCancelActivity(42)},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
                 "BadRequestCancelActivityAttributes", "no pending activity with scheduled event id 42");
}

// --- StartTimer / CancelTimer ---

TEST_F(CommandsTest, StartTimerFiresAtExpiry) {
  StartAndComplete("wf-timer", {StartTimer("t1", Sec(30))});
  auto hist = History("wf-timer");
  ASSERT_EQ(hist.size(), 5u);
  EXPECT_EQ(hist[4].timer_started_event_attributes().timer_id(), "t1");
  EXPECT_EQ(FromPb(hist[4].timer_started_event_attributes().start_to_fire_timeout()), Sec(30));
  Advance(Sec(29));
  EXPECT_EQ(History("wf-timer").size(), 5u);
  Advance(Sec(1));
  hist = History("wf-timer");
  ASSERT_EQ(hist.size(), 7u) << Describe(hist);
  EXPECT_EQ(hist[5].event_type(), ev1::EVENT_TYPE_TIMER_FIRED);
  EXPECT_EQ(hist[5].timer_fired_event_attributes().started_event_id(), 5);
  EXPECT_EQ(hist[6].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
}

TEST_F(CommandsTest, CancelTimerStopsIt) {
  StartAndComplete("wf-ctimer", {StartTimer("t1", Sec(30))});
  ASSERT_TRUE(Signal("wf-ctimer", "wake").ok());
  auto task = PollWft();
  ASSERT_TRUE(CompleteWft(task.task_token(), {CancelTimer("t1")}).ok());
  Advance(Sec(60));
  auto hist = History("wf-ctimer");
  const auto* canceled = Find(hist, ev1::EVENT_TYPE_TIMER_CANCELED);
  ASSERT_NE(canceled, nullptr) << Describe(hist);
  EXPECT_EQ(canceled->timer_canceled_event_attributes().timer_id(), "t1");
  EXPECT_EQ(canceled->timer_canceled_event_attributes().started_event_id(), 5);
  EXPECT_EQ(Find(hist, ev1::EVENT_TYPE_TIMER_FIRED), nullptr);
  EXPECT_EQ(hist.back().event_type(), ev1::EVENT_TYPE_TIMER_CANCELED);
}

TEST_F(CommandsTest, TimerValidation) {
  ExpectRejected("wf-t-noid", {StartTimer("", Sec(1))}, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES,
                 "BadStartTimerAttributes", "TimerId is not set or too long.");
  ExpectRejected("wf-t-zero", {StartTimer("t", Duration::zero())},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES, "BadStartTimerAttributes",
                 "A valid StartToFireTimeout is not set on StartTimerCommand.");
  ExpectRejected("wf-t-dup", {StartTimer("t", Sec(1)), StartTimer("t", Sec(2))},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID, "StartTimerDuplicateId",
                 "Timer with ID t is already pending.");
  ExpectRejected("wf-t-cancel", {CancelTimer("nope")}, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES,
                 "BadCancelTimerAttributes", "no pending timer with ID nope");
}

TEST_F(CommandsTest, StartAndCancelTimerInOneCompletion) {
  StartAndComplete("wf-t-both", {StartTimer("t", Sec(5)), CancelTimer("t")});
  auto hist = History("wf-t-both");
  EXPECT_TYPES(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_TIMER_STARTED, ev1::EVENT_TYPE_TIMER_CANCELED);
  Advance(Sec(10));
  EXPECT_EQ(History("wf-t-both").size(), 6u) << "a cancelled timer never fires";
}

// --- Closing commands ---

TEST_F(CommandsTest, CompleteWorkflow) {
  StartAndComplete("wf-done", {CompleteWorkflow("the-result")});
  auto hist = History("wf-done");
  ASSERT_EQ(hist.size(), 5u);
  const auto& a = hist[4].workflow_execution_completed_event_attributes();
  EXPECT_EQ(a.result().payloads(0).data(), "\"the-result\"");
  EXPECT_EQ(a.workflow_task_completed_event_id(), 4);
  EXPECT_EQ(a.new_execution_run_id(), "");
  EXPECT_EQ(DescribeWf("wf-done").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

TEST_F(CommandsTest, CompleteWorkflowOversizedResultTerminatesRun) {
  Reopen([](EngineOptions& o) { o.blob_size_limit_error = 1024; });
  ExpectRejected("wf-done-big", {CompleteWorkflow(std::string(2048, 'r'))},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES,
                 "BadCompleteWorkflowExecutionAttributes", "CompleteWorkflowExecutionCommandAttributes.Result exceeds size limit.",
                 /*terminates=*/true);
}

TEST_F(CommandsTest, CloseWithBufferedEventsFailsAsUnhandledCommand) {
  StartWorkflow("wf-unhandled");
  auto task = PollWft();
  ASSERT_TRUE(Signal("wf-unhandled", "late").ok());  // buffered: the task is started
  Status s = CompleteWft(task.task_token(), {CompleteWorkflow("done")});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "UnhandledCommand");
  auto hist = History("wf-unhandled");
  const auto* failed = Find(hist, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED);
  ASSERT_NE(failed, nullptr) << Describe(hist);
  EXPECT_EQ(failed->workflow_task_failed_event_attributes().cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND);
  EXPECT_NE(Find(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), nullptr);
  EXPECT_EQ(Find(hist, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED), nullptr);
  EXPECT_EQ(DescribeWf("wf-unhandled").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
}

TEST_F(CommandsTest, FailWorkflowWithoutRetryPolicy) {
  StartAndComplete("wf-fail", {FailWorkflow("boom")});
  auto hist = History("wf-fail");
  ASSERT_EQ(hist.size(), 5u);
  const auto& a = hist[4].workflow_execution_failed_event_attributes();
  EXPECT_EQ(a.failure().message(), "boom");
  EXPECT_EQ(a.retry_state(), ev1::RETRY_STATE_RETRY_POLICY_NOT_SET);
  EXPECT_EQ(a.new_execution_run_id(), "");
  EXPECT_EQ(DescribeWf("wf-fail").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_FAILED);
}

TEST_F(CommandsTest, FailWorkflowWithRetryPolicyStartsNextRun) {
  const std::string first = StartWorkflow("wf-fail-retry", [](auto& req) {
    req.mutable_retry_policy()->set_maximum_attempts(2);
    *req.mutable_retry_policy()->mutable_initial_interval() = PbDur(Sec(1));
  });
  auto task = PollWft();
  ASSERT_TRUE(CompleteWft(task.task_token(), {FailWorkflow("boom")}).ok());
  auto desc = DescribeWf("wf-fail-retry");
  EXPECT_NE(desc.workflow_execution_info().execution().run_id(), first) << "the retry run took over the workflow id";
  EXPECT_EQ(desc.workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
}

TEST_F(CommandsTest, CancelWorkflow) {
  StartAndComplete("wf-cancel", {CancelWorkflow("bye")});
  auto hist = History("wf-cancel");
  ASSERT_EQ(hist.size(), 5u);
  EXPECT_EQ(hist[4].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
  EXPECT_EQ(hist[4].workflow_execution_canceled_event_attributes().details().payloads(0).data(), "\"bye\"");
  EXPECT_EQ(DescribeWf("wf-cancel").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_CANCELED);
}

TEST_F(CommandsTest, ContinueAsNewStartsNextRun) {
  auto task = StartAndComplete("wf-can", {ContinueAsNew([](auto& a) { *a.mutable_workflow_run_timeout() = PbDur(Sec(60)); })});
  const std::string first = task.workflow_execution().run_id();
  auto desc = DescribeWf("wf-can");
  const std::string next = desc.workflow_execution_info().execution().run_id();
  EXPECT_NE(next, first);
  EXPECT_EQ(desc.workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  Barrier();
  wsv1::GetWorkflowExecutionHistoryRequest req;
  req.set_namespace_(kNamespace);
  req.mutable_execution()->set_workflow_id("wf-can");
  req.mutable_execution()->set_run_id(first);
  wsv1::GetWorkflowExecutionHistoryResponse resp;
  ASSERT_TRUE((Call<wsv1::GetWorkflowExecutionHistoryResponse>(
                   [&](auto* r, Done d) { engine_->GetWorkflowExecutionHistory(req, r, std::move(d)); }, &resp))
                  .ok());
  ASSERT_EQ(resp.history().events_size(), 5);
  const auto& a = resp.history().events(4).workflow_execution_continued_as_new_event_attributes();
  EXPECT_EQ(a.new_execution_run_id(), next);
  EXPECT_EQ(a.workflow_type().name(), "TestWorkflow");
  EXPECT_EQ(a.task_queue().name(), kTaskQueue) << "empty task queue: the run's";
  EXPECT_EQ(a.input().payloads(0).data(), "\"next-input\"");
  EXPECT_EQ(FromPb(a.workflow_run_timeout()), Sec(60));
  auto next_task = PollWft();
  EXPECT_EQ(next_task.workflow_execution().run_id(), next);
  EXPECT_EQ(next_task.history().events(0).workflow_execution_started_event_attributes().continued_execution_run_id(),
            first);
}

TEST_F(CommandsTest, ContinueAsNewValidation) {
  ExpectRejected("wf-can-neg", {ContinueAsNew([](auto& a) { a.mutable_workflow_run_timeout()->set_seconds(-5); })},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, "BadContinueAsNewAttributes",
                 "A valid timeout may not be negative.");
  ExpectRejected("wf-can-long",
                 {ContinueAsNew([](auto& a) { a.mutable_task_queue()->set_name(std::string(1001, 'q')); })},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES, "BadContinueAsNewAttributes",
                 "WorkflowType or TaskQueue exceeds length limit.");
}

// --- Marker, search attributes, memo ---

TEST_F(CommandsTest, RecordMarker) {
  StartAndComplete("wf-marker", {Marker("version")});
  auto hist = History("wf-marker");
  ASSERT_EQ(hist.size(), 5u);
  const auto& a = hist[4].marker_recorded_event_attributes();
  EXPECT_EQ(a.marker_name(), "version");
  EXPECT_EQ(a.details().at("data").payloads(0).data(), "\"marker-data\"");
}

TEST_F(CommandsTest, UpsertSearchAttributesTypesAndStores) {
  StartAndComplete("wf-upsert", {Upsert("CustomKeywordField", "\"blue\"")});
  auto hist = History("wf-upsert");
  ASSERT_EQ(hist.size(), 5u);
  const auto& fields = hist[4].upsert_workflow_search_attributes_event_attributes().search_attributes().indexed_fields();
  ASSERT_EQ(fields.count("CustomKeywordField"), 1u);
  EXPECT_EQ(fields.at("CustomKeywordField").metadata().at("type"), "Keyword");
  auto desc = DescribeWf("wf-upsert");
  const auto& sa = desc.workflow_execution_info().search_attributes().indexed_fields();
  ASSERT_EQ(sa.count("CustomKeywordField"), 1u);
  EXPECT_EQ(sa.at("CustomKeywordField").data(), "\"blue\"");
}

TEST_F(CommandsTest, UpsertSearchAttributesValidation) {
  cmdv1::Command empty = Upsert("x", "1");
  empty.mutable_upsert_workflow_search_attributes_command_attributes()->clear_search_attributes();
  ExpectRejected("wf-sa-empty", {empty}, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, "BadSearchAttributes",
                 "SearchAttributes is not set on command.");
  ExpectRejected("wf-sa-unknown", {Upsert("NoSuchAttribute", "\"x\"")},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, "BadSearchAttributes", "NoSuchAttribute");
}

TEST_F(CommandsTest, ModifyWorkflowPropertiesMergesMemo) {
  StartWorkflow("wf-memo", [](auto& req) { (*req.mutable_memo()->mutable_fields())["keep"] = TextPayloads("k").payloads(0); });
  auto task = PollWft();
  ASSERT_TRUE(CompleteWft(task.task_token(), {ModifyMemo("color", "red")}).ok());
  auto hist = History("wf-memo");
  ASSERT_EQ(hist.size(), 5u);
  EXPECT_EQ(hist[4].event_type(), ev1::EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED);
  auto desc = DescribeWf("wf-memo");
  const auto& memo = desc.workflow_execution_info().memo().fields();
  EXPECT_EQ(memo.count("keep"), 1u);
  ASSERT_EQ(memo.count("color"), 1u);
  EXPECT_EQ(memo.at("color").data(), "\"red\"");
}

// --- Children and external workflows ---

TEST_F(CommandsTest, StartChildWorkflow) {
  auto task = StartAndComplete("wf-parent", {StartChild("wf-child")});
  auto hist = History("wf-parent");
  const auto* initiated = Find(hist, ev1::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED);
  ASSERT_NE(initiated, nullptr) << Describe(hist);
  EXPECT_EQ(initiated->start_child_workflow_execution_initiated_event_attributes().workflow_id(), "wf-child");
  auto child = DescribeWf("wf-child");
  EXPECT_EQ(child.workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(child.workflow_execution_info().parent_execution().run_id(), task.workflow_execution().run_id());
}

TEST_F(CommandsTest, StartChildValidation) {
  ExpectRejected("wf-c-noid", {StartChild("")}, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
                 "BadStartChildExecutionAttributes", "WorkflowId is not set or too long.");
  ExpectRejected("wf-c-ns", {StartChild("c", [](auto& a) { a.set_namespace_("no-such-namespace"); })},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES,
                 "BadStartChildExecutionAttributes", "Namespace no-such-namespace is not found.");
  ExpectRejected("wf-c-cancel", {StartChild("c2"), CancelExternal("c2")},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
                 "BadRequestCancelExternalWorkflowExecutionAttributes",
                 "Start and RequestCancel for child workflow is not allowed in same workflow task. WorkflowId=c2");
  Reopen([](EngineOptions& o) { o.pending_children_limit = 1; });
  ExpectRejected("wf-c-limit", {StartChild("c3"), StartChild("c4")},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED,
                 "PendingChildWorkflowsLimitExceeded", "the number of pending child workflows exceeds the limit of 1");
}

TEST_F(CommandsTest, SignalExternalWorkflow) {
  // The target's first task is taken first, so the signaller's is the next one polled.
  const std::string target_run = StartAndComplete("wf-target", {}).workflow_execution().run_id();
  StartAndComplete("wf-signaller", {SignalExternal("wf-target", target_run, "ping")});
  auto src = History("wf-signaller");
  EXPECT_NE(Find(src, ev1::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED), nullptr) << Describe(src);
  EXPECT_NE(Find(src, ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED), nullptr) << Describe(src);
  auto target = History("wf-target");
  const auto* signaled = Find(target, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  ASSERT_NE(signaled, nullptr) << Describe(target);
  EXPECT_EQ(signaled->workflow_execution_signaled_event_attributes().signal_name(), "ping");
  EXPECT_EQ(signaled->workflow_execution_signaled_event_attributes().input().payloads(0).data(), "\"external-ping\"");
}

TEST_F(CommandsTest, SignalExternalValidation) {
  cmdv1::Command no_execution = SignalExternal("x", "", "s");
  no_execution.mutable_signal_external_workflow_execution_command_attributes()->clear_execution();
  ExpectRejected("wf-s-noexec", {no_execution}, ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
                 "BadSignalWorkflowExecutionAttributes", "Execution is not set on SignalExternalWorkflowExecutionCommand.");
  ExpectRejected("wf-s-run", {SignalExternal("x", "not-a-uuid", "s")},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
                 "BadSignalWorkflowExecutionAttributes", "Invalid RunId set on SignalExternalWorkflowExecutionCommand.");
  ExpectRejected("wf-s-name", {SignalExternal("x", kRunUuid, "")},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
                 "BadSignalWorkflowExecutionAttributes", "SignalName is not set on SignalExternalWorkflowExecutionCommand.");
  Reopen([](EngineOptions& o) { o.pending_signals_limit = 1; });
  ExpectRejected("wf-s-limit", {SignalExternal("x", "", "a"), SignalExternal("x", "", "b")},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_SIGNALS_LIMIT_EXCEEDED, "PendingSignalsLimitExceeded",
                 "the number of pending signals to external workflows, 1, has reached the per-workflow limit of 1");
}

TEST_F(CommandsTest, RequestCancelExternalWorkflow) {
  StartAndComplete("wf-cancel-target", {});
  StartAndComplete("wf-canceller", {CancelExternal("wf-cancel-target")});
  auto src = History("wf-canceller");
  EXPECT_NE(Find(src, ev1::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED), nullptr) << Describe(src);
  EXPECT_NE(Find(src, ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED), nullptr) << Describe(src);
  EXPECT_NE(Find(History("wf-cancel-target"), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED), nullptr);
}

TEST_F(CommandsTest, RequestCancelExternalValidation) {
  ExpectRejected("wf-x-noid", {CancelExternal("")},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES,
                 "BadRequestCancelExternalWorkflowExecutionAttributes",
                 "WorkflowId is not set on RequestCancelExternalWorkflowExecutionCommand.");
  Reopen([](EngineOptions& o) { o.pending_request_cancels_limit = 1; });
  ExpectRejected("wf-x-limit", {CancelExternal("a"), CancelExternal("b")},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED, "PendingRequestCancelLimitExceeded",
                 "the number of pending requests to cancel external workflows, 1, has reached the per-workflow limit of 1");
}

// --- ProtocolMessage ---

TEST_F(CommandsTest, ProtocolMessageMustReferToCompletionMessage) {
  ExpectRejected("wf-pm", {ProtocolMessage("missing")},
                 ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE, "BadUpdateWorkflowExecutionMessage",
                 "ProtocolMessageCommand refers to message missing, which is not in the completion.");
}

}  // namespace
}  // namespace temporalite::history::testing
