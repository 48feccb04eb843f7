// The SignalWorkflowExecution unit (history/signal_workflow.h) over its narrow interfaces: runs
// built by hand, a SimClock, a test SignalEngine (namespaces, FetchRun over the test's runs,
// commits durable at once) and the EngineContext of test_engine_context.h, which schedules
// workflow tasks. The engine-level behaviour (the store, eviction, restarts, batch signals) is
// engine_test.cc's, engine_eviction_test.cc's, engine_unlocked_reads_test.cc's and
// engine_batch_test.cc's.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "execution_test_util.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/signal_event.h"
#include "history/signal_workflow.h"
#include "test_engine_context.h"
#include "test_namespaces.h"

namespace temporalite::history {
namespace {

namespace cv1 = ::temporal::api::common::v1;
namespace hv1 = ::temporal::api::history::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

constexpr char kNsId[] = "ns-id";
constexpr char kNs[] = "default";

class TestSignalEngine : public SignalEngine {
 public:
  explicit TestSignalEngine(Mutex& mu) : mu_(mu) {}
  Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) override {
    return testing::TestNamespaceByName(mu_, namespaces, name);
  }
  // The named run of the test's runs, or the workflow's last one (its current run); `read_error`
  // answers as a failed store read would.
  Result<std::shared_ptr<Execution>> FetchRun(std::string ns_id, std::string workflow_id, std::string run_id,
                                              bool with_events) override {
    mu_.AssertHeld();
    ++fetches;
    EXPECT_FALSE(with_events);
    if (!read_error.ok()) return read_error;
    Execution* found = nullptr;
    for (Execution* ex : runs) {
      if (ex->st().namespace_id() != ns_id || ex->st().workflow_id() != workflow_id) continue;
      if (run_id.empty() || ex->st().run_id() == run_id) found = ex;
    }
    if (!found) return WorkflowNotFound(workflow_id, run_id);  // the engine's NOT_FOUND (run_reads.cc)
    return std::shared_ptr<Execution>(found, [](Execution*) {});  // not owned: the test's run
  }
  void Commit(Txn& txn, Done done) override {
    mu_.AssertHeld();
    ++commits;
    touched += txn.touched.size();
    if (done) done(Status::Ok());
  }

  std::map<std::string, state::NamespaceRecord> namespaces;  // by name
  std::vector<Execution*> runs;                             // in start order
  Status read_error;
  int fetches = 0;
  int commits = 0;
  size_t touched = 0;

 private:
  Mutex& mu_;
};

class SignalWorkflowTest : public ::testing::Test {
 protected:
  SignalWorkflowTest() : clock_(TimePoint(std::chrono::seconds(1704067200))), context_(clock_, mu_), host_(mu_) {
    state::NamespaceRecord rec;
    rec.mutable_info()->set_id(kNsId);
    rec.mutable_info()->set_name(kNs);
    host_.namespaces[kNs] = rec;
    testing::InitRun(run_, kNsId, "wf", "run-1", clock_.Now());
    host_.runs.push_back(&run_);
  }
  static wsv1::SignalWorkflowExecutionRequest Request(const std::string& name, const std::string& request_id = "") {
    wsv1::SignalWorkflowExecutionRequest req;
    req.set_namespace_(kNs);
    req.mutable_workflow_execution()->set_workflow_id("wf");
    req.set_signal_name(name);
    req.mutable_input()->add_payloads()->set_data("in-" + name);
    req.set_identity("client");
    req.set_request_id(request_id);
    return req;
  }
  // The unit's answer; `answers` counts the calls of its `done` (exactly one per request).
  Status Signal(const wsv1::SignalWorkflowExecutionRequest& req) {
    Status out = Internal("no answer");
    MutexLock l(mu_);
    signals_.Signal(l, req, [&](const Status& s) {
      ++answers;
      out = s;
    });
    return out;
  }
  static int SignaledEvents(const Execution& ex) {
    int n = 0;
    for (const auto& e : ex.events) n += e.event_type() == ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;
    return n;
  }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  TestSignalEngine host_;
  SignalWorkflow signals_{context_, host_,
                          SignalWorkflow::Limits{.max_id_length = 64, .blob_size_limit_error = 1024,
                                                 .blob_size_limit_warn = 512}};
  Execution run_;
  int answers = 0;
};

TEST_F(SignalWorkflowTest, SignalIsRecordedAndSchedulesAWorkflowTaskInOneCommit) {
  ASSERT_TRUE(Signal(Request("go", "req-1")).ok());
  ASSERT_EQ(run_.events.size(), 2u);
  const auto& e = run_.events[1];
  EXPECT_EQ(e.event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  const auto& a = e.workflow_execution_signaled_event_attributes();
  EXPECT_EQ(a.signal_name(), "go");
  EXPECT_EQ(a.input().payloads(0).data(), "in-go");
  EXPECT_EQ(a.identity(), "client");
  EXPECT_EQ(a.request_id(), "req-1");
  EXPECT_FALSE(a.has_external_workflow_execution());
  EXPECT_EQ(run_.st().signal_count(), 1);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
  EXPECT_EQ(host_.commits, 1);
  EXPECT_EQ(host_.touched, 1u);
  EXPECT_EQ(answers, 1);
}

TEST_F(SignalWorkflowTest, SignalWhileATaskRunsIsBufferedWithoutANewTask) {
  run_.SetWorkflowTaskScheduledEventId(2);
  run_.SetWorkflowTaskStartedEventId(3);
  ASSERT_TRUE(Signal(Request("go")).ok());
  EXPECT_EQ(run_.events.size(), 1u);  // not in history yet
  EXPECT_EQ(run_.st().buffered_events_size(), 1);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);
  EXPECT_EQ(host_.commits, 1);
}

TEST_F(SignalWorkflowTest, ADelayedFirstTaskIsNotScheduledBySignal) {
  EditState(run_, [&](state::ExecutionState& s) {
    s.mutable_first_wft_due_time()->set_seconds(1704067200 + 60);  // a start delay still running
  });
  ASSERT_TRUE(Signal(Request("go")).ok());
  EXPECT_EQ(SignaledEvents(run_), 1);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);
}

TEST_F(SignalWorkflowTest, RetryWithTheSameRequestIdChangesNothing) {
  ASSERT_TRUE(Signal(Request("go", "req-1")).ok());
  ASSERT_TRUE(Signal(Request("go", "req-1")).ok());  // answered once durable, not delivered again
  EXPECT_EQ(SignaledEvents(run_), 1);
  EXPECT_EQ(run_.st().signal_count(), 1);
  EXPECT_EQ(host_.commits, 1);
  ASSERT_TRUE(Signal(Request("go", "req-2")).ok());
  EXPECT_EQ(SignaledEvents(run_), 2);
  EXPECT_EQ(answers, 3);
}

TEST_F(SignalWorkflowTest, SignalToAClosedRunIsNotFoundAndChangesNothing) {
  run_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  for (const std::string& request_id : {"", "req-new"}) {
    Status s = Signal(Request("go", request_id));
    EXPECT_EQ(s.code(), Code::kNotFound);
    EXPECT_EQ(s.message(), "workflow execution already completed");
  }
  EXPECT_EQ(SignaledEvents(run_), 0);
  EXPECT_EQ(host_.commits, 0);
}

// Temporal's signalworkflow/api.go checks IsSignalRequested before the run's status: a retry
// whose first attempt the run took before it closed (the reply lost to a crash or a deadline) is
// answered as that attempt was, and changes nothing.
TEST_F(SignalWorkflowTest, RetryOfASignalTheRunTookBeforeItClosedIsAnsweredOk) {
  ASSERT_TRUE(Signal(Request("finish", "req-1")).ok());
  run_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  const size_t events = run_.events.size();
  EXPECT_TRUE(Signal(Request("finish", "req-1")).ok());
  EXPECT_EQ(run_.events.size(), events);
  EXPECT_EQ(run_.st().signal_count(), 1);
  EXPECT_EQ(host_.commits, 1);  // the first attempt's only
  EXPECT_EQ(Signal(Request("finish", "req-2")).message(), "workflow execution already completed");
  EXPECT_EQ(answers, 3);
}

TEST_F(SignalWorkflowTest, RetryNamingAClosedRunFindsItsRequestIdWhileANewRunTakesNewSignals) {
  ASSERT_TRUE(Signal(Request("go", "req-1")).ok());
  run_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW);
  Execution next;
  testing::InitRun(next, kNsId, "wf", "run-2", clock_.Now());
  host_.runs.push_back(&next);
  auto retry = Request("go", "req-1");
  retry.mutable_workflow_execution()->set_run_id("run-1");
  EXPECT_TRUE(Signal(retry).ok());
  EXPECT_EQ(SignaledEvents(run_), 1);
  EXPECT_EQ(SignaledEvents(next), 0);
  // Without a run id the request names the current run, which has not seen the request id.
  ASSERT_TRUE(Signal(Request("go", "req-1")).ok());
  EXPECT_EQ(SignaledEvents(next), 1);
  EXPECT_EQ(host_.commits, 2);
}

TEST_F(SignalWorkflowTest, SignalReachesTheCurrentRunOrTheNamedOne) {
  run_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW);
  Execution next;
  testing::InitRun(next, kNsId, "wf", "run-2", clock_.Now());
  host_.runs.push_back(&next);
  ASSERT_TRUE(Signal(Request("go")).ok());
  EXPECT_EQ(SignaledEvents(next), 1);
  auto to_old = Request("go");
  to_old.mutable_workflow_execution()->set_run_id("run-1");
  EXPECT_EQ(Signal(to_old).code(), Code::kNotFound);
  EXPECT_EQ(SignaledEvents(run_), 0);
}

TEST_F(SignalWorkflowTest, AMissingRunIsWorkflowNotFoundAndAFailedReadIsItsError) {
  auto missing = Request("go");
  missing.mutable_workflow_execution()->set_workflow_id("nobody");
  Status s = Signal(missing);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "workflow execution not found for workflow ID \"nobody\"");
  // A store read the database refused is the answer, not "not found" (a client would give up).
  host_.read_error = Internal("storage error: disk I/O error");
  auto named = Request("go");
  named.mutable_workflow_execution()->set_run_id("run-1");
  s = Signal(named);
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(s.message(), "storage error: disk I/O error");
  EXPECT_EQ(host_.commits, 0);
  EXPECT_EQ(answers, 2);
}

TEST_F(SignalWorkflowTest, InvalidRequestsAreRefusedBeforeTheRunIsRead) {
  EXPECT_EQ(Signal(Request(std::string(65, 'n'))).code(), Code::kInvalidArgument);
  EXPECT_EQ(Signal(Request("")).code(), Code::kInvalidArgument);
  Status s = Signal(Request("go", std::string(65, 'r')));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "RequestId exceeds length limit.");
  auto big = Request("go");
  big.mutable_input()->mutable_payloads(0)->set_data(std::string(2000, 'x'));
  s = Signal(big);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("Input size of"), std::string::npos) << s.message();
  auto no_ns = Request("go");
  no_ns.set_namespace_("missing");
  EXPECT_EQ(Signal(no_ns).code(), Code::kNotFound);
  EXPECT_EQ(host_.fetches, 0);
  EXPECT_EQ(host_.commits, 0);
  EXPECT_EQ(answers, 5);
}

TEST_F(SignalWorkflowTest, RunOverItsSignalLimitRefusesTheSignal) {
  EditState(run_, [&](state::ExecutionState& s) { s.set_signal_count(SignalWorkflow::kMaxSignalsPerExecution); });
  Status s = Signal(Request("go"));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "the number of signals for this workflow execution exceeds the limit of 10000");
  EXPECT_EQ(SignaledEvents(run_), 0);
  EXPECT_EQ(host_.commits, 0);
}

TEST_F(SignalWorkflowTest, DeliveryFromAnotherWorkflowNamesItAndRemembersBoundedRequestIds) {
  MutexLock l(mu_);
  Txn txn;
  cv1::WorkflowExecution source;
  source.set_workflow_id("source");
  source.set_run_id("source-run");
  bool duplicate = true;
  for (int i = 0; i < SignalWorkflow::kMaxRememberedSignalRequestIds + 1; ++i) {
    ASSERT_TRUE(signals_.Deliver(txn, run_, "ping", {}, {}, "worker", "id-" + std::to_string(i), &source, &duplicate)
                    .ok());
    EXPECT_FALSE(duplicate);
  }
  EXPECT_EQ(run_.events.back().workflow_execution_signaled_event_attributes().external_workflow_execution().run_id(),
            "source-run");
  EXPECT_EQ(run_.st().signal_request_ids_size(), SignalWorkflow::kMaxRememberedSignalRequestIds);
  EXPECT_EQ(run_.st().signal_request_ids(0), "id-1");  // the oldest is forgotten
  ASSERT_TRUE(signals_.Deliver(txn, run_, "ping", {}, {}, "worker", "id-0", &source, &duplicate).ok());
  EXPECT_FALSE(duplicate);  // forgotten, so delivered again
  ASSERT_TRUE(signals_.Deliver(txn, run_, "ping", {}, {}, "worker", "id-5", &source, &duplicate).ok());
  EXPECT_TRUE(duplicate);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);  // one task for all of them
}

// A reset's re-applied signal (signal_event.h ReapplySignal; Temporal's reapplyEvents calls
// AddWorkflowExecutionSignaled with the old event's name, input, identity, header, request id and
// links): the same event a delivery writes, without the signalling workflow, and no signal limit
// (Temporal's limit is the signal RPC's check). The reset schedules its own workflow task.
TEST_F(SignalWorkflowTest, AReappliedSignalKeepsItsEventWithoutTheSignallerOrTheLimit) {
  EditState(run_, [&](state::ExecutionState& s) { s.set_signal_count(SignalWorkflow::kMaxSignalsPerExecution); });
  hv1::HistoryEvent old_event;
  old_event.set_event_id(7);
  old_event.set_event_type(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  auto* in = old_event.mutable_workflow_execution_signaled_event_attributes();
  in->set_signal_name("ping");
  in->mutable_input()->add_payloads()->set_data("in-ping");
  in->set_identity("client");
  (*in->mutable_header()->mutable_fields())["trace"].set_data("t-1");
  in->set_request_id("req-1");
  in->mutable_external_workflow_execution()->set_workflow_id("source");
  old_event.add_links()->mutable_workflow_event()->set_workflow_id("linked");
  ReapplySignal(run_, clock_.Now(), old_event);
  ASSERT_EQ(run_.events.size(), 2u);
  const auto& e = run_.events[1];
  EXPECT_EQ(e.event_id(), 2);
  EXPECT_EQ(e.event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  const auto& a = e.workflow_execution_signaled_event_attributes();
  EXPECT_EQ(a.signal_name(), "ping");
  EXPECT_EQ(a.input().payloads(0).data(), "in-ping");
  EXPECT_EQ(a.identity(), "client");
  EXPECT_EQ(a.header().fields().at("trace").data(), "t-1");
  EXPECT_EQ(a.request_id(), "req-1");
  EXPECT_FALSE(a.has_external_workflow_execution());
  ASSERT_EQ(e.links_size(), 1);
  EXPECT_EQ(e.links(0).workflow_event().workflow_id(), "linked");
  EXPECT_EQ(run_.st().signal_count(), SignalWorkflow::kMaxSignalsPerExecution + 1);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);
}

// Re-applied signals' request ids are remembered as a delivery's are (bounded, the oldest
// forgotten): a client's retry of a re-applied signal to the new run is a duplicate, and one whose
// id is forgotten is delivered again, exactly as it would have been in the run reset.
TEST_F(SignalWorkflowTest, ReappliedRequestIdsAreRememberedAsADeliverysAre) {
  hv1::HistoryEvent old_event;
  old_event.set_event_type(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  old_event.mutable_workflow_execution_signaled_event_attributes()->set_signal_name("go");
  for (int i = 0; i < SignalWorkflow::kMaxRememberedSignalRequestIds + 1; ++i) {
    old_event.mutable_workflow_execution_signaled_event_attributes()->set_request_id("id-" + std::to_string(i));
    ReapplySignal(run_, clock_.Now(), old_event);
  }
  const int reapplied = SignalWorkflow::kMaxRememberedSignalRequestIds + 1;
  EXPECT_EQ(SignaledEvents(run_), reapplied);
  EXPECT_EQ(run_.st().signal_request_ids_size(), SignalWorkflow::kMaxRememberedSignalRequestIds);
  EXPECT_EQ(run_.st().signal_request_ids(0), "id-1");
  ASSERT_TRUE(Signal(Request("go", "id-1000")).ok());  // a retry: nothing new
  EXPECT_EQ(SignaledEvents(run_), reapplied);
  EXPECT_EQ(host_.commits, 0);
  ASSERT_TRUE(Signal(Request("go", "id-0")).ok());  // forgotten: delivered
  EXPECT_EQ(SignaledEvents(run_), reapplied + 1);
  EXPECT_EQ(host_.commits, 1);
}

}  // namespace
}  // namespace temporalite::history
