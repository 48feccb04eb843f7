// A run's MutableState (history/execution.h) alone: event ids, buffering while a workflow task
// runs (ids assigned at flush, buffered ActivityTaskStarted ids fixed up), and the pending maps
// with their activity-id index, entries added whole and a pending activity edited only by its
// transitions (attempt, heartbeat, retry, cancel request, a reset's reschedule); the workflow
// task's transitions, signals, search attribute and memo upserts, a new run's initial state, the
// start's extras, a reset run's deadlines, and the close.
#include <string>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "execution_test_util.h"
#include "history/execution.h"
#include "history/proto_time.h"

namespace temporalite::history {
namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1704067200));

TEST(MutableStateTest, EventsGetConsecutiveIdsAndTheCommandsMetadata) {
  MutableState ms;
  EditState(ms, [&](state::ExecutionState& s) { s.set_next_event_id(1); });
  ms.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, kNow);
  ::temporal::api::sdk::v1::UserMetadata md;
  md.mutable_summary()->set_data("summary");
  ms.command_user_metadata = &md;
  auto* timer = ms.AddEvent(ev1::EVENT_TYPE_TIMER_STARTED, kNow + std::chrono::seconds(1));
  EXPECT_EQ(timer->event_id(), 2);
  EXPECT_EQ(timer->user_metadata().summary().data(), "summary");
  EXPECT_EQ(ms.command_user_metadata, nullptr) << "only the command's first event takes it";
  auto* next = ms.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, kNow);
  EXPECT_FALSE(next->has_user_metadata());
  EXPECT_EQ(ms.st().next_event_id(), 4);
  ASSERT_EQ(ms.events.size(), 3u);
  for (size_t i = 0; i < ms.events.size(); ++i) EXPECT_EQ(ms.events[i].event_id(), static_cast<int64_t>(i + 1));
  EXPECT_EQ(FromProto(ms.events[1].event_time()), kNow + std::chrono::seconds(1));
}

TEST(MutableStateTest, EventsBufferWhileATaskRunsAndGetIdsAtFlush) {
  MutableState ms;
  EditState(ms, [&](state::ExecutionState& s) { s.set_next_event_id(5); });
  ms.SetWorkflowTaskScheduledEventId(3);
  ms.SetWorkflowTaskStartedEventId(4);  // a workflow task is running
  auto* started = ms.AddOrBufferEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED, kNow);
  started->mutable_activity_task_started_event_attributes()->set_scheduled_event_id(2);
  auto* completed = ms.AddOrBufferEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED, kNow);
  completed->mutable_activity_task_completed_event_attributes()->set_scheduled_event_id(2);
  completed->mutable_activity_task_completed_event_attributes()->set_started_event_id(kBufferedStartedEventId);
  ms.AddOrBufferEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, kNow);
  EXPECT_TRUE(ms.events.empty());
  EXPECT_EQ(ms.st().next_event_id(), 5) << "buffered events have no id yet";

  // The task completes: its own event first, then the buffered ones in arrival order.
  ms.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED, kNow);
  EXPECT_EQ(ms.FlushBufferedEvents(), 3);
  ASSERT_EQ(ms.events.size(), 4u);
  EXPECT_EQ(ms.events[1].event_id(), 6);
  EXPECT_EQ(ms.events[1].event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  EXPECT_EQ(ms.events[2].activity_task_completed_event_attributes().started_event_id(), 6);
  EXPECT_EQ(ms.events[3].event_id(), 8);
  EXPECT_EQ(ms.st().next_event_id(), 9);
  EXPECT_EQ(ms.st().buffered_events_size(), 0);
  EXPECT_EQ(ms.FlushBufferedEvents(), 0);

  ms.SetWorkflowTaskStartedEventId(0);  // no task running: appended at once
  EXPECT_EQ(ms.AddOrBufferEvent(ev1::EVENT_TYPE_TIMER_FIRED, kNow)->event_id(), 9);
}

state::ActivityInfo Activity(int64_t scheduled_event_id, const std::string& activity_id, int32_t attempt = 1) {
  state::ActivityInfo ai;
  ai.set_scheduled_event_id(scheduled_event_id);
  ai.set_activity_id(activity_id);
  ai.set_attempt(attempt);
  return ai;
}

state::TimerInfo Timer(const std::string& timer_id, int64_t started_event_id) {
  state::TimerInfo t;
  t.set_timer_id(timer_id);
  t.set_started_event_id(started_event_id);
  return t;
}

state::ChildInfo Child(int64_t initiated_event_id, const std::string& workflow_id) {
  state::ChildInfo ci;
  ci.set_initiated_event_id(initiated_event_id);
  ci.set_workflow_id(workflow_id);
  return ci;
}

TEST(MutableStateTest, PendingActivitiesKeepTheirActivityIdIndex) {
  MutableState ms;
  ms.AddActivity(Activity(5, "a", 1));
  ms.AddActivity(Activity(7, "b", 3));
  ASSERT_NE(ms.FindActivityById("b"), nullptr);
  EXPECT_EQ(ms.FindActivityById("b")->attempt(), 3);
  EXPECT_EQ(ms.FindActivity(5), ms.FindActivityById("a"));
  ms.RemoveActivity(5);
  EXPECT_EQ(ms.FindActivity(5), nullptr);
  EXPECT_EQ(ms.FindActivityById("a"), nullptr);
  EXPECT_EQ(ms.activity_ids.count("a"), 0u);
  ms.RemoveActivity(99);  // unknown: nothing happens
  EXPECT_EQ(ms.st().activities_size(), 1);
  // The index is derived: rebuilt from the state after a load.
  ms.activity_ids.clear();
  ms.RebuildIndexes();
  EXPECT_EQ(ms.FindActivityById("b"), ms.FindActivity(7));
}

TEST(MutableStateTest, TimersAndChildren) {
  MutableState ms;
  ms.AddTimer(Timer("t1", 5));
  ms.AddTimer(Timer("t2", 6));
  ms.RemoveTimer("t1");
  ms.RemoveTimer("unknown");
  ASSERT_EQ(ms.st().timers_size(), 1);
  EXPECT_EQ(ms.st().timers().at("t2").started_event_id(), 6);
  ms.AddChild(Child(9, "child"));
  EXPECT_EQ(ms.st().children().at(9).workflow_id(), "child");
  ms.RemoveChild(9);
  EXPECT_EQ(ms.st().children_size(), 0);
}

// The compiler keeps the writes in Execution: entries are added by value, found read-only.
static_assert(std::is_same_v<decltype(std::declval<MutableState&>().FindActivity(1)), const state::ActivityInfo*>);
static_assert(std::is_same_v<decltype(std::declval<MutableState&>().FindActivityById("a")), const state::ActivityInfo*>);
static_assert(std::is_same_v<decltype(std::declval<MutableState&>().AddActivity(state::ActivityInfo())),
                             const state::ActivityInfo&>);
static_assert(std::is_same_v<decltype(std::declval<MutableState&>().AddTimer(state::TimerInfo())), const state::TimerInfo&>);
static_assert(std::is_same_v<decltype(std::declval<MutableState&>().AddChild(state::ChildInfo())), const state::ChildInfo&>);

TEST(MutableStateTest, PendingEntriesAreAddedWhole) {
  MutableState ms;
  state::ActivityInfo ai = Activity(5, "a");
  ai.set_activity_type("Charge");
  ai.set_task_queue("act-tq");
  *ai.mutable_start_to_close_timeout() = ToProtoDuration(std::chrono::seconds(30));
  ai.mutable_retry_policy()->set_maximum_attempts(4);
  *ai.mutable_scheduled_time() = ToProto(kNow);
  *ai.mutable_current_attempt_scheduled_time() = ToProto(kNow);
  const state::ActivityInfo* added = &ms.AddActivity(ai);
  EXPECT_EQ(added, ms.FindActivity(5)) << "the entry as stored";
  ASSERT_NE(ms.FindActivity(5), nullptr);
  EXPECT_EQ(ms.FindActivity(5)->SerializeAsString(), ai.SerializeAsString());
  EXPECT_EQ(ms.activity_ids.at("a"), 5);
  // Replaced whole: the old entry's fields and its index entry go.
  ms.AddActivity(Activity(5, "b", 2));
  EXPECT_EQ(ms.activity_ids.count("a"), 0u);
  EXPECT_EQ(ms.activity_ids.at("b"), 5);
  EXPECT_TRUE(ms.FindActivity(5)->activity_type().empty());
  EXPECT_EQ(ms.FindActivity(5)->attempt(), 2);
  EXPECT_EQ(ms.st().activities_size(), 1);

  state::TimerInfo t = Timer("t1", 6);
  *t.mutable_expiry_time() = ToProto(kNow + std::chrono::seconds(10));
  ms.AddTimer(t);
  EXPECT_EQ(ms.st().timers().at("t1").SerializeAsString(), t.SerializeAsString());
  ms.AddTimer(Timer("t1", 8));  // a timer id started again
  EXPECT_EQ(ms.st().timers().at("t1").started_event_id(), 8);
  EXPECT_FALSE(ms.st().timers().at("t1").has_expiry_time());

  state::ChildInfo ci = Child(9, "child");
  ci.set_namespace_("ns");
  ci.set_namespace_id("ns-id");
  ci.set_run_id("child-run");
  ci.set_workflow_type("ChildWorkflow");
  ci.set_parent_close_policy(ev1::PARENT_CLOSE_POLICY_REQUEST_CANCEL);
  ms.AddChild(ci);
  EXPECT_EQ(ms.st().children().at(9).SerializeAsString(), ci.SerializeAsString());
}

TEST(MutableStateTest, AnActivityAttemptIsDispatchedStartedHeartbeatsAndRetries) {
  MutableState ms;
  ms.AddActivity(Activity(5, "a"));
  const state::ActivityInfo& ai = *ms.FindActivity(5);  // sees the transitions' writes
  ms.SetActivityDispatched(5, true);
  EXPECT_TRUE(ai.dispatched());
  ms.RecordActivityHeartbeat(5, kNow - std::chrono::seconds(1));  // a previous attempt's
  ms.StartActivityAttempt(5, kNow, "worker-1", "req-1");
  EXPECT_TRUE(ai.started());
  EXPECT_EQ(FromProto(ai.started_time()), kNow);
  EXPECT_EQ(ai.started_identity(), "worker-1");
  EXPECT_EQ(ai.started_request_id(), "req-1");
  EXPECT_EQ(ai.last_worker_identity(), "worker-1");
  EXPECT_FALSE(ai.has_last_heartbeat_time()) << "the heartbeat timeout counts from the start";

  ::temporal::api::common::v1::Payloads details;
  details.add_payloads()->set_data("50%");
  ms.SetActivityHeartbeatDetails(5, details);
  ms.RecordActivityHeartbeat(5, kNow + std::chrono::seconds(2));
  EXPECT_EQ(ai.heartbeat_details().payloads(0).data(), "50%");
  EXPECT_EQ(FromProto(ai.last_heartbeat_time()), kNow + std::chrono::seconds(2));

  ::temporal::api::failure::v1::Failure failure;
  failure.set_message("boom");
  ms.RetryActivity(5, failure, kNow + std::chrono::seconds(3), kNow + std::chrono::seconds(5), "worker-2");
  EXPECT_EQ(ai.last_failure().message(), "boom");
  EXPECT_EQ(ai.attempt(), 2);
  EXPECT_FALSE(ai.started());
  EXPECT_FALSE(ai.has_started_time());
  EXPECT_TRUE(ai.started_identity().empty());
  EXPECT_TRUE(ai.started_request_id().empty());
  EXPECT_FALSE(ai.has_last_heartbeat_time());
  EXPECT_FALSE(ai.dispatched());
  EXPECT_EQ(ai.last_worker_identity(), "worker-2");
  EXPECT_EQ(FromProto(ai.last_attempt_complete_time()), kNow + std::chrono::seconds(3));
  EXPECT_EQ(FromProto(ai.current_attempt_scheduled_time()), kNow + std::chrono::seconds(5));
  EXPECT_EQ(ai.heartbeat_details().payloads(0).data(), "50%") << "the next attempt gets the details";
  // A timeout has no worker: the last one stays.
  ms.RetryActivity(5, failure, kNow + std::chrono::seconds(6), kNow + std::chrono::seconds(8), "");
  EXPECT_EQ(ai.attempt(), 3);
  EXPECT_EQ(ai.last_worker_identity(), "worker-2");
  EXPECT_EQ(ms.activity_ids.at("a"), 5);
}

TEST(MutableStateTest, ACancelRequestIsRecordedOnThePendingActivity) {
  MutableState ms;
  ms.AddActivity(Activity(5, "a"));
  ms.StartActivityAttempt(5, kNow, "worker-1", "req-1");
  ms.RequestActivityCancel(5, 9);
  const state::ActivityInfo& ai = *ms.FindActivity(5);
  EXPECT_TRUE(ai.cancel_requested());
  EXPECT_EQ(ai.cancel_requested_event_id(), 9);
  EXPECT_TRUE(ai.started()) << "the attempt runs on until the worker answers";
  EXPECT_EQ(ms.FindActivityById("a"), &ai);
}

TEST(MutableStateTest, AResetSchedulesAnUnstartedActivityAgainAsAFirstAttempt) {
  MutableState ms;
  state::ActivityInfo retrying = Activity(5, "a", 3);
  *retrying.mutable_scheduled_time() = ToProto(kNow - std::chrono::hours(1));
  *retrying.mutable_current_attempt_scheduled_time() = ToProto(kNow + std::chrono::minutes(1));
  retrying.set_dispatched(true);
  ms.AddActivity(retrying);
  ms.RescheduleActivity(5, kNow);
  const state::ActivityInfo& ai = *ms.FindActivity(5);
  EXPECT_EQ(FromProto(ai.scheduled_time()), kNow);
  EXPECT_EQ(FromProto(ai.current_attempt_scheduled_time()), kNow);
  EXPECT_EQ(ai.attempt(), 1);
  EXPECT_FALSE(ai.dispatched());
  EXPECT_EQ(ms.activity_ids.at("a"), 5);
}

TEST(MutableStateTest, TransitionsOfAnActivityNotPendingDoNothing) {
  MutableState ms;
  ms.AddActivity(Activity(5, "a"));
  const std::string before = ms.st().SerializeAsString();
  ::temporal::api::failure::v1::Failure failure;
  ::temporal::api::common::v1::Payloads details;
  ms.SetActivityDispatched(99, true);
  ms.StartActivityAttempt(99, kNow, "w", "r");
  ms.RetryActivity(99, failure, kNow, kNow, "w");
  ms.SetActivityHeartbeatDetails(99, details);
  ms.RecordActivityHeartbeat(99, kNow);
  ms.RequestActivityCancel(99, 9);
  ms.RescheduleActivity(99, kNow);
  EXPECT_EQ(ms.st().SerializeAsString(), before) << "no entry is made for an unknown id";
  EXPECT_EQ(ms.FindActivity(99), nullptr);
  EXPECT_EQ(ms.activity_ids.size(), 1u);
}

TEST(MutableStateTest, WorkflowTaskTransitions) {
  MutableState ms;
  EditState(ms, [&](state::ExecutionState& s) {
    s.set_next_event_id(4);
    s.set_task_queue("tq");
  });
  ::google::protobuf::Duration timeout;
  timeout.set_seconds(10);
  // A transient task takes the id its Scheduled event would get; a normal one gets it set.
  ms.ScheduleWorkflowTask(2, kNow, timeout, "tq", false, true);
  EXPECT_TRUE(ms.st().wft().transient());
  EXPECT_EQ(ms.st().wft().scheduled_event_id(), 4);
  EXPECT_EQ(ms.st().wft().attempt(), 2);
  ms.ConvertTransientWorkflowTaskToNormal(kNow + std::chrono::seconds(1));
  EXPECT_FALSE(ms.st().wft().transient());
  EXPECT_EQ(ms.st().wft().attempt(), 1);
  EXPECT_EQ(FromProto(ms.st().wft().scheduled_time()), kNow + std::chrono::seconds(1));
  ms.ScheduleWorkflowTask(1, kNow, timeout, "sticky-tq", true, false);
  EXPECT_EQ(ms.st().wft().scheduled_event_id(), 0) << "set once the event is appended";
  EXPECT_EQ(ms.st().wft().task_queue(), "sticky-tq");
  ms.SetWorkflowTaskScheduledEventId(4);
  EXPECT_TRUE(ms.wft_pending());
  ms.MoveWorkflowTaskToNormalQueue();
  EXPECT_FALSE(ms.st().wft().on_sticky_queue());
  EXPECT_EQ(ms.st().wft().task_queue(), "tq");
  ms.StartWorkflowTask(kNow, "worker", "req-1");
  ms.SetWorkflowTaskStartedEventId(5);
  EXPECT_TRUE(ms.wft_started());
  EXPECT_EQ(ms.st().wft().identity(), "worker");
  ms.CompleteWorkflowTask();
  EXPECT_EQ(ms.st().last_completed_wft_started_id(), 5);
  ms.SetStickyTaskQueue("sticky-tq", timeout);
  EXPECT_EQ(ms.st().sticky_task_queue(), "sticky-tq");
  EXPECT_EQ(ms.st().sticky_schedule_to_start_timeout().seconds(), 10);
  ms.ClearWorkflowTask(3);  // a failure keeps only the next attempt's number
  EXPECT_FALSE(ms.wft_pending());
  EXPECT_EQ(ms.st().wft().attempt(), 3);
  EXPECT_TRUE(ms.st().wft().identity().empty());
  ms.ClearWorkflowTask();
  EXPECT_EQ(ms.st().wft().attempt(), 0);
}

TEST(MutableStateTest, SignalsUpsertsAndCancel) {
  MutableState ms;
  ms.RecordSignal("r1");
  ms.RecordSignal("");  // counted, not remembered
  EXPECT_EQ(ms.st().signal_count(), 2);
  ASSERT_EQ(ms.st().signal_request_ids_size(), 1);
  EXPECT_EQ(ms.st().signal_request_ids(0), "r1");

  ::temporal::api::common::v1::SearchAttributes sa;
  (*sa.mutable_indexed_fields())["Keep"].set_data("\"v\"");
  (*sa.mutable_indexed_fields())["Drop"].set_data("\"x\"");
  ms.UpsertSearchAttributes(sa);
  EXPECT_TRUE(ms.visibility_dirty);
  ::temporal::api::common::v1::SearchAttributes unset;
  (*unset.mutable_indexed_fields())["Drop"];  // an empty value unsets it
  ms.UpsertSearchAttributes(unset);
  EXPECT_EQ(ms.st().search_attributes().indexed_fields().size(), 1u);
  EXPECT_TRUE(ms.st().search_attributes().indexed_fields().contains("Keep"));

  ms.visibility_dirty = false;
  ::temporal::api::common::v1::Memo memo;
  (*memo.mutable_fields())["note"].set_data("\"hi\"");
  ms.UpsertMemo(memo);
  EXPECT_TRUE(ms.visibility_dirty);
  (*memo.mutable_fields())["note"].set_data("null");  // a nil value removes the key
  ms.UpsertMemo(memo);
  EXPECT_TRUE(ms.st().memo().fields().empty());

  ms.RequestCancel();
  EXPECT_TRUE(ms.st().cancel_requested());
}

TEST(MutableStateTest, MarkClosedDropsWhatIsPending) {
  MutableState ms;
  EditState(ms, [&](state::ExecutionState& s) { s.set_next_event_id(1); });
  ms.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, kNow);
  ms.AddActivity(Activity(5, "a"));
  ms.AddTimer(Timer("t", 1));
  ms.AddChild(Child(7, "child"));
  ms.SetStickyTaskQueue("sticky", {});
  ms.BufferEvent(ev1::EVENT_TYPE_TIMER_FIRED, kNow);
  ms.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, kNow + std::chrono::seconds(3));
  ms.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  std::vector<state::ChildInfo> children = ms.MarkClosed();
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].workflow_id(), "child");
  EXPECT_FALSE(ms.open());
  EXPECT_EQ(ms.st().completion_event_id(), 2);
  EXPECT_EQ(FromProto(ms.st().close_time()), kNow + std::chrono::seconds(3));
  EXPECT_EQ(ms.st().activities_size() + ms.st().timers_size() + ms.st().children_size(), 0);
  EXPECT_EQ(ms.st().buffered_events_size(), 0);
  EXPECT_TRUE(ms.st().sticky_task_queue().empty());
  EXPECT_TRUE(ms.activity_ids.empty());
}

// A new run's state as StartWorkflow::NewRun builds it: ids, status and the next event id.
state::ExecutionState InitialState() {
  state::ExecutionState st;
  st.set_namespace_id("ns");
  st.set_workflow_id("wf");
  st.set_run_id("run-1");
  st.set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  st.set_next_event_id(1);
  return st;
}

TEST(MutableStateTest, ANewRunTakesItsInitialStateWhole) {
  MutableState ms(InitialState());
  EXPECT_TRUE(ms.open());
  EXPECT_EQ(ms.st().run_id(), "run-1");
  EXPECT_EQ(ms.workflow_key(), "ns\nwf");
  EXPECT_TRUE(ms.events.empty());
  EXPECT_EQ(ms.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, kNow)->event_id(), 1);
  EXPECT_EQ(ms.st().next_event_id(), 2);
}

TEST(MutableStateTest, TheFirstWorkflowTaskBackoffIsSetAndCleared) {
  MutableState ms(InitialState());
  ms.SetFirstWorkflowTaskBackoff(kNow + std::chrono::seconds(90));
  EXPECT_EQ(FromProto(ms.st().first_wft_due_time()), kNow + std::chrono::seconds(90));
  ms.ClearFirstWorkflowTaskBackoff();
  EXPECT_TRUE(IsZero(ms.st().first_wft_due_time()));
}

TEST(MutableStateTest, StartExtrasGoToTheStartedEventAndTheState) {
  MutableState ms(InitialState());
  auto* started = ms.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, kNow);
  started->mutable_workflow_execution_started_event_attributes()->mutable_priority()->set_priority_key(3);
  ::temporal::api::sdk::v1::UserMetadata md;
  md.mutable_summary()->set_data("nightly");
  ms.RecordStartExtras(md, started);
  EXPECT_EQ(ms.events[0].user_metadata().summary().data(), "nightly");
  EXPECT_EQ(ms.st().user_metadata().summary().data(), "nightly");
  EXPECT_EQ(ms.st().priority().priority_key(), 3);

  MutableState plain(InitialState());  // no metadata, no priority: neither is recorded
  started = plain.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, kNow);
  plain.RecordStartExtras({}, started);
  EXPECT_FALSE(plain.events[0].has_user_metadata());
  EXPECT_FALSE(plain.st().has_user_metadata());
  EXPECT_FALSE(plain.st().has_priority());
}

TEST(MutableStateTest, AResetRunTakesItsRequestIdsAndRestartsItsDeadlines) {
  state::ExecutionState st = InitialState();
  st.set_start_request_id("replayed");
  st.set_sticky_task_queue("sticky");
  *st.mutable_first_wft_due_time() = ToProto(kNow - std::chrono::seconds(5));
  *st.mutable_execution_timeout() = ToProtoDuration(std::chrono::seconds(100));
  *st.mutable_run_timeout() = ToProtoDuration(std::chrono::seconds(30));
  *st.mutable_execution_expiration_time() = ToProto(kNow - std::chrono::seconds(1000));
  *st.mutable_run_expiration_time() = ToProto(kNow - std::chrono::seconds(1000));
  MutableState ms(st);
  const TimePoint now = kNow + std::chrono::seconds(7);
  ms.BeginResetRun("base-start", "reset-1", now);
  EXPECT_EQ(ms.st().start_request_id(), "base-start");
  EXPECT_EQ(ms.st().reset_request_id(), "reset-1");
  EXPECT_TRUE(ms.st().sticky_task_queue().empty());
  EXPECT_TRUE(IsZero(ms.st().first_wft_due_time()));
  EXPECT_EQ(FromProto(ms.st().execution_expiration_time()), now + std::chrono::seconds(100));
  EXPECT_EQ(FromProto(ms.st().run_expiration_time()), now + std::chrono::seconds(30));

  // A run timeout longer than what is left of the execution's is capped at the execution deadline.
  *st.mutable_run_timeout() = ToProtoDuration(std::chrono::seconds(500));
  MutableState capped(st);
  capped.BeginResetRun("base-start", "reset-2", now);
  EXPECT_EQ(FromProto(capped.st().run_expiration_time()), now + std::chrono::seconds(100));

  // Without timeouts the deadlines stay unset.
  MutableState unbounded(InitialState());
  unbounded.BeginResetRun("base-start", "reset-3", now);
  EXPECT_TRUE(IsZero(unbounded.st().execution_expiration_time()));
  EXPECT_TRUE(IsZero(unbounded.st().run_expiration_time()));
}

TEST(MutableStateTest, ForgottenChildrenAreNotReturnedAtClose) {
  MutableState ms(InitialState());
  ms.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, kNow);
  ms.AddChild(Child(3, "child-a"));
  ms.AddChild(Child(4, "child-b"));
  ASSERT_EQ(ms.st().children_size(), 2);
  ms.ForgetChildren();  // a reset's run adopts them
  EXPECT_EQ(ms.st().children_size(), 0);
  ms.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, kNow);
  ms.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_TRUE(ms.MarkClosed().empty());
}

}  // namespace
}  // namespace temporalite::history
