// The child-workflow unit (history/children.h) over its narrow interface: runs built by hand, a
// SimClock, and a TestEngineContext (test_engine_context.h) that starts child runs, terminates and
// records what the unit asked of the engine, instead of a whole engine. The engine-level behaviour
// (a worker's commands, the store) is engine_child_test.cc's.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "execution_test_util.h"
#include "history/children.h"
#include "history/execution.h"
#include "history/txn.h"
#include "test_engine_context.h"

namespace temporalite::history {
namespace {

namespace cmdv1 = ::temporal::api::command::v1;

constexpr char kNsId[] = "ns-id";
constexpr char kNs[] = "default";

cmdv1::StartChildWorkflowExecutionCommandAttributes ChildCommand(
    const std::string& workflow_id, ev1::ParentClosePolicy policy = ev1::PARENT_CLOSE_POLICY_UNSPECIFIED) {
  cmdv1::StartChildWorkflowExecutionCommandAttributes c;
  c.set_workflow_id(workflow_id);
  c.mutable_workflow_type()->set_name("ChildWorkflow");
  c.mutable_input()->add_payloads()->set_data("in-" + workflow_id);
  c.set_parent_close_policy(policy);
  c.set_control("ctl");
  return c;
}

class ChildWorkflowsTest : public ::testing::Test {
 protected:
  ChildWorkflowsTest() : clock_(TimePoint(std::chrono::seconds(1704067200))), context_(clock_, mu_) {
    context_.namespace_names[kNsId] = kNs;
    testing::InitRun(parent_, kNsId, "parent", "parent-run", clock_.Now());
    context_.runs[parent_.st().run_id()] = &parent_;
  }

  // The command applied in a completion whose WorkflowTaskCompleted is event 1 (a stand-in).
  Execution* Start(const cmdv1::StartChildWorkflowExecutionCommandAttributes& c, bool* need_wft = nullptr) {
    MutexLock l(mu_);
    Txn txn;
    bool need = false;
    children_.Start(txn, parent_, c, 1, &need);
    if (need_wft) *need_wft = need;
    return context_.LoadedRun(c.workflow_id() + "-run");
  }
  // Closes `child` with a close event of `type` (`fill` sets its attributes) and reports it.
  template <typename Fill>
  void CloseAndReport(Execution& child, ev1::WorkflowExecutionStatus status, ev1::EventType type, Fill fill) {
    MutexLock l(mu_);
    child.SetCloseStatus(status);
    fill(child.AddEvent(type, clock_.Now()));
    Txn txn;
    children_.ReportClosed(txn, child);
  }
  const hv1::HistoryEvent& Last() const { return parent_.events.back(); }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  ChildWorkflows children_{context_};
  Execution parent_;
};

TEST_F(ChildWorkflowsTest, StartCreatesTheChildAndRecordsItInTheParent) {
  bool need_wft = false;
  Execution* child = Start(ChildCommand("child-1"), &need_wft);
  ASSERT_NE(child, nullptr);
  EXPECT_TRUE(need_wft);
  ASSERT_EQ(parent_.events.size(), 3u);
  const auto& initiated = parent_.events[1].start_child_workflow_execution_initiated_event_attributes();
  EXPECT_EQ(parent_.events[1].event_type(), ev1::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED);
  EXPECT_EQ(initiated.namespace_(), kNs);
  EXPECT_EQ(initiated.namespace_id(), kNsId);
  EXPECT_EQ(initiated.task_queue().name(), "parent-tq");  // the parent's queue by default
  EXPECT_EQ(initiated.parent_close_policy(), ev1::PARENT_CLOSE_POLICY_TERMINATE);
  EXPECT_EQ(initiated.workflow_task_completed_event_id(), 1);
  const auto& started = parent_.events[2].child_workflow_execution_started_event_attributes();
  EXPECT_EQ(parent_.events[2].event_type(), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED);
  EXPECT_EQ(started.initiated_event_id(), 2);
  EXPECT_EQ(started.workflow_execution().run_id(), "child-1-run");

  ASSERT_EQ(context_.started_children.size(), 1u);
  const auto& a = context_.started_children[0].attrs;
  EXPECT_EQ(a.parent_workflow_namespace(), kNs);
  EXPECT_EQ(a.parent_workflow_execution().workflow_id(), "parent");
  EXPECT_EQ(a.parent_workflow_execution().run_id(), "parent-run");
  EXPECT_EQ(a.parent_initiated_event_id(), 2);
  EXPECT_EQ(a.root_workflow_execution().workflow_id(), "parent");
  EXPECT_EQ(a.input().payloads(0).data(), "in-child-1");
  const auto pending = parent_.st().children().find(2);
  ASSERT_NE(pending, parent_.st().children().end());
  EXPECT_EQ(pending->second.run_id(), "child-1-run");
  EXPECT_EQ(pending->second.parent_close_policy(), ev1::PARENT_CLOSE_POLICY_TERMINATE);
}

TEST_F(ChildWorkflowsTest, StartOfARunningWorkflowIdFails) {
  Execution running;
  testing::InitRun(running, kNsId, "child-1", "other-run", clock_.Now());
  context_.runs[running.st().run_id()] = &running;
  bool need_wft = false;
  EXPECT_EQ(Start(ChildCommand("child-1"), &need_wft), nullptr);
  EXPECT_TRUE(need_wft);
  ASSERT_EQ(parent_.events.size(), 3u);
  ASSERT_EQ(Last().event_type(), ev1::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED);
  const auto& f = Last().start_child_workflow_execution_failed_event_attributes();
  EXPECT_EQ(f.cause(), ev1::START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS);
  EXPECT_EQ(f.initiated_event_id(), 2);
  EXPECT_EQ(f.workflow_id(), "child-1");
  EXPECT_TRUE(parent_.st().children().empty());
  EXPECT_TRUE(context_.started_children.empty());
}

TEST_F(ChildWorkflowsTest, CompletionReachesTheParentWithItsResult) {
  Execution* child = Start(ChildCommand("child-1"));
  ASSERT_NE(child, nullptr);
  CloseAndReport(*child, ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
                 [](hv1::HistoryEvent* e) {
                   e->mutable_workflow_execution_completed_event_attributes()->mutable_result()->add_payloads()->set_data(
                       "done");
                 });
  ASSERT_EQ(Last().event_type(), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED);
  const auto& a = Last().child_workflow_execution_completed_event_attributes();
  EXPECT_EQ(a.result().payloads(0).data(), "done");
  EXPECT_EQ(a.initiated_event_id(), 2);
  EXPECT_EQ(a.started_event_id(), 3);
  EXPECT_EQ(a.workflow_execution().run_id(), "child-1-run");
  EXPECT_EQ(a.namespace_(), kNs);
  EXPECT_TRUE(parent_.st().children().empty());
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
}

TEST_F(ChildWorkflowsTest, FailureReachesTheParentWithFailureAndRetryState) {
  Execution* child = Start(ChildCommand("child-1"));
  ASSERT_NE(child, nullptr);
  CloseAndReport(*child, ev1::WORKFLOW_EXECUTION_STATUS_FAILED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
                 [](hv1::HistoryEvent* e) {
                   auto* f = e->mutable_workflow_execution_failed_event_attributes();
                   f->mutable_failure()->set_message("boom");
                   f->set_retry_state(ev1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
                 });
  ASSERT_EQ(Last().event_type(), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED);
  const auto& a = Last().child_workflow_execution_failed_event_attributes();
  EXPECT_EQ(a.failure().message(), "boom");
  EXPECT_EQ(a.retry_state(), ev1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
  EXPECT_EQ(a.started_event_id(), 3);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
}

TEST_F(ChildWorkflowsTest, TerminationReachesTheParent) {
  Execution* child = Start(ChildCommand("child-1"));
  ASSERT_NE(child, nullptr);
  CloseAndReport(*child, ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
                 [](hv1::HistoryEvent*) {});
  ASSERT_EQ(Last().event_type(), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED);
  EXPECT_EQ(Last().child_workflow_execution_terminated_event_attributes().initiated_event_id(), 2);
  EXPECT_EQ(Last().child_workflow_execution_terminated_event_attributes().started_event_id(), 3);
  EXPECT_TRUE(parent_.st().children().empty());
}

TEST_F(ChildWorkflowsTest, TimeoutReachesTheParentWithItsRetryState) {
  Execution* child = Start(ChildCommand("child-1"));
  ASSERT_NE(child, nullptr);
  clock_.Advance(std::chrono::seconds(30));
  CloseAndReport(*child, ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
                 [](hv1::HistoryEvent* e) {
                   e->mutable_workflow_execution_timed_out_event_attributes()->set_retry_state(
                       ev1::RETRY_STATE_TIMEOUT);
                 });
  ASSERT_EQ(Last().event_type(), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT);
  EXPECT_EQ(Last().child_workflow_execution_timed_out_event_attributes().retry_state(), ev1::RETRY_STATE_TIMEOUT);
  EXPECT_EQ(Last().event_time().seconds(), 1704067200 + 30);  // the SimClock's time of the report
}

TEST_F(ChildWorkflowsTest, ReportWhileTheParentsTaskRunsIsBufferedWithoutANewTask) {
  Execution* child = Start(ChildCommand("child-1"));
  ASSERT_NE(child, nullptr);
  parent_.SetWorkflowTaskScheduledEventId(4);
  parent_.SetWorkflowTaskStartedEventId(5);
  const size_t before = parent_.events.size();
  CloseAndReport(*child, ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
                 [](hv1::HistoryEvent*) {});
  EXPECT_EQ(parent_.events.size(), before);  // buffered behind the running task
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);
  EXPECT_TRUE(parent_.st().children().empty());
}

TEST_F(ChildWorkflowsTest, AResetRunOfTheParentThatAdoptedTheChildGetsTheReport) {
  Execution* child = Start(ChildCommand("child-1"));
  ASSERT_NE(child, nullptr);
  // The parent run closes (a reset); the new run's history prefix initiated the same child.
  Execution reset_run;
  testing::InitRun(reset_run, kNsId, "parent", "parent-reset-run", clock_.Now());
  reset_run.AddChild(parent_.st().children().at(2));
  parent_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  context_.runs[reset_run.st().run_id()] = &reset_run;
  const size_t closed_parent_events = parent_.events.size();
  CloseAndReport(*child, ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
                 [](hv1::HistoryEvent*) {});
  EXPECT_EQ(parent_.events.size(), closed_parent_events);
  ASSERT_EQ(reset_run.events.back().event_type(), ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED);
  EXPECT_TRUE(reset_run.st().children().empty());
}

TEST_F(ChildWorkflowsTest, AClosedParentWithoutAnAdopterIsNotTold) {
  Execution* child = Start(ChildCommand("child-1"));
  ASSERT_NE(child, nullptr);
  parent_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  const size_t before = parent_.events.size();
  CloseAndReport(*child, ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
                 [](hv1::HistoryEvent*) {});
  EXPECT_EQ(parent_.events.size(), before);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 0);
}

TEST_F(ChildWorkflowsTest, ParentClosePolicyTerminatesCancelsOrAbandonsEachChild) {
  Execution* terminated = Start(ChildCommand("child-terminate", ev1::PARENT_CLOSE_POLICY_TERMINATE));
  Execution* cancelled = Start(ChildCommand("child-cancel", ev1::PARENT_CLOSE_POLICY_REQUEST_CANCEL));
  Execution* abandoned = Start(ChildCommand("child-abandon", ev1::PARENT_CLOSE_POLICY_ABANDON));
  ASSERT_TRUE(terminated && cancelled && abandoned);
  std::vector<state::ChildInfo> pending;
  for (const auto& [id, ci] : parent_.st().children()) pending.push_back(ci);
  ASSERT_EQ(pending.size(), 3u);
  {
    MutexLock l(mu_);
    Txn txn;
    children_.ApplyParentClosePolicy(txn, pending);
    children_.ApplyParentClosePolicy(txn, pending);  // a second request to cancel adds nothing
  }
  EXPECT_EQ(context_.terminated, std::vector<std::string>{"child-terminate-run: by parent close policy"});
  EXPECT_TRUE(cancelled->st().cancel_requested());
  ASSERT_EQ(cancelled->events.size(), 2u);
  EXPECT_EQ(cancelled->events[1].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
  EXPECT_EQ(cancelled->events[1].workflow_execution_cancel_requested_event_attributes().cause(),
            "by parent close policy");
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);  // the cancelled child's
  EXPECT_TRUE(abandoned->open());
  EXPECT_FALSE(abandoned->st().cancel_requested());
  EXPECT_EQ(abandoned->events.size(), 1u);
}

}  // namespace
}  // namespace temporalite::history
