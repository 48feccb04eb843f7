// The batch unit (history/batch_operations.h) over its narrow interfaces: a namespace record held
// by a test BatchEngine whose public calls (terminate, signal, ...) answer as each test scripts
// them, a SimClock, and the EngineContext of test_engine_context.h for the timers. Commits are
// durable at once. The engine-level behaviour (real runs, visibility queries, resets, restarts) is
// engine_batch_test.cc's.
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "history/batch_operations.h"
#include "history/execution.h"
#include "test_engine_context.h"
#include "test_namespaces.h"

namespace temporalite::history {
namespace {

namespace wsv1 = ::temporal::api::workflowservice::v1;

class TestBatchEngine : public BatchEngine {
 public:
  explicit TestBatchEngine(Mutex& mu) : mu_(mu) {}

  Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) override {
    return testing::TestNamespaceByName(mu_, namespaces, name);
  }
  state::NamespaceRecord* NamespaceById(const std::string& ns_id) override {
    mu_.AssertHeld();
    auto it = namespaces.find(ns_id);
    return it == namespaces.end() ? nullptr : &it->second;
  }
  visibility::TypeMap CustomSearchAttributes(const std::string&) override { return {}; }
  void Commit(Txn& txn, Done done) override {
    mu_.AssertHeld();
    ++commits;
    for (auto& f : txn.after_commit) f();
    if (done) done(Status::Ok());
  }
  Result<int64_t> CountVisibility(const persistence::VisibilityQuery& q) override {
    counted_where = q.where;
    return static_cast<int64_t>(listed.size());
  }
  Result<persistence::VisibilityPage> ListVisibility(const persistence::VisibilityQuery&) override {
    return persistence::VisibilityPage{};
  }
  // The query's matches, `page_size` at a time (the token is the next index).
  Status ListWorkflows(const std::string&, Result<visibility::CompiledQuery> compiled, int32_t page_size,
                       const std::string& page_token, WorkflowInfos* out, std::string* next_token) override {
    if (!compiled.ok()) return compiled.status();
    size_t from = page_token.empty() ? 0 : std::stoul(page_token);
    size_t i = from;
    for (; i < listed.size() && i < from + static_cast<size_t>(page_size); ++i) {
      out->Add()->mutable_execution()->set_workflow_id(listed[i]);
    }
    *next_token = i < listed.size() ? std::to_string(i) : "";
    return Status::Ok();
  }
  void TerminateWorkflowExecution(const wsv1::TerminateWorkflowExecutionRequest& req, Done done) override {
    Answer("terminate", req.workflow_execution().workflow_id(), done);
  }
  void RequestCancelWorkflowExecution(const wsv1::RequestCancelWorkflowExecutionRequest& req, Done done) override {
    Answer("cancel", req.workflow_execution().workflow_id(), done);
  }
  void SignalWorkflowExecution(const wsv1::SignalWorkflowExecutionRequest& req, Done done) override {
    signal_request_ids.push_back(req.request_id());
    Answer("signal:" + req.signal_name(), req.workflow_execution().workflow_id(), done);
  }
  void DeleteWorkflowExecution(const wsv1::DeleteWorkflowExecutionRequest& req, Done done) override {
    Answer("delete", req.workflow_execution().workflow_id(), done);
  }
  void ResetToOptions(wsv1::ResetWorkflowExecutionRequest req, const temporal::api::common::v1::ResetOptions&,
                      Done done) override {
    Answer("reset", req.workflow_execution().workflow_id(), done);
  }

  std::map<std::string, state::NamespaceRecord> namespaces;  // by id
  std::vector<std::string> listed;                           // the visibility query's matches
  std::map<std::string, std::deque<Status>> script;          // workflow id -> answers, then OK
  std::map<std::string, Status> always;                      // workflow id -> every answer
  std::vector<std::string> calls;                            // "op wid", in order
  std::map<std::string, int> attempts;                       // by workflow id
  std::vector<std::string> signal_request_ids;
  std::string counted_where;
  int commits = 0;

 private:
  // The public calls are made without the engine mutex (they take it), and answer at once here.
  void Answer(const std::string& op, const std::string& wid, const Done& done) {
    MutexLock l(mu_);  // as the engine's calls do
    l.Unlock();
    calls.push_back(op + " " + wid);
    ++attempts[wid];
    Status s = Status::Ok();
    if (auto a = always.find(wid); a != always.end()) {
      s = a->second;
    } else if (auto it = script.find(wid); it != script.end() && !it->second.empty()) {
      s = it->second.front();
      it->second.pop_front();
    }
    done(s);
  }
  Mutex& mu_;
};

class BatchOperationsTest : public ::testing::Test {
 protected:
  BatchOperationsTest()
      : clock_(TimePoint(std::chrono::seconds(1704067200))),
        context_(clock_, mu_),
        host_(mu_),
        batch_(mu_, context_, host_, /*max_id_length=*/1000) {
    state::NamespaceRecord rec;
    rec.mutable_info()->set_id("ns-1");
    rec.mutable_info()->set_name("orders");
    rec.mutable_info()->set_state(ev1::NAMESPACE_STATE_REGISTERED);
    host_.namespaces["ns-1"] = rec;
  }
  static wsv1::StartBatchOperationRequest TerminateJob(const std::string& job_id, const std::vector<std::string>& wids,
                                                       double rps) {
    wsv1::StartBatchOperationRequest req;
    req.set_namespace_("orders");
    req.set_job_id(job_id);
    req.set_reason("cleanup");
    req.set_max_operations_per_second(rps);
    req.mutable_termination_operation()->set_identity("ops");
    for (const auto& w : wids) req.add_executions()->set_workflow_id(w);
    return req;
  }
  Status Start(const wsv1::StartBatchOperationRequest& req) {
    Status out = Internal("no answer");
    MutexLock l(mu_);
    batch_.Start(l, req, [&](const Status& s) { out = s; });
    return out;
  }
  Status Stop(const std::string& job_id) {
    wsv1::StopBatchOperationRequest req;
    req.set_namespace_("orders");
    req.set_job_id(job_id);
    req.set_reason("enough");
    Status out = Internal("no answer");
    MutexLock l(mu_);
    batch_.Stop(l, req, [&](const Status& s) { out = s; });
    return out;
  }
  wsv1::DescribeBatchOperationResponse Describe(const std::string& job_id) {
    wsv1::DescribeBatchOperationRequest req;
    req.set_namespace_("orders");
    req.set_job_id(job_id);
    wsv1::DescribeBatchOperationResponse resp;
    Status out = Internal("no answer");
    MutexLock l(mu_);
    batch_.Describe(l, req, &resp, [&](const Status& s) { out = s; });
    EXPECT_TRUE(out.ok()) << out.ToString();
    return resp;
  }
  // Runs every timer due now, also those the ones run schedule for now (the unit takes the mutex
  // itself in them, as under the engine's timer thread).
  void Drain() {
    while (context_.timers().RunDue() > 0) {
    }
  }
  void Advance(Duration d) {
    clock_.Advance(d);
    Drain();
  }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  TestBatchEngine host_;
  BatchOperations batch_;
};

TEST_F(BatchOperationsTest, AJobOverSeveralTargetsCompletesWithCountsAtItsRate) {
  ASSERT_TRUE(Start(TerminateJob("job-1", {"wf-1", "wf-2", "wf-3"}, /*rps=*/2)).ok());
  EXPECT_EQ(Describe("job-1").state(), ev1::BATCH_OPERATION_STATE_RUNNING);
  EXPECT_EQ(Describe("job-1").total_operation_count(), 3);
  EXPECT_TRUE(host_.calls.empty());  // the first step follows the start's commit, on a timer

  Drain();  // the first chunk: two targets at 2 per second
  EXPECT_EQ(host_.calls, (std::vector<std::string>{"terminate wf-1", "terminate wf-2"}));
  auto mid = Describe("job-1");
  EXPECT_EQ(mid.state(), ev1::BATCH_OPERATION_STATE_RUNNING);
  EXPECT_EQ(mid.complete_operation_count(), 2);

  Advance(std::chrono::milliseconds(999));  // the next chunk waits for the pace (2 targets / 2 rps)
  EXPECT_EQ(host_.calls.size(), 2u);
  Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(host_.calls.size(), 3u);
  auto done = Describe("job-1");
  EXPECT_EQ(done.state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
  EXPECT_EQ(done.total_operation_count(), 3);
  EXPECT_EQ(done.complete_operation_count(), 3);
  EXPECT_EQ(done.failure_operation_count(), 0);
  EXPECT_TRUE(done.has_close_time());
  EXPECT_EQ(done.identity(), "ops");

  Advance(std::chrono::seconds(10));  // nothing more runs
  EXPECT_EQ(host_.calls.size(), 3u);
  // A second job with the same id is refused; another may start now that none is running.
  EXPECT_EQ(Start(TerminateJob("job-1", {"wf-9"}, 1)).code(), Code::kAlreadyExists);
  EXPECT_TRUE(Start(TerminateJob("job-2", {"wf-9"}, 1)).ok());
}

TEST_F(BatchOperationsTest, AQueryJobCountsItsTotalThenPagesThroughTheMatches) {
  host_.listed = {"a", "b", "c", "d", "e"};
  wsv1::StartBatchOperationRequest req;
  req.set_namespace_("orders");
  req.set_job_id("sig");
  req.set_reason("wake up");
  req.set_visibility_query("WorkflowType = 'order'");
  req.set_max_operations_per_second(2);
  req.mutable_signal_operation()->set_signal("poke");
  ASSERT_TRUE(Start(req).ok());
  EXPECT_EQ(Describe("sig").total_operation_count(), 5);
  for (int i = 0; i < 10 && Describe("sig").state() == ev1::BATCH_OPERATION_STATE_RUNNING; ++i) {
    Advance(std::chrono::seconds(1));
  }
  auto d = Describe("sig");
  EXPECT_EQ(d.state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
  EXPECT_EQ(d.complete_operation_count(), 5);
  EXPECT_EQ(host_.calls,
            (std::vector<std::string>{"signal:poke a", "signal:poke b", "signal:poke c", "signal:poke d", "signal:poke e"}));
  // Each target's request id is derived from the job and the target (a re-applied chunk dedupes).
  ASSERT_EQ(host_.signal_request_ids.size(), 5u);
  EXPECT_NE(host_.signal_request_ids[0], host_.signal_request_ids[1]);
  EXPECT_FALSE(host_.signal_request_ids[0].empty());
}

TEST_F(BatchOperationsTest, FailedTargetsAreRetriedThenCountedFailed) {
  host_.always["wf-2"] = Status(Code::kUnavailable, "busy");
  host_.script["wf-3"] = {Status(Code::kNotFound, "workflow execution already completed")};
  host_.script["wf-4"] = {Status(Code::kUnavailable, "busy"), Status(Code::kDeadlineExceeded, "slow")};
  ASSERT_TRUE(Start(TerminateJob("job-r", {"wf-1", "wf-2", "wf-3", "wf-4"}, /*rps=*/10)).ok());
  for (int i = 0; i < 200 && Describe("job-r").state() == ev1::BATCH_OPERATION_STATE_RUNNING; ++i) {
    Advance(std::chrono::milliseconds(100));  // retries are spaced at 1 / rps
  }
  auto d = Describe("job-r");
  EXPECT_EQ(d.state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
  EXPECT_EQ(host_.attempts["wf-1"], 1);
  EXPECT_EQ(host_.attempts["wf-2"], 51);  // Temporal's batcher: retried while attempts so far <= 50
  EXPECT_EQ(host_.attempts["wf-3"], 1);   // NotFound counts as done
  EXPECT_EQ(host_.attempts["wf-4"], 3);   // failed twice, then succeeded
  EXPECT_EQ(d.complete_operation_count(), 3);
  EXPECT_EQ(d.failure_operation_count(), 1);
  EXPECT_EQ(d.total_operation_count(), 4);
}

TEST_F(BatchOperationsTest, StopEndsTheJobAndItsRetries) {
  host_.always["wf-1"] = Status(Code::kUnavailable, "busy");
  ASSERT_TRUE(Start(TerminateJob("job-s", {"wf-1", "wf-2", "wf-3"}, /*rps=*/1)).ok());
  Drain();  // the first chunk: wf-1, which fails; its retry waits a second
  EXPECT_EQ(host_.attempts["wf-1"], 1);
  ASSERT_TRUE(Stop("job-s").ok());
  auto stopped = Describe("job-s");
  EXPECT_EQ(stopped.state(), ev1::BATCH_OPERATION_STATE_FAILED);  // as Temporal reports a stopped job
  EXPECT_TRUE(stopped.has_close_time());
  EXPECT_EQ(Stop("job-s").code(), Code::kFailedPrecondition);
  EXPECT_EQ(Stop("no-such-job").code(), Code::kNotFound);

  Advance(std::chrono::seconds(30));
  EXPECT_EQ(host_.attempts["wf-1"], 1);  // no retry after the stop
  EXPECT_EQ(host_.attempts.count("wf-2"), 0u);
  auto d = Describe("job-s");
  EXPECT_EQ(d.state(), ev1::BATCH_OPERATION_STATE_FAILED);
  EXPECT_EQ(d.failure_operation_count(), 1);  // the chunk in flight is still counted
}

TEST_F(BatchOperationsTest, StartChecksTheRequestAndTheNamespace) {
  auto no_reason = TerminateJob("j", {"wf"}, 1);
  no_reason.clear_reason();
  EXPECT_EQ(Start(no_reason).code(), Code::kInvalidArgument);
  auto other_ns = TerminateJob("j", {"wf"}, 1);
  other_ns.set_namespace_("nope");
  EXPECT_EQ(Start(other_ns).code(), Code::kNotFound);
  ASSERT_TRUE(Start(TerminateJob("one", {"wf"}, 1)).ok());
  // Temporal's frontend.MaxConcurrentBatchOperationPerNamespace: one running job per namespace.
  EXPECT_EQ(Start(TerminateJob("two", {"wf"}, 1)).code(), Code::kResourceExhausted);
  EXPECT_EQ(host_.commits, 1);
}

}  // namespace
}  // namespace temporalite::history
