// The ActivityTasks unit (history/activity_tasks.h) over its narrow interfaces: a run built by hand
// with one scheduled activity, a SimClock, a test ActivityEngine (real matching queues, namespaces,
// open runs from the context's, poll timeouts recorded, commits durable at once) and the
// EngineContext of test_engine_context.h (workflow tasks scheduled, the timers). The engine-level
// behaviour (the store, eviction, the frontend) is engine_activity_test.cc's,
// engine_eager_test.cc's and engine_matching_test.cc's.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "history/activity_tasks.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/task_token.h"
#include "execution_test_util.h"
#include "test_engine_context.h"
#include "test_namespaces.h"

namespace temporalite::history {
namespace {

namespace wsv1 = ::temporal::api::workflowservice::v1;
namespace fv1 = ::temporal::api::failure::v1;

constexpr char kNsId[] = "ns-id";
constexpr char kNs[] = "default";
constexpr int64_t kT0 = 1704067200;  // 2024-01-01T00:00:00Z
constexpr int64_t kSid = 5;          // the activity's ActivityTaskScheduled event id

class TestActivityEngine : public ActivityEngine {
 public:
  TestActivityEngine(Mutex& mu, testing::TestEngineContext& context) : mu_(mu), context_(context) {}
  Queues& ActivityQueues() override { return queues; }
  Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) override {
    return testing::TestNamespaceByName(mu_, namespaces, name);
  }
  Result<Execution*> FetchOpenRun(std::string ns_id, std::string workflow_id, std::string run_id) override {
    ++fetches;
    return context_.OpenRun(ns_id, workflow_id, run_id);
  }
  void ArmPollTimeout(const std::shared_ptr<matching::Waiter>&, Duration max_wait, matching::QueueKey key) override {
    poll_timeouts.push_back(key.name + "/" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(max_wait).count()));
  }
  // Durable at once: the after-commit steps, then `done`.
  void Commit(Txn& txn, Done done) override {
    mu_.AssertHeld();
    ++commits;
    touched += txn.touched.size();
    for (auto& f : txn.after_commit) f();
    if (done) done(Status::Ok());
  }

  Queues queues{std::chrono::seconds(10)};
  std::map<std::string, state::NamespaceRecord> namespaces;  // by name
  std::vector<std::string> poll_timeouts;                    // "<queue>/<seconds>"
  int commits = 0;
  int fetches = 0;
  size_t touched = 0;

 private:
  Mutex& mu_;
  testing::TestEngineContext& context_;
};

// A poll and its answer.
struct PollCall {
  wsv1::PollActivityTaskQueueResponse resp;
  std::shared_ptr<matching::PollWaiter<wsv1::PollActivityTaskQueueResponse>> waiter;
  int answers = 0;
  Status status = Internal("no answer");
};

fv1::Failure AppFailure(const std::string& message, const std::string& type = "Err", bool non_retryable = false) {
  fv1::Failure f;
  f.set_message(message);
  f.mutable_application_failure_info()->set_type(type);
  f.mutable_application_failure_info()->set_non_retryable(non_retryable);
  return f;
}

class ActivityTasksUnitTest : public ::testing::Test {
 protected:
  ActivityTasksUnitTest() : clock_(TimePoint(std::chrono::seconds(kT0))), context_(clock_, mu_), host_(mu_, context_) {
    state::NamespaceRecord rec;
    rec.mutable_info()->set_id(kNsId);
    rec.mutable_info()->set_name(kNs);
    host_.namespaces[kNs] = rec;
    context_.namespace_names[kNsId] = kNs;
    testing::InitRun(ex_, kNsId, "wf", "run-1", clock_.Now(), "wf-tq");
    EditState(ex_, [](state::ExecutionState& st) { st.set_workflow_type("Flow"); });
    // Events 2..4 stand for the first workflow task; 5 schedules the activity.
    for (int i = 0; i < 3; ++i) ex_.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED, clock_.Now());
    auto* a = ex_.AddEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, clock_.Now())
                  ->mutable_activity_task_scheduled_event_attributes();
    a->set_activity_id("act-1");
    a->mutable_activity_type()->set_name("Charge");
    a->mutable_input()->add_payloads()->set_data("card");
    context_.runs["run-1"] = &ex_;
  }

  // Adds the pending activity of event 5 (attempt 1, scheduled now) with `fill`'s timeouts and policy.
  void Schedule(const std::function<void(state::ActivityInfo&)>& fill = nullptr) {
    state::ActivityInfo ai;
    ai.set_scheduled_event_id(kSid);
    ai.set_activity_id("act-1");
    ai.set_activity_type("Charge");
    ai.set_task_queue("act-tq");
    *ai.mutable_scheduled_time() = ToProto(clock_.Now());
    *ai.mutable_current_attempt_scheduled_time() = ToProto(clock_.Now());
    ai.set_attempt(1);
    if (fill) fill(ai);
    ex_.AddActivity(std::move(ai));
  }
  // Dispatches the pending activity in a transaction of its own (as a workflow-task completion does).
  void Dispatch() {
    MutexLock l(mu_);
    Txn txn;
    unit_.Dispatch(txn, ex_, *ex_.FindActivity(kSid));
    unit_.ArmTimers(ex_, *ex_.FindActivity(kSid));
    host_.Commit(txn, nullptr);
  }
  std::unique_ptr<PollCall> Poll(const std::string& identity = "worker-1") {
    auto call = std::make_unique<PollCall>();
    call->waiter = std::make_shared<matching::PollWaiter<wsv1::PollActivityTaskQueueResponse>>(&call->resp);
    PollCall* raw = call.get();
    call->waiter->finish = [raw](const Status& s) { ++raw->answers, raw->status = s; };
    wsv1::PollActivityTaskQueueRequest req;
    req.set_namespace_(kNs);
    req.mutable_task_queue()->set_name("act-tq");
    req.set_identity(identity);
    MutexLock l(mu_);
    unit_.Poll(l, req, call->waiter, std::chrono::seconds(60));
    return call;
  }
  // A started attempt's token (dispatch + poll).
  std::string StartAttempt() {
    Dispatch();
    auto call = Poll();
    EXPECT_EQ(call->answers, 1);
    return call->resp.task_token();
  }
  template <class Req>
  Status Answer(const Req& req) {
    Status out = Internal("no answer");
    MutexLock l(mu_);
    if constexpr (std::is_same_v<Req, wsv1::RespondActivityTaskCompletedRequest> ||
                  std::is_same_v<Req, wsv1::RespondActivityTaskCompletedByIdRequest>) {
      unit_.Complete(l, req, [&](const Status& s) { out = s; });
    } else if constexpr (std::is_same_v<Req, wsv1::RespondActivityTaskFailedRequest> ||
                         std::is_same_v<Req, wsv1::RespondActivityTaskFailedByIdRequest>) {
      unit_.Fail(l, req, [&](const Status& s) { out = s; });
    } else {
      unit_.Cancel(l, req, [&](const Status& s) { out = s; });
    }
    return out;
  }
  Status Complete(const std::string& token, const std::string& result) {
    wsv1::RespondActivityTaskCompletedRequest req;
    req.set_task_token(token);
    req.mutable_result()->add_payloads()->set_data(result);
    req.set_identity("worker-1");
    return Answer(req);
  }
  Status Fail(const std::string& token, const fv1::Failure& f) {
    wsv1::RespondActivityTaskFailedRequest req;
    req.set_task_token(token);
    *req.mutable_failure() = f;
    req.set_identity("worker-1");
    return Answer(req);
  }
  Status Heartbeat(const std::string& token, const std::string& details, bool* cancel_requested) {
    wsv1::RecordActivityTaskHeartbeatRequest req;
    req.set_task_token(token);
    if (!details.empty()) req.mutable_details()->add_payloads()->set_data(details);
    wsv1::RecordActivityTaskHeartbeatResponse resp;
    Status out = Internal("no answer");
    MutexLock l(mu_);
    unit_.Heartbeat(l, req, &resp, [&](const Status& s) { out = s; });
    *cancel_requested = resp.cancel_requested();
    return out;
  }
  void AdvanceAndFire(Duration d) {
    clock_.Advance(d);
    context_.timers().RunDue();  // the unit's timers take mu_ themselves
  }
  const hv1::HistoryEvent& Event(int64_t id) const { return ex_.events.at(static_cast<size_t>(id - 1)); }
  const state::ActivityInfo* Pending() {
    MutexLock l(mu_);
    return ex_.FindActivity(kSid);
  }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  TestActivityEngine host_;
  ActivityTasks unit_{mu_, context_, host_, ActivityTasks::Limits{}};
  Execution ex_;
};

TEST_F(ActivityTasksUnitTest, SyncMatchHandsTheAttemptToTheWaitingPoller) {
  Schedule([](state::ActivityInfo& ai) { *ai.mutable_start_to_close_timeout() = ToProtoDuration(std::chrono::seconds(30)); });
  auto call = Poll();
  // Nothing to take: the poll waits, its long-poll timeout armed.
  EXPECT_EQ(call->answers, 0);
  EXPECT_EQ(host_.poll_timeouts, std::vector<std::string>{"act-tq/60"});
  Dispatch();
  ASSERT_EQ(call->answers, 1);
  EXPECT_TRUE(call->status.ok());
  const auto& r = call->resp;
  EXPECT_EQ(r.activity_id(), "act-1");
  EXPECT_EQ(r.activity_type().name(), "Charge");
  EXPECT_EQ(r.workflow_namespace(), kNs);
  EXPECT_EQ(r.workflow_type().name(), "Flow");
  EXPECT_EQ(r.workflow_execution().run_id(), "run-1");
  EXPECT_EQ(r.input().payloads(0).data(), "card");
  EXPECT_EQ(r.attempt(), 1);
  EXPECT_EQ(FromProto(r.started_time()), clock_.Now());
  EXPECT_EQ(FromProto(r.start_to_close_timeout()), std::chrono::seconds(30));
  auto tok = DecodeTaskToken(r.task_token());
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ(tok->kind(), state::TaskToken::ACTIVITY_TASK);
  EXPECT_EQ(tok->scheduled_event_id(), kSid);
  EXPECT_EQ(tok->attempt(), 1);
  const state::ActivityInfo& ai = *Pending();
  EXPECT_TRUE(ai.started());
  EXPECT_TRUE(ai.dispatched());
  EXPECT_EQ(ai.started_identity(), "worker-1");
  EXPECT_EQ(ai.last_worker_identity(), "worker-1");
  EXPECT_FALSE(ai.started_request_id().empty());
  // The start writes no event (ActivityTaskStarted comes with the close).
  EXPECT_EQ(ex_.events.size(), 5u);
}

TEST_F(ActivityTasksUnitTest, BacklogTaskIsTakenByTheNextPollAndStaleOnesAreDropped) {
  Schedule();
  Dispatch();  // no poller: backlogged
  EXPECT_FALSE(Pending()->started());
  {
    MutexLock l(mu_);
    auto* q = host_.queues.Find({kNsId, "act-tq", matching::TaskType::kActivity});
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->backlog.size(), 1u);
  }
  auto call = Poll("worker-2");
  ASSERT_EQ(call->answers, 1);
  EXPECT_EQ(call->resp.activity_id(), "act-1");
  EXPECT_EQ(Pending()->started_identity(), "worker-2");
  EXPECT_TRUE(host_.poll_timeouts.empty());
  // The same attempt queued again (a stale copy) is dropped: the next poll waits.
  {
    MutexLock l(mu_);
    host_.queues.Offer(mu_, {kNsId, "act-tq", matching::TaskType::kActivity}, {"run-1", kSid, 1, {}}, clock_.Now());
  }
  auto second = Poll();
  EXPECT_EQ(second->answers, 0);
  EXPECT_EQ(host_.poll_timeouts, std::vector<std::string>{"act-tq/60"});
}

TEST_F(ActivityTasksUnitTest, UnknownNamespaceAnswersAtOnce) {
  wsv1::PollActivityTaskQueueRequest req;
  req.set_namespace_("nope");
  req.mutable_task_queue()->set_name("act-tq");
  PollCall call;
  call.waiter = std::make_shared<matching::PollWaiter<wsv1::PollActivityTaskQueueResponse>>(&call.resp);
  call.waiter->finish = [&](const Status& s) { ++call.answers, call.status = s; };
  {
    MutexLock l(mu_);
    unit_.Poll(l, req, call.waiter, std::chrono::seconds(60));
  }
  EXPECT_EQ(call.answers, 1);
  EXPECT_EQ(call.status.code(), Code::kNotFound);
  EXPECT_EQ(call.status.message(), "Namespace nope is not found.");
}

TEST_F(ActivityTasksUnitTest, CompleteWritesStartedAndCompletedAndSchedulesAWorkflowTask) {
  Schedule();
  const std::string token = StartAttempt();
  clock_.Advance(std::chrono::seconds(3));
  ASSERT_TRUE(Complete(token, "paid").ok());
  ASSERT_EQ(ex_.events.size(), 7u);
  const auto& started = Event(6);
  EXPECT_EQ(started.event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  EXPECT_EQ(started.activity_task_started_event_attributes().scheduled_event_id(), kSid);
  EXPECT_EQ(started.activity_task_started_event_attributes().identity(), "worker-1");
  EXPECT_EQ(started.activity_task_started_event_attributes().attempt(), 1);
  EXPECT_EQ(FromProto(started.event_time()), clock_.Now() - std::chrono::seconds(3));  // the start's time
  const auto& done = Event(7);
  EXPECT_EQ(done.event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
  EXPECT_EQ(done.activity_task_completed_event_attributes().result().payloads(0).data(), "paid");
  EXPECT_EQ(done.activity_task_completed_event_attributes().scheduled_event_id(), kSid);
  EXPECT_EQ(done.activity_task_completed_event_attributes().started_event_id(), 6);
  EXPECT_EQ(done.activity_task_completed_event_attributes().identity(), "worker-1");
  EXPECT_EQ(Pending(), nullptr);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
  // A second answer with the same token: the activity is gone.
  Status again = Complete(token, "twice");
  EXPECT_EQ(again.code(), Code::kNotFound);
  EXPECT_EQ(again.message(), ActivityTasks::kTaskNotFound);
}

TEST_F(ActivityTasksUnitTest, RetryableFailureSchedulesTheNextAttemptAfterTheBackoffThenFailsFinally) {
  Schedule([](state::ActivityInfo& ai) {
    auto* p = ai.mutable_retry_policy();
    *p->mutable_initial_interval() = ToProtoDuration(std::chrono::seconds(1));
    p->set_backoff_coefficient(2.0);
    p->set_maximum_attempts(3);
  });
  const TimePoint t0 = clock_.Now();
  std::string token = StartAttempt();
  ASSERT_TRUE(Fail(token, AppFailure("boom 1")).ok());
  // A retry writes no event: attempt 2, due after 1 s (initial interval), not dispatched yet.
  EXPECT_EQ(ex_.events.size(), 5u);
  const state::ActivityInfo* ai = Pending();
  ASSERT_NE(ai, nullptr);
  EXPECT_EQ(ai->attempt(), 2);
  EXPECT_FALSE(ai->started());
  EXPECT_FALSE(ai->dispatched());
  EXPECT_EQ(ai->last_failure().message(), "boom 1");
  EXPECT_EQ(FromProto(ai->current_attempt_scheduled_time()), t0 + std::chrono::seconds(1));
  EXPECT_EQ(FromProto(ai->last_attempt_complete_time()), t0);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);
  // The old token is stale now.
  EXPECT_EQ(Complete(token, "late").message(), ActivityTasks::kTaskNotFound);
  auto early = Poll();
  EXPECT_EQ(early->answers, 0);  // the backoff is not over: nothing queued
  AdvanceAndFire(std::chrono::seconds(1));
  ASSERT_EQ(early->answers, 1);  // the retry's timer dispatched it to the waiting poll
  EXPECT_EQ(early->resp.attempt(), 2);
  ASSERT_TRUE(Fail(early->resp.task_token(), AppFailure("boom 2")).ok());
  // Backoff 1 s * 2^(2-1) = 2 s.
  EXPECT_EQ(Pending()->attempt(), 3);
  EXPECT_EQ(FromProto(Pending()->current_attempt_scheduled_time()), clock_.Now() + std::chrono::seconds(2));
  AdvanceAndFire(std::chrono::seconds(2));
  auto third = Poll();
  ASSERT_EQ(third->answers, 1);
  EXPECT_EQ(third->resp.attempt(), 3);
  EXPECT_EQ(third->resp.heartbeat_details().payloads_size(), 0);
  ASSERT_TRUE(Fail(third->resp.task_token(), AppFailure("boom 3")).ok());
  // Final: Started (attempt 3, with the last failure) + Failed, MAXIMUM_ATTEMPTS_REACHED.
  ASSERT_EQ(ex_.events.size(), 7u);
  EXPECT_EQ(Event(6).activity_task_started_event_attributes().attempt(), 3);
  EXPECT_EQ(Event(6).activity_task_started_event_attributes().last_failure().message(), "boom 2");
  const auto& failed = Event(7).activity_task_failed_event_attributes();
  EXPECT_EQ(Event(7).event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_FAILED);
  EXPECT_EQ(failed.failure().message(), "boom 3");
  EXPECT_EQ(failed.retry_state(), ev1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
  EXPECT_EQ(failed.started_event_id(), 6);
  EXPECT_EQ(failed.identity(), "worker-1");
  EXPECT_EQ(Pending(), nullptr);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
}

TEST_F(ActivityTasksUnitTest, NonRetryableFailuresCloseTheActivityAtOnce) {
  Schedule([](state::ActivityInfo& ai) { ai.mutable_retry_policy()->add_non_retryable_error_types("CardDeclined"); });
  std::string token = StartAttempt();
  ASSERT_TRUE(Fail(token, AppFailure("declined", "CardDeclined")).ok());
  ASSERT_EQ(ex_.events.size(), 7u);
  EXPECT_EQ(Event(7).activity_task_failed_event_attributes().retry_state(), ev1::RETRY_STATE_NON_RETRYABLE_FAILURE);
  EXPECT_EQ(Event(7).activity_task_failed_event_attributes().failure().application_failure_info().type(), "CardDeclined");
  EXPECT_EQ(Pending(), nullptr);
}

TEST_F(ActivityTasksUnitTest, NonRetryableFlagClosesTheActivityAtOnce) {
  Schedule();
  std::string token = StartAttempt();
  ASSERT_TRUE(Fail(token, AppFailure("fatal", "Err", /*non_retryable=*/true)).ok());
  ASSERT_EQ(ex_.events.size(), 7u);
  EXPECT_EQ(Event(7).activity_task_failed_event_attributes().retry_state(), ev1::RETRY_STATE_NON_RETRYABLE_FAILURE);
}

TEST_F(ActivityTasksUnitTest, CancelNeedsARequestAndHeartbeatsReportIt) {
  Schedule();
  std::string token = StartAttempt();
  wsv1::RespondActivityTaskCanceledRequest cancel;
  cancel.set_task_token(token);
  cancel.mutable_details()->add_payloads()->set_data("bye");
  cancel.set_identity("worker-1");
  Status early = Answer(cancel);
  EXPECT_EQ(early.code(), Code::kInvalidArgument);
  EXPECT_EQ(early.message(), "activity cancellation was not requested");
  bool cancel_requested = true;
  ASSERT_TRUE(Heartbeat(token, "50%", &cancel_requested).ok());
  EXPECT_FALSE(cancel_requested);
  EXPECT_EQ(Pending()->heartbeat_details().payloads(0).data(), "50%");
  EXPECT_EQ(FromProto(Pending()->last_heartbeat_time()), clock_.Now());
  // The workflow asks for the cancel (RequestCancelActivityTask, event 6).
  {
    MutexLock l(mu_);
    ex_.AddEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED, clock_.Now());
    ex_.RequestActivityCancel(kSid, 6);
  }
  ASSERT_TRUE(Heartbeat(token, "", &cancel_requested).ok());
  EXPECT_TRUE(cancel_requested);
  EXPECT_EQ(Pending()->heartbeat_details().payloads(0).data(), "50%");  // kept: no details sent
  ASSERT_TRUE(Answer(cancel).ok());
  ASSERT_EQ(ex_.events.size(), 8u);
  EXPECT_EQ(Event(7).event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  const auto& c = Event(8).activity_task_canceled_event_attributes();
  EXPECT_EQ(Event(8).event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_CANCELED);
  EXPECT_EQ(c.details().payloads(0).data(), "bye");
  EXPECT_EQ(c.latest_cancel_requested_event_id(), 6);
  EXPECT_EQ(c.started_event_id(), 7);
  EXPECT_EQ(Pending(), nullptr);
}

TEST_F(ActivityTasksUnitTest, FailureAfterACancelRequestIsFinal) {
  Schedule();
  std::string token = StartAttempt();
  {
    MutexLock l(mu_);
    ex_.RequestActivityCancel(kSid, 0);
  }
  ASSERT_TRUE(Fail(token, AppFailure("boom")).ok());
  EXPECT_EQ(Event(7).activity_task_failed_event_attributes().retry_state(), ev1::RETRY_STATE_CANCEL_REQUESTED);
}

TEST_F(ActivityTasksUnitTest, HeartbeatTimeoutCountsFromTheLastHeartbeat) {
  Schedule([](state::ActivityInfo& ai) {
    *ai.mutable_heartbeat_timeout() = ToProtoDuration(std::chrono::seconds(10));
    ai.mutable_retry_policy()->set_maximum_attempts(1);
  });
  std::string token = StartAttempt();
  clock_.Advance(std::chrono::seconds(8));
  bool cancel = false;
  ASSERT_TRUE(Heartbeat(token, "half", &cancel).ok());
  AdvanceAndFire(std::chrono::seconds(8));  // 16 s after the start, 8 s after the heartbeat
  EXPECT_EQ(ex_.events.size(), 5u);
  ASSERT_NE(Pending(), nullptr);
  AdvanceAndFire(std::chrono::seconds(2));  // 10 s after the heartbeat
  ASSERT_EQ(ex_.events.size(), 7u);
  const auto& e = Event(7);
  EXPECT_EQ(e.event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT);
  const auto& a = e.activity_task_timed_out_event_attributes();
  EXPECT_EQ(a.failure().message(), "activity Heartbeat timeout");
  EXPECT_EQ(a.failure().timeout_failure_info().timeout_type(), ev1::TIMEOUT_TYPE_HEARTBEAT);
  EXPECT_EQ(a.failure().timeout_failure_info().last_heartbeat_details().payloads(0).data(), "half");
  EXPECT_EQ(a.retry_state(), ev1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
  EXPECT_EQ(a.started_event_id(), 6);
  EXPECT_EQ(Pending(), nullptr);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
  // The worker's late answer finds nothing.
  EXPECT_EQ(Complete(token, "late").message(), ActivityTasks::kTaskNotFound);
}

TEST_F(ActivityTasksUnitTest, StartToCloseTimeoutRetriesThenScheduleToCloseEndsIt) {
  Schedule([](state::ActivityInfo& ai) {
    *ai.mutable_start_to_close_timeout() = ToProtoDuration(std::chrono::seconds(5));
    *ai.mutable_schedule_to_close_timeout() = ToProtoDuration(std::chrono::seconds(8));
    *ai.mutable_retry_policy()->mutable_initial_interval() = ToProtoDuration(std::chrono::seconds(1));
  });
  const TimePoint t0 = clock_.Now();
  StartAttempt();
  AdvanceAndFire(std::chrono::seconds(5));
  // Retried: attempt 2 after 1 s, its failure a StartToClose timeout.
  ASSERT_NE(Pending(), nullptr);
  EXPECT_EQ(Pending()->attempt(), 2);
  EXPECT_EQ(Pending()->last_failure().message(), "activity StartToClose timeout");
  EXPECT_EQ(Pending()->last_failure().timeout_failure_info().timeout_type(), ev1::TIMEOUT_TYPE_START_TO_CLOSE);
  EXPECT_EQ(FromProto(Pending()->current_attempt_scheduled_time()), t0 + std::chrono::seconds(6));
  AdvanceAndFire(std::chrono::seconds(1));
  auto second = Poll();
  ASSERT_EQ(second->answers, 1);
  // Attempt 2 times out at 11 s > schedule-to-close (8 s): the schedule-to-close timer ends it at 8 s.
  AdvanceAndFire(std::chrono::seconds(2));
  ASSERT_EQ(ex_.events.size(), 7u);
  const auto& a = Event(7).activity_task_timed_out_event_attributes();
  EXPECT_EQ(a.failure().timeout_failure_info().timeout_type(), ev1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE);
  EXPECT_EQ(a.failure().message(), "activity ScheduleToClose timeout");
  EXPECT_EQ(a.failure().cause().message(), "activity StartToClose timeout");  // the last failure
  EXPECT_EQ(a.retry_state(), ev1::RETRY_STATE_TIMEOUT);
  EXPECT_EQ(FromProto(Event(7).event_time()), t0 + std::chrono::seconds(8));
}

TEST_F(ActivityTasksUnitTest, ScheduleToStartTimeoutWithoutAPoller) {
  Schedule([](state::ActivityInfo& ai) {
    *ai.mutable_schedule_to_start_timeout() = ToProtoDuration(std::chrono::seconds(5));
  });
  Dispatch();
  AdvanceAndFire(std::chrono::seconds(4));
  EXPECT_EQ(ex_.events.size(), 5u);
  AdvanceAndFire(std::chrono::seconds(1));
  // Never started: no ActivityTaskStarted, started_event_id 0; not retried (RETRY_STATE_TIMEOUT).
  ASSERT_EQ(ex_.events.size(), 6u);
  const auto& a = Event(6).activity_task_timed_out_event_attributes();
  EXPECT_EQ(Event(6).event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT);
  EXPECT_EQ(a.failure().message(), "activity ScheduleToStart timeout");
  EXPECT_EQ(a.failure().timeout_failure_info().timeout_type(), ev1::TIMEOUT_TYPE_SCHEDULE_TO_START);
  EXPECT_EQ(a.started_event_id(), 0);
  EXPECT_EQ(a.retry_state(), ev1::RETRY_STATE_TIMEOUT);
  EXPECT_EQ(Pending(), nullptr);
  // The backlogged task is stale now: a poll drops it and waits.
  auto call = Poll();
  EXPECT_EQ(call->answers, 0);
}

TEST_F(ActivityTasksUnitTest, ByIdVariantsFindTheActivityByItsIdAndStartAnUnpolledAttempt) {
  Schedule();
  Dispatch();  // backlogged, nobody polled
  wsv1::RespondActivityTaskCompletedByIdRequest req;
  req.set_namespace_(kNs);
  req.set_workflow_id("wf");
  req.set_activity_id("nope");
  req.set_identity("client");
  Status unknown = Answer(req);
  EXPECT_EQ(unknown.code(), Code::kNotFound);
  EXPECT_EQ(unknown.message(), ActivityTasks::kByIdNotFound);
  req.set_activity_id("");
  Status no_id = Answer(req);
  EXPECT_EQ(no_id.code(), Code::kInvalidArgument);
  EXPECT_EQ(no_id.message(), "ActivityId is not set on request.");
  req.set_activity_id("act-1");
  req.set_workflow_id("");
  EXPECT_EQ(Answer(req).message(), "WorkflowId is not set on request.");
  req.set_workflow_id("wf");
  req.set_namespace_("nope");
  EXPECT_EQ(Answer(req).code(), Code::kNotFound);
  req.set_namespace_(kNs);
  // Heartbeat by id on the unpolled attempt starts it (its identity empty: a heartbeat has none).
  wsv1::RecordActivityTaskHeartbeatByIdRequest hb;
  hb.set_namespace_(kNs);
  hb.set_workflow_id("wf");
  hb.set_activity_id("act-1");
  hb.mutable_details()->add_payloads()->set_data("p");
  wsv1::RecordActivityTaskHeartbeatByIdResponse hb_resp;
  Status hb_status = Internal("no answer");
  {
    MutexLock l(mu_);
    unit_.Heartbeat(l, hb, &hb_resp, [&](const Status& s) { hb_status = s; });
  }
  ASSERT_TRUE(hb_status.ok());
  EXPECT_FALSE(hb_resp.cancel_requested());
  EXPECT_TRUE(Pending()->started());
  EXPECT_EQ(Pending()->heartbeat_details().payloads(0).data(), "p");
  req.mutable_result()->add_payloads()->set_data("by id");
  ASSERT_TRUE(Answer(req).ok());
  ASSERT_EQ(ex_.events.size(), 7u);
  EXPECT_EQ(Event(6).event_type(), ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED);
  EXPECT_EQ(Event(7).activity_task_completed_event_attributes().result().payloads(0).data(), "by id");
  EXPECT_EQ(Event(7).activity_task_completed_event_attributes().identity(), "client");
  EXPECT_GE(host_.fetches, 1);
  // The backlogged copy of the attempt is stale: a poll drops it.
  auto call = Poll();
  EXPECT_EQ(call->answers, 0);
}

TEST_F(ActivityTasksUnitTest, FailByIdOnAnUnpolledAttemptRecordsTheCallerAsStarter) {
  Schedule([](state::ActivityInfo& ai) { ai.mutable_retry_policy()->set_maximum_attempts(1); });
  wsv1::RespondActivityTaskFailedByIdRequest req;
  req.set_namespace_(kNs);
  req.set_workflow_id("wf");
  req.set_run_id("run-1");
  req.set_activity_id("act-1");
  req.set_identity("client");
  *req.mutable_failure() = AppFailure("by id");
  ASSERT_TRUE(Answer(req).ok());
  ASSERT_EQ(ex_.events.size(), 7u);
  EXPECT_EQ(Event(6).activity_task_started_event_attributes().identity(), "client");
  EXPECT_EQ(Event(7).activity_task_failed_event_attributes().retry_state(), ev1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
}

TEST_F(ActivityTasksUnitTest, StaleAndForeignTokensAreRefused) {
  Schedule();
  std::string token = StartAttempt();
  // A token of another attempt of the same activity.
  auto tok = DecodeTaskToken(token);
  ASSERT_TRUE(tok.ok());
  state::TaskToken other = *tok;
  other.set_attempt(2);
  Status s = Complete(EncodeTaskToken(other), "x");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), ActivityTasks::kTaskNotFound);
  // A workflow task's token.
  state::TaskToken wft = *tok;
  wft.set_kind(state::TaskToken::WORKFLOW_TASK);
  s = Complete(EncodeTaskToken(wft), "x");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "task token is not an activity task token");
  // Not a token at all.
  s = Complete("garbage", "x");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "Error deserializing task token: the token is malformed");
  // A run that is gone / closed.
  state::TaskToken gone = *tok;
  gone.set_run_id("run-unknown");
  s = Complete(EncodeTaskToken(gone), "x");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "workflow execution already completed");
  // The real token still works.
  EXPECT_TRUE(Complete(token, "ok").ok());
}

TEST_F(ActivityTasksUnitTest, EagerStartHandsTheAttemptToTheCompletingWorker) {
  Schedule([](state::ActivityInfo& ai) { *ai.mutable_start_to_close_timeout() = ToProtoDuration(std::chrono::seconds(5)); });
  wsv1::RespondWorkflowTaskCompletedResponse resp;
  {
    MutexLock l(mu_);
    ex_.SetActivityDispatched(kSid, true);  // never queued
    Txn txn;
    unit_.StartEager(txn, ex_, {kSid, 99}, "wft-worker", clock_.Now(), &resp);
    host_.Commit(txn, nullptr);
  }
  ASSERT_EQ(resp.activity_tasks_size(), 1);  // 99 is no pending activity
  EXPECT_EQ(resp.activity_tasks(0).activity_id(), "act-1");
  EXPECT_EQ(Pending()->started_identity(), "wft-worker");
  // Its start-to-close timer is armed.
  AdvanceAndFire(std::chrono::seconds(5));
  EXPECT_EQ(Pending()->attempt(), 2);
  EXPECT_EQ(Pending()->last_failure().timeout_failure_info().timeout_type(), ev1::TIMEOUT_TYPE_START_TO_CLOSE);
}

}  // namespace
}  // namespace temporalite::history
