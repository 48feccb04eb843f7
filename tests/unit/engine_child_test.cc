// Engine tests for child workflows (children.cc): the StartChildWorkflowExecution command starts
// the child in the parent's transaction (Initiated + ChildStarted in the parent, parent links in
// the child), the child's close is reported to the parent, an id already in use fails the start,
// and the parent close policy (terminate, request cancel, abandon) is applied when the parent closes.
#include "engine_test_util.h"

namespace temporalite::history::testing {
namespace {

constexpr char kChildQueue[] = "child-tq";

cmdv1::Command StartChild(const std::string& wid, ev1::ParentClosePolicy policy = ev1::PARENT_CLOSE_POLICY_UNSPECIFIED) {
  cmdv1::Command c;
  c.set_command_type(ev1::COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION);
  auto* a = c.mutable_start_child_workflow_execution_command_attributes();
  a->set_workflow_id(wid);
  a->mutable_workflow_type()->set_name("ChildWorkflow");
  a->mutable_task_queue()->set_name(kChildQueue);
  *a->mutable_input() = TextPayloads("child-input-" + wid);
  a->set_parent_close_policy(policy);
  a->set_control("ctl-" + wid);
  return c;
}

class EngineChildTest : public EngineTest {
 protected:
  wsv1::PollWorkflowTaskQueueResponse PollChildQueue() {
    wsv1::PollWorkflowTaskQueueRequest req;
    req.set_namespace_(kNamespace);
    req.mutable_task_queue()->set_name(kChildQueue);
    req.set_identity("child-worker");
    auto poll = MakePoll<wsv1::PollWorkflowTaskQueueResponse>();
    engine_->PollWorkflowTaskQueue(req, poll.waiter, Sec(60));
    return Await(poll);
  }
  static const hv1::HistoryEvent* Find(const std::vector<hv1::HistoryEvent>& events, ev1::EventType t) {
    for (const auto& e : events) {
      if (e.event_type() == t) return &e;
    }
    return nullptr;
  }
};

TEST_F(EngineChildTest, ChildStartsInTheParentsTransactionAndReportsItsCompletion) {
  const std::string parent_run = StartWorkflow("parent");
  auto task = PollWft();
  ASSERT_TRUE(CompleteWft(task.task_token(), {StartChild("child-1")}).ok());

  auto parent_events = History("parent");
  EXPECT_TRUE(WellFormed(parent_events));
  EXPECT_TYPES(parent_events, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
               ev1::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
               ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  ASSERT_EQ(parent_events.size(), 7u);
  const auto& initiated = parent_events[4].start_child_workflow_execution_initiated_event_attributes();
  EXPECT_EQ(initiated.workflow_id(), "child-1");
  EXPECT_EQ(initiated.namespace_(), kNamespace);
  EXPECT_EQ(initiated.task_queue().name(), kChildQueue);
  EXPECT_EQ(initiated.parent_close_policy(), ev1::PARENT_CLOSE_POLICY_TERMINATE);  // the default
  EXPECT_EQ(initiated.workflow_task_completed_event_id(), 4);
  const auto& started = parent_events[5].child_workflow_execution_started_event_attributes();
  EXPECT_EQ(started.initiated_event_id(), 5);
  EXPECT_EQ(started.workflow_execution().workflow_id(), "child-1");
  const std::string child_run = started.workflow_execution().run_id();
  ASSERT_FALSE(child_run.empty());

  // The child is a workflow of its own, linked to its parent and root.
  auto child_task = PollChildQueue();
  EXPECT_EQ(child_task.workflow_execution().workflow_id(), "child-1");
  EXPECT_EQ(child_task.workflow_execution().run_id(), child_run);
  ASSERT_GE(child_task.history().events_size(), 1);
  const auto& child_started = child_task.history().events(0).workflow_execution_started_event_attributes();
  EXPECT_EQ(child_started.parent_workflow_execution().workflow_id(), "parent");
  EXPECT_EQ(child_started.parent_workflow_execution().run_id(), parent_run);
  EXPECT_EQ(child_started.parent_initiated_event_id(), 5);
  EXPECT_EQ(child_started.root_workflow_execution().workflow_id(), "parent");
  EXPECT_EQ(child_started.input().payloads(0).data(), "\"child-input-child-1\"");

  // The parent finishes its task; then the child completes: the parent hears of it.
  auto parent_task = PollWft();
  ASSERT_TRUE(CompleteWft(parent_task.task_token(), {}).ok());
  ASSERT_TRUE(CompleteWft(child_task.task_token(), {CompleteWorkflow("child-result")}).ok());
  Advance(Sec(0));  // the idle parent was evicted: it is told by the close's deferred step
  parent_events = History("parent");
  ASSERT_EQ(parent_events.size(), 11u) << Describe(parent_events);
  EXPECT_EQ(parent_events[9].event_type(), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED);
  const auto& done = parent_events[9].child_workflow_execution_completed_event_attributes();
  EXPECT_EQ(done.initiated_event_id(), 5);
  EXPECT_EQ(done.started_event_id(), 6);
  EXPECT_EQ(done.workflow_execution().run_id(), child_run);
  EXPECT_EQ(done.workflow_type().name(), "ChildWorkflow");
  EXPECT_EQ(done.result().payloads(0).data(), "\"child-result\"");
  EXPECT_EQ(parent_events[10].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);  // to react to it
  EXPECT_EQ(DescribeWf("child-1").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
}

TEST_F(EngineChildTest, ChildCloseDuringTheParentsStartedTaskIsBuffered) {
  StartWorkflow("parent-b");
  ASSERT_TRUE(CompleteWft(PollWft().task_token(), {StartChild("child-b")}).ok());
  auto parent_task = PollWft();  // started: the report must wait for its completion
  ASSERT_TRUE(Terminate("child-b", "operator").ok());
  EXPECT_EQ(History("parent-b").size(), 8u);  // nothing appended behind the started task
  ASSERT_TRUE(CompleteWft(parent_task.task_token(), {}).ok());
  auto events = History("parent-b");
  ASSERT_EQ(events.size(), 11u) << Describe(events);
  EXPECT_EQ(events[8].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  EXPECT_EQ(events[9].event_type(), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED);
  EXPECT_EQ(events[9].child_workflow_execution_terminated_event_attributes().initiated_event_id(), 5);
  EXPECT_EQ(events[10].event_type(), ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
}

TEST_F(EngineChildTest, ChildIdInUseFailsTheStart) {
  StartWorkflow("busy-id", [](auto& req) { req.mutable_task_queue()->set_name("elsewhere"); });
  StartWorkflow("parent-dup");
  ASSERT_TRUE(CompleteWft(PollWft().task_token(), {StartChild("busy-id")}).ok());
  auto events = History("parent-dup");
  const hv1::HistoryEvent* failed = Find(events, ev1::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED);
  ASSERT_NE(failed, nullptr) << Describe(events);
  const auto& a = failed->start_child_workflow_execution_failed_event_attributes();
  EXPECT_EQ(a.cause(), ev1::START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS);
  EXPECT_EQ(a.initiated_event_id(), 5);
  EXPECT_EQ(a.workflow_id(), "busy-id");
  EXPECT_EQ(Find(events, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED), nullptr);
  // The running workflow with that id is untouched.
  EXPECT_TRUE(DescribeWf("busy-id").workflow_execution_info().parent_execution().workflow_id().empty());
}

TEST_F(EngineChildTest, ParentClosePolicyAppliesToEachChild) {
  StartWorkflow("parent-p");
  ASSERT_TRUE(CompleteWft(PollWft().task_token(),
                          {StartChild("c-term", ev1::PARENT_CLOSE_POLICY_TERMINATE),
                           StartChild("c-cancel", ev1::PARENT_CLOSE_POLICY_REQUEST_CANCEL),
                           StartChild("c-abandon", ev1::PARENT_CLOSE_POLICY_ABANDON)})
                  .ok());
  ASSERT_TRUE(CompleteWft(PollWft().task_token(), {CompleteWorkflow("parent-done")}).ok());
  Barrier();

  EXPECT_EQ(DescribeWf("c-term").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  auto term = History("c-term");
  ASSERT_FALSE(term.empty());
  EXPECT_EQ(term.back().event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED);
  EXPECT_EQ(term.back().workflow_execution_terminated_event_attributes().reason(), "by parent close policy");

  EXPECT_EQ(DescribeWf("c-cancel").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  auto cancel = History("c-cancel");
  const hv1::HistoryEvent* requested = Find(cancel, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
  ASSERT_NE(requested, nullptr) << Describe(cancel);
  EXPECT_EQ(requested->workflow_execution_cancel_requested_event_attributes().cause(), "by parent close policy");

  EXPECT_EQ(DescribeWf("c-abandon").workflow_execution_info().status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(Find(History("c-abandon"), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED), nullptr);
}

}  // namespace
}  // namespace temporalite::history::testing
