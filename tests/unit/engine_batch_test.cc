// Engine tests for batch operations (batch.cc) and namespace deletion (namespace_delete.cc), both
// background jobs driven by the TimerService: here by Advance() on the SimClock.
#include <map>

#include "engine_test_util.h"
#include "temporal/api/operatorservice/v1/request_response.pb.h"

namespace temporalite::history::testing {
namespace {

namespace osv1 = ::temporal::api::operatorservice::v1;
namespace wfv1 = ::temporal::api::workflow::v1;

// Visibility queries read the store: a file-backed engine, as the visibility tests use.
class EngineBatchTest : public FileEngineTest {
 protected:
  Status StartBatch(const wsv1::StartBatchOperationRequest& req) {
    return Call<wsv1::StartBatchOperationResponse>(
        [&](auto* r, Done d) { engine_->StartBatchOperation(req, r, std::move(d)); }, nullptr);
  }
  wsv1::StartBatchOperationRequest TerminateJob(const std::string& job_id, const std::vector<std::string>& wids) {
    wsv1::StartBatchOperationRequest req;
    req.set_namespace_(kNamespace);
    req.set_job_id(job_id);
    req.set_reason("cleanup");
    req.mutable_termination_operation()->set_identity("operator");
    for (const auto& w : wids) req.add_executions()->set_workflow_id(w);
    return req;
  }
  wsv1::DescribeBatchOperationResponse DescribeBatch(const std::string& job_id) {
    wsv1::DescribeBatchOperationRequest req;
    req.set_namespace_(kNamespace);
    req.set_job_id(job_id);
    wsv1::DescribeBatchOperationResponse resp;
    Status s = Call<wsv1::DescribeBatchOperationResponse>(
        [&](auto* r, Done d) { engine_->DescribeBatchOperation(req, r, std::move(d)); }, &resp);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp;
  }
  // Drives the job's timer steps until it leaves Running (bounded: a stuck job fails the test).
  wsv1::DescribeBatchOperationResponse RunBatch(const std::string& job_id, int steps = 50) {
    for (int i = 0; i < steps; ++i) {
      auto d = DescribeBatch(job_id);
      if (d.state() != ev1::BATCH_OPERATION_STATE_RUNNING) return d;
      Advance(Ms(100));
    }
    ADD_FAILURE() << "batch " << job_id << " still running";
    return DescribeBatch(job_id);
  }
  ev1::WorkflowExecutionStatus StatusOf(const std::string& wid) {
    return DescribeWf(wid).workflow_execution_info().status();
  }
};

TEST_F(EngineBatchTest, TerminateListedExecutions) {
  StartAndComplete("b-done", {CompleteWorkflow("r")});  // first: it takes the queue's first task
  StartWorkflow("b-1");
  StartWorkflow("b-2");
  StartWorkflow("b-keep");
  ASSERT_TRUE(StartBatch(TerminateJob("job-1", {"b-1", "b-2", "b-done", "b-never-existed"})).ok());
  auto d = RunBatch("job-1");
  EXPECT_EQ(d.state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
  EXPECT_EQ(d.operation_type(), ev1::BATCH_OPERATION_TYPE_TERMINATE);
  EXPECT_EQ(d.total_operation_count(), 4);
  // Already closed and missing workflows count as done (NotFound is success, as in Temporal).
  EXPECT_EQ(d.complete_operation_count(), 4);
  EXPECT_EQ(d.failure_operation_count(), 0);
  EXPECT_EQ(d.identity(), "operator");
  EXPECT_TRUE(d.has_close_time());

  EXPECT_EQ(StatusOf("b-1"), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_EQ(StatusOf("b-2"), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_EQ(StatusOf("b-keep"), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(StatusOf("b-done"), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  auto events = History("b-1");
  ASSERT_FALSE(events.empty());
  const auto& t = events.back().workflow_execution_terminated_event_attributes();
  EXPECT_EQ(t.reason(), "cleanup");
  EXPECT_EQ(t.identity(), "operator");
}

TEST_F(EngineBatchTest, SignalByVisibilityQueryReachesOnlyRunningMatches) {
  StartAndComplete("s-closed", {CompleteWorkflow("r")});
  StartWorkflow("s-1");
  StartWorkflow("s-2");
  StartWorkflow("s-other", [](auto& req) { req.mutable_workflow_type()->set_name("OtherWorkflow"); });
  wsv1::StartBatchOperationRequest req;
  req.set_namespace_(kNamespace);
  req.set_job_id("job-sig");
  req.set_reason("poke");
  req.set_visibility_query("WorkflowType = 'TestWorkflow'");
  req.mutable_signal_operation()->set_signal("poke");
  *req.mutable_signal_operation()->mutable_input() = TextPayloads("from-batch");
  ASSERT_TRUE(StartBatch(req).ok());
  auto d = RunBatch("job-sig");
  EXPECT_EQ(d.state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
  EXPECT_EQ(d.total_operation_count(), 2);  // counted at start: running TestWorkflows only
  EXPECT_EQ(d.complete_operation_count(), 2);
  auto count_signals = [&](const std::string& wid) {
    int n = 0;
    for (const auto& e : History(wid)) {
      if (e.event_type() != ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) continue;
      EXPECT_EQ(e.workflow_execution_signaled_event_attributes().signal_name(), "poke");
      EXPECT_EQ(e.workflow_execution_signaled_event_attributes().input().payloads(0).data(), "\"from-batch\"");
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count_signals("s-1"), 1);
  EXPECT_EQ(count_signals("s-2"), 1);
  EXPECT_EQ(count_signals("s-other"), 0);
  EXPECT_EQ(count_signals("s-closed"), 0);
}

TEST_F(EngineBatchTest, StartValidationAndConcurrencyLimit) {
  auto no_reason = TerminateJob("job-x", {"a"});
  no_reason.clear_reason();
  EXPECT_EQ(StartBatch(no_reason).code(), Code::kInvalidArgument);
  auto no_job = TerminateJob("", {"a"});
  EXPECT_EQ(StartBatch(no_job).code(), Code::kInvalidArgument);
  auto both = TerminateJob("job-x", {"a"});
  both.set_visibility_query("WorkflowType = 'X'");
  EXPECT_EQ(StartBatch(both).code(), Code::kInvalidArgument);
  auto bad_query = TerminateJob("job-x", {});
  bad_query.set_visibility_query("NoSuchAttribute = 'X'");
  EXPECT_EQ(StartBatch(bad_query).code(), Code::kInvalidArgument);
  auto unnamed_signal = TerminateJob("job-x", {"a"});
  unnamed_signal.mutable_signal_operation();
  EXPECT_EQ(StartBatch(unnamed_signal).code(), Code::kInvalidArgument);

  StartWorkflow("c-1");
  ASSERT_TRUE(StartBatch(TerminateJob("job-a", {"c-1"})).ok());
  // One running job per namespace; the same job id again is a conflict.
  EXPECT_EQ(StartBatch(TerminateJob("job-b", {"c-1"})).code(), Code::kResourceExhausted);
  EXPECT_EQ(StartBatch(TerminateJob("job-a", {"c-1"})).code(), Code::kAlreadyExists);
  EXPECT_EQ(RunBatch("job-a").state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
  // Once it finished, the next one may start.
  EXPECT_TRUE(StartBatch(TerminateJob("job-b", {"c-1"})).ok());
  EXPECT_EQ(RunBatch("job-b").state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
}

TEST_F(EngineBatchTest, StopMarksTheJobStoppedAndNoFurtherChunksRun) {
  std::vector<std::string> wids;
  for (int i = 0; i < 4; ++i) {
    wids.push_back("stop-" + std::to_string(i));
    StartWorkflow(wids.back());
  }
  auto req = TerminateJob("job-stop", wids);
  req.set_max_operations_per_second(1);  // one workflow per chunk, a second apart
  ASSERT_TRUE(StartBatch(req).ok());
  Advance(Ms(0));  // the first chunk
  Barrier();
  wsv1::StopBatchOperationRequest stop;
  stop.set_namespace_(kNamespace);
  stop.set_job_id("job-stop");
  stop.set_reason("enough");
  ASSERT_TRUE(Call<wsv1::StopBatchOperationResponse>(
                  [&](auto* r, Done d) { engine_->StopBatchOperation(stop, r, std::move(d)); }, nullptr)
                  .ok());
  for (int i = 0; i < 10; ++i) Advance(Sec(1));
  EXPECT_EQ(DescribeBatch("job-stop").state(), ev1::BATCH_OPERATION_STATE_FAILED);  // Temporal: stopped = failed
  int running = 0;
  for (const auto& w : wids) running += StatusOf(w) == ev1::WORKFLOW_EXECUTION_STATUS_RUNNING;
  EXPECT_GE(running, 2) << "chunks kept running after the stop";
}

// --- Batch reset ---

class EngineBatchResetTest : public EngineBatchTest {
 protected:
  wsv1::StartBatchOperationRequest ResetJob(const std::string& job_id) {
    wsv1::StartBatchOperationRequest req;
    req.set_namespace_(kNamespace);
    req.set_job_id(job_id);
    req.set_reason("bad deploy");
    req.mutable_reset_operation()->set_identity("operator");
    return req;
  }
  // Drives a job at `rps` 1 (one target per chunk, a second apart) until it leaves Running.
  wsv1::DescribeBatchOperationResponse RunSlowBatch(const std::string& job_id) {
    for (int i = 0; i < 40; ++i) {
      auto d = DescribeBatch(job_id);
      if (d.state() != ev1::BATCH_OPERATION_STATE_RUNNING) return d;
      Advance(Ms(500));
    }
    ADD_FAILURE() << "batch " << job_id << " still running";
    return DescribeBatch(job_id);
  }
  int64_t RunsOf(const std::string& wid) {
    wsv1::CountWorkflowExecutionsRequest req;
    req.set_namespace_(kNamespace);
    req.set_query("WorkflowId = '" + wid + "'");
    wsv1::CountWorkflowExecutionsResponse resp;
    EXPECT_TRUE(Call<wsv1::CountWorkflowExecutionsResponse>(
                    [&](auto* r, Done d) { engine_->CountWorkflowExecutions(req, r, std::move(d)); }, &resp)
                    .ok());
    return resp.count();
  }
  std::string CurrentRun(const std::string& wid) { return DescribeWf(wid).workflow_execution_info().execution().run_id(); }
  // The reset run's history: the base run's events before `finish_id`, then the reset's WorkflowTaskFailed.
  void ExpectResetAt(const std::string& wid, const std::string& base_run, int64_t finish_id) {
    auto h = History(wid);
    ASSERT_GE(h.size(), static_cast<size_t>(finish_id)) << wid;
    const auto& failed = h[finish_id - 1];
    ASSERT_EQ(failed.event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED) << wid << " event " << finish_id;
    const auto& a = failed.workflow_task_failed_event_attributes();
    EXPECT_EQ(a.cause(), ev1::WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW);
    EXPECT_EQ(a.base_run_id(), base_run);
    EXPECT_EQ(a.failure().message(), "bad deploy");
  }
};

TEST_F(EngineBatchResetTest, ByQueryResetsEveryMatchingRunOnceRunningOrClosed) {
  // Two running workflows (first task completed with a timer, then a signal) and a completed
  // one; a workflow of another type is not selected.
  std::map<std::string, std::string> base;
  // Signals after all first tasks, so that each poll gets the workflow it started.
  for (const std::string wid : {"r-1", "r-2"}) {
    base[wid] = StartAndComplete(wid, {StartTimer("t", Sec(3600))}).workflow_execution().run_id();
  }
  base["r-closed"] = StartAndComplete("r-closed", {CompleteWorkflow("r")}).workflow_execution().run_id();
  for (const std::string wid : {"r-1", "r-2"}) ASSERT_TRUE(Signal(wid, "later").ok());
  StartWorkflow("r-other", [](auto& req) { req.mutable_workflow_type()->set_name("OtherWorkflow"); });

  auto req = ResetJob("job-reset");
  req.set_visibility_query("WorkflowType = 'TestWorkflow'");
  req.mutable_reset_operation()->mutable_options()->mutable_first_workflow_task();
  // One target per chunk: the job pages through runs whose close times its own resets change.
  req.set_max_operations_per_second(1);
  ASSERT_TRUE(StartBatch(req).ok());
  auto d = RunSlowBatch("job-reset");
  EXPECT_EQ(d.state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
  EXPECT_EQ(d.operation_type(), ev1::BATCH_OPERATION_TYPE_RESET);
  EXPECT_EQ(d.total_operation_count(), 3);  // not narrowed to running workflows, as in Temporal
  EXPECT_EQ(d.complete_operation_count(), 3);
  EXPECT_EQ(d.failure_operation_count(), 0);
  EXPECT_EQ(d.identity(), "operator");
  EXPECT_EQ(d.query(), "WorkflowType = 'TestWorkflow'");
  for (const auto& [wid, run] : base) {
    EXPECT_EQ(RunsOf(wid), 2) << wid << " reset exactly once";
    EXPECT_NE(CurrentRun(wid), run) << wid;
    EXPECT_EQ(StatusOf(wid), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING) << wid;
    ExpectResetAt(wid, run, 4);  // the first WorkflowTaskCompleted
  }
  // The signal after the reset point is reapplied (the default reapply type).
  int signals = 0;
  for (const auto& e : History("r-1")) signals += e.event_type() == ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;
  EXPECT_EQ(signals, 1);
  // The running base runs were terminated by the reset.
  wsv1::DescribeWorkflowExecutionRequest old;
  old.set_namespace_(kNamespace);
  old.mutable_execution()->set_workflow_id("r-1");
  old.mutable_execution()->set_run_id(base["r-1"]);
  wsv1::DescribeWorkflowExecutionResponse old_d;
  ASSERT_TRUE(Call<wsv1::DescribeWorkflowExecutionResponse>(
                  [&](auto* r, Done dn) { engine_->DescribeWorkflowExecution(old, r, std::move(dn)); }, &old_d)
                  .ok());
  EXPECT_EQ(old_d.workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_EQ(RunsOf("r-other"), 1);
  EXPECT_EQ(StatusOf("r-other"), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
}

TEST_F(EngineBatchResetTest, ByExecutionsToTheLastTaskCountsFailures) {
  // Two completed workflow tasks: the last one is the reset point.
  const std::string run = StartAndComplete("l-1", {StartTimer("t", Sec(3600))}).workflow_execution().run_id();
  ASSERT_TRUE(Signal("l-1", "poke").ok());
  auto t2 = PollWft();
  ASSERT_TRUE(CompleteWft(t2.task_token(), {}).ok());
  int64_t last_completed = 0;
  for (const auto& e : History("l-1")) {
    if (e.event_type() == ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED) last_completed = e.event_id();
  }
  ASSERT_GT(last_completed, 4);
  // A delayed start has no workflow task yet: nothing to reset to, a failure of the job.
  StartWorkflow("l-delayed", [](auto& r) { *r.mutable_workflow_start_delay() = PbDur(Sec(3600)); });

  auto req = ResetJob("job-last");
  // The deprecated fields (what servers before 1.23 read; the UI sends both).
  req.mutable_reset_operation()->set_reset_type(ev1::RESET_TYPE_LAST_WORKFLOW_TASK);
  auto* e = req.add_executions();
  e->set_workflow_id("l-1");
  e->set_run_id(run);
  req.add_executions()->set_workflow_id("l-delayed");
  // Temporal's batcher reads the history to find the last task: for a missing workflow that read
  // fails with a plain error, retried 50 times, then counted as a failure (not as NotFound = done).
  req.add_executions()->set_workflow_id("l-never-existed");
  ASSERT_TRUE(StartBatch(req).ok());
  auto d = RunBatch("job-last", 200);
  EXPECT_EQ(d.state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
  EXPECT_EQ(d.total_operation_count(), 3);
  EXPECT_EQ(d.complete_operation_count(), 1);
  EXPECT_EQ(d.failure_operation_count(), 2);
  ASSERT_EQ(d.executions_size(), 3);
  EXPECT_NE(CurrentRun("l-1"), run);
  ExpectResetAt("l-1", run, last_completed);
  EXPECT_EQ(RunsOf("l-delayed"), 1);
  // Listed with the others.
  wsv1::ListBatchOperationsRequest list;
  list.set_namespace_(kNamespace);
  wsv1::ListBatchOperationsResponse listed;
  ASSERT_TRUE(Call<wsv1::ListBatchOperationsResponse>(
                  [&](auto* r, Done dn) { engine_->ListBatchOperations(list, r, std::move(dn)); }, &listed)
                  .ok());
  ASSERT_EQ(listed.operation_info_size(), 1);
  EXPECT_EQ(listed.operation_info(0).operation_type(), ev1::BATCH_OPERATION_TYPE_RESET);
  EXPECT_EQ(listed.operation_info(0).state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
}

// Temporal's batcher retries a failed target in place (each attempt through the job's rate) while
// the error is retryable, up to 50 more attempts: a reset to an event the run has not reached yet
// fails, and succeeds on a later attempt once the run has it. Until then the target is neither
// done nor failed. A reset with no workflow task to go back to is not retried (NoWorkflowTaskFound).
TEST_F(EngineBatchResetTest, FailedTargetsAreRetriedAsTemporalsBatcherDoes) {
  // Events: 1 started, 2-4 first task, 5 timer started.
  const std::string run = StartAndComplete("rt-1", {StartTimer("t", Sec(3600))}).workflow_execution().run_id();
  auto req = ResetJob("job-retry");
  req.mutable_reset_operation()->mutable_options()->set_workflow_task_id(8);
  auto* e = req.add_executions();
  e->set_workflow_id("rt-1");
  e->set_run_id(run);
  req.set_max_operations_per_second(1);  // one attempt a second
  ASSERT_TRUE(StartBatch(req).ok());
  for (int i = 0; i < 3; ++i) Advance(Ms(1000));  // three failed attempts
  auto d = DescribeBatch("job-retry");
  EXPECT_EQ(d.state(), ev1::BATCH_OPERATION_STATE_RUNNING);
  EXPECT_EQ(d.complete_operation_count(), 0);
  EXPECT_EQ(d.failure_operation_count(), 0) << "a retried target is not counted yet";
  EXPECT_EQ(RunsOf("rt-1"), 1);
  // The run reaches event 8 (6 signaled, 7 task scheduled, 8 started, 9 completed).
  ASSERT_TRUE(Signal("rt-1", "go").ok());
  auto task = PollWft();
  ASSERT_TRUE(CompleteWft(task.task_token(), {}).ok());
  d = RunSlowBatch("job-retry");
  EXPECT_EQ(d.state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
  EXPECT_EQ(d.complete_operation_count(), 1);
  EXPECT_EQ(d.failure_operation_count(), 0);
  EXPECT_EQ(RunsOf("rt-1"), 2);
  EXPECT_NE(CurrentRun("rt-1"), run);

  // No workflow task yet (a delayed start): failed at the first attempt, the job ends at once.
  StartWorkflow("rt-delayed", [](auto& r) { *r.mutable_workflow_start_delay() = PbDur(Sec(3600)); });
  auto none = ResetJob("job-none");
  none.mutable_reset_operation()->mutable_options()->mutable_first_workflow_task();
  none.add_executions()->set_workflow_id("rt-delayed");
  none.set_max_operations_per_second(1);
  ASSERT_TRUE(StartBatch(none).ok());
  d = RunSlowBatch("job-none");
  EXPECT_EQ(d.state(), ev1::BATCH_OPERATION_STATE_COMPLETED);
  EXPECT_EQ(d.failure_operation_count(), 1);

  // A target that keeps failing: 51 attempts a second apart, then one failure. Stopping the job
  // ends its retries: the target is counted, nothing else runs.
  auto gone = ResetJob("job-gone");
  gone.mutable_reset_operation()->mutable_options()->mutable_first_workflow_task();
  gone.add_executions()->set_workflow_id("rt-never-existed");
  gone.set_max_operations_per_second(1);
  ASSERT_TRUE(StartBatch(gone).ok());
  for (int i = 0; i < 10; ++i) Advance(Ms(1000));
  EXPECT_EQ(DescribeBatch("job-gone").state(), ev1::BATCH_OPERATION_STATE_RUNNING) << "still retrying after 10 s";
  for (int i = 0; i < 45; ++i) Advance(Ms(1000));
  d = DescribeBatch("job-gone");
  EXPECT_EQ(d.state(), ev1::BATCH_OPERATION_STATE_COMPLETED) << "given up after 51 attempts";
  EXPECT_EQ(d.failure_operation_count(), 1);
}

// A batch reset passes its post-reset operations to each reset (Temporal's batcher does): the new
// run gets the signal after the reset point's failed task.
TEST_F(EngineBatchResetTest, PostResetSignalReachesEachResetRun) {
  const std::string run = StartAndComplete("ps-1", {StartTimer("t", Sec(3600))}).workflow_execution().run_id();
  auto req = ResetJob("job-post");
  req.mutable_reset_operation()->mutable_options()->mutable_first_workflow_task();
  auto* sig = req.mutable_reset_operation()->add_post_reset_operations()->mutable_signal_workflow();
  sig->set_signal_name("after-reset");
  *sig->mutable_input() = TextPayloads("fix");
  auto* e = req.add_executions();
  e->set_workflow_id("ps-1");
  e->set_run_id(run);
  ASSERT_TRUE(StartBatch(req).ok());
  auto d = RunBatch("job-post");
  EXPECT_EQ(d.complete_operation_count(), 1);
  auto h = History("ps-1");
  ASSERT_GE(h.size(), 6u) << Describe(h);
  EXPECT_EQ(h[3].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED) << Describe(h);
  ASSERT_EQ(h[4].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) << Describe(h);
  EXPECT_EQ(h[4].workflow_execution_signaled_event_attributes().signal_name(), "after-reset");
  EXPECT_EQ(h[4].workflow_execution_signaled_event_attributes().identity(), "operator");
  EXPECT_EQ(h[4].workflow_execution_signaled_event_attributes().input().payloads(0).data(), "\"fix\"");
  EXPECT_EQ(h[5].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) << Describe(h);
}

TEST_F(EngineBatchResetTest, ReappliedChunkDoesNotResetTwice) {
  // The same job's operation on the same target again (a chunk applied again after a crash)
  // is deduplicated by its derived request id.
  const std::string run = StartAndComplete("d-1", {StartTimer("t", Sec(3600))}).workflow_execution().run_id();
  auto req = ResetJob("job-dup");
  req.mutable_reset_operation()->mutable_options()->mutable_first_workflow_task();
  auto* e = req.add_executions();
  e->set_workflow_id("d-1");
  e->set_run_id(run);
  *req.add_executions() = *e;
  ASSERT_TRUE(StartBatch(req).ok());
  auto d = RunBatch("job-dup");
  EXPECT_EQ(d.complete_operation_count(), 2);
  EXPECT_EQ(RunsOf("d-1"), 2);
}

TEST_F(EngineBatchResetTest, Validation) {
  StartWorkflow("v-1");
  auto with = [&](const std::function<void(wsv1::StartBatchOperationRequest&)>& edit) {
    auto req = ResetJob("job-v");
    req.add_executions()->set_workflow_id("v-1");
    edit(req);
    return StartBatch(req);
  };
  EXPECT_EQ(with([](auto& r) { r.mutable_reset_operation()->mutable_options(); }).code(), Code::kInvalidArgument);
  EXPECT_EQ(with([](auto&) {}).code(), Code::kInvalidArgument);  // no options and no reset type
  EXPECT_EQ(with([](auto& r) { r.mutable_reset_operation()->set_reset_type(static_cast<ev1::ResetType>(9)); }).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(with([](auto& r) { r.mutable_reset_operation()->mutable_options()->set_build_id("b1"); }).code(),
            Code::kUnimplemented);
  // Post-reset operations: a variant is needed, a signal needs a name; options updates (worker
  // versioning overrides) are not supported.
  auto post_op = [&](const std::function<void(wfv1::PostResetOperation&)>& edit) {
    return with([&](auto& r) {
      r.mutable_reset_operation()->mutable_options()->mutable_first_workflow_task();
      edit(*r.mutable_reset_operation()->add_post_reset_operations());
    });
  };
  EXPECT_EQ(post_op([](auto&) {}).code(), Code::kInvalidArgument);
  EXPECT_EQ(post_op([](auto& op) { op.mutable_signal_workflow(); }).code(), Code::kInvalidArgument);
  EXPECT_EQ(post_op([](auto& op) { op.mutable_update_workflow_options(); }).code(), Code::kUnimplemented);
  EXPECT_EQ(RunsOf("v-1"), 1);  // nothing started
}

// --- Namespace deletion ---

class EngineNamespaceDeleteTest : public FileEngineTest {
 protected:
  Status Register(const std::string& name) {
    wsv1::RegisterNamespaceRequest req;
    req.set_namespace_(name);
    return Call([&](Done d) { engine_->RegisterNamespace(req, std::move(d)); });
  }
  Status Describe(const std::string& name, wsv1::DescribeNamespaceResponse* out = nullptr) {
    wsv1::DescribeNamespaceRequest req;
    req.set_namespace_(name);
    return Call<wsv1::DescribeNamespaceResponse>(
        [&](auto* r, Done d) { engine_->DescribeNamespace(req, r, std::move(d)); }, out);
  }
  Status Delete(const std::string& name, osv1::DeleteNamespaceResponse* out = nullptr,
                const std::function<void(osv1::DeleteNamespaceRequest&)>& edit = {}) {
    osv1::DeleteNamespaceRequest req;
    req.set_namespace_(name);
    if (edit) edit(req);
    return Call<osv1::DeleteNamespaceResponse>(
        [&](auto* r, Done d) { engine_->DeleteNamespace(req, r, std::move(d)); }, out);
  }
  Status StartIn(const std::string& ns, const std::string& wid) {
    auto req = StartRequest(wid);
    req.set_namespace_(ns);
    return Start(req, nullptr);
  }
  Status DescribeIn(const std::string& ns, const std::string& wid, wsv1::DescribeWorkflowExecutionResponse* out = nullptr) {
    wsv1::DescribeWorkflowExecutionRequest req;
    req.set_namespace_(ns);
    req.mutable_execution()->set_workflow_id(wid);
    return Call<wsv1::DescribeWorkflowExecutionResponse>(
        [&](auto* r, Done d) { engine_->DescribeWorkflowExecution(req, r, std::move(d)); }, out);
  }
};

TEST_F(EngineNamespaceDeleteTest, RenamesAtOnceThenReclaimsWorkflowsAndTheRow) {
  ASSERT_TRUE(Register("doomed").ok());
  wsv1::DescribeNamespaceResponse before;
  ASSERT_TRUE(Describe("doomed", &before).ok());
  const std::string id = before.namespace_info().id();
  ASSERT_TRUE(StartIn("doomed", "open-1").ok());
  ASSERT_TRUE(StartIn("doomed", "open-2").ok());
  ASSERT_TRUE(StartIn(kNamespace, "survivor").ok());

  osv1::DeleteNamespaceResponse resp;
  ASSERT_TRUE(Delete("doomed", &resp, [](auto& req) { *req.mutable_namespace_delete_delay() = PbDur(Sec(30)); }).ok());
  const std::string renamed = resp.deleted_namespace();
  EXPECT_EQ(renamed, "doomed-deleted-" + id.substr(0, 5));
  // The old name is gone (and free) at once; the renamed record is Deleted.
  EXPECT_EQ(Describe("doomed").code(), Code::kNotFound);
  wsv1::DescribeNamespaceResponse marked;
  ASSERT_TRUE(Describe(renamed, &marked).ok());
  EXPECT_EQ(marked.namespace_info().state(), ev1::NAMESPACE_STATE_DELETED);
  EXPECT_EQ(marked.namespace_info().id(), id);
  // A deleted namespace only describes: its workflows are out of reach at once.
  EXPECT_EQ(DescribeIn(renamed, "open-1").code(), Code::kNotFound);
  EXPECT_EQ(StartIn(renamed, "late").code(), Code::kNotFound);
  // Before the delay nothing is reclaimed.
  Advance(Sec(29));
  EXPECT_EQ(engine_->OpenWorkflowCount(), 3u);

  Advance(Sec(1));
  for (int i = 0; i < 20 && Describe(renamed).ok(); ++i) Advance(Ms(100));
  EXPECT_EQ(Describe(renamed).code(), Code::kNotFound);
  EXPECT_EQ(engine_->OpenWorkflowCount(), 1u);  // the survivor's
  // Other namespaces are untouched; the old name can be registered again as a new namespace.
  EXPECT_EQ(DescribeWf("survivor").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  ASSERT_TRUE(Register("doomed").ok());
  wsv1::DescribeNamespaceResponse reborn;
  ASSERT_TRUE(Describe("doomed", &reborn).ok());
  EXPECT_NE(reborn.namespace_info().id(), id);
  EXPECT_EQ(DescribeIn("doomed", "open-2").code(), Code::kNotFound);
}

TEST_F(EngineNamespaceDeleteTest, DeletionResumesAfterARestart) {
  ASSERT_TRUE(Register("doomed2").ok());
  ASSERT_TRUE(StartIn("doomed2", "wf").ok());
  osv1::DeleteNamespaceResponse resp;
  ASSERT_TRUE(Delete("doomed2", &resp, [](auto& req) { *req.mutable_namespace_delete_delay() = PbDur(Sec(60)); }).ok());
  Advance(Sec(20));
  Restart();
  ASSERT_TRUE(Describe(resp.deleted_namespace()).ok());  // still there, still Deleted
  // The restart keeps the remaining 40 s of the delay: nothing is reclaimed before.
  Advance(Ms(0));
  Advance(Sec(39));
  EXPECT_TRUE(Describe(resp.deleted_namespace()).ok());
  EXPECT_EQ(engine_->OpenWorkflowCount(), 1u);
  Advance(Sec(1));
  for (int i = 0; i < 20 && Describe(resp.deleted_namespace()).ok(); ++i) Advance(Ms(100));
  EXPECT_EQ(Describe(resp.deleted_namespace()).code(), Code::kNotFound);
  EXPECT_EQ(engine_->OpenWorkflowCount(), 0u);
}

TEST_F(EngineNamespaceDeleteTest, ARepeatedDeleteBringsTheReclaimForwardNeverBack) {
  ASSERT_TRUE(Register("doomed3").ok());
  ASSERT_TRUE(StartIn("doomed3", "wf").ok());
  osv1::DeleteNamespaceResponse resp;
  ASSERT_TRUE(Delete("doomed3", &resp, [](auto& req) { *req.mutable_namespace_delete_delay() = PbDur(Sec(60)); }).ok());
  const std::string renamed = resp.deleted_namespace();
  // A longer delay asked later does not postpone it (not even across a restart).
  ASSERT_TRUE(Delete(renamed, nullptr, [](auto& req) { *req.mutable_namespace_delete_delay() = PbDur(Sec(600)); }).ok());
  Restart();
  Advance(Sec(59));
  EXPECT_TRUE(Describe(renamed).ok());
  Advance(Sec(1));
  for (int i = 0; i < 20 && Describe(renamed).ok(); ++i) Advance(Ms(100));
  EXPECT_EQ(Describe(renamed).code(), Code::kNotFound);
}

TEST_F(EngineNamespaceDeleteTest, Validation) {
  EXPECT_EQ(Delete("").code(), Code::kInvalidArgument);
  EXPECT_EQ(Delete("no-such-namespace").code(), Code::kInvalidArgument);
  EXPECT_EQ(Delete("temporal-system").code(), Code::kFailedPrecondition);
  ASSERT_TRUE(Register("neg").ok());
  Status s = Delete("neg", nullptr, [](auto& req) { *req.mutable_namespace_delete_delay() = PbDur(Sec(-1)); });
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_TRUE(Describe("neg").ok());  // a refused delete changes nothing
}

}  // namespace
}  // namespace temporalite::history::testing
