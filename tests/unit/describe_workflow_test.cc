// DescribeWorkflowExecution's answer as a pure function of a hand-built run
// (history/describe_workflow.h). The RPC itself (the run found open, evicted or closed, the reply
// after durability, Temporal's errors) is engine_test.cc's and tests/compat's.
#include <chrono>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "history/describe_workflow.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "execution_test_util.h"

namespace temporalite::history {
namespace {

namespace ev1 = ::temporal::api::enums::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;
using std::chrono::seconds;

const TimePoint kStart = TimePoint(std::chrono::hours(24 * 20000));

class DescribeWorkflowTest : public ::testing::Test {
 protected:
  DescribeWorkflowTest() {
    EditState(run_, [](state::ExecutionState& st) {
      st.set_namespace_id("ns-id");
      st.set_workflow_id("wf");
      st.set_run_id("run-1");
      st.set_first_execution_run_id("run-0");
      st.set_workflow_type("Ingest");
      st.set_task_queue("tq");
      st.set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
      *st.mutable_start_time() = ToProto(kStart);
      *st.mutable_execution_time() = ToProto(kStart + seconds(5));
      st.set_next_event_id(8);
      st.set_history_size_bytes(1234);
      *st.mutable_workflow_task_timeout() = ToProtoDuration(seconds(10));
      *st.mutable_run_timeout() = ToProtoDuration(seconds(60));
    });
  }
  wsv1::DescribeWorkflowExecutionResponse Describe(const std::string& parent_namespace_id = "") {
    wsv1::DescribeWorkflowExecutionResponse resp;
    DescribeRun(run_, parent_namespace_id, &resp);
    return resp;
  }
  Execution run_;
};

TEST_F(DescribeWorkflowTest, AnOpenRunsInfoAndConfig) {
  auto resp = Describe();
  const auto& info = resp.workflow_execution_info();
  EXPECT_EQ(info.execution().workflow_id(), "wf");
  EXPECT_EQ(info.execution().run_id(), "run-1");
  EXPECT_EQ(info.type().name(), "Ingest");
  EXPECT_EQ(info.status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(FromProto(info.start_time()), kStart);
  EXPECT_EQ(FromProto(info.execution_time()), kStart + seconds(5));
  EXPECT_FALSE(info.has_close_time());
  EXPECT_FALSE(info.has_execution_duration());
  EXPECT_EQ(info.history_length(), 7);
  EXPECT_EQ(info.history_size_bytes(), 1234);
  EXPECT_EQ(info.first_run_id(), "run-0");
  EXPECT_EQ(info.task_queue(), "tq");
  // A top-level workflow is its own root; no parent.
  EXPECT_EQ(info.root_execution().workflow_id(), "wf");
  EXPECT_EQ(info.root_execution().run_id(), "run-1");
  EXPECT_FALSE(info.has_parent_execution());
  const auto& cfg = resp.execution_config();
  EXPECT_EQ(cfg.task_queue().name(), "tq");
  EXPECT_EQ(cfg.task_queue().kind(), ev1::TASK_QUEUE_KIND_NORMAL);
  EXPECT_EQ(FromProto(cfg.workflow_run_timeout()), seconds(60));
  EXPECT_FALSE(cfg.has_workflow_execution_timeout());  // unset stays absent, as in Temporal
  EXPECT_EQ(FromProto(cfg.default_workflow_task_timeout()), seconds(10));
  EXPECT_FALSE(resp.has_pending_workflow_task());
  EXPECT_EQ(resp.pending_activities_size(), 0);
  EXPECT_EQ(resp.pending_children_size(), 0);
}

TEST_F(DescribeWorkflowTest, AClosedRunHasItsCloseTimeAndDurationFromItsExecutionTime) {
  EditState(run_, [](state::ExecutionState& st) {
    st.set_status(ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
    *st.mutable_close_time() = ToProto(kStart + seconds(65));
  });
  auto info = Describe().workflow_execution_info();
  EXPECT_EQ(info.status(), ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  EXPECT_EQ(FromProto(info.close_time()), kStart + seconds(65));
  EXPECT_EQ(FromProto(info.execution_duration()), seconds(60));
}

TEST_F(DescribeWorkflowTest, AChildNamesItsParentAndRoot) {
  EditState(run_, [](state::ExecutionState& st) {
    st.set_parent_workflow_id("parent");
    st.set_parent_run_id("parent-run");
    st.set_parent_namespace("default");
    st.set_root_workflow_id("root");
    st.set_root_run_id("root-run");
  });
  auto info = Describe("parent-ns-id").workflow_execution_info();
  EXPECT_EQ(info.parent_execution().workflow_id(), "parent");
  EXPECT_EQ(info.parent_execution().run_id(), "parent-run");
  EXPECT_EQ(info.parent_namespace_id(), "parent-ns-id");
  EXPECT_EQ(info.root_execution().workflow_id(), "root");
  EXPECT_EQ(info.root_execution().run_id(), "root-run");
  EXPECT_TRUE(Describe("").workflow_execution_info().parent_namespace_id().empty());
}

TEST_F(DescribeWorkflowTest, PendingActivitiesWithTheirStateAttemptsAndRetryFields) {
  EditState(run_, [](state::ExecutionState& st) {
    state::ActivityInfo scheduled;
    scheduled.set_scheduled_event_id(5);
    scheduled.set_activity_id("a-scheduled");
    scheduled.set_activity_type("Fetch");
    scheduled.set_attempt(1);
    *scheduled.mutable_scheduled_time() = ToProto(kStart + seconds(1));
    *scheduled.mutable_current_attempt_scheduled_time() = ToProto(kStart + seconds(1));
    *scheduled.mutable_schedule_to_close_timeout() = ToProtoDuration(seconds(30));
    (*st.mutable_activities())[5] = scheduled;

    state::ActivityInfo started = scheduled;
    started.set_scheduled_event_id(6);
    started.set_activity_id("a-started");
    started.clear_schedule_to_close_timeout();
    started.set_started(true);
    *started.mutable_started_time() = ToProto(kStart + seconds(2));
    *started.mutable_last_heartbeat_time() = ToProto(kStart + seconds(3));
    started.mutable_heartbeat_details()->add_payloads()->set_data("42");
    started.set_last_worker_identity("worker-1");
    (*st.mutable_activities())[6] = started;

    state::ActivityInfo retrying = scheduled;
    retrying.set_scheduled_event_id(7);
    retrying.set_activity_id("a-retrying");
    retrying.set_attempt(3);
    retrying.mutable_retry_policy()->set_maximum_attempts(5);
    *retrying.mutable_current_attempt_scheduled_time() = ToProto(kStart + seconds(9));
    retrying.mutable_last_failure()->set_message("boom");
    *retrying.mutable_last_attempt_complete_time() = ToProto(kStart + seconds(4));
    (*st.mutable_activities())[7] = retrying;
  });
  run_.RequestActivityCancel(5, 8);
  auto resp = Describe();
  ASSERT_EQ(resp.pending_activities_size(), 3);
  std::map<std::string, temporal::api::workflow::v1::PendingActivityInfo> by_id;
  for (const auto& pa : resp.pending_activities()) by_id[pa.activity_id()] = pa;
  const auto& c = by_id.at("a-scheduled");
  EXPECT_EQ(c.state(), ev1::PENDING_ACTIVITY_STATE_CANCEL_REQUESTED);
  EXPECT_EQ(c.activity_type().name(), "Fetch");
  EXPECT_EQ(FromProto(c.expiration_time()), kStart + seconds(31));  // scheduled + schedule-to-close
  EXPECT_FALSE(c.has_last_started_time());
  EXPECT_FALSE(c.has_next_attempt_schedule_time());  // first attempt
  const auto& s = by_id.at("a-started");
  EXPECT_EQ(s.state(), ev1::PENDING_ACTIVITY_STATE_STARTED);
  EXPECT_EQ(FromProto(s.last_started_time()), kStart + seconds(2));
  EXPECT_EQ(FromProto(s.last_heartbeat_time()), kStart + seconds(3));
  EXPECT_EQ(s.heartbeat_details().payloads(0).data(), "42");
  EXPECT_EQ(s.last_worker_identity(), "worker-1");
  EXPECT_FALSE(s.has_expiration_time());
  const auto& r = by_id.at("a-retrying");
  EXPECT_EQ(r.state(), ev1::PENDING_ACTIVITY_STATE_SCHEDULED);
  EXPECT_EQ(r.attempt(), 3);
  EXPECT_EQ(r.maximum_attempts(), 5);
  EXPECT_EQ(r.last_failure().message(), "boom");
  EXPECT_EQ(FromProto(r.last_attempt_complete_time()), kStart + seconds(4));
  EXPECT_EQ(FromProto(r.scheduled_time()), kStart + seconds(9));
  EXPECT_EQ(FromProto(r.next_attempt_schedule_time()), kStart + seconds(9));
}

TEST_F(DescribeWorkflowTest, PendingChildrenAndThePendingWorkflowTask) {
  state::ChildInfo child;
  child.set_initiated_event_id(5);
  child.set_workflow_id("child");
  child.set_run_id("child-run");
  child.set_workflow_type("Sub");
  child.set_parent_close_policy(ev1::PARENT_CLOSE_POLICY_ABANDON);
  run_.AddChild(child);
  EditState(run_, [](state::ExecutionState& st) {
    st.mutable_wft()->set_attempt(2);
    *st.mutable_wft()->mutable_scheduled_time() = ToProto(kStart + seconds(6));
  });
  run_.SetWorkflowTaskScheduledEventId(6);
  auto resp = Describe();
  ASSERT_EQ(resp.pending_children_size(), 1);
  EXPECT_EQ(resp.pending_children(0).workflow_id(), "child");
  EXPECT_EQ(resp.pending_children(0).run_id(), "child-run");
  EXPECT_EQ(resp.pending_children(0).workflow_type_name(), "Sub");
  EXPECT_EQ(resp.pending_children(0).initiated_id(), 5);
  EXPECT_EQ(resp.pending_children(0).parent_close_policy(), ev1::PARENT_CLOSE_POLICY_ABANDON);
  ASSERT_TRUE(resp.has_pending_workflow_task());
  EXPECT_EQ(resp.pending_workflow_task().state(), ev1::PENDING_WORKFLOW_TASK_STATE_SCHEDULED);
  EXPECT_EQ(resp.pending_workflow_task().attempt(), 2);
  EXPECT_EQ(FromProto(resp.pending_workflow_task().scheduled_time()), kStart + seconds(6));
  EXPECT_FALSE(resp.pending_workflow_task().has_started_time());

  EditState(run_, [](state::ExecutionState& st) { *st.mutable_wft()->mutable_started_time() = ToProto(kStart + seconds(7)); });
  run_.SetWorkflowTaskStartedEventId(7);
  resp = Describe();
  EXPECT_EQ(resp.pending_workflow_task().state(), ev1::PENDING_WORKFLOW_TASK_STATE_STARTED);
  EXPECT_EQ(FromProto(resp.pending_workflow_task().started_time()), kStart + seconds(7));
  // A closed run has no pending workflow task to describe.
  run_.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  EXPECT_FALSE(Describe().has_pending_workflow_task());
}

TEST_F(DescribeWorkflowTest, PriorityAndUserMetadata) {
  EditState(run_, [](state::ExecutionState& st) {
    st.mutable_priority()->set_priority_key(3);
    st.mutable_user_metadata()->mutable_summary()->set_data("\"nightly\"");
  });
  auto resp = Describe();
  EXPECT_EQ(resp.workflow_execution_info().priority().priority_key(), 3);
  EXPECT_EQ(resp.execution_config().user_metadata().summary().data(), "\"nightly\"");
}

}  // namespace
}  // namespace temporalite::history
