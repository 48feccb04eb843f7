// The ResetWorkflowExecution unit (history/reset_workflow.h) over its narrow interfaces: runs
// with histories built by hand, a SimClock, a test ResetEngine (namespaces, FetchRun over the
// test's runs with injectable read errors, the reset run kept, commits durable at once) and the
// EngineContext of test_engine_context.h (workflow tasks scheduled, runs terminated). Expected
// behaviour: Temporal's resetworkflow/api.go, ndc/workflow_resetter.go and its frontend's checks.
// The engine-level behaviour (the store, restarts, timers and dispatch of the new run, batch
// resets) is engine_reset_test.cc's and engine_batch_test.cc's.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "execution_test_util.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/reset_workflow.h"
#include "test_engine_context.h"
#include "test_namespaces.h"

namespace temporalite::history {
namespace {

// Run ids are UUIDs, as a reset request's run id must be (Temporal's "Invalid RunId.").
constexpr char kRun1[] = "0d6c1a3e-5f1b-4c2d-8e9f-000000000001";
constexpr char kRun2[] = "0d6c1a3e-5f1b-4c2d-8e9f-000000000002";

namespace cv1 = ::temporal::api::common::v1;
namespace hv1 = ::temporal::api::history::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

constexpr char kNsId[] = "ns-id";
constexpr char kNs[] = "default";

class TestResetEngine : public ResetEngine {
 public:
  explicit TestResetEngine(Mutex& mu) : mu_(mu) {}
  Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) override {
    return testing::TestNamespaceByName(mu_, namespaces, name);
  }
  // The named run of the test's runs, or the workflow's last one (its current run);
  // `read_errors[run id]` ("" for the current-run lookup) answers as a failed store read would.
  Result<std::shared_ptr<Execution>> FetchRun(std::string ns_id, std::string workflow_id, std::string run_id,
                                              bool with_events) override {
    mu_.AssertHeld();
    fetches.push_back(run_id + (with_events ? "+events" : ""));
    if (auto it = read_errors.find(run_id); it != read_errors.end()) return it->second;
    std::shared_ptr<Execution> found;
    for (const auto& ex : runs) {
      if (ex->st().namespace_id() != ns_id || ex->st().workflow_id() != workflow_id) continue;
      if (run_id.empty() || ex->st().run_id() == run_id) found = ex;
    }
    if (!found) return Status(Code::kNotFound, "workflow execution not found");
    return found;
  }
  Execution& AddResetRun(Txn& txn, std::shared_ptr<Execution> ex) override {
    mu_.AssertHeld();
    txn.Touch(ex.get());
    runs.push_back(ex);  // the workflow's current run from now on
    added.push_back(ex);
    return *ex;
  }
  void ResumePendingWork(Txn&, Execution& ex) override {
    mu_.AssertHeld();
    resumed_activities += ex.st().activities_size();
    ++resumed;
  }
  void Commit(Txn& txn, Done done) override {
    mu_.AssertHeld();
    ++commits;
    touched += txn.touched.size();
    if (done) done(Status::Ok());
  }

  std::map<std::string, state::NamespaceRecord> namespaces;  // by name
  std::vector<std::shared_ptr<Execution>> runs;             // in start order
  std::map<std::string, Status> read_errors;
  std::vector<std::string> fetches;  // run ids asked for ("+events": with history)
  std::vector<std::shared_ptr<Execution>> added;
  int resumed = 0;
  int resumed_activities = 0;
  int commits = 0;
  size_t touched = 0;

 private:
  Mutex& mu_;
};

class ResetWorkflowTest : public ::testing::Test {
 protected:
  ResetWorkflowTest() : clock_(TimePoint(std::chrono::seconds(1704067200))), context_(clock_, mu_), host_(mu_) {
    state::NamespaceRecord rec;
    rec.mutable_info()->set_id(kNsId);
    rec.mutable_info()->set_name(kNs);
    host_.namespaces[kNs] = rec;
  }

  // A running run "wf"/`run_id` with WorkflowExecutionStarted (task queue "tq", run timeout 60 s).
  std::shared_ptr<Execution> NewRun(const std::string& run_id, const std::string& start_request_id = "start-req") {
    auto ex = std::make_shared<Execution>();
    testing::InitRun(*ex, kNsId, "wf", run_id, clock_.Now(), "tq");
    auto* a = ex->events[0].mutable_workflow_execution_started_event_attributes();
    a->mutable_workflow_type()->set_name("Wf");
    a->mutable_task_queue()->set_name("tq");
    *a->mutable_workflow_run_timeout() = ToProtoDuration(std::chrono::seconds(60));
    a->set_first_execution_run_id(run_id);
    EditState(*ex, [&](state::ExecutionState& s) { s.set_start_request_id(start_request_id); });
    host_.runs.push_back(ex);
    return ex;
  }
  // A whole workflow task (Scheduled, Started, Completed); returns the Completed event's id.
  int64_t WorkflowTask(Execution& ex, bool complete = true) {
    const int64_t scheduled = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, clock_.Now())->event_id();
    auto* started = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, clock_.Now());
    started->mutable_workflow_task_started_event_attributes()->set_scheduled_event_id(scheduled);
    const int64_t started_id = started->event_id();
    if (!complete) return started_id;
    auto* c = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED, clock_.Now());
    c->mutable_workflow_task_completed_event_attributes()->set_scheduled_event_id(scheduled);
    c->mutable_workflow_task_completed_event_attributes()->set_started_event_id(started_id);
    return c->event_id();
  }
  static int64_t ScheduleActivity(Execution& ex, const std::string& activity_id, TimePoint now) {
    auto* e = ex.AddEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, now);
    auto* a = e->mutable_activity_task_scheduled_event_attributes();
    a->set_activity_id(activity_id);
    a->mutable_activity_type()->set_name("Act");
    a->mutable_task_queue()->set_name("tq");
    return e->event_id();
  }
  static void Signaled(Execution& ex, const std::string& name, const std::string& request_id, TimePoint now) {
    auto* a = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, now)
                  ->mutable_workflow_execution_signaled_event_attributes();
    a->set_signal_name(name);
    a->set_identity("signaller");
    a->set_request_id(request_id);
  }
  static void UpdateAccepted(Execution& ex, const std::string& update_id, TimePoint now) {
    auto* a = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, now)
                  ->mutable_workflow_execution_update_accepted_event_attributes();
    a->set_protocol_instance_id(update_id);
    a->mutable_accepted_request()->mutable_meta()->set_update_id(update_id);
    a->mutable_accepted_request()->mutable_input()->set_name("upd");
  }

  static wsv1::ResetWorkflowExecutionRequest Request(const std::string& run_id, int64_t finish_id,
                                                     const std::string& request_id = "reset-1") {
    wsv1::ResetWorkflowExecutionRequest req;
    req.set_namespace_(kNs);
    req.mutable_workflow_execution()->set_workflow_id("wf");
    req.mutable_workflow_execution()->set_run_id(run_id);
    req.set_reason("unit reset");
    req.set_workflow_task_finish_event_id(finish_id);
    req.set_request_id(request_id);
    req.set_identity("resetter-client");
    return req;
  }
  // The unit's answer; `answers` counts the calls of its `done` (exactly one per request).
  Status Reset(const wsv1::ResetWorkflowExecutionRequest& req, std::string* new_run = nullptr) {
    Status out = Internal("no answer");
    wsv1::ResetWorkflowExecutionResponse resp;
    {
      MutexLock l(mu_);
      reset_.Reset(l, req, &resp, [&](const Status& s) {
        ++answers;
        out = s;
      });
    }
    if (new_run) *new_run = resp.run_id();
    return out;
  }
  Status ResetTo(const wsv1::ResetWorkflowExecutionRequest& req, const cv1::ResetOptions& options) {
    Status out = Internal("no answer");
    MutexLock l(mu_);
    reset_.ResetTo(l, req, options, [&](const Status& s) {
      ++answers;
      out = s;
    });
    return out;
  }
  // A rejected request: its code and message, answered once, nothing written.
  void ExpectRejected(const wsv1::ResetWorkflowExecutionRequest& req, Code code, const std::string& message) {
    const int answers_before = answers;
    Status s = Reset(req);
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_EQ(s.message(), message);
    EXPECT_EQ(answers, answers_before + 1);
    EXPECT_EQ(host_.commits, 0);
    EXPECT_TRUE(host_.added.empty());
    EXPECT_TRUE(context_.terminated.empty());
  }
  static std::vector<ev1::EventType> Types(const Execution& ex) {
    std::vector<ev1::EventType> out;
    for (const auto& e : ex.events) out.push_back(e.event_type());
    return out;
  }
  Execution& Added() { return *host_.added.at(0); }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  TestResetEngine host_;
  ResetWorkflow reset_{context_, host_, ResetWorkflow::Limits{.max_id_length = 16}};
  int answers = 0;
};

TEST_F(ResetWorkflowTest, ResetBuildsTheNewRunTerminatesTheCurrentOneAndCommitsOnce) {
  auto base = NewRun(kRun1);
  WorkflowTask(*base);
  ScheduleActivity(*base, "a1", clock_.Now());
  const int64_t a2 = ScheduleActivity(*base, "a2", clock_.Now());
  auto* started = base->AddEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED, clock_.Now());
  started->mutable_activity_task_started_event_attributes()->set_scheduled_event_id(a2);
  started->mutable_activity_task_started_event_attributes()->set_identity("act-worker");
  const int64_t started_id = WorkflowTask(*base, /*complete=*/false);  // 8, 9
  ASSERT_EQ(started_id, 9);
  base->AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED, clock_.Now());  // 10
  Signaled(*base, "late", "sig-1", clock_.Now());                          // 11
  UpdateAccepted(*base, "u1", clock_.Now());                               // 12
  state::ChildInfo child;
  child.set_initiated_event_id(99);
  base->AddChild(child);  // a pending child the reset run takes over
  clock_.Advance(std::chrono::seconds(30));

  std::string run;
  ASSERT_TRUE(Reset(Request(kRun1, 10), &run).ok());
  EXPECT_EQ(answers, 1);
  ASSERT_EQ(host_.added.size(), 1u);
  Execution& ex = Added();
  EXPECT_EQ(run, ex.st().run_id());
  EXPECT_NE(run, kRun1);
  // The prefix, the task failed by the reset, the started attempt failed, the reapplied events.
  EXPECT_EQ(Types(ex), (std::vector<ev1::EventType>{
                           ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                           ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
                           ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
                           ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                           ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED,
                           ev1::EVENT_TYPE_ACTIVITY_TASK_FAILED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
                           ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED}));
  const auto& failed = ex.events[9].workflow_task_failed_event_attributes();
  EXPECT_EQ(failed.scheduled_event_id(), 8);
  EXPECT_EQ(failed.started_event_id(), 9);
  EXPECT_EQ(failed.cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW);
  EXPECT_EQ(failed.failure().message(), "unit reset");
  EXPECT_TRUE(failed.failure().has_reset_workflow_failure_info());
  EXPECT_EQ(failed.identity(), "history-service");
  EXPECT_EQ(failed.base_run_id(), kRun1);
  EXPECT_EQ(failed.new_run_id(), run);
  const auto& act = ex.events[10].activity_task_failed_event_attributes();
  EXPECT_EQ(act.scheduled_event_id(), a2);
  EXPECT_EQ(act.started_event_id(), 7);
  EXPECT_EQ(act.retry_state(), ev1::RETRY_STATE_NON_RETRYABLE_FAILURE);
  EXPECT_EQ(act.identity(), "act-worker");
  EXPECT_EQ(ex.events[11].workflow_execution_signaled_event_attributes().request_id(), "sig-1");
  const auto& admitted = ex.events[12].workflow_execution_update_admitted_event_attributes();
  EXPECT_EQ(admitted.request().meta().update_id(), "u1");
  EXPECT_EQ(admitted.origin(), ev1::UPDATE_ADMITTED_EVENT_ORIGIN_REAPPLY);
  for (const auto& e : ex.events) EXPECT_LE(FromProto(e.event_time()), clock_.Now());
  // The rebuilt state: a1 a fresh attempt scheduled now, a2 gone; ids, request ids, fresh expiry.
  ASSERT_EQ(ex.st().activities_size(), 1);
  const auto& a1 = ex.st().activities().begin()->second;
  EXPECT_EQ(a1.activity_id(), "a1");
  EXPECT_EQ(a1.attempt(), 1);
  EXPECT_EQ(FromProto(a1.scheduled_time()), clock_.Now());
  EXPECT_EQ(ex.activity_ids.at("a1"), 5);
  EXPECT_EQ(ex.st().workflow_id(), "wf");
  EXPECT_EQ(ex.st().namespace_id(), kNsId);
  EXPECT_EQ(ex.st().first_execution_run_id(), kRun1);
  EXPECT_EQ(ex.st().start_request_id(), "start-req");
  EXPECT_EQ(ex.st().reset_request_id(), "reset-1");
  EXPECT_EQ(ex.st().signal_count(), 1);
  EXPECT_EQ(FromProto(ex.st().run_expiration_time()), clock_.Now() + std::chrono::seconds(60));
  EXPECT_TRUE(ex.open());
  // The current run (the base run here) is terminated by the resetter, its children left over.
  EXPECT_EQ(context_.terminated, std::vector<std::string>{std::string(kRun1) + ": unit reset"});
  EXPECT_EQ(base->st().children_size(), 0);
  // One transaction: a workflow task for the new run, its pending work resumed, one commit.
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
  EXPECT_EQ(host_.resumed, 1);
  EXPECT_EQ(host_.resumed_activities, 1);
  EXPECT_EQ(host_.commits, 1);
  EXPECT_EQ(host_.touched, 2u);  // the terminated run and the new one
  EXPECT_EQ(host_.fetches, (std::vector<std::string>{std::string(kRun1) + "+events", ""}));
}

TEST_F(ResetWorkflowTest, ResetToAScheduledTaskStartsItFirst) {
  auto base = NewRun(kRun1);
  WorkflowTask(*base);  // 2-4
  base->AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, clock_.Now());
  base->SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  ASSERT_TRUE(Reset(Request(kRun1, 3)).ok());  // the prefix ends at the scheduled task (event 2)
  Execution& ex = Added();
  EXPECT_EQ(Types(ex), (std::vector<ev1::EventType>{
                           ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                           ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED}));
  EXPECT_EQ(ex.events[2].workflow_task_started_event_attributes().identity(), "history-service");
  EXPECT_EQ(ex.events[2].workflow_task_started_event_attributes().scheduled_event_id(), 2);
  EXPECT_FALSE(ex.events[2].workflow_task_started_event_attributes().request_id().empty());
  EXPECT_EQ(ex.events[3].workflow_task_failed_event_attributes().started_event_id(), 3);
  // A closed current run is not terminated again.
  EXPECT_TRUE(context_.terminated.empty());
  EXPECT_EQ(base->st().status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  EXPECT_EQ(host_.commits, 1);
}

// Temporal's GetResetReapplyExcludeTypes: reset_reapply_type SIGNAL excludes updates, NONE excludes
// both; the exclude types add to that.
TEST_F(ResetWorkflowTest, ReapplyTypeAndExcludeTypesChooseWhatIsReapplied) {
  struct Case {
    std::function<void(wsv1::ResetWorkflowExecutionRequest&)> edit;
    bool signals, updates;
  };
  const std::vector<Case> cases = {
      {[](auto&) {}, true, true},
      {[](auto& r) { r.set_reset_reapply_type(ev1::RESET_REAPPLY_TYPE_ALL_ELIGIBLE); }, true, true},
      {[](auto& r) { r.set_reset_reapply_type(ev1::RESET_REAPPLY_TYPE_SIGNAL); }, true, false},
      {[](auto& r) { r.set_reset_reapply_type(ev1::RESET_REAPPLY_TYPE_NONE); }, false, false},
      {[](auto& r) { r.add_reset_reapply_exclude_types(ev1::RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL); }, false, true},
      {[](auto& r) { r.add_reset_reapply_exclude_types(ev1::RESET_REAPPLY_EXCLUDE_TYPE_UPDATE); }, true, false},
  };
  auto base = NewRun(kRun1);
  WorkflowTask(*base);                        // 2-4
  Signaled(*base, "late", "", clock_.Now());  // 5
  UpdateAccepted(*base, "u1", clock_.Now());  // 6
  for (size_t i = 0; i < cases.size(); ++i) {
    auto req = Request(kRun1, 4, "reset-" + std::to_string(i));
    cases[i].edit(req);
    ASSERT_TRUE(Reset(req).ok()) << i;
    const Execution& ex = *host_.added.back();
    int signals = 0, updates = 0;
    for (const auto& e : ex.events) {
      signals += e.event_type() == ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;
      updates += e.event_type() == ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED;
    }
    EXPECT_EQ(signals, cases[i].signals ? 1 : 0) << i;
    EXPECT_EQ(updates, cases[i].updates ? 1 : 0) << i;
  }
}

// An update admitted and then accepted is admitted once in the new run.
TEST_F(ResetWorkflowTest, AnAdmittedThenAcceptedUpdateIsReappliedOnce) {
  auto base = NewRun(kRun1);
  WorkflowTask(*base);  // 2-4
  auto* adm = base->AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED, clock_.Now())
                  ->mutable_workflow_execution_update_admitted_event_attributes();
  adm->mutable_request()->mutable_meta()->set_update_id("u1");
  UpdateAccepted(*base, "u1", clock_.Now());
  ASSERT_TRUE(Reset(Request(kRun1, 4)).ok());
  int updates = 0;
  for (const auto& e : Added().events) updates += e.event_type() == ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED;
  EXPECT_EQ(updates, 1);
}

// Temporal's reapplyContinueAsNewWorkflowEvents: the signals of the later runs of the base run's
// continue-as-new chain are reapplied too, and the chain's current run is the one terminated.
TEST_F(ResetWorkflowTest, SignalsOfTheContinueAsNewChainAreReappliedAndItsCurrentRunTerminated) {
  auto first = NewRun(kRun1);
  WorkflowTask(*first);                        // 2-4
  Signaled(*first, "s1", "", clock_.Now());    // 5
  first->AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, clock_.Now())
      ->mutable_workflow_execution_continued_as_new_event_attributes()
      ->set_new_execution_run_id(kRun2);
  first->SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW);
  auto second = NewRun(kRun2);
  Signaled(*second, "s2", "", clock_.Now());
  ASSERT_TRUE(Reset(Request(kRun1, 4)).ok());
  std::vector<std::string> names;
  for (const auto& e : Added().events) {
    if (e.has_workflow_execution_signaled_event_attributes()) {
      names.push_back(e.workflow_execution_signaled_event_attributes().signal_name());
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(context_.terminated, std::vector<std::string>{std::string(kRun2) + ": unit reset"});
  EXPECT_EQ(host_.fetches, (std::vector<std::string>{std::string(kRun1) + "+events", std::string(kRun2) + "+events", ""}));
}

// Temporal's performPostResetOperations: a signal recorded after the reapplied events, sent by the
// resetting caller.
TEST_F(ResetWorkflowTest, PostResetSignalFollowsTheReappliedEvents) {
  auto base = NewRun(kRun1);
  WorkflowTask(*base);                        // 2-4
  Signaled(*base, "late", "", clock_.Now());  // 5
  auto req = Request(kRun1, 4);
  auto* sig = req.add_post_reset_operations()->mutable_signal_workflow();
  sig->set_signal_name("after-reset");
  sig->mutable_input()->add_payloads()->set_data("x");
  ASSERT_TRUE(Reset(req).ok());
  const Execution& ex = Added();
  const auto& last = ex.events.back();
  ASSERT_EQ(last.event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  EXPECT_EQ(last.workflow_execution_signaled_event_attributes().signal_name(), "after-reset");
  EXPECT_EQ(last.workflow_execution_signaled_event_attributes().identity(), "resetter-client");
  EXPECT_EQ(last.workflow_execution_signaled_event_attributes().input().payloads(0).data(), "x");
  EXPECT_EQ(ex.events[ex.events.size() - 2].workflow_execution_signaled_event_attributes().signal_name(), "late");
  EXPECT_EQ(ex.st().signal_count(), 2);
}

// A retry (the current run was made by a reset with this request id) answers that run, once
// everything submitted so far is durable, and changes nothing.
TEST_F(ResetWorkflowTest, RetryOfAResetAnswersTheRunItMade) {
  auto base = NewRun(kRun1);
  WorkflowTask(*base);
  std::string first, again;
  ASSERT_TRUE(Reset(Request(kRun1, 4, "same"), &first).ok());
  ASSERT_TRUE(Reset(Request(kRun1, 4, "same"), &again).ok());
  EXPECT_EQ(first, again);
  EXPECT_EQ(host_.added.size(), 1u);
  EXPECT_EQ(host_.commits, 1);
  EXPECT_EQ(answers, 2);
  std::string other;
  ASSERT_TRUE(Reset(Request(kRun1, 4, "other"), &other).ok());  // a new request id: a new reset
  EXPECT_NE(other, first);
  EXPECT_EQ(context_.terminated, (std::vector<std::string>{std::string(kRun1) + ": unit reset", first + ": unit reset"}));
}

TEST_F(ResetWorkflowTest, RequestChecksAreTemporalsFrontendErrors) {
  auto base = NewRun(kRun1);
  WorkflowTask(*base);
  auto req = Request(kRun1, 4);
  req.clear_request_id();
  ExpectRejected(req, Code::kInvalidArgument, "RequestId is not set on request.");
  req = Request(kRun1, 4, std::string(17, 'r'));
  ExpectRejected(req, Code::kInvalidArgument, "RequestId length exceeds limit.");
  req = Request(kRun1, 4);
  req.clear_workflow_execution();
  ExpectRejected(req, Code::kInvalidArgument, "Execution is not set on request.");
  req = Request(kRun1, 4);
  req.mutable_workflow_execution()->clear_workflow_id();
  ExpectRejected(req, Code::kInvalidArgument, "WorkflowId is not set on request.");
  req = Request("run-1", 4);
  ExpectRejected(req, Code::kInvalidArgument, "Invalid RunId.");
  // Temporal answers INTERNAL here; a client's bad enum is INVALID_ARGUMENT (rpc_request fuzzer).
  req = Request(kRun1, 4);
  req.set_reset_reapply_type(static_cast<ev1::ResetReapplyType>(45));
  ExpectRejected(req, Code::kInvalidArgument, "unknown reset reapply type: 45");
  req = Request(kRun1, 4);
  req.set_namespace_("missing");
  ExpectRejected(req, Code::kNotFound, "Namespace missing is not found.");
  EXPECT_TRUE(host_.fetches.empty()) << "nothing read for a rejected request";
}

TEST_F(ResetWorkflowTest, PostResetOperationChecks) {
  auto base = NewRun(kRun1);
  WorkflowTask(*base);
  auto req = Request(kRun1, 4);
  req.add_post_reset_operations()->mutable_signal_workflow();
  ExpectRejected(req, Code::kInvalidArgument, "SignalName is not set on request.");
  req = Request(kRun1, 4);
  req.add_post_reset_operations()->mutable_signal_workflow()->set_signal_name(std::string(17, 's'));
  ExpectRejected(req, Code::kInvalidArgument, "SignalName length exceeds limit.");
  req = Request(kRun1, 4);
  // An operation without a variant (or one this server's protos do not know): Temporal's
  // "unsupported post reset operation: %T" of the nil variant.
  req.add_post_reset_operations();
  ExpectRejected(req, Code::kInvalidArgument, "unsupported post reset operation: <nil>");
  req = Request(kRun1, 4);
  req.add_post_reset_operations()->mutable_update_workflow_options();
  ExpectRejected(req, Code::kUnimplemented,
                 "post reset operation update_workflow_options is not supported by this server (it keeps no worker "
                 "versioning overrides)");
}

// Temporal's resetworkflow/api.go and workflow_resetter.go: the reset point's range, then one
// with a workflow task pending at it.
TEST_F(ResetWorkflowTest, ResetPointChecks) {
  auto base = NewRun(kRun1);
  WorkflowTask(*base);  // next event id 5
  for (int64_t bad : {0, 1, 5, 100}) {
    ExpectRejected(Request(kRun1, bad), Code::kInvalidArgument,
                   "Workflow task finish ID must be > 1 && <= workflow last event ID.");
  }
  ExpectRejected(Request(kRun1, 2), Code::kInvalidArgument,
                 "Can only reset workflow to event ID in range [WorkflowTaskScheduled +1, WorkflowTaskStarted + 1]: 2");
  EXPECT_EQ(base->events.size(), 4u);
  EXPECT_TRUE(base->open());
}

// Reads that fail: a run not found is NOT_FOUND as the read said; a failed store read is answered
// with its error (never as "not found", never after a partial reset).
TEST_F(ResetWorkflowTest, FailedReadsAnswerTheirErrorAndWriteNothing) {
  auto base = NewRun(kRun1);
  WorkflowTask(*base);
  ExpectRejected(Request("0d6c1a3e-5f1b-4c2d-8e9f-000000000009", 4), Code::kNotFound, "workflow execution not found");
  host_.read_errors[kRun1] = Internal("storage error: disk");
  ExpectRejected(Request(kRun1, 4), Code::kInternal, "storage error: disk");
  host_.read_errors.clear();
  host_.read_errors[""] = Internal("storage error: current");
  ExpectRejected(Request(kRun1, 4), Code::kInternal, "storage error: current");
  // A continue-as-new chain whose next run cannot be read.
  host_.read_errors.clear();
  base->AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, clock_.Now())
      ->mutable_workflow_execution_continued_as_new_event_attributes()
      ->set_new_execution_run_id(kRun2);
  base->SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW);
  host_.read_errors[kRun2] = Internal("storage error: chain");
  ExpectRejected(Request(kRun1, 4), Code::kInternal, "storage error: chain");
  // A chain run that no longer exists ends the chain: the reset goes on.
  host_.read_errors.clear();
  ASSERT_TRUE(Reset(Request(kRun1, 4)).ok());
  EXPECT_EQ(host_.commits, 1);
}

// ---------------------------------------------------------------------------------------------
// A batch job's reset of one run (ResetTo): the reset point from ResetOptions.

// Without a run id the current run's history gives the reset point, and that run is the one reset.
TEST_F(ResetWorkflowTest, ResetToFirstAndLastWorkflowTask) {
  auto base = NewRun(kRun1);
  const int64_t first = WorkflowTask(*base);  // 4
  const int64_t last = WorkflowTask(*base);   // 7
  base->AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, clock_.Now());
  base->SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  auto req = Request("", 0, "batch-1");
  cv1::ResetOptions options;
  options.mutable_first_workflow_task();
  ASSERT_TRUE(ResetTo(req, options).ok());
  ASSERT_EQ(host_.added.size(), 1u);
  // The prefix ends with the first task's WorkflowTaskStarted: WorkflowTaskFailed is event `first`.
  EXPECT_EQ(host_.added[0]->events[first - 1].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED);
  EXPECT_EQ(host_.added[0]->events[first - 1].workflow_task_failed_event_attributes().base_run_id(), kRun1);
  // The last task of run-1, although the reset run is current now.
  options.mutable_last_workflow_task();
  req.mutable_workflow_execution()->set_run_id(kRun1);
  req.set_request_id("batch-2");
  ASSERT_TRUE(ResetTo(req, options).ok());
  ASSERT_EQ(host_.added.size(), 2u);
  EXPECT_EQ(host_.added[1]->events[last - 1].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED);
  EXPECT_EQ(host_.added[1]->events[last - 1].workflow_task_failed_event_attributes().base_run_id(), kRun1);
  EXPECT_EQ(context_.terminated, std::vector<std::string>{host_.added[0]->st().run_id() + ": unit reset"});
  EXPECT_EQ(answers, 2);
}

TEST_F(ResetWorkflowTest, ResetToWithoutACompletedTaskGoesJustAfterTheFirstScheduled) {
  auto base = NewRun(kRun1);
  WorkflowTask(*base, /*complete=*/false);  // 2, 3: started, never completed
  cv1::ResetOptions options;
  options.mutable_last_workflow_task();
  ASSERT_TRUE(ResetTo(Request(kRun1, 0), options).ok());
  EXPECT_EQ(Types(Added()), (std::vector<ev1::EventType>{
                                ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
                                ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED}));
}

TEST_F(ResetWorkflowTest, ResetToFailures) {
  auto base = NewRun(kRun1);
  cv1::ResetOptions options;
  options.mutable_first_workflow_task();
  auto expect = [&](const cv1::ResetOptions& o, const std::string& run_id, Code code, const std::string& message) {
    const int before = answers;
    Status s = ResetTo(Request(run_id, 0), o);
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_EQ(s.message(), message);
    EXPECT_EQ(answers, before + 1);
  };
  // No workflow task in the history.
  expect(options, kRun1, Code::kInvalidArgument, "unable to find any scheduled or completed task");
  // Build-id targets are not supported (nor is an empty target).
  cv1::ResetOptions build_id;
  build_id.set_build_id("b1");
  expect(build_id, kRun1, Code::kInvalidArgument, "provided reset target is not supported.");
  expect(cv1::ResetOptions(), kRun1, Code::kInvalidArgument, "provided reset target is not supported.");
  // Temporal's batcher reads the history for a first/last target: a run it cannot find is a
  // failed read (INTERNAL, retried), not NOT_FOUND; an event-id target's is NOT_FOUND.
  expect(options, "run-9", Code::kInternal, "GetWorkflowExecutionHistory failed: workflow execution not found");
  cv1::ResetOptions event_id;
  event_id.set_workflow_task_id(4);
  expect(event_id, "run-9", Code::kNotFound, "workflow execution not found");
  // An event id that is not a reset point: the reset's own check.
  expect(event_id, kRun1, Code::kInvalidArgument, "Workflow task finish ID must be > 1 && <= workflow last event ID.");
  auto req = Request(kRun1, 0);
  req.set_namespace_("missing");
  EXPECT_EQ(ResetTo(req, options).message(), "Namespace missing is not found.");
  EXPECT_EQ(host_.commits, 0);
  EXPECT_TRUE(context_.terminated.empty());
}

}  // namespace
}  // namespace temporalite::history
