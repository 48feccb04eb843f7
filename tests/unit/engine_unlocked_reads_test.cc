// Store reads of runs that are not in memory are made without the engine mutex (run_reads.cc):
// while one RPC waits on a slow read (GatedStore::BlockReadsOf), another RPC that needs the
// engine mutex still finishes. Each test also checks that the blocked RPC's answer is the one it
// gave when the read was made under the mutex. Were a read made under the mutex, the other RPC
// would wait until the read is unblocked and the test fails (after a bounded wait).
#include <future>

#include "engine_test_util.h"
#include "gated_store.h"

namespace temporalite::history::testing {
namespace {

namespace osv1 = ::temporal::api::operatorservice::v1;

class UnlockedReadsTest : public EngineTest {
 protected:
  void SetUp() override {
    auto inner = persistence::OpenSqliteStore({.path = ":memory:"});
    ASSERT_TRUE(inner.ok()) << inner.status().ToString();
    auto gate = std::make_unique<GatedStore>(std::move(inner).value());
    gate_ = gate.get();
    store_ = std::move(gate);
    timers_ = std::make_unique<TimerService>(clock_);
    engine_ = std::make_unique<Engine>(*store_, clock_, *timers_, options_);
    Status s = engine_->Recover();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Runs `blocked` on its own thread with the store's reads of `id` held back; once one of them
  // waits, `other` must finish (on another thread, waited for a bounded time). Then the reads go
  // on and `blocked` finishes.
  void ExpectOtherRpcProceedsWhileReadBlocks(const std::string& id, const std::function<void()>& blocked,
                                             const std::function<Status()>& other) {
    gate_->BlockReadsOf(id);
    auto blocked_done = std::async(std::launch::async, blocked);
    const bool read_waits = gate_->WaitForBlockedRead(kCallbackWait);
    EXPECT_TRUE(read_waits) << "no store read of " << id << " happened";
    std::future<Status> other_done;
    bool proceeded = false;
    if (read_waits) {
      other_done = std::async(std::launch::async, other);
      proceeded = other_done.wait_for(kCallbackWait) == std::future_status::ready;
    }
    gate_->UnblockReads();
    blocked_done.get();
    EXPECT_TRUE(proceeded) << "another RPC waited for the engine mutex while a store read of " << id << " blocked";
    if (other_done.valid()) {
      Status s = other_done.get();
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }
  // An RPC that needs the engine mutex: starting a workflow nobody else uses (on a task queue of
  // its own, so the tests' polls do not see its task).
  std::function<Status()> StartAnother() {
    return [this] {
      auto req = StartRequest("bystander-" + std::to_string(++bystanders_));
      req.mutable_task_queue()->set_name("bystanders");
      wsv1::StartWorkflowExecutionResponse resp;
      return Start(req, &resp);
    };
  }
  // A run closed, durable and out of memory.
  std::string ClosedRun(const std::string& wid) {
    auto task = StartAndComplete(wid, {CompleteWorkflow("done")});
    Barrier();
    return task.workflow_execution().run_id();
  }

  GatedStore* gate_ = nullptr;
  int bystanders_ = 0;
};

TEST_F(UnlockedReadsTest, StartOfAnIdNotInMemory) {
  const std::string first = ClosedRun("wf-start");
  Status rejected;
  ExpectOtherRpcProceedsWhileReadBlocks(
      "wf-start",
      [&] {
        auto req = StartRequest("wf-start");
        req.set_request_id("second");
        req.set_workflow_id_reuse_policy(ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
        wsv1::StartWorkflowExecutionResponse resp;
        rejected = Start(req, &resp);
      },
      StartAnother());
  EXPECT_EQ(rejected.code(), Code::kAlreadyExists) << rejected.ToString();
  EXPECT_NE(rejected.message().find(first), std::string::npos) << rejected.message();
}

// The read made before the mutex goes stale (the id's next run closes durably meanwhile): the
// start reads again, without the mutex too, and is judged on the new read.
TEST_F(UnlockedReadsTest, StartWhoseFirstReadWentStaleReadsAgainWithoutTheMutex) {
  ClosedRun("wf-stale");
  std::string r1;
  gate_->AfterNextCurrentRunRead([&] {
    auto req = StartRequest("wf-stale");
    req.set_request_id("next");
    wsv1::StartWorkflowExecutionResponse resp;
    ASSERT_TRUE(Start(req, &resp).ok());
    r1 = resp.run_id();
    ASSERT_TRUE(Terminate("wf-stale", "stale").ok());
    Barrier();                        // durable: R1 has left memory, the first read is stale
    gate_->BlockReadsOf("wf-stale");  // the second read waits
  });
  auto req = StartRequest("wf-stale");
  req.set_request_id("third");
  req.set_workflow_id_reuse_policy(ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY);
  auto start = std::async(std::launch::async, [&] {
    wsv1::StartWorkflowExecutionResponse resp;
    return Start(req, &resp);
  });
  ASSERT_TRUE(gate_->WaitForBlockedRead(kCallbackWait)) << "the start did not read again";
  auto other = std::async(std::launch::async, StartAnother());
  const bool proceeded = other.wait_for(kCallbackWait) == std::future_status::ready;
  gate_->UnblockReads();
  Status s = start.get();
  EXPECT_TRUE(proceeded) << "another RPC waited while the start's second read blocked";
  EXPECT_TRUE(other.get().ok());
  // Judged on R1 (terminated: a failed-like close, so FAILED_ONLY admits the start), not on the
  // first run (completed: it would have been refused).
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(r1.empty());
}

TEST_F(UnlockedReadsTest, DescribeOfAClosedRun) {
  const std::string run = ClosedRun("wf-describe");
  wsv1::DescribeWorkflowExecutionResponse resp;
  ExpectOtherRpcProceedsWhileReadBlocks("wf-describe", [&] { resp = DescribeWf("wf-describe"); }, StartAnother());
  EXPECT_EQ(resp.workflow_execution_info().execution().run_id(), run);
  EXPECT_EQ(resp.workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

TEST_F(UnlockedReadsTest, TerminateOfAClosedRunById) {
  const std::string run = ClosedRun("wf-terminate");
  Status s;
  ExpectOtherRpcProceedsWhileReadBlocks(
      run,
      [&] {
        wsv1::TerminateWorkflowExecutionRequest req;
        req.set_namespace_(kNamespace);
        req.mutable_workflow_execution()->set_workflow_id("wf-terminate");
        req.mutable_workflow_execution()->set_run_id(run);
        s = Call([&](Done d) { engine_->TerminateWorkflowExecution(req, std::move(d)); });
      },
      StartAnother());
  EXPECT_EQ(s.code(), Code::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("already completed"), std::string::npos) << s.message();
}

// Reset reads the closed base run's whole history.
TEST_F(UnlockedReadsTest, ResetOfAClosedRunReadsItsHistoryWithoutTheMutex) {
  const std::string base = ClosedRun("wf-reset");
  Status s;
  wsv1::ResetWorkflowExecutionResponse resp;
  ExpectOtherRpcProceedsWhileReadBlocks(
      base,
      [&] {
        wsv1::ResetWorkflowExecutionRequest req;
        req.set_namespace_(kNamespace);
        req.mutable_workflow_execution()->set_workflow_id("wf-reset");
        req.mutable_workflow_execution()->set_run_id(base);
        req.set_reason("unit reset");
        req.set_workflow_task_finish_event_id(4);
        req.set_request_id("reset-1");
        s = Call<wsv1::ResetWorkflowExecutionResponse>(
            [&](auto* r, Done d) { engine_->ResetWorkflowExecution(req, r, std::move(d)); }, &resp);
      },
      StartAnother());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_NE(resp.run_id(), base);
  auto d = DescribeWf("wf-reset");
  EXPECT_EQ(d.workflow_execution_info().execution().run_id(), resp.run_id());
  EXPECT_EQ(d.workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
}

// A query of a closed run carries the run's whole history to the worker.
TEST_F(UnlockedReadsTest, QueryOfAClosedRunReadsItsHistoryWithoutTheMutex) {
  const std::string run = ClosedRun("wf-query");
  auto query = MakePoll<wsv1::QueryWorkflowResponse>();
  ExpectOtherRpcProceedsWhileReadBlocks(
      run,
      [&] {
        wsv1::QueryWorkflowRequest req;
        req.set_namespace_(kNamespace);
        req.mutable_execution()->set_workflow_id("wf-query");
        req.mutable_execution()->set_run_id(run);
        req.mutable_query()->set_query_type("state");
        engine_->QueryWorkflow(req, query.waiter);
      },
      StartAnother());
  // The legacy query task has the closed run's history (5 events).
  auto task = PollWft();
  ASSERT_TRUE(task.has_query()) << task.DebugString();
  EXPECT_EQ(task.workflow_execution().run_id(), run);
  EXPECT_EQ(task.history().events_size(), 5);
  wsv1::RespondQueryTaskCompletedRequest answer;
  answer.set_namespace_(kNamespace);
  answer.set_task_token(task.task_token());
  answer.set_completed_type(::temporal::api::enums::v1::QUERY_RESULT_TYPE_ANSWERED);
  *answer.mutable_query_result() = TextPayloads("answer");
  ASSERT_TRUE(Call([&](Done d) { engine_->RespondQueryTaskCompleted(answer, std::move(d)); }).ok());
  auto resp = Await(query);
  EXPECT_EQ(resp.query_result().payloads(0).data(), "\"answer\"");
}

// An idle open run evicted from memory is read back (state and history) without the mutex.
TEST_F(UnlockedReadsTest, SignalToAnEvictedRun) {
  auto task = StartAndComplete("wf-evicted", {StartTimer("t1", Sec(3600))});
  Barrier();
  ASSERT_EQ(engine_->CountRuns().evicted, 1u);
  ExpectOtherRpcProceedsWhileReadBlocks(
      task.workflow_execution().run_id(), [&] { EXPECT_TRUE(Signal("wf-evicted", "go").ok()); }, StartAnother());
  auto hist = History("wf-evicted");
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(hist.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) << Describe(hist);
  EXPECT_EQ(hist[hist.size() - 2].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) << Describe(hist);
}

// A user timer firing on an evicted run reads it back without the mutex too.
TEST_F(UnlockedReadsTest, TimerOfAnEvictedRun) {
  auto task = StartAndComplete("wf-timer", {StartTimer("t1", Sec(5))});
  Barrier();
  ASSERT_EQ(engine_->CountRuns().evicted, 1u);
  ExpectOtherRpcProceedsWhileReadBlocks(task.workflow_execution().run_id(), [&] { Advance(Sec(5)); }, StartAnother());
  auto hist = History("wf-timer");
  EXPECT_TRUE(WellFormed(hist));
  EXPECT_EQ(hist[hist.size() - 2].event_type(), ev1::EVENT_TYPE_TIMER_FIRED) << Describe(hist);
}

cmdv1::Command StartChildCommand(const std::string& wid) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION);
  auto* a = c.mutable_start_child_workflow_execution_command_attributes();
  a->set_workflow_id(wid);
  a->mutable_workflow_type()->set_name("ChildWorkflow");
  a->mutable_task_queue()->set_name(kTaskQueue);
  a->set_workflow_id_reuse_policy(ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
  return c;
}
cmdv1::Command CancelExternalCommand(const std::string& wid) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION);
  c.mutable_request_cancel_external_workflow_execution_command_attributes()->set_workflow_id(wid);
  return c;
}
cmdv1::Command SignalExternalCommand(const std::string& wid) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION);
  auto* a = c.mutable_signal_external_workflow_execution_command_attributes();
  a->mutable_execution()->set_workflow_id(wid);
  a->set_signal_name("ping");
  return c;
}
bool Has(const std::vector<hv1::HistoryEvent>& events, ev1::EventType type) {
  for (const auto& e : events) {
    if (e.event_type() == type) return true;
  }
  return false;
}

// A child's id-conflict check: the child's workflow id has only a closed run (REJECT_DUPLICATE).
TEST_F(UnlockedReadsTest, ChildStartOfAnIdWithAClosedRun) {
  ClosedRun("wf-child");
  ExpectOtherRpcProceedsWhileReadBlocks(
      "wf-child", [&] { StartAndComplete("wf-parent", {StartChildCommand("wf-child")}); }, StartAnother());
  auto h = History("wf-parent");
  EXPECT_TRUE(Has(h, ev1::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED)) << Describe(h);
  EXPECT_FALSE(Has(h, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)) << Describe(h);
}

// Cancelling a closed run from a workflow succeeds without touching it (Temporal).
TEST_F(UnlockedReadsTest, CancelExternalOfAClosedRun) {
  ClosedRun("wf-cancel-target");
  ExpectOtherRpcProceedsWhileReadBlocks(
      "wf-cancel-target", [&] { StartAndComplete("wf-canceller", {CancelExternalCommand("wf-cancel-target")}); },
      StartAnother());
  auto h = History("wf-canceller");
  EXPECT_TRUE(Has(h, ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED)) << Describe(h);
  EXPECT_EQ(DescribeWf("wf-cancel-target").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

// A signal from a workflow to an evicted run.
TEST_F(UnlockedReadsTest, SignalExternalToAnEvictedRun) {
  auto target = StartAndComplete("wf-signal-target", {StartTimer("t1", Sec(3600))});
  Barrier();
  ASSERT_EQ(engine_->CountRuns().evicted, 1u);
  ExpectOtherRpcProceedsWhileReadBlocks(
      target.workflow_execution().run_id(),
      [&] { StartAndComplete("wf-signaller", {SignalExternalCommand("wf-signal-target")}); }, StartAnother());
  EXPECT_TRUE(Has(History("wf-signaller"), ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED));
  EXPECT_TRUE(Has(History("wf-signal-target"), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED));
}

// Namespace deletion lists the namespace's closed runs without the mutex.
TEST_F(UnlockedReadsTest, NamespaceReclaimListsClosedRunsWithoutTheMutex) {
  wsv1::RegisterNamespaceRequest reg;
  reg.set_namespace_("doomed");
  ASSERT_TRUE(Call([&](Done d) { engine_->RegisterNamespace(reg, std::move(d)); }).ok());
  auto ns_id = engine_->NamespaceIdOf("doomed");
  ASSERT_TRUE(ns_id.ok());
  osv1::DeleteNamespaceRequest del;
  del.set_namespace_("doomed");
  ASSERT_TRUE(Call<osv1::DeleteNamespaceResponse>(
                  [&](auto* r, Done d) { engine_->DeleteNamespace(del, r, std::move(d)); }, nullptr)
                  .ok());
  ExpectOtherRpcProceedsWhileReadBlocks(ns_id.value(), [&] { Advance(Ms(1)); }, StartAnother());
  for (int i = 0; i < 20 && engine_->NamespaceIdOf("doomed-deleted-" + ns_id.value().substr(0, 5)).ok(); ++i) {
    Advance(Ms(100));
  }
  EXPECT_FALSE(engine_->NamespaceIdOf("doomed-deleted-" + ns_id.value().substr(0, 5)).ok());
}

}  // namespace
}  // namespace temporalite::history::testing
