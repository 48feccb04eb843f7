// The run-lifecycle unit (history/close_workflow.h: terminate, request-cancel, delete) over its
// narrow interfaces: runs built by hand, a SimClock, a test CloseEngine (namespaces, FetchRun over
// the test's runs answering as the engine does for an unknown run, commits durable at once, the
// force-close of a workflow task and the close recorded) and the EngineContext of
// test_engine_context.h, which schedules workflow tasks. The engine-level behaviour (the store,
// eviction, children, batch jobs) is engine_test.cc's, engine_child_test.cc's and
// engine_batch_test.cc's.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "history/close_workflow.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "test_engine_context.h"
#include "test_namespaces.h"

namespace temporalite::history {
namespace {

namespace cv1 = ::temporal::api::common::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

constexpr char kNsId[] = "ns-id";
constexpr char kNs[] = "default";

class TestCloseEngine : public CloseEngine {
 public:
  explicit TestCloseEngine(Mutex& mu) : mu_(mu) {}
  Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) override {
    return testing::TestNamespaceByName(mu_, namespaces, name);
  }
  // The named run of the test's runs, or the workflow's last one (its current run); an unknown run
  // is answered with the engine's NOT_FOUND (run_reads.cc).
  Result<std::shared_ptr<Execution>> FetchRun(std::string ns_id, std::string workflow_id, std::string run_id,
                                              bool with_events) override {
    mu_.AssertHeld();
    EXPECT_FALSE(with_events);
    Execution* found = nullptr;
    for (Execution* ex : runs) {
      if (ex->st().namespace_id() != ns_id || ex->st().workflow_id() != workflow_id) continue;
      if (run_id.empty() || ex->st().run_id() == run_id) found = ex;
    }
    if (!found) return WorkflowNotFound(workflow_id, run_id);
    return std::shared_ptr<Execution>(found, [](Execution*) {});  // not owned: the test's run
  }
  void Commit(Txn& txn, Done done) override {
    mu_.AssertHeld();
    ++commits;
    deleted.insert(deleted.end(), txn.batch.delete_runs.begin(), txn.batch.delete_runs.end());
    if (done) done(Status::Ok());
  }
  // As the engine: a started task would fail (recorded here), buffered events are flushed.
  void ForceCloseWorkflowTask(Txn&, Execution& ex, const std::string& identity) override {
    force_closed.push_back(identity + (ex.wft_started() ? " (task started)" : ""));
    ex.FlushBufferedEvents();
  }
  void FinishClose(Txn&, Execution& ex, bool chain_continues) override {
    EXPECT_FALSE(chain_continues);
    ex.MarkClosed();
    closed.push_back(ex.st().run_id());
  }

  std::map<std::string, state::NamespaceRecord> namespaces;  // by name
  std::vector<Execution*> runs;                             // in start order
  int commits = 0;
  std::vector<std::string> deleted;       // delete_runs of the commits
  std::vector<std::string> force_closed;  // identities
  std::vector<std::string> closed;        // run ids

 private:
  Mutex& mu_;
};

class CloseWorkflowTest : public ::testing::Test {
 protected:
  CloseWorkflowTest() : clock_(TimePoint(std::chrono::seconds(1704067200))), context_(clock_, mu_), host_(mu_) {
    state::NamespaceRecord rec;
    rec.mutable_info()->set_id(kNsId);
    rec.mutable_info()->set_name(kNs);
    host_.namespaces[kNs] = rec;
    testing::InitRun(run_, kNsId, "wf", "run-1", clock_.Now());
    host_.runs.push_back(&run_);
  }
  template <class Req>
  static Req Request(const std::string& workflow_id = "wf", const std::string& run_id = "") {
    Req req;
    req.set_namespace_(kNs);
    req.mutable_workflow_execution()->set_workflow_id(workflow_id);
    req.mutable_workflow_execution()->set_run_id(run_id);
    return req;
  }
  static wsv1::TerminateWorkflowExecutionRequest TerminateRequest(const std::string& workflow_id = "wf") {
    auto req = Request<wsv1::TerminateWorkflowExecutionRequest>(workflow_id);
    req.set_reason("enough");
    req.mutable_details()->add_payloads()->set_data("why");
    req.set_identity("operator");
    return req;
  }
  static wsv1::RequestCancelWorkflowExecutionRequest CancelRequest(const std::string& request_id) {
    auto req = Request<wsv1::RequestCancelWorkflowExecutionRequest>();
    req.set_reason("stop please");
    req.set_identity("operator");
    req.set_request_id(request_id);
    return req;
  }
  // The unit's answer to one RPC; `answers` counts the calls of its `done` (one per request).
  template <class Req>
  Status Call(void (CloseWorkflow::*rpc)(MutexLock&, const Req&, Done), const Req& req) {
    Status out = Internal("no answer");
    MutexLock l(mu_);
    (closes_.*rpc)(l, req, [&](const Status& s) {
      ++answers;
      out = s;
    });
    return out;
  }
  static int Count(const Execution& ex, ev1::EventType type) {
    int n = 0;
    for (const auto& e : ex.events) n += e.event_type() == type;
    return n;
  }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  TestCloseEngine host_;
  CloseWorkflow closes_{context_, host_,
                        CloseWorkflow::Limits{.blob_size_limit_error = 1024, .blob_size_limit_warn = 512}};
  Execution run_;
  int answers = 0;
};

TEST_F(CloseWorkflowTest, TerminateOpenRunAppendsTerminatedEventWithReasonDetailsAndIdentity) {
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(Call(&CloseWorkflow::Terminate, TerminateRequest()).ok());
  EXPECT_EQ(answers, 1);
  ASSERT_EQ(run_.events.size(), 2u);
  const auto& e = run_.events[1];
  EXPECT_EQ(e.event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
  EXPECT_EQ(e.event_id(), 2);
  EXPECT_EQ(FromProto(e.event_time()), clock_.Now());
  const auto& a = e.workflow_execution_terminated_event_attributes();
  EXPECT_EQ(a.reason(), "enough");
  ASSERT_EQ(a.details().payloads_size(), 1);
  EXPECT_EQ(a.details().payloads(0).data(), "why");
  EXPECT_EQ(a.identity(), "operator");
  EXPECT_EQ(run_.st().status(), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_EQ(run_.st().completion_event_id(), 2);
  EXPECT_EQ(host_.force_closed, std::vector<std::string>{"operator"});
  EXPECT_EQ(host_.closed, std::vector<std::string>{"run-1"});
  EXPECT_EQ(host_.commits, 1);
  EXPECT_TRUE(host_.deleted.empty());
}

TEST_F(CloseWorkflowTest, TerminateWithoutDetailsLeavesThemUnset) {
  auto req = TerminateRequest();
  req.clear_details();
  ASSERT_TRUE(Call(&CloseWorkflow::Terminate, req).ok());
  ASSERT_EQ(run_.events.size(), 2u);
  EXPECT_FALSE(run_.events[1].workflow_execution_terminated_event_attributes().has_details());
}

TEST_F(CloseWorkflowTest, TerminateWithoutReasonOrIdentityGetsTemporalFrontendDefaults) {
  auto req = TerminateRequest();
  req.clear_reason();
  req.clear_identity();
  ASSERT_TRUE(Call(&CloseWorkflow::Terminate, req).ok());
  ASSERT_EQ(run_.events.size(), 2u);
  const auto& a = run_.events[1].workflow_execution_terminated_event_attributes();
  EXPECT_EQ(a.reason(), "terminated by user via frontend");
  EXPECT_EQ(a.identity(), "frontend-service");
}

TEST_F(CloseWorkflowTest, TerminateFlushesBufferedEventsBeforeTheTerminatedEvent) {
  run_.SetWorkflowTaskScheduledEventId(2);
  run_.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, clock_.Now());
  run_.SetWorkflowTaskStartedEventId(3);
  run_.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, clock_.Now());
  run_.AddOrBufferEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, clock_.Now());  // buffered: a task runs
  ASSERT_EQ(run_.events.size(), 3u);
  ASSERT_TRUE(Call(&CloseWorkflow::Terminate, TerminateRequest()).ok());
  EXPECT_EQ(host_.force_closed, std::vector<std::string>{"operator (task started)"});
  ASSERT_EQ(run_.events.size(), 5u);
  EXPECT_EQ(run_.events[3].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  EXPECT_EQ(run_.events[4].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
  EXPECT_EQ(run_.events[4].event_id(), 5);
}

TEST_F(CloseWorkflowTest, TerminateClosedRunIsNotFoundAlreadyCompleted) {
  run_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  Status s = Call(&CloseWorkflow::Terminate, TerminateRequest());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "workflow execution already completed");  // Temporal's consts.ErrWorkflowCompleted
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(run_.events.size(), 1u);
  EXPECT_EQ(host_.commits, 0);
  EXPECT_TRUE(host_.closed.empty());
}

TEST_F(CloseWorkflowTest, TerminateUnknownRunIsWorkflowNotFound) {
  Status s = Call(&CloseWorkflow::Terminate, TerminateRequest("nope"));
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "workflow execution not found for workflow ID \"nope\"");
  auto req = TerminateRequest();
  req.mutable_workflow_execution()->set_run_id("run-9");
  s = Call(&CloseWorkflow::Terminate, req);
  EXPECT_EQ(s.message(), "workflow execution not found for workflow ID \"wf\" and run ID \"run-9\"");
  EXPECT_EQ(host_.commits, 0);
  EXPECT_TRUE(run_.open());
}

TEST_F(CloseWorkflowTest, TerminateOfAnotherChainIsNotFoundAndTheChecksComeFirst) {
  auto req = TerminateRequest();
  req.set_first_execution_run_id("other-chain");
  Status s = Call(&CloseWorkflow::Terminate, req);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "workflow execution not found for workflow ID \"wf\"");
  s = Call(&CloseWorkflow::Terminate, TerminateRequest(""));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "WorkflowId is not set on request.");
  req = TerminateRequest();
  req.set_namespace_("missing");
  EXPECT_EQ(Call(&CloseWorkflow::Terminate, req).code(), Code::kNotFound);
  req = TerminateRequest();
  req.mutable_details()->mutable_payloads(0)->set_data(std::string(2000, 'x'));  // over the 1 KiB limit
  EXPECT_EQ(Call(&CloseWorkflow::Terminate, req).code(), Code::kInvalidArgument);
  EXPECT_EQ(answers, 4);
  EXPECT_TRUE(run_.open());
  EXPECT_EQ(host_.commits, 0);
}

TEST_F(CloseWorkflowTest, RequestCancelTwiceAppendsOneEventAndSchedulesOneTask) {
  ASSERT_TRUE(Call(&CloseWorkflow::RequestCancel, CancelRequest("c-1")).ok());
  ASSERT_TRUE(Call(&CloseWorkflow::RequestCancel, CancelRequest("c-1")).ok());  // a retry
  ASSERT_TRUE(Call(&CloseWorkflow::RequestCancel, CancelRequest("c-2")).ok());  // another request
  EXPECT_EQ(answers, 3);
  EXPECT_EQ(Count(run_, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED), 1);
  ASSERT_EQ(run_.events.size(), 2u);
  const auto& a = run_.events[1].workflow_execution_cancel_requested_event_attributes();
  EXPECT_EQ(a.cause(), "stop please");
  EXPECT_EQ(a.identity(), "operator");
  EXPECT_TRUE(run_.st().cancel_requested());
  EXPECT_TRUE(run_.open());
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
  EXPECT_EQ(host_.commits, 1);  // the repeats commit nothing
}

TEST_F(CloseWorkflowTest, RequestCancelWaitsForADelayedFirstWorkflowTask) {
  run_.SetFirstWorkflowTaskBackoff(clock_.Now() + std::chrono::seconds(60));
  ASSERT_TRUE(Call(&CloseWorkflow::RequestCancel, CancelRequest("c-1")).ok());
  EXPECT_EQ(Count(run_, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED), 1);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);  // the backoff's end schedules it
  EXPECT_EQ(host_.commits, 1);
}

TEST_F(CloseWorkflowTest, RequestCancelOfClosedRunSucceedsWithoutAnEvent) {
  run_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  ASSERT_TRUE(Call(&CloseWorkflow::RequestCancel, CancelRequest("c-1")).ok());
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(run_.events.size(), 1u);
  EXPECT_FALSE(run_.st().cancel_requested());
  EXPECT_EQ(host_.commits, 0);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);
  Status s = Call(&CloseWorkflow::RequestCancel, Request<wsv1::RequestCancelWorkflowExecutionRequest>("nope"));
  EXPECT_EQ(s.code(), Code::kNotFound);
}

TEST_F(CloseWorkflowTest, DeleteOfOpenRunTerminatesItThenDeletesIt) {
  ASSERT_TRUE(Call(&CloseWorkflow::Delete, Request<wsv1::DeleteWorkflowExecutionRequest>()).ok());
  EXPECT_EQ(answers, 1);
  ASSERT_EQ(run_.events.size(), 2u);
  const auto& a = run_.events[1].workflow_execution_terminated_event_attributes();
  EXPECT_EQ(a.reason(), "Delete workflow execution");
  EXPECT_EQ(a.identity(), "history-service");
  EXPECT_EQ(run_.st().status(), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_EQ(host_.closed, std::vector<std::string>{"run-1"});
  EXPECT_EQ(host_.deleted, std::vector<std::string>{"run-1"});
  EXPECT_EQ(host_.commits, 1);  // the termination and the deletion in one commit
}

TEST_F(CloseWorkflowTest, DeleteOfClosedRunDeletesItWithoutAnEvent) {
  run_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  ASSERT_TRUE(Call(&CloseWorkflow::Delete, Request<wsv1::DeleteWorkflowExecutionRequest>("wf", "run-1")).ok());
  EXPECT_EQ(run_.events.size(), 1u);
  EXPECT_TRUE(host_.closed.empty());
  EXPECT_TRUE(host_.force_closed.empty());
  EXPECT_EQ(host_.deleted, std::vector<std::string>{"run-1"});
  Status s = Call(&CloseWorkflow::Delete, Request<wsv1::DeleteWorkflowExecutionRequest>("nope"));
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(host_.commits, 1);
}

}  // namespace
}  // namespace temporalite::history
