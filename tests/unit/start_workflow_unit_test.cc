// The StartWorkflow unit (history/start_workflow.h) over its narrow interfaces: runs built by hand,
// a SimClock, a test StartEngine (namespaces, the workflow id's current run from the test's runs,
// new runs kept here, matching's part of an eager start recorded, commits durable at once) and the
// EngineContext of test_engine_context.h (workflow tasks, terminations, signal delivery). The pure
// decisions are start_workflow_test.cc's; the engine-level behaviour (the store, the reads before
// the mutex, real matching) engine_test.cc's, engine_close_window_test.cc's, engine_eager_test.cc's.
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/thread_annotations.h"
#include "execution_test_util.h"
#include "history/current_run_of.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/start_workflow.h"
#include "history/update_registry.h"
#include "history/update_with_start.h"
#include "temporal/api/errordetails/v1/message.pb.h"
#include "test_engine_context.h"
#include "test_namespaces.h"

namespace temporalite::history {
namespace {

namespace wsv1 = ::temporal::api::workflowservice::v1;

constexpr char kNsId[] = "ns-id";
constexpr char kNs[] = "default";
constexpr int64_t kT0 = 1704067200;  // 2024-01-01T00:00:00Z

class TestStartEngine : public StartEngine {
 public:
  TestStartEngine(Mutex& mu, testing::TestEngineContext& context) : mu_(mu), context_(context) {}
  Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) override {
    return testing::TestNamespaceByName(mu_, namespaces, name);
  }
  visibility::TypeMap CustomSearchAttributes(const std::string&) override { return {}; }
  const NextCronTimeFn& CronParser() override { return cron; }
  // The workflow id's last run of `runs` (its current run); `lookup_error` answers as a current run
  // nobody read would.
  CurrentRunLookup CurrentRunForStart(const std::string& ns_id, const std::string& workflow_id,
                                      CurrentRunRead*) override {
    mu_.AssertHeld();
    CurrentRunLookup out;
    out.status = lookup_error;
    Execution* last = nullptr;
    for (Execution* ex : runs) {
      if (ex->st().namespace_id() == ns_id && ex->st().workflow_id() == workflow_id) last = ex;
    }
    if (!out.status.ok() || !last) return out;
    if (last->open()) out.open = last;
    out.current = CurrentRunOf(last->st(), last->open());
    return out;
  }
  Execution* AddRun(std::shared_ptr<Execution> ex) override {
    mu_.AssertHeld();
    Execution* raw = ex.get();
    owned.push_back(std::move(ex));
    runs.push_back(raw);
    context_.runs[raw->st().run_id()] = raw;
    return raw;
  }
  // As the engine's: the run closes as terminated (the event itself is lifecycle.cc's).
  void TerminateRunWithDetails(Txn& txn, Execution& ex, const std::string& reason,
                               const ::temporal::api::common::v1::Payloads& details,
                               const std::string& identity) override {
    terminated.push_back(ex.st().run_id() + ": " + reason + " | " + identity + " | " +
                         details.payloads(0).metadata().at("encoding") + " " + details.payloads(0).data());
    ex.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
    txn.Touch(&ex);
  }
  void ArmWorkflowTimers(Execution&) override { ++timers_armed; }
  std::deque<EngineContext::WorkflowPoller> SetAsideWorkflowPollers(const std::string& ns_id,
                                                                    const std::string& task_queue) override {
    set_aside.push_back(ns_id + "/" + task_queue);
    return {};
  }
  void RestoreWorkflowPollers(const std::string& ns_id, const std::string& task_queue,
                              std::deque<EngineContext::WorkflowPoller>) override {
    restored.push_back(ns_id + "/" + task_queue);
  }
  // As the engine's: the scheduled task started (the next event id), its token in `out`.
  void StartEagerWorkflowTask(Txn& txn, Execution& ex, const std::string& identity,
                              wsv1::PollWorkflowTaskQueueResponse* out) override {
    eager_identities.push_back(identity);
    ex.SetWorkflowTaskStartedEventId(ex.st().wft().scheduled_event_id() + 1);
    out->set_task_token("token-" + ex.st().run_id());
    out->mutable_workflow_execution()->set_run_id(ex.st().run_id());
    txn.Touch(&ex);
  }
  void Commit(Txn& txn, Done done) override {
    mu_.AssertHeld();
    ++commits;
    touched += txn.touched.size();
    for (const auto& c : txn.batch.upsert_current) current_rows.push_back(c.workflow_id + "=" + c.run_id);
    if (done) done(Status::Ok());
  }

  std::map<std::string, state::NamespaceRecord> namespaces;  // by name
  std::vector<Execution*> runs;                             // in start order
  std::vector<std::shared_ptr<Execution>> owned;            // the runs the unit created
  NextCronTimeFn cron;
  Status lookup_error;
  int timers_armed = 0;
  std::vector<std::string> set_aside, restored, eager_identities, current_rows;
  std::vector<std::string> terminated;  // "<run id>: <reason> | <identity> | <details>"
  int commits = 0;
  size_t touched = 0;

 private:
  Mutex& mu_;
  testing::TestEngineContext& context_;
};

class StartWorkflowUnitTest : public ::testing::Test {
 protected:
  StartWorkflowUnitTest() : clock_(TimePoint(std::chrono::seconds(kT0))), context_(clock_, mu_), host_(mu_, context_) {
    state::NamespaceRecord rec;
    rec.mutable_info()->set_id(kNsId);
    rec.mutable_info()->set_name(kNs);
    host_.namespaces[kNs] = rec;
  }
  static wsv1::StartWorkflowExecutionRequest Request(const std::string& request_id = "req-1") {
    wsv1::StartWorkflowExecutionRequest req;
    req.set_namespace_(kNs);
    req.set_workflow_id("wf");
    req.mutable_workflow_type()->set_name("Greet");
    req.mutable_task_queue()->set_name("tq");
    req.mutable_input()->add_payloads()->set_data("in");
    req.set_identity("client");
    req.set_request_id(request_id);
    return req;
  }
  static wsv1::SignalWithStartWorkflowExecutionRequest SignalWithStartRequest(const std::string& request_id) {
    wsv1::SignalWithStartWorkflowExecutionRequest req;
    req.set_namespace_(kNs);
    req.set_workflow_id("wf");
    req.mutable_workflow_type()->set_name("Greet");
    req.mutable_task_queue()->set_name("tq");
    req.set_identity("client");
    req.set_request_id(request_id);
    req.set_signal_name("go");
    req.mutable_signal_input()->add_payloads()->set_data("sig");
    return req;
  }
  Status Start(const wsv1::StartWorkflowExecutionRequest& req, wsv1::StartWorkflowExecutionResponse* resp) {
    return StartWith(starts_, req, resp);
  }
  Status StartWith(StartWorkflow& unit, const wsv1::StartWorkflowExecutionRequest& req,
                   wsv1::StartWorkflowExecutionResponse* resp) {
    Status out = Internal("no answer");
    MutexLock l(mu_);
    CurrentRunRead pre;
    unit.Start(l, req, resp, [&](const Status& s) { ++answers, out = s; }, &pre);
    return out;
  }
  Status SignalWithStart(const wsv1::SignalWithStartWorkflowExecutionRequest& req,
                         wsv1::SignalWithStartWorkflowExecutionResponse* resp) {
    return SignalWithStartWith(starts_, req, resp);
  }
  Status SignalWithStartWith(StartWorkflow& unit, const wsv1::SignalWithStartWorkflowExecutionRequest& req,
                             wsv1::SignalWithStartWorkflowExecutionResponse* resp) {
    Status out = Internal("no answer");
    MutexLock l(mu_);
    CurrentRunRead pre;
    unit.SignalWithStart(l, req, resp, [&](const Status& s) { ++answers, out = s; }, &pre);
    return out;
  }
  // A run of "wf" started by request `request_id`, open or closed with `status`.
  Execution& ExistingRun(const std::string& run_id, const std::string& request_id,
                         ev1::WorkflowExecutionStatus status = ev1::WORKFLOW_EXECUTION_STATUS_RUNNING) {
    auto& ex = *existing_.emplace_back(std::make_unique<Execution>());
    testing::InitRun(ex, kNsId, "wf", run_id, clock_.Now(), "tq");
    EditState(ex, [&](state::ExecutionState& s) {
      s.set_start_request_id(request_id);
      s.set_first_execution_run_id("first-" + run_id);
      *s.mutable_start_time() = ToProto(clock_.Now());
    });
    ex.SetCloseStatus(status);
    host_.runs.push_back(&ex);
    context_.runs[run_id] = &ex;
    return ex;
  }
  Execution& NewRun() { return *host_.owned.back(); }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  TestStartEngine host_;
  StartWorkflow starts_{context_, host_,
                        StartWorkflow::Limits{.max_id_length = 64, .blob_size_limit_error = 1024,
                                              .blob_size_limit_warn = 512,
                                              .default_workflow_task_timeout = std::chrono::seconds(10),
                                              .max_workflow_task_timeout = std::chrono::seconds(120)}};
  // The unit with Temporal's history.enableWorkflowIdReuseStartTimeValidation on (interval 1 s).
  StartWorkflow validating_{context_, host_,
                            StartWorkflow::Limits{.max_id_length = 64, .blob_size_limit_error = 1024,
                                                  .blob_size_limit_warn = 512,
                                                  .default_workflow_task_timeout = std::chrono::seconds(10),
                                                  .max_workflow_task_timeout = std::chrono::seconds(120),
                                                  .workflow_id_reuse_minimal_interval = std::chrono::seconds(1),
                                                  .workflow_id_reuse_start_time_validation = true}};
  // Update-with-Start over this fixture's StartWorkflow unit and a real update registry.
  UpdateRegistry updates_{mu_, context_, UpdateRegistry::Limits{}};
  UpdateWithStart update_with_start_{mu_, starts_, updates_, host_, context_};
  std::vector<std::unique_ptr<Execution>> existing_;
  int answers = 0;
};

TEST_F(StartWorkflowUnitTest, NewRunHasItsStartedEventStateAndFirstWorkflowTaskInOneCommit) {
  auto req = Request();
  req.mutable_workflow_execution_timeout()->set_seconds(300);
  req.mutable_workflow_task_timeout()->set_seconds(600);  // over the maximum: capped
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(req, &resp).ok());
  ASSERT_EQ(host_.owned.size(), 1u);
  Execution& ex = NewRun();
  EXPECT_EQ(resp.run_id(), ex.st().run_id());
  EXPECT_TRUE(resp.started());
  EXPECT_EQ(resp.status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_FALSE(resp.has_eager_workflow_task());
  ASSERT_EQ(ex.events.size(), 1u);
  EXPECT_EQ(ex.events[0].event_id(), 1);
  EXPECT_EQ(ex.events[0].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
  const auto& a = ex.events[0].workflow_execution_started_event_attributes();
  EXPECT_EQ(a.workflow_type().name(), "Greet");
  EXPECT_EQ(a.task_queue().name(), "tq");
  EXPECT_EQ(a.task_queue().kind(), ev1::TASK_QUEUE_KIND_NORMAL);
  EXPECT_EQ(a.input().payloads(0).data(), "in");
  EXPECT_EQ(a.identity(), "client");
  EXPECT_EQ(a.workflow_id(), "wf");
  EXPECT_EQ(a.original_execution_run_id(), ex.st().run_id());
  EXPECT_EQ(a.first_execution_run_id(), ex.st().run_id());
  EXPECT_EQ(a.attempt(), 1);
  EXPECT_EQ(a.workflow_execution_timeout().seconds(), 300);
  EXPECT_EQ(a.workflow_run_timeout().seconds(), 300);  // defaults to the execution timeout
  EXPECT_EQ(a.workflow_task_timeout().seconds(), 120);
  EXPECT_EQ(a.workflow_execution_expiration_time().seconds(), kT0 + 300);
  EXPECT_FALSE(a.has_first_workflow_task_backoff());
  EXPECT_EQ(ex.st().namespace_id(), kNsId);
  EXPECT_EQ(ex.st().start_request_id(), "req-1");
  EXPECT_EQ(ex.st().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(ex.st().start_time().seconds(), kT0);
  EXPECT_EQ(ex.st().execution_time().seconds(), kT0);
  EXPECT_EQ(ex.st().run_expiration_time().seconds(), kT0 + 300);
  EXPECT_TRUE(ex.visibility_dirty);  // its visibility row goes in the same commit
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
  EXPECT_EQ(ex.st().wft().scheduled_event_id(), 2);
  EXPECT_TRUE(IsZero(ex.st().first_wft_due_time()));
  EXPECT_EQ(host_.timers_armed, 1);
  EXPECT_EQ(host_.commits, 1);
  EXPECT_EQ(host_.current_rows, std::vector<std::string>{"wf=" + ex.st().run_id()});
  EXPECT_EQ(answers, 1);
}

TEST_F(StartWorkflowUnitTest, StartDelayArmsTheFirstTaskBackoffInsteadOfATask) {
  auto req = Request();
  req.mutable_workflow_start_delay()->set_seconds(90);
  req.mutable_workflow_run_timeout()->set_seconds(60);
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(req, &resp).ok());
  Execution& ex = NewRun();
  EXPECT_EQ(ex.events[0].workflow_execution_started_event_attributes().first_workflow_task_backoff().seconds(), 90);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);
  EXPECT_FALSE(ex.wft_pending());
  EXPECT_EQ(ex.st().first_wft_due_time().seconds(), kT0 + 90);
  EXPECT_EQ(ex.st().execution_time().seconds(), kT0 + 90);
  EXPECT_EQ(ex.st().run_expiration_time().seconds(), kT0 + 90 + 60);  // the run's clock starts after the delay
  EXPECT_EQ(host_.timers_armed, 1);
  EXPECT_EQ(host_.commits, 1);
}

TEST_F(StartWorkflowUnitTest, CronStartWaitsForTheFirstFireTimeInWholeSeconds) {
  host_.cron = [](const std::string& cron, TimePoint after) {
    EXPECT_EQ(cron, "* * * * *");
    return after + std::chrono::milliseconds(59500);
  };
  auto req = Request();
  req.set_cron_schedule("* * * * *");
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(req, &resp).ok());
  Execution& ex = NewRun();
  EXPECT_EQ(ex.st().cron_schedule(), "* * * * *");
  EXPECT_EQ(ex.events[0].workflow_execution_started_event_attributes().first_workflow_task_backoff().seconds(), 60);
  EXPECT_EQ(ex.st().first_wft_due_time().seconds(), kT0 + 60);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);
}

TEST_F(StartWorkflowUnitTest, CronStartWithoutACronParserIsUnimplemented) {
  auto req = Request();
  req.set_cron_schedule("* * * * *");
  wsv1::StartWorkflowExecutionResponse resp;
  Status s = Start(req, &resp);
  EXPECT_EQ(s.code(), Code::kUnimplemented);
  EXPECT_EQ(s.message(), "cron schedules are not supported by this server build");
  EXPECT_TRUE(host_.owned.empty());
  EXPECT_EQ(host_.commits, 0);
}

TEST_F(StartWorkflowUnitTest, TerminateExistingTerminatesTheOpenRunAndStartsInTheSameCommit) {
  ExistingRun("run-1", "req-0");
  auto req = Request();
  req.set_workflow_id_conflict_policy(ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING);
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(req, &resp).ok());
  ASSERT_EQ(host_.owned.size(), 1u);
  // Temporal's reason, identity and details (create_workflow_util.go), naming the new run.
  EXPECT_EQ(host_.terminated, std::vector<std::string>{"run-1: TerminateIfRunning WorkflowIdReusePolicy | "
                                                       "history-service | json/plain \"terminated by new runID: " +
                                                       NewRun().st().run_id() + "\""});
  EXPECT_TRUE(context_.terminated.empty());
  EXPECT_TRUE(resp.started());
  EXPECT_EQ(resp.run_id(), NewRun().st().run_id());
  EXPECT_NE(resp.run_id(), "run-1");
  EXPECT_EQ(host_.commits, 1);
  EXPECT_EQ(host_.touched, 2u);  // the old run's termination and the new run
}

TEST_F(StartWorkflowUnitTest, TerminateIfRunningReusePolicyAlsoTerminates) {
  ExistingRun("run-1", "req-0");
  auto req = Request();
  req.set_workflow_id_reuse_policy(ev1::WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING);
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(req, &resp).ok());
  ASSERT_EQ(host_.terminated.size(), 1u);
  EXPECT_TRUE(resp.started());
  EXPECT_NE(host_.terminated[0].find(resp.run_id()), std::string::npos);
}

TEST_F(StartWorkflowUnitTest, UseExistingAnswersWithTheRunningRunAndStartsNothing) {
  ExistingRun("run-1", "req-0");
  auto req = Request();
  req.set_workflow_id_conflict_policy(ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING);
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(req, &resp).ok());
  EXPECT_EQ(resp.run_id(), "run-1");
  EXPECT_FALSE(resp.started());
  EXPECT_EQ(resp.status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_TRUE(host_.owned.empty());
  EXPECT_TRUE(host_.terminated.empty());
  EXPECT_EQ(host_.commits, 0);  // answered once what was submitted is durable
  EXPECT_EQ(answers, 1);
}

TEST_F(StartWorkflowUnitTest, ARunningWorkflowIdRejectsAStartWithTemporalsError) {
  ExistingRun("run-1", "req-0");
  wsv1::StartWorkflowExecutionResponse resp;
  Status s = Start(Request(), &resp);
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  EXPECT_EQ(s.message(), "Workflow execution is already running. WorkflowId: wf, RunId: run-1.");
  ::temporal::api::errordetails::v1::WorkflowExecutionAlreadyStartedFailure f;
  google::protobuf::Any any;
  ASSERT_TRUE(any.ParseFromString(s.details()));
  ASSERT_TRUE(any.UnpackTo(&f));
  EXPECT_EQ(f.run_id(), "run-1");
  EXPECT_EQ(f.start_request_id(), "req-0");
  EXPECT_EQ(f.first_execution_run_id(), "first-run-1");
  EXPECT_TRUE(host_.owned.empty());
  EXPECT_EQ(host_.commits, 0);
}

TEST_F(StartWorkflowUnitTest, RetryWithTheStartsRequestIdAnswersWithItsRunOpenOrClosed) {
  ExistingRun("run-1", "req-1");
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(Request("req-1"), &resp).ok());
  EXPECT_EQ(resp.run_id(), "run-1");
  EXPECT_EQ(resp.first_execution_run_id(), "first-run-1");
  EXPECT_TRUE(resp.started());  // Temporal's respondToRetriedRequest: "started", as the first answer was
  existing_.back()->SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  auto reject = Request("req-1");
  reject.set_workflow_id_reuse_policy(ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
  wsv1::StartWorkflowExecutionResponse again;
  ASSERT_TRUE(Start(reject, &again).ok());  // a retry, not a duplicate
  EXPECT_EQ(again.run_id(), "run-1");
  EXPECT_EQ(again.status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  EXPECT_TRUE(host_.owned.empty());
  EXPECT_EQ(host_.commits, 0);
}

TEST_F(StartWorkflowUnitTest, AFailedLookupOfTheCurrentRunIsTheAnswer) {
  host_.lookup_error = Status(Code::kUnavailable, "the current run of wf was not read before the transition");
  wsv1::StartWorkflowExecutionResponse resp;
  Status s = Start(Request(), &resp);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "the current run of wf was not read before the transition");
  EXPECT_TRUE(host_.owned.empty());
}

TEST_F(StartWorkflowUnitTest, RequestChecksAnswerWithTemporalsMessages) {
  wsv1::StartWorkflowExecutionResponse resp;
  auto no_ns = Request();
  no_ns.set_namespace_("nope");
  EXPECT_EQ(Start(no_ns, &resp).message(), "Namespace nope is not found.");
  auto no_id = Request();
  no_id.clear_workflow_id();
  Status s = Start(no_id, &resp);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "WorkflowId is not set on request.");
  auto big = Request();
  big.mutable_input()->add_payloads()->set_data(std::string(2000, 'x'));
  s = Start(big, &resp);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("Input size of ", 0), 0u) << s.message();
  EXPECT_TRUE(host_.owned.empty());
  EXPECT_EQ(host_.commits, 0);
  EXPECT_EQ(answers, 3);
}

TEST_F(StartWorkflowUnitTest, EagerStartHandsOutTheFirstTaskOnlyWhenAsked) {
  auto req = Request();
  req.set_request_eager_execution(true);
  req.set_identity("eager-worker");
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(req, &resp).ok());
  Execution& ex = NewRun();
  EXPECT_EQ(host_.set_aside, std::vector<std::string>{"ns-id/tq"});  // no poller takes it meanwhile
  EXPECT_EQ(host_.restored, std::vector<std::string>{"ns-id/tq"});
  EXPECT_EQ(host_.eager_identities, std::vector<std::string>{"eager-worker"});
  EXPECT_EQ(resp.eager_workflow_task().task_token(), "token-" + ex.st().run_id());
  EXPECT_TRUE(ex.wft_started());
  EXPECT_EQ(host_.commits, 1);  // the start and the task's start in one commit

  wsv1::StartWorkflowExecutionResponse plain;
  auto other = Request("req-2");
  other.set_workflow_id("wf-2");
  ASSERT_TRUE(Start(other, &plain).ok());
  EXPECT_FALSE(plain.has_eager_workflow_task());
  EXPECT_FALSE(NewRun().wft_started());
  EXPECT_EQ(host_.set_aside.size(), 1u);
  EXPECT_EQ(host_.eager_identities.size(), 1u);
}

TEST_F(StartWorkflowUnitTest, EagerStartWithADelayHasNoTaskToHandOut) {
  auto req = Request();
  req.set_request_eager_execution(true);
  req.mutable_workflow_start_delay()->set_seconds(30);
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(req, &resp).ok());
  EXPECT_FALSE(resp.has_eager_workflow_task());
  EXPECT_TRUE(host_.eager_identities.empty());
  EXPECT_EQ(host_.restored.size(), 1u);  // the pollers are back
}

TEST_F(StartWorkflowUnitTest, SignalWithStartSignalsAnOpenRun) {
  Execution& run = ExistingRun("run-1", "req-0");
  wsv1::SignalWithStartWorkflowExecutionResponse resp;
  ASSERT_TRUE(SignalWithStart(SignalWithStartRequest("req-9"), &resp).ok());
  EXPECT_EQ(resp.run_id(), "run-1");
  EXPECT_FALSE(resp.started());
  ASSERT_EQ(run.events.size(), 2u);
  EXPECT_EQ(run.events[1].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  EXPECT_EQ(run.events[1].workflow_execution_signaled_event_attributes().signal_name(), "go");
  EXPECT_TRUE(host_.owned.empty());
  EXPECT_EQ(host_.commits, 1);
}

TEST_F(StartWorkflowUnitTest, SignalWithStartOnAClosedRunStartsANewRunWithTheSignalBeforeItsTask) {
  ExistingRun("run-1", "req-0", ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  wsv1::SignalWithStartWorkflowExecutionResponse resp;
  ASSERT_TRUE(SignalWithStart(SignalWithStartRequest("req-9"), &resp).ok());
  ASSERT_EQ(host_.owned.size(), 1u);
  Execution& ex = NewRun();
  EXPECT_EQ(resp.run_id(), ex.st().run_id());
  EXPECT_TRUE(resp.started());
  ASSERT_EQ(ex.events.size(), 2u);
  EXPECT_EQ(ex.events[0].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
  EXPECT_EQ(ex.events[1].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  const auto& sig = ex.events[1].workflow_execution_signaled_event_attributes();
  EXPECT_EQ(sig.signal_name(), "go");
  EXPECT_EQ(sig.input().payloads(0).data(), "sig");
  EXPECT_EQ(sig.identity(), "client");
  EXPECT_EQ(ex.st().wft().scheduled_event_id(), 3);  // the first task after the signal
  EXPECT_EQ(ex.st().signal_count(), 1);
  ASSERT_EQ(ex.st().signal_request_ids_size(), 1);  // a retry of this request finds it
  EXPECT_EQ(ex.st().signal_request_ids(0), "req-9");
  EXPECT_TRUE(host_.terminated.empty());
  EXPECT_EQ(host_.commits, 1);
}

TEST_F(StartWorkflowUnitTest, SignalWithStartTerminateExistingReplacesTheOpenRun) {
  Execution& run = ExistingRun("run-1", "req-0");
  auto req = SignalWithStartRequest("req-9");
  req.set_workflow_id_conflict_policy(ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING);
  wsv1::SignalWithStartWorkflowExecutionResponse resp;
  ASSERT_TRUE(SignalWithStart(req, &resp).ok());
  ASSERT_EQ(host_.terminated.size(), 1u);
  EXPECT_EQ(host_.terminated[0].rfind("run-1: TerminateIfRunning WorkflowIdReusePolicy | history-service | ", 0), 0u);
  EXPECT_EQ(run.events.size(), 1u);  // not signalled
  EXPECT_TRUE(resp.started());
  EXPECT_EQ(NewRun().events[1].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
}

TEST_F(StartWorkflowUnitTest, SignalWithStartRefusedSignalChangesNothing) {
  ExistingRun("run-1", "req-0");
  context_.signal_limit_reached = true;
  wsv1::SignalWithStartWorkflowExecutionResponse resp;
  Status s = SignalWithStart(SignalWithStartRequest("req-9"), &resp);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "signal count limit exceeded");
  auto long_name = SignalWithStartRequest("req-9");
  long_name.set_signal_name(std::string(65, 's'));
  s = SignalWithStart(long_name, &resp);
  EXPECT_EQ(s.message(), "SignalName exceeds length limit of 64.");
  EXPECT_TRUE(host_.owned.empty());
  EXPECT_EQ(host_.commits, 0);
  EXPECT_EQ(answers, 2);
}

// --- the minimal interval between starts (history.workflowIdReuseMinimalInterval) ---

// ResourceExhausted with Temporal's message, cause BUSY_WORKFLOW and scope NAMESPACE.
void ExpectBusyWorkflow(const Status& s, const std::string& message) {
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), message);
  google::protobuf::Any any;
  ASSERT_TRUE(any.ParseFromString(s.details()));
  ::temporal::api::errordetails::v1::ResourceExhaustedFailure f;
  ASSERT_TRUE(any.UnpackTo(&f)) << any.type_url();
  EXPECT_EQ(f.cause(), ev1::RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW);
  EXPECT_EQ(f.scope(), ev1::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
}

// Temporal's default (the validation off): a restart right after the start terminates at once.
TEST_F(StartWorkflowUnitTest, TerminateExistingRightAfterTheStartIsNotLimitedByDefault) {
  ExistingRun("run-1", "req-0");
  clock_.Advance(std::chrono::milliseconds(1));
  auto req = Request();
  req.set_workflow_id_conflict_policy(ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING);
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(req, &resp).ok());
  EXPECT_EQ(host_.terminated.size(), 1u);
}

// With the validation on, a terminating start within the interval of the open run's start is
// refused, changing nothing; once more than the interval has passed it terminates and starts.
TEST_F(StartWorkflowUnitTest, TerminateExistingWithinTheMinimalIntervalIsRefusedWithTheValidationOn) {
  ExistingRun("run-1", "req-0");
  clock_.Advance(std::chrono::milliseconds(400));
  auto req = Request();
  req.set_workflow_id_conflict_policy(ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING);
  wsv1::StartWorkflowExecutionResponse resp;
  ExpectBusyWorkflow(StartWith(validating_, req, &resp), "Too many restarts for workflow wf. Time since last start: 400 ms");
  auto old_policy = Request("req-2");
  old_policy.set_workflow_id_reuse_policy(ev1::WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING);
  clock_.Advance(std::chrono::milliseconds(600));  // exactly the interval: still refused
  ExpectBusyWorkflow(StartWith(validating_, old_policy, &resp),
                     "Too many restarts for workflow wf. Time since last start: 1000 ms");
  auto sws = SignalWithStartRequest("req-3");
  sws.set_workflow_id_conflict_policy(ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING);
  wsv1::SignalWithStartWorkflowExecutionResponse sws_resp;
  ExpectBusyWorkflow(SignalWithStartWith(validating_, sws, &sws_resp),
                     "Too many restarts for workflow wf. Time since last start: 1000 ms");
  EXPECT_TRUE(host_.terminated.empty());
  EXPECT_TRUE(host_.owned.empty());
  EXPECT_EQ(host_.commits, 0);
  // USE_EXISTING and the request id's own retry are not restarts.
  auto use = Request("req-4");
  use.set_workflow_id_conflict_policy(ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING);
  EXPECT_TRUE(StartWith(validating_, use, &resp).ok());
  EXPECT_TRUE(StartWith(validating_, Request("req-0"), &resp).ok());
  clock_.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(StartWith(validating_, req, &resp).ok());
  EXPECT_TRUE(resp.started());
  EXPECT_EQ(host_.terminated.size(), 1u);
}

// With the validation on, a start after a closed run within the interval of that run's start is
// refused too ("Too many starts"), after the reuse policy's own rejections.
TEST_F(StartWorkflowUnitTest, StartAfterAClosedRunWithinTheMinimalIntervalIsRefusedWithTheValidationOn) {
  ExistingRun("run-1", "req-0", ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  clock_.Advance(std::chrono::milliseconds(250));
  wsv1::StartWorkflowExecutionResponse resp;
  ExpectBusyWorkflow(StartWith(validating_, Request(), &resp), "Too many starts for workflow wf. Time since last start: 250 ms");
  wsv1::SignalWithStartWorkflowExecutionResponse sws_resp;
  ExpectBusyWorkflow(SignalWithStartWith(validating_, SignalWithStartRequest("req-3"), &sws_resp),
                     "Too many starts for workflow wf. Time since last start: 250 ms");
  auto reject = Request();
  reject.set_workflow_id_reuse_policy(ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
  EXPECT_EQ(StartWith(validating_, reject, &resp).code(), Code::kAlreadyExists);
  EXPECT_TRUE(Start(Request(), &resp).ok()) << "no check without the validation";
  EXPECT_TRUE(resp.started());
}

// --- USE_EXISTING's on_conflict_options ---

TEST_F(StartWorkflowUnitTest, UseExistingAttachesTheRequestIdSoItsRetryIsTheSameStart) {
  Execution& run = ExistingRun("run-1", "req-0");
  auto req = Request("req-2");
  req.set_workflow_id_conflict_policy(ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING);
  req.mutable_on_conflict_options()->set_attach_request_id(true);
  req.mutable_on_conflict_options()->set_attach_links(true);
  req.add_links()->mutable_workflow_event()->set_workflow_id("caller");
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(req, &resp).ok());
  EXPECT_EQ(resp.run_id(), "run-1");
  EXPECT_EQ(resp.first_execution_run_id(), "first-run-1");
  EXPECT_FALSE(resp.started());  // USE_EXISTING: the run another request started
  EXPECT_EQ(host_.commits, 1);
  ASSERT_EQ(run.events.size(), 2u);
  const auto& e = run.events[1];
  EXPECT_EQ(e.event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED);
  EXPECT_TRUE(e.worker_may_ignore());
  EXPECT_EQ(e.workflow_execution_options_updated_event_attributes().attached_request_id(), "req-2");
  ASSERT_EQ(e.links_size(), 1);
  EXPECT_EQ(e.links(0).workflow_event().workflow_id(), "caller");
  // Its retry: the same answer, nothing written again; even once the run closed and with a policy
  // that would refuse another start.
  wsv1::StartWorkflowExecutionResponse retry;
  ASSERT_TRUE(Start(req, &retry).ok());
  EXPECT_EQ(retry.run_id(), "run-1");
  EXPECT_FALSE(retry.started());
  EXPECT_EQ(run.events.size(), 2u);
  EXPECT_EQ(host_.commits, 1);
  run.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  auto after_close = Request("req-2");
  after_close.set_workflow_id_reuse_policy(ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
  ASSERT_TRUE(Start(after_close, &retry).ok());
  EXPECT_EQ(retry.run_id(), "run-1");
  EXPECT_EQ(retry.status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  EXPECT_FALSE(retry.started());
  EXPECT_TRUE(host_.owned.empty());
}

// Options that attach nothing still write the event (Temporal's); without options nothing is.
TEST_F(StartWorkflowUnitTest, UseExistingWritesTheOptionsEventOnlyWithOnConflictOptions) {
  Execution& run = ExistingRun("run-1", "req-0");
  auto req = Request("req-2");
  req.set_workflow_id_conflict_policy(ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING);
  req.add_links()->mutable_workflow_event()->set_workflow_id("caller");
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(req, &resp).ok());
  EXPECT_EQ(run.events.size(), 1u);
  req.mutable_on_conflict_options();
  ASSERT_TRUE(Start(req, &resp).ok());
  ASSERT_EQ(run.events.size(), 2u);
  EXPECT_EQ(run.events[1].workflow_execution_options_updated_event_attributes().attached_request_id(), "");
  EXPECT_EQ(run.events[1].links_size(), 0);
  EXPECT_EQ(run.st().attached_request_ids_size(), 0);
  auto callbacks_alone = Request("req-3");
  callbacks_alone.mutable_on_conflict_options()->set_attach_completion_callbacks(true);
  Status s = Start(callbacks_alone, &resp);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "attaching request ID is required for attaching completion callbacks");
}

TEST_F(StartWorkflowUnitTest, ANewRunAnswersItsRunIdAsTheFirstOfItsChain) {
  wsv1::StartWorkflowExecutionResponse resp;
  ASSERT_TRUE(Start(Request(), &resp).ok());
  EXPECT_EQ(resp.first_execution_run_id(), resp.run_id());
}

// --- Update-with-Start (update_with_start.h) ---

class UpdateWithStartUnitTest : public StartWorkflowUnitTest {
 protected:
  // A call in flight: its answer once the waiter finished.
  struct Call {
    wsv1::ExecuteMultiOperationResponse resp;
    UpdateWithStart::Waiter waiter = std::make_shared<matching::PollWaiter<wsv1::ExecuteMultiOperationResponse>>(&resp);
    std::optional<Status> status;
  };
  static wsv1::ExecuteMultiOperationRequest MultiOp(
      const std::string& request_id = "req-1",
      ev1::UpdateWorkflowExecutionLifecycleStage wait = ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED) {
    wsv1::ExecuteMultiOperationRequest req;
    req.set_namespace_(kNs);
    *req.add_operations()->mutable_start_workflow() = Request(request_id);
    auto* update = req.add_operations()->mutable_update_workflow();
    update->set_namespace_(kNs);
    update->mutable_workflow_execution()->set_workflow_id("wf");
    update->mutable_wait_policy()->set_lifecycle_stage(wait);
    update->mutable_request()->mutable_meta()->set_update_id("u1");
    update->mutable_request()->mutable_input()->set_name("increment");
    return req;
  }
  std::unique_ptr<Call> Execute(const wsv1::ExecuteMultiOperationRequest& req) {
    auto call = std::make_unique<Call>();
    Call* c = call.get();
    call->waiter->finish = [c](const Status& s) { c->status = s; };
    MutexLock l(mu_);
    CurrentRunRead pre;
    update_with_start_.Execute(l, req, call->waiter, &pre);
    return call;
  }
  // Ends the update's wait for ACCEPTED with the stage reached (the registry's long poll).
  void EndLongPoll() {
    clock_.Advance(UpdateRegistry::Limits{}.long_poll);
    context_.timers().RunDue();
  }
  // The MultiOperationExecutionFailure of a failed call: each operation's code and message.
  static std::vector<std::string> Operations(const Status& s) {
    google::protobuf::Any any;
    ::temporal::api::errordetails::v1::MultiOperationExecutionFailure f;
    EXPECT_TRUE(any.ParseFromString(s.details()) && any.UnpackTo(&f)) << s.ToString();
    std::vector<std::string> out;
    for (const auto& op : f.statuses()) out.push_back(std::to_string(op.code()) + " " + op.message());
    return out;
  }
};

TEST_F(UpdateWithStartUnitTest, ANewRunIsStartedWithTheUpdateAdmittedInOneCommit) {
  auto call = Execute(MultiOp());
  ASSERT_EQ(host_.owned.size(), 1u);
  Execution& ex = NewRun();
  EXPECT_EQ(host_.commits, 1);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1) << "the new run's first task carries the update";
  EXPECT_EQ(ex.admitted_updates, std::vector<std::string>{"u1"});
  EXPECT_FALSE(call->status) << "waiting for ACCEPTED";
  EndLongPoll();
  ASSERT_TRUE(call->status && call->status->ok()) << call->status->ToString();
  ASSERT_EQ(call->resp.responses_size(), 2);
  const auto& start = call->resp.responses(0).start_workflow();
  EXPECT_TRUE(start.started());
  EXPECT_EQ(start.run_id(), ex.st().run_id());
  EXPECT_EQ(start.first_execution_run_id(), ex.st().run_id());
  EXPECT_EQ(start.status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  const auto& update = call->resp.responses(1).update_workflow();
  EXPECT_EQ(update.stage(), ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED);
  EXPECT_EQ(update.update_ref().update_id(), "u1");
  EXPECT_EQ(update.update_ref().workflow_execution().run_id(), ex.st().run_id());
}

TEST_F(UpdateWithStartUnitTest, UseExistingAdmitsTheUpdateOnTheRunningRunAndStartsNothing) {
  Execution& run = ExistingRun("run-1", "req-0");
  auto req = MultiOp();
  req.mutable_operations(0)->mutable_start_workflow()->set_workflow_id_conflict_policy(
      ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING);
  auto call = Execute(req);
  EXPECT_TRUE(host_.owned.empty());
  EXPECT_EQ(run.admitted_updates, std::vector<std::string>{"u1"});
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1) << "a workflow task for the update";
  EXPECT_EQ(host_.commits, 1);
  EndLongPoll();
  ASSERT_TRUE(call->status && call->status->ok());
  const auto& start = call->resp.responses(0).start_workflow();
  EXPECT_FALSE(start.started());
  EXPECT_EQ(start.run_id(), "run-1");
  EXPECT_EQ(start.first_execution_run_id(), "first-run-1");
  EXPECT_EQ(start.status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
}

TEST_F(UpdateWithStartUnitTest, ARunningWorkflowIdFailsTheStartAndAbortsTheUpdate) {
  Execution& run = ExistingRun("run-1", "req-0");
  auto call = Execute(MultiOp());
  ASSERT_TRUE(call->status);
  EXPECT_EQ(call->status->code(), Code::kAlreadyExists);
  EXPECT_EQ(call->status->message(), "Update-with-Start could not be executed.");
  EXPECT_EQ(Operations(*call->status),
            (std::vector<std::string>{"6 Workflow execution is already running. WorkflowId: wf, RunId: run-1.",
                                      "10 Operation was aborted."}));
  EXPECT_TRUE(run.admitted_updates.empty());
  EXPECT_EQ(host_.commits, 0);
}

TEST_F(UpdateWithStartUnitTest, EachOperationIsValidatedOnItsOwnAndNothingIsWritten) {
  auto cron = MultiOp();
  cron.mutable_operations(0)->mutable_start_workflow()->set_cron_schedule("@hourly");
  auto call = Execute(cron);
  ASSERT_TRUE(call->status);
  EXPECT_EQ(call->status->code(), Code::kInvalidArgument);
  EXPECT_EQ(Operations(*call->status),
            (std::vector<std::string>{"3 CronSchedule is not allowed.", "10 Operation was aborted."}));

  auto admitted = MultiOp("req-1", ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED);
  call = Execute(admitted);
  ASSERT_TRUE(call->status);
  EXPECT_EQ(call->status->code(), Code::kPermissionDenied) << "an answer at ADMITTED would precede the start's commit";
  EXPECT_EQ(Operations(*call->status),
            (std::vector<std::string>{"10 Operation was aborted.",
                                      "7 UpdateWorkflowExecution issued asynchronously and waiting on update "
                                      "admitted is not supported."}));

  auto other_id = MultiOp();
  other_id.mutable_operations(1)->mutable_update_workflow()->mutable_workflow_execution()->set_workflow_id("other");
  call = Execute(other_id);
  ASSERT_TRUE(call->status);
  EXPECT_EQ(Operations(*call->status),
            (std::vector<std::string>{"10 Operation was aborted.",
                                      "3 WorkflowId is not consistent with previous operation(s)."}));

  auto one_op = MultiOp();
  one_op.mutable_operations()->RemoveLast();
  call = Execute(one_op);
  ASSERT_TRUE(call->status);
  EXPECT_EQ(call->status->code(), Code::kInvalidArgument);
  EXPECT_EQ(call->status->message(), "Operations have to be exactly [Start, Update].");

  auto unknown_ns = MultiOp();
  unknown_ns.set_namespace_("nowhere");
  call = Execute(unknown_ns);
  ASSERT_TRUE(call->status);
  EXPECT_EQ(call->status->code(), Code::kNotFound);
  EXPECT_TRUE(host_.owned.empty());
  EXPECT_EQ(host_.commits, 0);
}

TEST_F(UpdateWithStartUnitTest, ARetriedStartOfARunNoLongerInMemoryAnswersTheUpdateNotFound) {
  ExistingRun("run-1", "req-1", ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  context_.runs.erase("run-1");  // closed and durable: out of the engine's memory
  auto call = Execute(MultiOp("req-1"));
  ASSERT_TRUE(call->status);
  EXPECT_EQ(call->status->code(), Code::kNotFound);
  EXPECT_EQ(Operations(*call->status), (std::vector<std::string>{"10 Operation was aborted.",
                                                                 "5 workflow execution already completed"}));
  EXPECT_TRUE(host_.owned.empty());
  EXPECT_EQ(host_.commits, 0);
}

TEST_F(UpdateWithStartUnitTest, AnUpdateWithoutAnIdGetsAUuidAsInTemporalsFrontend) {
  auto req = MultiOp();
  req.mutable_operations(1)->mutable_update_workflow()->mutable_request()->mutable_meta()->clear_update_id();
  auto call = Execute(req);
  ASSERT_EQ(host_.owned.size(), 1u);
  ASSERT_EQ(NewRun().admitted_updates.size(), 1u);
  const std::string id = NewRun().admitted_updates[0];
  EXPECT_TRUE(IsUuid(id)) << id;
  EndLongPoll();
  ASSERT_TRUE(call->status && call->status->ok());
  EXPECT_EQ(call->resp.responses(1).update_workflow().update_ref().update_id(), id);
}

}  // namespace
}  // namespace temporalite::history
