// The WorkflowTasks unit (history/workflow_tasks.h) over its narrow interfaces: runs built by hand,
// a SimClock whose TimerService fires the unit's timeouts, matching's real workflow task queues, a
// test WorkflowTaskEngine (namespaces, commits durable at once, closes and eager activities
// recorded), a test command context for the command handlers, and the EngineContext of
// test_engine_context.h. The engine-level behaviour (the store, real polls over gRPC) is
// engine_test.cc's, engine_matching_test.cc's, engine_transient_wft_test.cc's.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "history/completion_context.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/task_token.h"
#include "history/workflow_tasks.h"
#include "execution_test_util.h"
#include "test_engine_context.h"
#include "test_namespaces.h"

namespace temporalite::history {
namespace {

namespace wsv1 = ::temporal::api::workflowservice::v1;
namespace cmdv1 = ::temporal::api::command::v1;

constexpr char kNsId[] = "ns-id";
constexpr char kNs[] = "default";
constexpr int64_t kT0 = 1704067200;  // 2024-01-01T00:00:00Z

// The command handlers' context: the run, the clock, and what a handler asks of the engine
// recorded (user timers armed).
class TestCompletionContext : public CompletionContext {
 public:
  TestCompletionContext(Execution& ex, TimePoint now, std::vector<std::string>* timers)
      : ex_(ex), now_(now), timers_(timers) {}
  Execution& run() override { return ex_; }
  const EngineOptions& limits() const override { return options_; }
  TimePoint now() const override { return now_; }
  bool NamespaceExists(const std::string& name) const override { return name == kNs; }
  const std::string& namespace_name() const override { return ns_; }
  const visibility::TypeMap& custom_search_attributes() const override { return custom_; }
  int64_t completed_event_id() const override { return completed_event_id_; }
  void set_completed_event_id(int64_t id) override { completed_event_id_ = id; }
  void DispatchActivity(const state::ActivityInfo&, bool) override {}
  void ArmUserTimer(const state::TimerInfo& timer) override { timers_->push_back(timer.timer_id()); }
  std::string PlanCronRun(const commands::cv1::Payloads*, const commands::fv1::Failure*) override { return ""; }
  ev1::RetryState PlanRetry(const commands::fv1::Failure&, std::string*) override {
    return ev1::RETRY_STATE_RETRY_POLICY_NOT_SET;
  }
  const hv1::WorkflowExecutionStartedEventAttributes& PlanContinueAsNew(
      const cmdv1::ContinueAsNewWorkflowExecutionCommandAttributes&, std::string*) override {
    return started_;
  }
  void StartChild(const cmdv1::StartChildWorkflowExecutionCommandAttributes&, bool*) override {}
  void SignalExternal(const cmdv1::SignalExternalWorkflowExecutionCommandAttributes&, bool, bool*) override {}
  void RequestCancelExternal(const cmdv1::RequestCancelExternalWorkflowExecutionCommandAttributes&, bool,
                             bool*) override {}
  void ApplyProtocolMessage(const temporal::api::protocol::v1::Message&) override {}
  std::optional<StartFields>& next_run() override { return next_run_; }
  const std::vector<int64_t>& eager_activities() const override { return eager_; }

 private:
  Execution& ex_;
  const TimePoint now_;
  std::vector<std::string>* timers_;
  EngineOptions options_;
  std::string ns_ = kNs;
  visibility::TypeMap custom_;
  int64_t completed_event_id_ = 0;
  hv1::WorkflowExecutionStartedEventAttributes started_;
  std::optional<StartFields> next_run_;
  std::vector<int64_t> eager_;
};

class TestWorkflowTaskEngine : public WorkflowTaskEngine {
 public:
  TestWorkflowTaskEngine(Mutex& mu, testing::TestEngineContext& context) : mu_(mu), context_(context) {}
  Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) override {
    return testing::TestNamespaceByName(mu_, namespaces, name);
  }
  WorkflowQueues& workflow_queues() override { return queues; }
  void ArmPollTimeout(const std::shared_ptr<matching::Waiter>&, Duration max_wait, matching::QueueKey key) override {
    poll_timeouts.push_back(key.name + " " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(max_wait).count()));
  }
  Result<Execution*> FetchOpenRun(std::string ns_id, std::string workflow_id, std::string run_id) override {
    return context_.OpenRun(ns_id, workflow_id, run_id);
  }
  Status PrefetchCommandTargets(const wsv1::RespondWorkflowTaskCompletedRequest&, const std::string&) override {
    return Status::Ok();
  }
  std::unique_ptr<CompletionContext> NewCompletionContext(Txn&, Execution& ex) override {
    return std::make_unique<TestCompletionContext>(ex, context_.Now(), &user_timers);
  }
  void OnRunClosed(Txn&, Execution& ex, bool) override { closed.push_back(ex.st().run_id()); }
  void StartNextRun(Txn&, const std::string&, StartFields) override { ++next_runs; }
  void StartEagerActivities(Txn&, Execution&, const std::vector<int64_t>& ids, const std::string&, TimePoint,
                            wsv1::RespondWorkflowTaskCompletedResponse*) override {
    eager.insert(eager.end(), ids.begin(), ids.end());
  }
  // Durable at once: the transaction's after-commit steps (a started task's poll reply), then `done`.
  void Commit(Txn& txn, Done done) override {
    mu_.AssertHeld();
    ++commits;
    for (auto& f : txn.after_commit) f();
    if (done) done(Status::Ok());
  }

  std::map<std::string, state::NamespaceRecord> namespaces;  // by name
  WorkflowQueues queues{std::chrono::seconds(10)};
  std::vector<std::string> poll_timeouts;  // "<queue> <max wait seconds>"
  std::vector<std::string> user_timers;
  std::vector<std::string> closed;
  std::vector<int64_t> eager;
  int next_runs = 0;
  int commits = 0;

 private:
  Mutex& mu_;
  testing::TestEngineContext& context_;
};

// A poll as the frontend makes it: its response and how it ended.
struct PollCall {
  wsv1::PollWorkflowTaskQueueResponse resp;
  std::shared_ptr<matching::PollWaiter<wsv1::PollWorkflowTaskQueueResponse>> waiter;
  std::optional<Status> finished;
};

class WorkflowTasksUnitTest : public ::testing::Test {
 protected:
  WorkflowTasksUnitTest() : clock_(TimePoint(std::chrono::seconds(kT0))), context_(clock_, mu_), host_(mu_, context_) {
    state::NamespaceRecord rec;
    rec.mutable_info()->set_id(kNsId);
    rec.mutable_info()->set_name(kNs);
    host_.namespaces[kNs] = rec;
    testing::InitRun(ex_, kNsId, "wf", "run-1", clock_.Now(), "tq");
    EditState(ex_, [](state::ExecutionState& st) {
      st.set_workflow_type("Greet");
      st.mutable_workflow_task_timeout()->set_seconds(10);
    });
    context_.runs["run-1"] = &ex_;
  }

  void Schedule() {
    MutexLock l(mu_);
    Txn txn;
    tasks_.Schedule(txn, ex_);
    host_.Commit(txn, nullptr);
  }
  std::unique_ptr<PollCall> Poll(const std::string& queue, bool sticky = false, const std::string& identity = "w1") {
    auto call = std::make_unique<PollCall>();
    call->waiter = std::make_shared<matching::PollWaiter<wsv1::PollWorkflowTaskQueueResponse>>(&call->resp);
    call->waiter->identity = identity;
    PollCall* raw = call.get();
    call->waiter->finish = [raw](const Status& s) { raw->finished = s; };
    wsv1::PollWorkflowTaskQueueRequest req;
    req.set_namespace_(kNs);
    req.mutable_task_queue()->set_name(queue);
    req.mutable_task_queue()->set_kind(sticky ? ev1::TASK_QUEUE_KIND_STICKY : ev1::TASK_QUEUE_KIND_NORMAL);
    req.set_identity(identity);
    MutexLock l(mu_);
    tasks_.Poll(l, req, call->waiter, std::chrono::seconds(60));
    return call;
  }
  static wsv1::RespondWorkflowTaskCompletedRequest Completion(const std::string& token) {
    wsv1::RespondWorkflowTaskCompletedRequest req;
    req.set_task_token(token);
    req.set_identity("w1");
    return req;
  }
  static void AddTimer(wsv1::RespondWorkflowTaskCompletedRequest& req, const std::string& id) {
    auto* c = req.add_commands();
    c->set_command_type(ev1::COMMAND_TYPE_START_TIMER);
    c->mutable_start_timer_command_attributes()->set_timer_id(id);
    c->mutable_start_timer_command_attributes()->mutable_start_to_fire_timeout()->set_seconds(30);
  }
  static void SetSticky(wsv1::RespondWorkflowTaskCompletedRequest& req, const std::string& queue, int64_t s2s_seconds) {
    req.mutable_sticky_attributes()->mutable_worker_task_queue()->set_name(queue);
    req.mutable_sticky_attributes()->mutable_schedule_to_start_timeout()->set_seconds(s2s_seconds);
  }
  Status Complete(const wsv1::RespondWorkflowTaskCompletedRequest& req, wsv1::RespondWorkflowTaskCompletedResponse* resp) {
    Status out = Internal("no answer");
    auto tok = WorkflowTasks::DecodeToken(req.task_token());
    if (!tok.ok()) return tok.status();
    MutexLock l(mu_);
    tasks_.Complete(l, *tok, req, resp, [&](const Status& s) { out = s; });
    return out;
  }
  Status Fail(const wsv1::RespondWorkflowTaskFailedRequest& req) {
    Status out = Internal("no answer");
    auto tok = WorkflowTasks::DecodeToken(req.task_token());
    if (!tok.ok()) return tok.status();
    MutexLock l(mu_);
    tasks_.Fail(l, *tok, req, [&](const Status& s) { out = s; });
    return out;
  }
  // Advances the clock and fires the unit's due timeouts (they take the mutex themselves).
  void Advance(Duration d) {
    clock_.Advance(d);
    context_.timers().RunDue();
  }
  std::vector<ev1::EventType> Types() const {
    std::vector<ev1::EventType> out;
    for (const auto& e : ex_.events) out.push_back(e.event_type());
    return out;
  }
  static std::vector<int64_t> Ids(const wsv1::PollWorkflowTaskQueueResponse& resp) {
    std::vector<int64_t> out;
    for (const auto& e : resp.history().events()) out.push_back(e.event_id());
    return out;
  }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  TestWorkflowTaskEngine host_;
  QueryRegistry queries_{mu_, context_};
  UpdateRegistry updates_{mu_, context_, UpdateRegistry::Limits{}};
  WorkflowTasks tasks_{mu_, context_, host_, queries_, updates_, WorkflowTasks::Limits{}};
  Execution ex_;
};

TEST_F(WorkflowTasksUnitTest, SyncMatchStartsTheTaskForTheWaitingPoller) {
  auto poll = Poll("tq");
  EXPECT_FALSE(poll->finished);  // nothing queued: it waits, with its timeout armed
  EXPECT_EQ(host_.poll_timeouts, std::vector<std::string>{"tq 60"});

  Schedule();  // offered to matching: the waiting poller takes it at once
  ASSERT_TRUE(poll->finished);
  EXPECT_TRUE(poll->finished->ok());
  EXPECT_EQ(Types(), (std::vector<ev1::EventType>{ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
                                                  ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                                                  ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED}));
  const auto& sched = ex_.events[1].workflow_task_scheduled_event_attributes();
  EXPECT_EQ(sched.task_queue().name(), "tq");
  EXPECT_EQ(sched.task_queue().kind(), ev1::TASK_QUEUE_KIND_NORMAL);
  EXPECT_EQ(sched.start_to_close_timeout().seconds(), 10);
  EXPECT_EQ(sched.attempt(), 1);
  const auto& started = ex_.events[2].workflow_task_started_event_attributes();
  EXPECT_EQ(started.scheduled_event_id(), 2);
  EXPECT_EQ(started.identity(), "w1");
  EXPECT_FALSE(started.request_id().empty());

  const auto& resp = poll->resp;
  EXPECT_EQ(resp.workflow_execution().run_id(), "run-1");
  EXPECT_EQ(resp.workflow_type().name(), "Greet");
  EXPECT_EQ(resp.started_event_id(), 3);
  EXPECT_EQ(resp.previous_started_event_id(), 0);
  EXPECT_EQ(resp.attempt(), 1);
  EXPECT_EQ(Ids(resp), (std::vector<int64_t>{1, 2, 3}));
  auto tok = DecodeTaskToken(resp.task_token());
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ(tok->run_id(), "run-1");
  EXPECT_EQ(tok->scheduled_event_id(), 2);
  EXPECT_EQ(tok->started_event_id(), 3);
}

TEST_F(WorkflowTasksUnitTest, BacklogTaskIsTakenByTheNextPoll) {
  Schedule();  // no poller: queued
  EXPECT_EQ(Types(), (std::vector<ev1::EventType>{ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
                                                  ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED}));
  EXPECT_EQ(ex_.st().wft().started_event_id(), 0);
  const int commits = host_.commits;
  auto poll = Poll("tq", false, "w2");
  ASSERT_TRUE(poll->finished);
  EXPECT_TRUE(poll->finished->ok());
  EXPECT_TRUE(host_.poll_timeouts.empty());
  EXPECT_EQ(host_.commits, commits + 1);  // the start is one transition
  EXPECT_EQ(ex_.events.back().workflow_task_started_event_attributes().identity(), "w2");
  EXPECT_EQ(Ids(poll->resp), (std::vector<int64_t>{1, 2, 3}));

  // Another queue's poll does not see it, nor does a second poll of this queue (taken).
  auto other = Poll("tq-other");
  EXPECT_FALSE(other->finished);
  auto again = Poll("tq");
  EXPECT_FALSE(again->finished);
}

TEST_F(WorkflowTasksUnitTest, StickyTaskGoesToTheStickyPollerThenFallsBackAfterScheduleToStart) {
  Schedule();
  auto first = Poll("tq");
  ASSERT_TRUE(first->finished);
  auto req = Completion(first->resp.task_token());
  SetSticky(req, "sticky-w1", 5);
  wsv1::RespondWorkflowTaskCompletedResponse resp;
  ASSERT_TRUE(Complete(req, &resp).ok());
  EXPECT_EQ(ex_.st().sticky_task_queue(), "sticky-w1");
  EXPECT_FALSE(resp.has_workflow_task());

  // The sticky worker polls: the next task goes to it with the events since its last task.
  auto sticky = Poll("sticky-w1", true);
  EXPECT_FALSE(sticky->finished);
  Schedule();
  ASSERT_TRUE(sticky->finished);
  const auto& sched = ex_.events[4].workflow_task_scheduled_event_attributes();
  EXPECT_EQ(sched.task_queue().name(), "sticky-w1");
  EXPECT_EQ(sched.task_queue().kind(), ev1::TASK_QUEUE_KIND_STICKY);
  EXPECT_EQ(sched.task_queue().normal_name(), "tq");
  EXPECT_EQ(Ids(sticky->resp), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(sticky->resp.previous_started_event_id(), 3);
  auto req2 = Completion(sticky->resp.task_token());
  SetSticky(req2, "sticky-w1", 5);
  ASSERT_TRUE(Complete(req2, &resp).ok());

  // Nobody polls the sticky queue now: after its schedule-to-start timeout (5 s) the task times
  // out (SCHEDULE_TO_START) and the next one, same attempt, goes to the normal queue.
  Schedule();
  EXPECT_TRUE(ex_.st().wft().on_sticky_queue());
  Advance(std::chrono::seconds(4));
  EXPECT_TRUE(ex_.st().wft().on_sticky_queue());
  Advance(std::chrono::seconds(1));
  ASSERT_EQ(ex_.events.size(), 10u);
  const auto& timed_out = ex_.events[8];
  EXPECT_EQ(timed_out.event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
  EXPECT_EQ(timed_out.workflow_task_timed_out_event_attributes().scheduled_event_id(), 8);
  EXPECT_EQ(timed_out.workflow_task_timed_out_event_attributes().started_event_id(), 0);
  EXPECT_EQ(timed_out.workflow_task_timed_out_event_attributes().timeout_type(), ev1::TIMEOUT_TYPE_SCHEDULE_TO_START);
  const auto& next = ex_.events[9];
  EXPECT_EQ(next.event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(next.workflow_task_scheduled_event_attributes().task_queue().name(), "tq");
  EXPECT_EQ(next.workflow_task_scheduled_event_attributes().task_queue().kind(), ev1::TASK_QUEUE_KIND_NORMAL);
  EXPECT_EQ(next.workflow_task_scheduled_event_attributes().attempt(), 1);
  EXPECT_TRUE(ex_.st().sticky_task_queue().empty());

  // A normal-queue poll gets it with the whole history.
  auto normal = Poll("tq", false, "w2");
  ASSERT_TRUE(normal->finished);
  EXPECT_EQ(normal->resp.history().events(0).event_id(), 1);
  EXPECT_EQ(normal->resp.history().events_size(), 11);
}

TEST_F(WorkflowTasksUnitTest, StartToCloseTimeoutWritesTimedOutAndRetriesAsATransientTask) {
  Schedule();
  auto first = Poll("tq");
  ASSERT_TRUE(first->finished);
  Advance(std::chrono::seconds(9));
  EXPECT_EQ(ex_.events.size(), 3u);
  Advance(std::chrono::seconds(1));  // the 10 s start-to-close timeout
  ASSERT_EQ(ex_.events.size(), 4u);
  const auto& a = ex_.events[3].workflow_task_timed_out_event_attributes();
  EXPECT_EQ(ex_.events[3].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT);
  EXPECT_EQ(a.scheduled_event_id(), 2);
  EXPECT_EQ(a.started_event_id(), 3);
  EXPECT_EQ(a.timeout_type(), ev1::TIMEOUT_TYPE_START_TO_CLOSE);
  // Attempt 2 is transient: scheduled with the ids it would take, no event written.
  EXPECT_EQ(ex_.st().wft().attempt(), 2);
  EXPECT_TRUE(ex_.st().wft().transient());
  EXPECT_EQ(ex_.st().wft().scheduled_event_id(), 5);

  // Its worker sees the two transient events after the history.
  auto retry = Poll("tq");
  ASSERT_TRUE(retry->finished);
  EXPECT_EQ(retry->resp.attempt(), 2);
  EXPECT_EQ(Ids(retry->resp), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(retry->resp.history().events(4).workflow_task_scheduled_event_attributes().attempt(), 2);
  EXPECT_EQ(ex_.events.size(), 4u);
  // The old token is stale.
  wsv1::RespondWorkflowTaskCompletedResponse resp;
  Status stale = Complete(Completion(first->resp.task_token()), &resp);
  EXPECT_EQ(stale.code(), Code::kNotFound);
  EXPECT_EQ(stale.message(), "Workflow task not found.");

  // Its completion writes them, then WorkflowTaskCompleted.
  ASSERT_TRUE(Complete(Completion(retry->resp.task_token()), &resp).ok());
  EXPECT_EQ(Types(), (std::vector<ev1::EventType>{
                         ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                         ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
                         ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED,
                         ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED}));
  EXPECT_EQ(ex_.events[4].workflow_task_scheduled_event_attributes().attempt(), 2);
  EXPECT_EQ(ex_.events[6].workflow_task_completed_event_attributes().scheduled_event_id(), 5);
  EXPECT_EQ(ex_.events[6].workflow_task_completed_event_attributes().started_event_id(), 6);
}

TEST_F(WorkflowTasksUnitTest, RespondWorkflowTaskFailedRecordsTheCauseAndSchedulesTheNextAttempt) {
  Schedule();
  auto first = Poll("tq");
  ASSERT_TRUE(first->finished);
  wsv1::RespondWorkflowTaskFailedRequest req;
  req.set_task_token(first->resp.task_token());
  req.set_cause(ev1::WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE);
  req.mutable_failure()->set_message("boom");
  req.set_identity("w1");
  ASSERT_TRUE(Fail(req).ok());
  ASSERT_EQ(ex_.events.size(), 4u);
  const auto& e = ex_.events[3];
  EXPECT_EQ(e.event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED);
  const auto& a = e.workflow_task_failed_event_attributes();
  EXPECT_EQ(a.scheduled_event_id(), 2);
  EXPECT_EQ(a.started_event_id(), 3);
  EXPECT_EQ(a.cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE);
  EXPECT_EQ(a.failure().message(), "boom");
  EXPECT_EQ(a.identity(), "w1");
  // The next attempt is scheduled (transient) and queued for the next poll.
  EXPECT_EQ(ex_.st().wft().attempt(), 2);
  EXPECT_EQ(ex_.st().wft().started_event_id(), 0);
  auto retry = Poll("tq");
  ASSERT_TRUE(retry->finished);
  EXPECT_EQ(retry->resp.attempt(), 2);
  // The same token again: the task is gone.
  Status again = Fail(req);
  EXPECT_EQ(again.code(), Code::kNotFound);
  EXPECT_EQ(again.message(), "Workflow task not found.");
}

TEST_F(WorkflowTasksUnitTest, UnknownOrMalformedTokensAreRefused) {
  state::TaskToken tok;
  tok.set_kind(state::TaskToken::WORKFLOW_TASK);
  tok.set_namespace_id(kNsId);
  tok.set_workflow_id("wf");
  tok.set_run_id("no-such-run");
  tok.set_scheduled_event_id(2);
  tok.set_started_event_id(3);
  tok.set_attempt(1);
  wsv1::RespondWorkflowTaskCompletedResponse resp;
  Status unknown = Complete(Completion(EncodeTaskToken(tok)), &resp);
  EXPECT_EQ(unknown.code(), Code::kNotFound);
  EXPECT_EQ(unknown.message(), "Workflow task not found.");
  // A task of the run that was never started.
  Schedule();
  tok.set_run_id("run-1");
  Status unstarted = Complete(Completion(EncodeTaskToken(tok)), &resp);
  EXPECT_EQ(unstarted.code(), Code::kNotFound);
  EXPECT_EQ(ex_.events.size(), 2u);  // nothing written

  tok.set_kind(state::TaskToken::ACTIVITY_TASK);  // an activity token names its activity
  tok.set_activity_id("a1");
  auto other_kind = WorkflowTasks::DecodeToken(EncodeTaskToken(tok));
  EXPECT_EQ(other_kind.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(other_kind.status().message(), "task token is not a workflow task token");
  EXPECT_EQ(WorkflowTasks::DecodeToken("garbage").status().code(), Code::kInvalidArgument);
}

TEST_F(WorkflowTasksUnitTest, CompletionAppendsTheCommandEventsAndReturnsTheNextTaskWhenAsked) {
  Schedule();
  auto first = Poll("tq");
  ASSERT_TRUE(first->finished);
  auto req = Completion(first->resp.task_token());
  AddTimer(req, "t1");
  req.set_force_create_new_workflow_task(true);
  req.set_return_new_workflow_task(true);
  req.set_binary_checksum("sum");
  wsv1::RespondWorkflowTaskCompletedResponse resp;
  const int commits = host_.commits;
  ASSERT_TRUE(Complete(req, &resp).ok());
  EXPECT_EQ(host_.commits, commits + 1);  // one transition: completion, commands, next task
  ASSERT_EQ(ex_.events.size(), 7u);
  const auto& completed = ex_.events[3];
  EXPECT_EQ(completed.event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  EXPECT_EQ(completed.workflow_task_completed_event_attributes().scheduled_event_id(), 2);
  EXPECT_EQ(completed.workflow_task_completed_event_attributes().started_event_id(), 3);
  EXPECT_EQ(completed.workflow_task_completed_event_attributes().identity(), "w1");
  EXPECT_EQ(completed.workflow_task_completed_event_attributes().binary_checksum(), "sum");
  const auto& timer = ex_.events[4];
  EXPECT_EQ(timer.event_type(), ev1::EVENT_TYPE_TIMER_STARTED);
  EXPECT_EQ(timer.timer_started_event_attributes().timer_id(), "t1");
  EXPECT_EQ(timer.timer_started_event_attributes().workflow_task_completed_event_id(), 4);
  EXPECT_EQ(host_.user_timers, std::vector<std::string>{"t1"});
  EXPECT_EQ(ex_.events[5].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  EXPECT_EQ(ex_.events[6].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED);
  EXPECT_EQ(ex_.events[6].workflow_task_started_event_attributes().request_id(),
            "request-from-RespondWorkflowTaskCompleted");
  // The next task rides the reply, started for the completing worker (never queued).
  ASSERT_TRUE(resp.has_workflow_task());
  EXPECT_EQ(resp.workflow_task().started_event_id(), 7);
  EXPECT_EQ(resp.workflow_task().previous_started_event_id(), 3);
  EXPECT_EQ(Ids(resp.workflow_task()), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
  auto queued = Poll("tq");
  EXPECT_FALSE(queued->finished);

  // force_create_new_workflow_task without return_new_workflow_task: the task is scheduled and
  // queued, not returned.
  auto req2 = Completion(resp.workflow_task().task_token());
  AddTimer(req2, "t2");
  req2.set_force_create_new_workflow_task(true);
  wsv1::RespondWorkflowTaskCompletedResponse resp2;
  ASSERT_TRUE(Complete(req2, &resp2).ok());
  EXPECT_FALSE(resp2.has_workflow_task());
  ASSERT_TRUE(queued->finished);  // the waiting poll took it
  EXPECT_EQ(queued->resp.started_event_id(), 11);
  EXPECT_EQ(ex_.events[8].timer_started_event_attributes().timer_id(), "t2");

  // Without either, a completion with only a timer schedules nothing.
  auto req3 = Completion(queued->resp.task_token());
  AddTimer(req3, "t3");
  wsv1::RespondWorkflowTaskCompletedResponse resp3;
  ASSERT_TRUE(Complete(req3, &resp3).ok());
  EXPECT_EQ(ex_.events.back().event_type(), ev1::EVENT_TYPE_TIMER_STARTED);
  EXPECT_FALSE(ex_.wft_pending());
  EXPECT_TRUE(host_.closed.empty());
}

TEST_F(WorkflowTasksUnitTest, InvalidCommandFailsTheTaskWithItsCause) {
  Schedule();
  auto first = Poll("tq");
  ASSERT_TRUE(first->finished);
  auto req = Completion(first->resp.task_token());
  AddTimer(req, "");  // no timer id
  wsv1::RespondWorkflowTaskCompletedResponse resp;
  Status s = Complete(req, &resp);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  ASSERT_EQ(ex_.events.size(), 4u);
  const auto& a = ex_.events[3].workflow_task_failed_event_attributes();
  EXPECT_EQ(a.cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES);
  EXPECT_EQ(a.failure().message(), s.message());
  EXPECT_TRUE(host_.user_timers.empty());
  EXPECT_EQ(ex_.st().wft().attempt(), 2);
}

TEST_F(WorkflowTasksUnitTest, ResetStickyTaskQueueSendsTheNextTaskToTheNormalQueue) {
  ex_.SetStickyTaskQueue("sticky-w1", ToProtoDuration(std::chrono::seconds(5)));
  wsv1::ResetStickyTaskQueueRequest req;
  req.set_namespace_(kNs);
  req.mutable_execution()->set_workflow_id("wf");
  req.mutable_execution()->set_run_id("run-1");
  Status out = Internal("no answer");
  {
    MutexLock l(mu_);
    tasks_.ResetSticky(l, req, [&](const Status& s) { out = s; });
  }
  EXPECT_TRUE(out.ok());
  EXPECT_TRUE(ex_.st().sticky_task_queue().empty());
  Schedule();
  EXPECT_EQ(ex_.events.back().workflow_task_scheduled_event_attributes().task_queue().name(), "tq");

  req.set_namespace_("nope");
  {
    MutexLock l(mu_);
    tasks_.ResetSticky(l, req, [&](const Status& s) { out = s; });
  }
  EXPECT_EQ(out.code(), Code::kNotFound);
  req.set_namespace_(kNs);
  req.mutable_execution()->set_workflow_id("other");
  {
    MutexLock l(mu_);
    tasks_.ResetSticky(l, req, [&](const Status& s) { out = s; });
  }
  EXPECT_EQ(out.code(), Code::kNotFound);
}

TEST_F(WorkflowTasksUnitTest, ShutdownWorkerMovesItsStickyTasksToTheNormalQueueAtOnce) {
  Schedule();
  auto first = Poll("tq");
  auto req = Completion(first->resp.task_token());
  SetSticky(req, "sticky-w1", 60);
  wsv1::RespondWorkflowTaskCompletedResponse resp;
  ASSERT_TRUE(Complete(req, &resp).ok());
  auto sticky = Poll("sticky-w1", true);  // the worker's sticky queue is alive...
  ASSERT_FALSE(sticky->finished);
  {
    MutexLock l(mu_);
    sticky->waiter->Complete(mu_);  // ...but its poll ends
  }
  Schedule();  // queued on the sticky queue
  EXPECT_TRUE(ex_.st().wft().on_sticky_queue());
  auto normal = Poll("tq", false, "w2");
  EXPECT_FALSE(normal->finished);

  wsv1::ShutdownWorkerRequest shutdown;
  shutdown.set_namespace_(kNs);
  shutdown.set_sticky_task_queue("sticky-w1");
  Status out = Internal("no answer");
  {
    MutexLock l(mu_);
    tasks_.ShutdownWorker(l, shutdown, [&](const Status& s) { out = s; });
  }
  EXPECT_TRUE(out.ok());
  // Not after the 60 s schedule-to-start: now, to the poll waiting on the normal queue.
  EXPECT_TRUE(ex_.st().sticky_task_queue().empty());
  ASSERT_TRUE(normal->finished);
  EXPECT_EQ(normal->resp.history().events(0).event_id(), 1);  // the whole history
  EXPECT_EQ(ex_.events.back().workflow_task_started_event_attributes().identity(), "w2");
}

}  // namespace
}  // namespace temporalite::history
