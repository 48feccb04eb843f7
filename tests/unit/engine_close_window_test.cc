// A start with the workflow id of a run whose close (or whose whole life) is not durable yet.
// The engine changes memory first and the store later (group commit); a run's close erases it
// from the open-run index at once while the store still holds its RUNNING row (or no row at all).
// These tests hold the store's commits (GatedStore) to act inside that window deterministically:
// the id-conflict check must judge on the engine's state, not on the stale committed rows, and a
// rejection that depends on a not-yet-durable close is answered only once that close is durable.
#include <future>

#include "engine_test_util.h"
#include "gated_store.h"

namespace temporalite::history::testing {
namespace {

class CloseWindowTest : public EngineTest {
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

  GatedStore* gate_ = nullptr;
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
  EXPECT_FALSE(retry.resp->started());
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

}  // namespace
}  // namespace temporalite::history::testing
