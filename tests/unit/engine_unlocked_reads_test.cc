// Store reads of runs that are not in memory are made without the engine mutex (run_reads.cc):
// while one RPC waits on a slow read (GatedStore::BlockReadsOf), another RPC that needs the
// engine mutex still finishes. Each test also checks that the blocked RPC's answer is the one it
// gave when the read was made under the mutex. Were a read made under the mutex, the other RPC
// would wait until the read is unblocked and the test fails (after a bounded wait).
#include <future>

#include <google/protobuf/any.pb.h>

#include "engine_test_util.h"
#include "temporal/api/protocol/v1/message.pb.h"
#include "temporal/api/update/v1/message.pb.h"

namespace temporalite::history::testing {
namespace {

namespace osv1 = ::temporal::api::operatorservice::v1;

class UnlockedReadsTest : public GatedEngineTest {
 protected:
  // Runs `blocked` on its own thread with the store's reads of `id` held back; once one of them
  // waits, `other` must finish (on another thread, waited for a bounded time). Then the reads go
  // on and `blocked` finishes.
  // With `events_only`, only the history reads of run `id` are held (GatedStore::BlockEventReadsOf).
  void ExpectOtherRpcProceedsWhileReadBlocks(const std::string& id, const std::function<void()>& blocked,
                                             const std::function<Status()>& other, bool events_only = false) {
    if (events_only) {
      gate_->BlockEventReadsOf(id);
    } else {
      gate_->BlockReadsOf(id);
    }
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

// Two commands of one completion name the same closed run (by workflow id): both lookups inside
// the transition are answered from the completion's prefetched read (LoadAnyExecutionLocked never
// reads the store under the mutex). The old lookup took the prefetched read out and read the
// second one from the store under the mutex: there it waits on the blocked read, and another RPC
// waits for the mutex.
TEST_F(UnlockedReadsTest, TwoCommandsNamingOneClosedRunNeedOneReadMadeWithoutTheMutex) {
  ClosedRun("wf-twice");
  StartWorkflow("wf-twice-canceller");
  auto task = PollWft();
  ASSERT_EQ(task.started_event_id(), 3);
  // The first two reads of the current run go through (the old prefetch read once per command);
  // every later read of the id waits.
  gate_->AfterNextCurrentRunRead([&] {
    gate_->AfterNextCurrentRunRead([&] { gate_->BlockReadsOf("wf-twice"); });
  });
  auto completed = std::async(std::launch::async, [&] {
    return CompleteWft(task.task_token(), {CancelExternalCommand("wf-twice"), CancelExternalCommand("wf-twice")});
  });
  const bool finished = completed.wait_for(kCallbackWait) == std::future_status::ready;
  const int blocked = gate_->blocked_reads();
  bool other_proceeded = true;
  std::future<Status> other;
  if (blocked > 0) {
    other = std::async(std::launch::async, StartAnother());
    other_proceeded = other.wait_for(kCallbackWait) == std::future_status::ready;
  }
  gate_->UnblockReads();
  Status s = completed.get();
  gate_->AfterNextCurrentRunRead(nullptr);  // the reads below go through
  EXPECT_TRUE(finished) << "the completion waited on a read of the target under the engine mutex";
  EXPECT_EQ(blocked, 0) << "the target was read a third time";
  EXPECT_TRUE(other_proceeded) << "another RPC waited for the engine mutex while a store read blocked";
  if (other.valid()) other.get();
  EXPECT_TRUE(s.ok()) << s.ToString();
  int cancel_requested = 0;
  for (const auto& e : History("wf-twice-canceller")) {
    if (e.event_type() == ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED) ++cancel_requested;
  }
  EXPECT_EQ(cancel_requested, 2);  // cancelling a closed run succeeds without touching it
  EXPECT_EQ(DescribeWf("wf-twice").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
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

// The total of a batch over a visibility query is a count of the store's visibility rows, made
// between two checks under the mutex (a second batch started meanwhile is refused by the second).
class UnlockedFileReadsTest : public UnlockedReadsTest {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tl_unlocked_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    OpenGated(dir_ + "/temporalite.db");  // visibility reads need a file (their own connections)
  }
  void TearDown() override {
    CloseEngine();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(UnlockedFileReadsTest, BatchStartCountsItsTargetsWithoutTheMutex) {
  StartWorkflow("wf-batch-1");
  StartWorkflow("wf-batch-2");
  Barrier();
  auto ns_id = engine_->NamespaceIdOf(kNamespace);
  ASSERT_TRUE(ns_id.ok());
  wsv1::StartBatchOperationRequest req;
  req.set_namespace_(kNamespace);
  req.set_job_id("job-count");
  req.set_reason("unit");
  req.set_visibility_query("WorkflowId = 'wf-batch-1' OR WorkflowId = 'wf-batch-2'");
  req.mutable_termination_operation()->set_identity("operator");
  Status started;
  ExpectOtherRpcProceedsWhileReadBlocks(
      ns_id.value(),
      [&] {
        started = Call<wsv1::StartBatchOperationResponse>(
            [&](auto* r, Done d) { engine_->StartBatchOperation(req, r, std::move(d)); }, nullptr);
      },
      StartAnother());
  ASSERT_TRUE(started.ok()) << started.ToString();
  wsv1::DescribeBatchOperationRequest dreq;
  dreq.set_namespace_(kNamespace);
  dreq.set_job_id("job-count");
  wsv1::DescribeBatchOperationResponse d;
  ASSERT_TRUE(Call<wsv1::DescribeBatchOperationResponse>(
                  [&](auto* r, Done done) { engine_->DescribeBatchOperation(dreq, r, std::move(done)); }, &d)
                  .ok());
  EXPECT_EQ(d.total_operation_count(), 2);
}

// A second batch started while the first one's count is being read: the check after the read
// sees the first job (one running job per namespace) and refuses the second.
TEST_F(UnlockedFileReadsTest, BatchStartedDuringAnotherStartsCountIsRefused) {
  StartWorkflow("wf-batch-3");
  Barrier();
  auto ns_id = engine_->NamespaceIdOf(kNamespace);
  ASSERT_TRUE(ns_id.ok());
  auto job = [](const std::string& id) {
    wsv1::StartBatchOperationRequest req;
    req.set_namespace_(kNamespace);
    req.set_job_id(id);
    req.set_reason("unit");
    req.set_visibility_query("WorkflowId = 'wf-batch-3'");
    req.mutable_termination_operation()->set_identity("operator");
    return req;
  };
  const auto first = job("job-first"), second = job("job-second");
  Status first_status;
  ExpectOtherRpcProceedsWhileReadBlocks(
      ns_id.value(),
      [&] {
        first_status = Call<wsv1::StartBatchOperationResponse>(
            [&](auto* r, Done d) { engine_->StartBatchOperation(first, r, std::move(d)); }, nullptr);
      },
      [&] {
        // Not blocked: the gate blocks a namespace id's reads once (the first start's).
        wsv1::StartBatchOperationRequest by_executions = second;
        by_executions.clear_visibility_query();
        by_executions.add_executions()->set_workflow_id("wf-batch-3");
        return Call<wsv1::StartBatchOperationResponse>(
            [&](auto* r, Done d) { engine_->StartBatchOperation(by_executions, r, std::move(d)); }, nullptr);
      });
  EXPECT_EQ(first_status.code(), Code::kResourceExhausted) << first_status.ToString();
}

// A parent waiting only on its child leaves memory like any idle run. The child's close does not
// read it: the close writes a deferred step (deferred_steps.cc), which reads the parent back with
// the engine mutex released and then records the close in it.
TEST_F(UnlockedReadsTest, ChildCloseTellsItsEvictedParentWithoutTheMutex) {
  const std::string parent_run = StartWorkflow("wf-parent");
  auto task = PollWft();
  cmdv1::Command child;
  child.set_command_type(ev1::COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION);
  auto* a = child.mutable_start_child_workflow_execution_command_attributes();
  a->set_workflow_id("wf-child");
  a->mutable_workflow_type()->set_name("Child");
  a->mutable_task_queue()->set_name("children");
  ASSERT_TRUE(CompleteWft(task.task_token(), {child}).ok());
  ASSERT_TRUE(CompleteWft(PollWft().task_token(), {}).ok());  // the ChildStarted task: now idle
  Barrier();
  auto counts = engine_->CountRuns();
  EXPECT_EQ(counts.evicted, 1u) << "the idle parent of an open child stayed in memory";

  // The child completes with the parent's reads blocked: its close reads nothing.
  gate_->BlockReadsOf(parent_run);
  wsv1::PollWorkflowTaskQueueRequest preq;
  preq.set_namespace_(kNamespace);
  preq.mutable_task_queue()->set_name("children");
  preq.set_identity(kWorker);
  auto poll = MakePoll<wsv1::PollWorkflowTaskQueueResponse>();
  engine_->PollWorkflowTaskQueue(preq, poll.waiter, Sec(60));
  auto child_task = Await(poll);
  auto completed = std::async(std::launch::async, [&] { return CompleteWft(child_task.task_token(), {CompleteWorkflow("ok")}); });
  const bool finished = completed.wait_for(kCallbackWait) == std::future_status::ready;
  gate_->UnblockReads();
  EXPECT_TRUE(finished) << "the child's close waited on a store read of its parent";
  EXPECT_TRUE(completed.get().ok());
  EXPECT_EQ(gate_->blocked_reads(), 0);

  // The step reads the parent without the mutex: another RPC finishes meanwhile.
  ExpectOtherRpcProceedsWhileReadBlocks(parent_run, [&] { Advance(Sec(0)); }, StartAnother());
  EXPECT_EQ(engine_->CountRuns().evicted_lookups, 0u);
  auto hist = History("wf-parent");
  ASSERT_GE(hist.size(), 2u);
  EXPECT_EQ(hist[hist.size() - 2].event_type(), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED) << Describe(hist);
  EXPECT_EQ(hist.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
}

// An activity's timeout timer that fires after the activity is done and its run idle (evicted):
// the timer is stale, and an evicted run has no activity, so nothing is read from the store.
TEST_F(UnlockedReadsTest, StaleActivityTimerOfAnEvictedRunReadsNothing) {
  auto task = StartAndComplete("wf-stale-timer", {ScheduleActivity("a1", Sec(30))});
  auto act = PollActivity();
  ASSERT_TRUE(CompleteActivity(act.task_token(), "done").ok());
  ASSERT_TRUE(CompleteWft(PollWft().task_token(), {StartTimer("t1", Sec(3600))}).ok());
  Barrier();
  ASSERT_EQ(engine_->CountRuns().evicted, 1u);
  gate_->BlockReadsOf(task.workflow_execution().run_id());
  Advance(Sec(31));  // the activity's start-to-close timer fires: stale
  gate_->UnblockReads();
  EXPECT_EQ(gate_->blocked_reads(), 0);
  auto c = engine_->CountRuns();
  EXPECT_EQ(c.evicted_lookups, 0u);
  EXPECT_EQ(c.evicted, 1u) << "a stale timer brought the run back";
}

// A stale activity token of an evicted run is answered without reading the run.
TEST_F(UnlockedReadsTest, StaleActivityTokenOfAnEvictedRunReadsNothing) {
  StartAndComplete("wf-stale-token", {ScheduleActivity("a1", Sec(30))});
  auto act = PollActivity();
  ASSERT_TRUE(CompleteActivity(act.task_token(), "done").ok());
  ASSERT_TRUE(CompleteWft(PollWft().task_token(), {StartTimer("t1", Sec(3600))}).ok());
  Barrier();
  ASSERT_EQ(engine_->CountRuns().evicted, 1u);
  Status again = CompleteActivity(act.task_token(), "twice");
  EXPECT_EQ(again.code(), Code::kNotFound) << again.ToString();
  EXPECT_NE(again.message().find("invalid activityID"), std::string::npos) << again.message();
  EXPECT_EQ(engine_->CountRuns().evicted_lookups, 0u);
}

// A start whose id-conflict read goes stale again and again (a run of the id closes durably
// during each read) keeps reading without the mutex: it never falls back to a read under it.
TEST_F(UnlockedReadsTest, StartWhoseReadsGoStaleFiveTimesNeverReadsUnderTheMutex) {
  ClosedRun("wf-racy");
  int closes = 0;
  std::function<void()> close_one = [&] {
    auto req = StartRequest("wf-racy");
    req.set_request_id("racer-" + std::to_string(closes));
    wsv1::StartWorkflowExecutionResponse resp;
    ASSERT_TRUE(Start(req, &resp).ok());
    ASSERT_TRUE(Terminate("wf-racy", "race").ok());
    Barrier();  // durable: the read just made is stale
    if (++closes < 5) {
      gate_->AfterNextCurrentRunRead(close_one);
    } else {
      gate_->BlockReadsOf("wf-racy");  // the sixth read waits
    }
  };
  gate_->AfterNextCurrentRunRead(close_one);
  auto req = StartRequest("wf-racy");
  req.set_request_id("patient");
  auto start = std::async(std::launch::async, [&] {
    wsv1::StartWorkflowExecutionResponse resp;
    return Start(req, &resp);
  });
  ASSERT_TRUE(gate_->WaitForBlockedRead(kCallbackWait)) << "the start did not read a sixth time";
  auto other = std::async(std::launch::async, StartAnother());
  const bool proceeded = other.wait_for(kCallbackWait) == std::future_status::ready;
  gate_->UnblockReads();
  Status s = start.get();
  EXPECT_EQ(closes, 5);
  EXPECT_TRUE(proceeded) << "another RPC waited while the start's sixth read blocked";
  EXPECT_TRUE(other.get().ok());
  EXPECT_TRUE(s.ok()) << s.ToString();  // the default reuse policy admits a start after a termination
}

// A start with the id of an evicted open run brings the run back without the mutex before its
// id-conflict check looks at it.
TEST_F(UnlockedReadsTest, StartOfAnEvictedRunsIdReadsItWithoutTheMutex) {
  auto task = StartAndComplete("wf-idle-start", {StartTimer("t1", Sec(3600))});
  Barrier();
  ASSERT_EQ(engine_->CountRuns().evicted, 1u);
  Status s;
  wsv1::StartWorkflowExecutionResponse resp;
  ExpectOtherRpcProceedsWhileReadBlocks(
      task.workflow_execution().run_id(),
      [&] {
        auto req = StartRequest("wf-idle-start");
        req.set_request_id("second");
        req.set_workflow_id_conflict_policy(ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING);
        s = Start(req, &resp);
      },
      StartAnother());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(resp.run_id(), task.workflow_execution().run_id());
  EXPECT_FALSE(resp.started());
  EXPECT_EQ(engine_->CountRuns().evicted_lookups, 0u);
}

// The paths below (update.cc, start.cc, external.cc) read an evicted run back without the mutex
// before their transition; no lookup inside one finds a run still evicted (RunCache::find has no
// loader: before, such a lookup was a store read under the mutex).
wsv1::UpdateWorkflowExecutionRequest UpdateRequest(const std::string& wid, const std::string& update_id) {
  wsv1::UpdateWorkflowExecutionRequest req;
  req.set_namespace_(kNamespace);
  req.mutable_workflow_execution()->set_workflow_id(wid);
  // ACCEPTED (ADMITTED is refused, as by Temporal): the tests end the wait with the long poll.
  req.mutable_wait_policy()->set_lifecycle_stage(ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED);
  req.mutable_request()->mutable_meta()->set_update_id(update_id);
  req.mutable_request()->mutable_input()->set_name("increment");
  return req;
}

TEST_F(UnlockedReadsTest, UpdateOfAnEvictedRunReadsItWithoutTheMutex) {
  auto task = StartAndComplete("wf-idle-update", {StartTimer("t1", Sec(3600))});
  Barrier();
  ASSERT_EQ(engine_->CountRuns().evicted, 1u);
  auto poll = MakePoll<wsv1::UpdateWorkflowExecutionResponse>();
  ExpectOtherRpcProceedsWhileReadBlocks(
      task.workflow_execution().run_id(),
      [&] { engine_->UpdateWorkflowExecution(UpdateRequest("wf-idle-update", "u1"), poll.waiter); }, StartAnother());
  Advance(options_.history_long_poll);  // the wait ends with the stage reached
  ASSERT_EQ(poll.done.wait_for(kCallbackWait), std::future_status::ready);
  EXPECT_TRUE(poll.done.get().ok());
  EXPECT_EQ(poll.resp->stage(), ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED);
  auto next = PollWft();  // the admitted update's workflow task carries its request
  ASSERT_EQ(next.messages_size(), 1);
  EXPECT_EQ(next.messages(0).protocol_instance_id(), "u1");
  EXPECT_EQ(engine_->CountRuns().evicted_lookups, 0u);
}

TEST_F(UnlockedReadsTest, UpdateWithStartOfAnEvictedRunsIdReadsItWithoutTheMutex) {
  auto task = StartAndComplete("wf-idle-uws", {StartTimer("t1", Sec(3600))});
  Barrier();
  ASSERT_EQ(engine_->CountRuns().evicted, 1u);
  wsv1::ExecuteMultiOperationRequest req;
  req.set_namespace_(kNamespace);
  auto* start = req.add_operations()->mutable_start_workflow();
  *start = StartRequest("wf-idle-uws");
  start->set_request_id("uws-start");
  start->set_workflow_id_conflict_policy(ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING);
  *req.add_operations()->mutable_update_workflow() = UpdateRequest("wf-idle-uws", "u1");
  auto poll = MakePoll<wsv1::ExecuteMultiOperationResponse>();
  ExpectOtherRpcProceedsWhileReadBlocks(
      task.workflow_execution().run_id(),
      [&] { engine_->ExecuteMultiOperation(req, poll.waiter); }, StartAnother());
  Advance(options_.history_long_poll);  // the wait ends with the stage reached
  ASSERT_EQ(poll.done.wait_for(kCallbackWait), std::future_status::ready);
  Status s = poll.done.get();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(poll.resp->responses_size(), 2);
  EXPECT_FALSE(poll.resp->responses(0).start_workflow().started());
  EXPECT_EQ(poll.resp->responses(0).start_workflow().run_id(), task.workflow_execution().run_id());
  EXPECT_EQ(poll.resp->responses(1).update_workflow().stage(), ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED);
  EXPECT_EQ(engine_->CountRuns().evicted_lookups, 0u);
}

TEST_F(UnlockedReadsTest, SignalWithStartToAnEvictedRunReadsItWithoutTheMutex) {
  auto task = StartAndComplete("wf-idle-sws", {StartTimer("t1", Sec(3600))});
  Barrier();
  ASSERT_EQ(engine_->CountRuns().evicted, 1u);
  wsv1::SignalWithStartWorkflowExecutionRequest req;
  req.set_namespace_(kNamespace);
  req.set_workflow_id("wf-idle-sws");
  req.mutable_workflow_type()->set_name("TestWorkflow");
  req.mutable_task_queue()->set_name(kTaskQueue);
  req.set_signal_name("go");
  req.set_request_id("sws-1");
  Status s;
  wsv1::SignalWithStartWorkflowExecutionResponse resp;
  ExpectOtherRpcProceedsWhileReadBlocks(
      task.workflow_execution().run_id(),
      [&] {
        s = Call<wsv1::SignalWithStartWorkflowExecutionResponse>(
            [&](auto* r, Done d) { engine_->SignalWithStartWorkflowExecution(req, r, std::move(d)); }, &resp);
      },
      StartAnother());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(resp.run_id(), task.workflow_execution().run_id());
  auto hist = History("wf-idle-sws");
  EXPECT_EQ(hist[hist.size() - 2].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) << Describe(hist);
  EXPECT_EQ(engine_->CountRuns().evicted_lookups, 0u);
}

TEST_F(UnlockedReadsTest, CancelExternalOfAnEvictedRunReadsItWithoutTheMutex) {
  auto target = StartAndComplete("wf-idle-cancel-target", {StartTimer("t1", Sec(3600))});
  Barrier();
  ASSERT_EQ(engine_->CountRuns().evicted, 1u);
  ExpectOtherRpcProceedsWhileReadBlocks(
      target.workflow_execution().run_id(),
      [&] { StartAndComplete("wf-idle-canceller", {CancelExternalCommand("wf-idle-cancel-target")}); },
      StartAnother());
  EXPECT_TRUE(Has(History("wf-idle-canceller"), ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED));
  EXPECT_TRUE(Has(History("wf-idle-cancel-target"), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED));
  EXPECT_EQ(engine_->CountRuns().evicted_lookups, 0u);
}

// A closed run out of memory is read by FetchRun(with_events=true), state row and history with
// the engine mutex released; the query and update RPCs answer from that read and never read the
// history again under the mutex. Only the history read is held here: had the RPC read the state
// row without the mutex and the history under it (the old LoadEventsIfMissingLocked path), the
// bystander would wait for the mutex until the read is released.
TEST_F(UnlockedReadsTest, QueryOfAClosedRunReadsItsHistoryOnlyWithoutTheMutex) {
  const std::string run = ClosedRun("wf-query-events");
  auto query = MakePoll<wsv1::QueryWorkflowResponse>();
  ExpectOtherRpcProceedsWhileReadBlocks(
      run,
      [&] {
        wsv1::QueryWorkflowRequest req;
        req.set_namespace_(kNamespace);
        req.mutable_execution()->set_workflow_id("wf-query-events");
        req.mutable_execution()->set_run_id(run);
        req.mutable_query()->set_query_type("state");
        engine_->QueryWorkflow(req, query.waiter);
      },
      StartAnother(), /*events_only=*/true);
  EXPECT_EQ(gate_->blocked_reads(), 1);  // one history read, made without the mutex
  auto task = PollWft();
  ASSERT_TRUE(task.has_query()) << task.DebugString();
  EXPECT_EQ(task.history().events_size(), 5);
  wsv1::RespondQueryTaskCompletedRequest answer;
  answer.set_namespace_(kNamespace);
  answer.set_task_token(task.task_token());
  answer.set_completed_type(::temporal::api::enums::v1::QUERY_RESULT_TYPE_ANSWERED);
  *answer.mutable_query_result() = TextPayloads("answer");
  ASSERT_TRUE(Call([&](Done d) { engine_->RespondQueryTaskCompleted(answer, std::move(d)); }).ok());
  EXPECT_EQ(Await(query).query_result().payloads(0).data(), "\"answer\"");
}

// The update RPCs on a closed run find a completed update's outcome in its history (as read
// without the mutex): UpdateWorkflowExecution with the same id answers it, and so does
// PollWorkflowExecutionUpdate.
TEST_F(UnlockedReadsTest, UpdatesOfAClosedRunAnswerFromHistoryReadWithoutTheMutex) {
  namespace pv1 = ::temporal::api::protocol::v1;
  namespace uv1 = ::temporal::api::update::v1;
  auto first = StartAndComplete("wf-update-closed", {});
  const std::string run = first.workflow_execution().run_id();
  auto admitted = MakePoll<wsv1::UpdateWorkflowExecutionResponse>();
  engine_->UpdateWorkflowExecution(UpdateRequest("wf-update-closed", "u1"), admitted.waiter);
  auto task = PollWft();
  ASSERT_EQ(task.messages_size(), 1);
  const pv1::Message& request = task.messages(0);
  uv1::Acceptance acc;
  acc.set_accepted_request_message_id(request.id());
  acc.set_accepted_request_sequencing_event_id(request.event_id());
  request.body().UnpackTo(acc.mutable_accepted_request());
  uv1::Response res;
  res.mutable_meta()->set_update_id("u1");
  *res.mutable_outcome()->mutable_success() = TextPayloads("ok");
  ASSERT_TRUE(CompleteWft(task.task_token(), {}, [&](wsv1::RespondWorkflowTaskCompletedRequest& req) {
                auto* m = req.add_messages();
                m->set_id("u1/accept"), m->set_protocol_instance_id("u1"), m->mutable_body()->PackFrom(acc);
                m = req.add_messages();
                m->set_id("u1/complete"), m->set_protocol_instance_id("u1"), m->mutable_body()->PackFrom(res);
              }).ok());
  EXPECT_EQ(Await(admitted).stage(), ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED);
  ASSERT_TRUE(Signal("wf-update-closed", "go").ok());
  ASSERT_TRUE(CompleteWft(PollWft().task_token(), {CompleteWorkflow("done")}).ok());
  Barrier();  // closed, durable, out of memory

  auto again = MakePoll<wsv1::UpdateWorkflowExecutionResponse>();
  ExpectOtherRpcProceedsWhileReadBlocks(
      run,
      [&] {
        auto req = UpdateRequest("wf-update-closed", "u1");
        req.mutable_wait_policy()->set_lifecycle_stage(ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED);
        engine_->UpdateWorkflowExecution(req, again.waiter);
      },
      StartAnother(), /*events_only=*/true);
  auto resp = Await(again);
  EXPECT_EQ(resp.stage(), ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED);
  ASSERT_TRUE(resp.outcome().has_success()) << resp.DebugString();
  EXPECT_EQ(resp.outcome().success().payloads(0).data(), "\"ok\"");

  auto polled = MakePoll<wsv1::PollWorkflowExecutionUpdateResponse>();
  ExpectOtherRpcProceedsWhileReadBlocks(
      run,
      [&] {
        wsv1::PollWorkflowExecutionUpdateRequest req;
        req.set_namespace_(kNamespace);
        req.mutable_update_ref()->mutable_workflow_execution()->set_workflow_id("wf-update-closed");
        req.mutable_update_ref()->set_update_id("u1");
        req.mutable_wait_policy()->set_lifecycle_stage(ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED);
        engine_->PollWorkflowExecutionUpdate(req, polled.waiter);
      },
      StartAnother(), /*events_only=*/true);
  auto poll_resp = Await(polled);
  EXPECT_EQ(poll_resp.stage(), ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED);
  EXPECT_EQ(poll_resp.outcome().success().payloads(0).data(), "\"ok\"");
  EXPECT_EQ(gate_->blocked_reads(), 2);  // one history read per RPC, each without the mutex
}

}  // namespace
}  // namespace temporalite::history::testing
