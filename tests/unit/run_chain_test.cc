// Run chains as pure decisions (history/run_chain.h): the next run after a workflow retry, a cron
// tick, a run timeout and continue-as-new, on hand-built runs at fixed times. That the engine
// creates these runs in the closing transaction is engine_test.cc's (retry, cron and
// continue-as-new through workflow-task completions and run timeouts).
#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/run_chain.h"
#include "execution_test_util.h"

namespace temporalite::history {
namespace {

namespace cv1 = ::temporal::api::common::v1;
namespace fv1 = ::temporal::api::failure::v1;
namespace cmdv1 = ::temporal::api::command::v1;
namespace ev1 = ::temporal::api::enums::v1;
using std::chrono::seconds;

const TimePoint kNow = TimePoint(std::chrono::hours(24 * 20000));

cv1::Payloads Payload(const std::string& data) {
  cv1::Payloads p;
  p.add_payloads()->set_data(data);
  return p;
}

fv1::Failure AppFailure(const std::string& type, bool non_retryable = false) {
  fv1::Failure f;
  f.set_message("boom");
  f.mutable_application_failure_info()->set_type(type);
  f.mutable_application_failure_info()->set_non_retryable(non_retryable);
  return f;
}

class RunChainTest : public ::testing::Test {
 protected:
  RunChainTest() {
    auto* started = run_.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, kNow);
    auto* a = started->mutable_workflow_execution_started_event_attributes();
    a->mutable_workflow_type()->set_name("Ingest");
    a->mutable_task_queue()->set_name("tq");
    *a->mutable_input() = Payload("in");
    *a->mutable_workflow_task_timeout() = ToProtoDuration(seconds(10));
    *a->mutable_workflow_run_timeout() = ToProtoDuration(seconds(60));
    a->set_identity("starter");
    a->mutable_priority()->set_priority_key(2);
    EditState(run_, [](state::ExecutionState& st) {
      st.set_namespace_id("ns-id");
      st.set_workflow_id("wf");
      st.set_run_id("run-1");
      st.set_first_execution_run_id("run-0");
      st.set_attempt(1);
      (*st.mutable_memo()->mutable_fields())["m"] = Payload("memo").payloads(0);
      (*st.mutable_search_attributes()->mutable_indexed_fields())["CustomKeywordField"] = Payload("\"k\"").payloads(0);
    });
  }
  // A retry policy on the first event (0 fields: Temporal's defaults).
  void SetRetryPolicy(seconds initial, double coefficient, int32_t max_attempts, seconds max_interval = seconds(0)) {
    auto* p = run_.events[0].mutable_workflow_execution_started_event_attributes()->mutable_retry_policy();
    if (initial.count()) *p->mutable_initial_interval() = ToProtoDuration(initial);
    p->set_backoff_coefficient(coefficient);
    p->set_maximum_attempts(max_attempts);
    if (max_interval.count()) *p->mutable_maximum_interval() = ToProtoDuration(max_interval);
  }
  void SetAttempt(int32_t attempt) {
    EditState(run_, [attempt](state::ExecutionState& st) { st.set_attempt(attempt); });
  }
  void SetCron(const std::string& cron) {
    run_.events[0].mutable_workflow_execution_started_event_attributes()->set_cron_schedule(cron);
    EditState(run_, [&](state::ExecutionState& st) { st.set_cron_schedule(cron); });
  }
  void SetDeadline(TimePoint at) {
    EditState(run_, [at](state::ExecutionState& st) { *st.mutable_execution_expiration_time() = ToProto(at); });
  }

  Execution run_;
};

TEST_F(RunChainTest, TheNextRunInheritsTheChainsFieldsWithANewRunIdAndAttemptOne) {
  SetAttempt(3);
  StartFields f = NextRunBase(run_, kNow);
  EXPECT_EQ(f.workflow_id, "wf");
  EXPECT_FALSE(f.run_id.empty());
  EXPECT_NE(f.run_id, "run-1");
  EXPECT_NE(NextRunBase(run_, kNow).run_id, f.run_id);
  const auto& a = f.attrs;
  EXPECT_EQ(a.workflow_type().name(), "Ingest");
  EXPECT_EQ(a.task_queue().name(), "tq");
  EXPECT_EQ(a.input().payloads(0).data(), "in");
  EXPECT_EQ(FromProto(a.workflow_task_timeout()), seconds(10));
  EXPECT_EQ(FromProto(a.workflow_run_timeout()), seconds(60));
  EXPECT_FALSE(a.has_workflow_execution_timeout());  // zero: not set
  EXPECT_EQ(a.identity(), "starter");
  EXPECT_EQ(a.priority().priority_key(), 2);
  EXPECT_EQ(a.memo().fields().at("m").data(), "memo");
  EXPECT_EQ(a.search_attributes().indexed_fields().at("CustomKeywordField").data(), "\"k\"");
  EXPECT_EQ(a.continued_execution_run_id(), "run-1");
  EXPECT_EQ(a.first_execution_run_id(), "run-0");
  EXPECT_EQ(a.attempt(), 1);
}

TEST_F(RunChainTest, WithoutARetryPolicyAFailureIsNotRetried) {
  std::optional<StartFields> next;
  fv1::Failure f = AppFailure("Oops");
  EXPECT_EQ(NextRunAfterFailure(run_, &f, kNow, &next), ev1::RETRY_STATE_RETRY_POLICY_NOT_SET);
  EXPECT_FALSE(next);
}

TEST_F(RunChainTest, ARetryWaitsTheBackoffOfItsAttemptAndCarriesTheFailure) {
  SetRetryPolicy(seconds(2), 3.0, 5);
  SetAttempt(3);
  std::optional<StartFields> next;
  fv1::Failure f = AppFailure("Oops");
  ASSERT_EQ(NextRunAfterFailure(run_, &f, kNow, &next), ev1::RETRY_STATE_IN_PROGRESS);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->attrs.attempt(), 4);
  EXPECT_EQ(next->attrs.initiator(), ev1::CONTINUE_AS_NEW_INITIATOR_RETRY);
  EXPECT_EQ(next->attrs.continued_failure().message(), "boom");
  EXPECT_EQ(FromProto(next->attrs.first_workflow_task_backoff()), seconds(18));  // 2 s * 3^(3-1)
}

TEST_F(RunChainTest, ARetryUsesTemporalsDefaultsAndTheMaximumInterval) {
  SetRetryPolicy(seconds(0), 0, 0);  // defaults: 1 s, x2, at most 100 s
  SetAttempt(9);
  std::optional<StartFields> next;
  ASSERT_EQ(NextRunAfterFailure(run_, nullptr, kNow, &next), ev1::RETRY_STATE_IN_PROGRESS);
  EXPECT_EQ(FromProto(next->attrs.first_workflow_task_backoff()), seconds(100));  // 256 s capped
  SetRetryPolicy(seconds(1), 2.0, 0, seconds(30));
  next.reset();
  ASSERT_EQ(NextRunAfterFailure(run_, nullptr, kNow, &next), ev1::RETRY_STATE_IN_PROGRESS);
  EXPECT_EQ(FromProto(next->attrs.first_workflow_task_backoff()), seconds(30));
}

TEST_F(RunChainTest, NextRetryDelayOfTheFailureOverridesTheBackoff) {
  SetRetryPolicy(seconds(1), 2.0, 0);
  fv1::Failure f = AppFailure("Oops");
  *f.mutable_application_failure_info()->mutable_next_retry_delay() = ToProtoDuration(seconds(7));
  std::optional<StartFields> next;
  ASSERT_EQ(NextRunAfterFailure(run_, &f, kNow, &next), ev1::RETRY_STATE_IN_PROGRESS);
  EXPECT_EQ(FromProto(next->attrs.first_workflow_task_backoff()), seconds(7));
}

TEST_F(RunChainTest, NonRetryableFailuresAndTheLastAttemptAreNotRetried) {
  SetRetryPolicy(seconds(1), 2.0, 3);
  run_.events[0].mutable_workflow_execution_started_event_attributes()->mutable_retry_policy()->add_non_retryable_error_types(
      "Fatal");
  std::optional<StartFields> next;
  fv1::Failure flagged = AppFailure("Oops", /*non_retryable=*/true);
  EXPECT_EQ(NextRunAfterFailure(run_, &flagged, kNow, &next), ev1::RETRY_STATE_NON_RETRYABLE_FAILURE);
  fv1::Failure typed = AppFailure("Fatal");
  EXPECT_EQ(NextRunAfterFailure(run_, &typed, kNow, &next), ev1::RETRY_STATE_NON_RETRYABLE_FAILURE);
  fv1::Failure canceled;
  canceled.mutable_canceled_failure_info();
  EXPECT_EQ(NextRunAfterFailure(run_, &canceled, kNow, &next), ev1::RETRY_STATE_NON_RETRYABLE_FAILURE);
  fv1::Failure terminated;
  terminated.mutable_terminated_failure_info();
  EXPECT_EQ(NextRunAfterFailure(run_, &terminated, kNow, &next), ev1::RETRY_STATE_NON_RETRYABLE_FAILURE);
  EXPECT_FALSE(next);
  SetAttempt(3);
  fv1::Failure plain = AppFailure("Oops");
  EXPECT_EQ(NextRunAfterFailure(run_, &plain, kNow, &next), ev1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
  EXPECT_FALSE(next);
  SetAttempt(2);
  EXPECT_EQ(NextRunAfterFailure(run_, &plain, kNow, &next), ev1::RETRY_STATE_IN_PROGRESS);
}

TEST_F(RunChainTest, ARetryThatWouldStartAfterTheExecutionDeadlineTimesOut) {
  SetRetryPolicy(seconds(10), 2.0, 0);
  SetDeadline(kNow + seconds(10));
  std::optional<StartFields> next;
  EXPECT_EQ(NextRunAfterFailure(run_, nullptr, kNow, &next), ev1::RETRY_STATE_TIMEOUT);
  EXPECT_FALSE(next);
  SetDeadline(kNow + seconds(11));
  ASSERT_EQ(NextRunAfterFailure(run_, nullptr, kNow, &next), ev1::RETRY_STATE_IN_PROGRESS);
  EXPECT_EQ(FromProto(next->attrs.workflow_execution_expiration_time()), kNow + seconds(11));  // the chain's deadline
}

TEST_F(RunChainTest, ACronRunWaitsForTheNextFireTimeAndCarriesTheResult) {
  SetCron("@every 1m");
  NextCronTimeFn every_minute = [](const std::string& cron, TimePoint after) {
    EXPECT_EQ(cron, "@every 1m");
    return after + seconds(45);
  };
  cv1::Payloads result = Payload("out");
  auto next = CronNextRun(run_, kNow, every_minute, &result, nullptr);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->attrs.initiator(), ev1::CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE);
  EXPECT_EQ(next->attrs.last_completion_result().payloads(0).data(), "out");
  EXPECT_EQ(FromProto(next->attrs.first_workflow_task_backoff()), seconds(45));
  EXPECT_EQ(next->attrs.cron_schedule(), "@every 1m");
}

TEST_F(RunChainTest, NoCronRunWithoutASchedule_AParser_AFireTime_OrBeforeTheDeadline) {
  NextCronTimeFn soon = [](const std::string&, TimePoint after) { return after + seconds(45); };
  EXPECT_FALSE(CronNextRun(run_, kNow, soon, nullptr, nullptr));  // no cron schedule
  SetCron("@every 1m");
  EXPECT_FALSE(CronNextRun(run_, kNow, nullptr, nullptr, nullptr));  // no parser
  NextCronTimeFn never = [](const std::string&, TimePoint) { return TimePoint::max(); };
  EXPECT_FALSE(CronNextRun(run_, kNow, never, nullptr, nullptr));
  SetDeadline(kNow + seconds(45));
  EXPECT_FALSE(CronNextRun(run_, kNow, soon, nullptr, nullptr));
  SetDeadline(kNow + seconds(46));
  EXPECT_TRUE(CronNextRun(run_, kNow, soon, nullptr, nullptr));
}

TEST_F(RunChainTest, ARunTimeoutRetriesFirstAndFallsBackToTheCronSchedule) {
  SetCron("@every 1m");
  NextCronTimeFn soon = [](const std::string&, TimePoint after) { return after + seconds(45); };
  std::optional<StartFields> next;
  EXPECT_EQ(NextRunAfterTimeout(run_, kNow, soon, &next), ev1::RETRY_STATE_RETRY_POLICY_NOT_SET);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->attrs.initiator(), ev1::CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE);
  SetRetryPolicy(seconds(3), 2.0, 0);
  next.reset();
  EXPECT_EQ(NextRunAfterTimeout(run_, kNow, soon, &next), ev1::RETRY_STATE_IN_PROGRESS);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->attrs.initiator(), ev1::CONTINUE_AS_NEW_INITIATOR_RETRY);
  EXPECT_FALSE(next->attrs.has_continued_failure());
  EXPECT_EQ(FromProto(next->attrs.first_workflow_task_backoff()), seconds(3));
}

TEST_F(RunChainTest, ContinueAsNewOverridesTheFieldsTheCommandSets) {
  cmdv1::ContinueAsNewWorkflowExecutionCommandAttributes c;
  *c.mutable_input() = Payload("next");
  c.mutable_task_queue()->set_name("other-tq");
  *c.mutable_backoff_start_interval() = ToProtoDuration(seconds(5));
  StartFields f = ContinueAsNewRun(run_, kNow, c);
  EXPECT_EQ(f.attrs.workflow_type().name(), "Ingest");  // empty in the command: the run's
  EXPECT_EQ(f.attrs.task_queue().name(), "other-tq");
  EXPECT_EQ(f.attrs.input().payloads(0).data(), "next");
  EXPECT_EQ(FromProto(f.attrs.workflow_run_timeout()), seconds(60));
  EXPECT_EQ(f.attrs.memo().fields().at("m").data(), "memo");
  EXPECT_EQ(f.attrs.initiator(), ev1::CONTINUE_AS_NEW_INITIATOR_WORKFLOW);
  EXPECT_EQ(FromProto(f.attrs.first_workflow_task_backoff()), seconds(5));
  EXPECT_EQ(f.attrs.continued_execution_run_id(), "run-1");

  c.mutable_workflow_type()->set_name("IngestV2");
  (*c.mutable_memo()->mutable_fields())["n"] = Payload("new").payloads(0);
  c.set_initiator(ev1::CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE);
  f = ContinueAsNewRun(run_, kNow, c);
  EXPECT_EQ(f.attrs.workflow_type().name(), "IngestV2");
  EXPECT_EQ(f.attrs.memo().fields().count("m"), 0u);  // a command's memo replaces the run's
  EXPECT_EQ(f.attrs.initiator(), ev1::CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE);
}

}  // namespace
}  // namespace temporalite::history
