// The external-command unit (history/external.h) over its narrow interface: runs built by hand, a
// SimClock, and a TestEngineContext (test_engine_context.h) that finds runs and delivers signals
// instead of a whole engine. The engine-level behaviour is engine_commands_test.cc's and the
// node compat tests' (external.test.js).
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "execution_test_util.h"
#include "history/execution.h"
#include "history/external.h"
#include "history/txn.h"
#include "test_engine_context.h"

namespace temporalite::history {
namespace {

namespace cmdv1 = ::temporal::api::command::v1;

constexpr char kNsId[] = "ns-id";
constexpr char kNs[] = "default";

cmdv1::SignalExternalWorkflowExecutionCommandAttributes SignalCommand(const std::string& workflow_id) {
  cmdv1::SignalExternalWorkflowExecutionCommandAttributes c;
  c.mutable_execution()->set_workflow_id(workflow_id);
  c.set_signal_name("ping");
  c.mutable_input()->add_payloads()->set_data("hello");
  c.set_control("ctl");
  return c;
}

cmdv1::RequestCancelExternalWorkflowExecutionCommandAttributes CancelCommand(const std::string& workflow_id) {
  cmdv1::RequestCancelExternalWorkflowExecutionCommandAttributes c;
  c.set_workflow_id(workflow_id);
  c.set_reason("no longer needed");
  c.set_control("ctl");
  return c;
}

class ExternalCommandsTest : public ::testing::Test {
 protected:
  ExternalCommandsTest() : clock_(TimePoint(std::chrono::seconds(1704067200))), context_(clock_, mu_) {
    context_.namespace_names[kNsId] = kNs;
    testing::InitRun(src_, kNsId, "source", "source-run", clock_.Now());
    testing::InitRun(target_, kNsId, "target", "target-run", clock_.Now());
    context_.runs[src_.st().run_id()] = &src_;
    context_.runs[target_.st().run_id()] = &target_;
  }

  // In a completion whose WorkflowTaskCompleted is event 1 (a stand-in). Returns need_wft.
  bool Signal(const cmdv1::SignalExternalWorkflowExecutionCommandAttributes& c, bool source_closes = false) {
    MutexLock l(mu_);
    Txn txn;
    bool need_wft = false;
    external_.Signal(txn, src_, c, 1, source_closes, &need_wft);
    return need_wft;
  }
  bool Cancel(const cmdv1::RequestCancelExternalWorkflowExecutionCommandAttributes& c) {
    MutexLock l(mu_);
    Txn txn;
    bool need_wft = false;
    external_.RequestCancel(txn, src_, c, 1, false, &need_wft);
    return need_wft;
  }
  const hv1::HistoryEvent& Last() const { return src_.events.back(); }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  ExternalCommands external_{context_};
  Execution src_;
  Execution target_;
};

TEST_F(ExternalCommandsTest, SignalReachesTheTargetAndIsRecordedInTheSource) {
  EXPECT_TRUE(Signal(SignalCommand("target")));
  ASSERT_EQ(src_.events.size(), 3u);
  EXPECT_EQ(src_.events[1].event_type(), ev1::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED);
  EXPECT_EQ(src_.events[1].signal_external_workflow_execution_initiated_event_attributes().namespace_(), kNs);
  ASSERT_EQ(Last().event_type(), ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED);
  EXPECT_EQ(Last().external_workflow_execution_signaled_event_attributes().initiated_event_id(), 2);
  EXPECT_EQ(Last().external_workflow_execution_signaled_event_attributes().workflow_execution().workflow_id(), "target");
  ASSERT_EQ(target_.events.size(), 2u);
  const auto& signaled = target_.events[1].workflow_execution_signaled_event_attributes();
  EXPECT_EQ(signaled.signal_name(), "ping");
  EXPECT_EQ(signaled.input().payloads(0).data(), "hello");
  EXPECT_EQ(signaled.identity(), "history-service");
  EXPECT_EQ(signaled.external_workflow_execution().run_id(), "source-run");
}

TEST_F(ExternalCommandsTest, SignalToAMissingWorkflowFails) {
  EXPECT_TRUE(Signal(SignalCommand("nobody")));
  ASSERT_EQ(src_.events.size(), 3u);
  ASSERT_EQ(Last().event_type(), ev1::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED);
  const auto& f = Last().signal_external_workflow_execution_failed_event_attributes();
  EXPECT_EQ(f.cause(), ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  EXPECT_EQ(f.initiated_event_id(), 2);
  EXPECT_EQ(f.workflow_execution().workflow_id(), "nobody");
  EXPECT_EQ(f.control(), "ctl");
}

TEST_F(ExternalCommandsTest, SignalToAClosedWorkflowOrToItselfOrAnUnknownNamespaceFails) {
  target_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  Signal(SignalCommand("target"));
  EXPECT_EQ(Last().signal_external_workflow_execution_failed_event_attributes().cause(),
            ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  Signal(SignalCommand("source"));
  EXPECT_EQ(Last().signal_external_workflow_execution_failed_event_attributes().cause(),
            ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  auto other_ns = SignalCommand("target");
  other_ns.set_namespace_("missing-ns");
  Signal(other_ns);
  EXPECT_EQ(Last().signal_external_workflow_execution_failed_event_attributes().cause(),
            ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_NAMESPACE_NOT_FOUND);
  EXPECT_EQ(target_.events.size(), 1u);
}

TEST_F(ExternalCommandsTest, SignalOverTheTargetsLimitFails) {
  context_.signal_limit_reached = true;
  Signal(SignalCommand("target"));
  EXPECT_EQ(Last().signal_external_workflow_execution_failed_event_attributes().cause(),
            ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_SIGNAL_COUNT_LIMIT_EXCEEDED);
}

TEST_F(ExternalCommandsTest, ChildWorkflowOnlySignalToANonChildFails) {
  auto c = SignalCommand("target");
  c.set_child_workflow_only(true);
  Signal(c);
  EXPECT_EQ(Last().event_type(), ev1::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED);
  EditState(target_, [&](state::ExecutionState& s) {
    s.set_parent_workflow_id("source");
    s.set_parent_run_id("source-run");
  });
  Signal(c);
  EXPECT_EQ(Last().event_type(), ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED);
}

TEST_F(ExternalCommandsTest, ACommandOfAClosingSourceDeliversNothing) {
  EXPECT_FALSE(Signal(SignalCommand("target"), /*source_closes=*/true));
  ASSERT_EQ(src_.events.size(), 2u);
  EXPECT_EQ(Last().event_type(), ev1::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED);
  EXPECT_EQ(target_.events.size(), 1u);
}

TEST_F(ExternalCommandsTest, CancelAsksTheTargetOnceAndIsRecordedInTheSource) {
  EXPECT_TRUE(Cancel(CancelCommand("target")));
  ASSERT_EQ(src_.events.size(), 3u);
  EXPECT_EQ(src_.events[1].event_type(), ev1::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED);
  EXPECT_EQ(src_.events[1].request_cancel_external_workflow_execution_initiated_event_attributes().reason(),
            "no longer needed");
  ASSERT_EQ(Last().event_type(), ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
  EXPECT_EQ(Last().external_workflow_execution_cancel_requested_event_attributes().initiated_event_id(), 2);
  EXPECT_TRUE(target_.st().cancel_requested());
  ASSERT_EQ(target_.events.size(), 2u);
  const auto& requested = target_.events[1].workflow_execution_cancel_requested_event_attributes();
  EXPECT_EQ(target_.events[1].event_type(), ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
  EXPECT_EQ(requested.cause(), "no longer needed");
  EXPECT_EQ(requested.external_initiated_event_id(), 2);
  EXPECT_EQ(requested.external_workflow_execution().run_id(), "source-run");
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);  // the target's

  Cancel(CancelCommand("target"));  // a repeated request succeeds without a second event
  EXPECT_EQ(Last().event_type(), ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
  EXPECT_EQ(target_.events.size(), 2u);
  EXPECT_EQ(context_.workflow_tasks_scheduled, 1);
}

TEST_F(ExternalCommandsTest, CancelOfAClosedRunSucceedsWithoutTouchingIt) {
  target_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  Cancel(CancelCommand("target"));
  EXPECT_EQ(Last().event_type(), ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
  EXPECT_FALSE(target_.st().cancel_requested());
  EXPECT_EQ(target_.events.size(), 1u);
}

TEST_F(ExternalCommandsTest, CancelOfAMissingOrNonChildOrOwnWorkflowFails) {
  EXPECT_TRUE(Cancel(CancelCommand("nobody")));
  ASSERT_EQ(Last().event_type(), ev1::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED);
  const auto& f = Last().request_cancel_external_workflow_execution_failed_event_attributes();
  EXPECT_EQ(f.cause(), ev1::CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  EXPECT_EQ(f.initiated_event_id(), 2);
  EXPECT_EQ(f.workflow_execution().workflow_id(), "nobody");

  auto child_only = CancelCommand("target");
  child_only.set_child_workflow_only(true);
  Cancel(child_only);
  EXPECT_EQ(Last().request_cancel_external_workflow_execution_failed_event_attributes().cause(),
            ev1::CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  Cancel(CancelCommand("source"));
  EXPECT_EQ(Last().event_type(), ev1::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED);
  auto other_ns = CancelCommand("target");
  other_ns.set_namespace_("missing-ns");
  Cancel(other_ns);
  EXPECT_EQ(Last().request_cancel_external_workflow_execution_failed_event_attributes().cause(),
            ev1::CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_NAMESPACE_NOT_FOUND);
  EXPECT_FALSE(target_.st().cancel_requested());
}

}  // namespace
}  // namespace temporalite::history
