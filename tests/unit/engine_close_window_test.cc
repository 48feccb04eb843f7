// A start with the workflow id of a run whose close (or whose whole life) is not durable yet.
// The engine changes memory first and the store later (group commit); a run's close erases it
// from the open-run index at once while the store still holds its RUNNING row (or no row at all).
// These tests hold the store's commits (GatedStore) to act inside that window deterministically:
// the id-conflict check must judge on the engine's state, not on the stale committed rows, and a
// rejection that depends on a not-yet-durable close is answered only once that close is durable.
#include <future>

#include "engine_test_util.h"

namespace temporalite::history::testing {
namespace {

class CloseWindowTest : public GatedEngineTest {
 protected:
  // An engine call whose reply is awaited later (it may wait for held commits).
  template <typename Resp>
  struct Pending {
    std::shared_ptr<Resp> resp = std::make_shared<Resp>();
    std::shared_future<Status> done;
    bool replied() const { return done.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
    Status Wait() const {
      if (done.wait_for(kCallbackWait) != std::future_status::ready) {
        ADD_FAILURE() << "engine callback did not arrive";
        return Status(Code::kDeadlineExceeded, "test: no reply");
      }
      return done.get();
    }
  };
  template <typename Resp>
  Pending<Resp> Async(const std::function<void(Resp*, Done)>& fn) {
    Pending<Resp> p;
    auto promise = std::make_shared<std::promise<Status>>();
    p.done = promise->get_future().share();
    fn(p.resp.get(), [promise, resp = p.resp](const Status& s) { promise->set_value(s); });
    return p;
  }
  struct None {};
  Pending<wsv1::StartWorkflowExecutionResponse> AsyncStart(const std::string& wid, const std::string& request_id,
                                                           ev1::WorkflowIdReusePolicy reuse) {
    auto req = StartRequest(wid);
    req.set_request_id(request_id);
    req.set_workflow_id_reuse_policy(reuse);
    return Async<wsv1::StartWorkflowExecutionResponse>(
        [&](auto* r, Done d) { engine_->StartWorkflowExecution(req, r, std::move(d)); });
  }
  Pending<None> AsyncTerminate(const std::string& wid) {
    wsv1::TerminateWorkflowExecutionRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_workflow_execution()->set_workflow_id(wid);
    req.set_reason("test");
    return Async<None>([&](None*, Done d) { engine_->TerminateWorkflowExecution(req, std::move(d)); });
  }

};

// Temporal: ALLOW_DUPLICATE_FAILED_ONLY admits a new run after a terminated one. The committed
// row still says RUNNING while the termination is in flight; the engine knows better.
TEST_F(CloseWindowTest, FailedOnlyReuseSeesATerminationNotYetDurable) {
  const std::string first = StartWorkflow("wf-failed-only");
  gate_->Hold();
  auto terminate = AsyncTerminate("wf-failed-only");
  auto start = AsyncStart("wf-failed-only", "second", ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY);
  EXPECT_FALSE(terminate.replied());  // nothing is acknowledged before it is durable
  EXPECT_FALSE(start.replied()) << start.done.get().ToString();
  gate_->Release();
  ASSERT_TRUE(terminate.Wait().ok());
  Status s = start.Wait();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(start.resp->started());
  EXPECT_NE(start.resp->run_id(), first);
  auto d = DescribeWf("wf-failed-only");
  EXPECT_EQ(d.workflow_execution_info().execution().run_id(), start.resp->run_id());
  EXPECT_EQ(d.workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
}

// A run started and terminated inside one window has no committed row at all yet: a
// REJECT_DUPLICATE start must still see it (otherwise two runs would both have been current).
TEST_F(CloseWindowTest, RejectDuplicateSeesARunWhoseWholeLifeIsNotYetDurable) {
  gate_->Hold();
  auto first = AsyncStart("wf-reject", "first", ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE);
  auto terminate = AsyncTerminate("wf-reject");
  auto second = AsyncStart("wf-reject", "second", ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
  // The rejection rests on a close that is not durable: it waits for it like any reply.
  EXPECT_FALSE(second.replied()) << second.done.get().ToString();
  gate_->Release();
  ASSERT_TRUE(first.Wait().ok());
  ASSERT_TRUE(terminate.Wait().ok());
  Status s = second.Wait();
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_NE(s.message().find("already finished"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(first.resp->run_id()), std::string::npos) << s.message();
  auto d = DescribeWf("wf-reject");
  EXPECT_EQ(d.workflow_execution_info().execution().run_id(), first.resp->run_id());
  EXPECT_EQ(d.workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
}

// ALLOW_DUPLICATE_FAILED_ONLY after a completed run, the completion not durable yet: rejected
// with the message for a finished run (not judged on the stale RUNNING row), after durability.
TEST_F(CloseWindowTest, FailedOnlyReuseRejectsACompletionNotYetDurable) {
  const std::string first = StartWorkflow("wf-completed");
  auto task = PollWft();
  gate_->Hold();
  wsv1::RespondWorkflowTaskCompletedRequest req;
  req.set_task_token(task.task_token());
  req.set_identity(kWorker);
  req.set_namespace_(kNamespace);
  *req.add_commands() = CompleteWorkflow("done");
  auto complete = Async<wsv1::RespondWorkflowTaskCompletedResponse>(
      [&](auto* r, Done d) { engine_->RespondWorkflowTaskCompleted(req, r, std::move(d)); });
  auto start = AsyncStart("wf-completed", "second", ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY);
  EXPECT_FALSE(start.replied()) << start.done.get().ToString();
  gate_->Release();
  ASSERT_TRUE(complete.Wait().ok());
  Status s = start.Wait();
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_NE(s.message().find("already finished"), std::string::npos) << s.message();
  EXPECT_EQ(DescribeWf("wf-completed").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

// Request-id dedupe against a run closed in the window: the same run is answered, not a new one.
TEST_F(CloseWindowTest, RequestIdDedupeSeesARunClosedInTheWindow) {
  gate_->Hold();
  auto first = AsyncStart("wf-dedupe", "same-request", ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE);
  auto terminate = AsyncTerminate("wf-dedupe");
  auto retry = AsyncStart("wf-dedupe", "same-request", ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE);
  gate_->Release();
  ASSERT_TRUE(first.Wait().ok());
  ASSERT_TRUE(terminate.Wait().ok());
  ASSERT_TRUE(retry.Wait().ok());
  EXPECT_EQ(retry.resp->run_id(), first.resp->run_id());
  EXPECT_TRUE(retry.resp->started());  // a retry of its start: answered as that start was
  EXPECT_EQ(retry.resp->status(), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
}

// Continue-as-new in flight: the next run is already the open one, so a start conflicts with it.
TEST_F(CloseWindowTest, StartRacingAContinueAsNewSeesTheNextRun) {
  StartWorkflow("wf-can");
  auto task = PollWft();
  gate_->Hold();
  cmdv1::Command can;
  can.set_command_type(ev1::COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION);
  auto* a = can.mutable_continue_as_new_workflow_execution_command_attributes();
  a->mutable_workflow_type()->set_name("TestWorkflow");
  a->mutable_task_queue()->set_name(kTaskQueue);
  wsv1::RespondWorkflowTaskCompletedRequest req;
  req.set_task_token(task.task_token());
  req.set_identity(kWorker);
  req.set_namespace_(kNamespace);
  *req.add_commands() = can;
  auto complete = Async<wsv1::RespondWorkflowTaskCompletedResponse>(
      [&](auto* r, Done d) { engine_->RespondWorkflowTaskCompleted(req, r, std::move(d)); });
  auto start = AsyncStart("wf-can", "other", ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE);
  gate_->Release();
  ASSERT_TRUE(complete.Wait().ok());
  Status s = start.Wait();
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_NE(s.message().find("already running"), std::string::npos) << s.message();
}

// Describe by workflow id alone finds a run created and closed inside the window.
TEST_F(CloseWindowTest, DescribeFindsARunClosedBeforeItsStartIsDurable) {
  gate_->Hold();
  auto first = AsyncStart("wf-describe", "first", ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE);
  auto terminate = AsyncTerminate("wf-describe");
  wsv1::DescribeWorkflowExecutionRequest req;
  req.set_namespace_(kNamespace);
  req.mutable_execution()->set_workflow_id("wf-describe");
  auto describe = Async<wsv1::DescribeWorkflowExecutionResponse>(
      [&](auto* r, Done d) { engine_->DescribeWorkflowExecution(req, r, std::move(d)); });
  gate_->Release();
  ASSERT_TRUE(first.Wait().ok());
  ASSERT_TRUE(terminate.Wait().ok());
  Status s = describe.Wait();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(describe.resp->workflow_execution_info().execution().run_id(), first.resp->run_id());
  EXPECT_EQ(describe.resp->workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
}

// --- Store reads made without the engine mutex, re-validated under it ---

// A start reads the id's current run from the store before it takes the engine mutex. Between
// that read (current run: R0) and the start's transition, another start with the same request id
// runs the id's next run R1 to a durable close. The read is stale then, and must not be used: the
// start is judged on R1 (same request id: answered with R1), not on R0 (it would start a new run).
// (Were the read made under the mutex, the nested calls below could not run.)
TEST_F(CloseWindowTest, AStartDoesNotUseAStoreReadMadeStaleByADurableClose) {
  StartWorkflow("wf-preread");
  ASSERT_TRUE(AsyncTerminate("wf-preread").Wait().ok());  // R0 closed, durable, out of memory
  std::string r1;
  gate_->AfterNextCurrentRunRead([&] {
    auto other = AsyncStart("wf-preread", "same-request", ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE);
    ASSERT_TRUE(other.Wait().ok());
    ASSERT_TRUE(other.resp->started());
    r1 = other.resp->run_id();
    ASSERT_TRUE(AsyncTerminate("wf-preread").Wait().ok());
  });
  auto retry = AsyncStart("wf-preread", "same-request", ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE);
  Status s = retry.Wait();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_FALSE(r1.empty()) << "the read hook did not run";
  EXPECT_EQ(retry.resp->run_id(), r1);
  EXPECT_TRUE(retry.resp->started());  // a retry of its start: answered as that start was
  EXPECT_EQ(retry.resp->status(), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
}

// Without a race the read from before the mutex is used: the reuse policy is judged on it.
TEST_F(CloseWindowTest, AStartIsJudgedOnTheStoreReadMadeBeforeTheMutex) {
  const std::string first = StartWorkflow("wf-preread-ok");
  ASSERT_TRUE(AsyncTerminate("wf-preread-ok").Wait().ok());
  bool read = false;
  gate_->AfterNextCurrentRunRead([&] { read = true; });
  auto reject = AsyncStart("wf-preread-ok", "second", ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
  Status s = reject.Wait();
  EXPECT_TRUE(read);
  EXPECT_EQ(s.code(), Code::kAlreadyExists) << s.ToString();
  EXPECT_NE(s.message().find(first), std::string::npos) << s.message();
}

// Namespace deletion reads the namespace's closed runs without the engine mutex. A run of the
// namespace that times out at the reclaim time has its close held back (not durable: the read
// does not list it), then becomes durable (leaves memory) between the read and the step's
// transition. The step must not take the namespace for empty: the run's rows go with it.
TEST_F(CloseWindowTest, NamespaceReclaimMissesNoRunClosedDuringItsStoreRead) {
  namespace osv1 = ::temporal::api::operatorservice::v1;
  wsv1::RegisterNamespaceRequest reg;
  reg.set_namespace_("reclaimed");
  ASSERT_TRUE(Call([&](Done d) { engine_->RegisterNamespace(reg, std::move(d)); }).ok());
  const std::string run_id = StartWorkflow("wf-in-deleted", [](auto& req) {
    req.set_namespace_("reclaimed");
    *req.mutable_workflow_run_timeout() = PbDur(Sec(10));
  });
  osv1::DeleteNamespaceRequest del;
  del.set_namespace_("reclaimed");
  *del.mutable_namespace_delete_delay() = PbDur(Sec(10));
  osv1::DeleteNamespaceResponse deleted;
  ASSERT_TRUE(Call<osv1::DeleteNamespaceResponse>(
                  [&](auto* r, Done d) { engine_->DeleteNamespace(del, r, std::move(d)); }, &deleted)
                  .ok());
  gate_->Hold();
  bool hooked = false;
  gate_->AfterNextClosedRunsRead([&] {
    hooked = true;
    EXPECT_EQ(gate_->held_commits(), 1u);  // the run's timeout close
    gate_->Release();
    Barrier();  // durable: the run has left memory
  });
  Advance(Sec(10));  // the run times out, then the first reclaim step runs
  ASSERT_TRUE(hooked);
  auto describe = [&] {
    wsv1::DescribeNamespaceRequest req;
    req.set_namespace_(deleted.deleted_namespace());
    return Call<wsv1::DescribeNamespaceResponse>(
        [&](auto* r, Done d) { engine_->DescribeNamespace(req, r, std::move(d)); }, nullptr);
  };
  for (int i = 0; i < 20 && describe().ok(); ++i) Advance(Ms(100));
  EXPECT_EQ(describe().code(), Code::kNotFound);
  auto row = store_->GetExecution(run_id);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_FALSE(row.value().has_value()) << "the run's rows outlived its namespace";
}

}  // namespace
}  // namespace temporalite::history::testing
