// The StartWorkflowExecution unit (history/start_workflow.h) on the SimClock: the id-conflict
// decision (every reuse policy against every closed status, every conflict policy against an open
// run, request-id dedupe on open and closed runs, the rejections' codes, messages and details), the
// new run's fields from a request (start delay and cron as the first task's backoff, the fields
// StartWorkflowExecution and SignalWithStart share) and the start's checks. The engine-level
// behaviour (finding the current run in memory or the store, terminating, creating the run, eager
// start) is engine_test.cc's, engine_close_window_test.cc's and engine_eager_test.cc's.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/proto_time.h"
#include "history/start_workflow.h"
#include "temporal/api/errordetails/v1/message.pb.h"

// WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING is deprecated in the proto but still sent by
// clients; it is tested here.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace temporalite::history {
namespace {

namespace ev1 = ::temporal::api::enums::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;
namespace edv1 = ::temporal::api::errordetails::v1;
using Action = StartDecision::Action;

constexpr ev1::WorkflowIdReusePolicy kReusePolicies[] = {
    ev1::WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED, ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
    ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
    ev1::WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING};
constexpr ev1::WorkflowIdConflictPolicy kConflictPolicies[] = {
    ev1::WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, ev1::WORKFLOW_ID_CONFLICT_POLICY_FAIL,
    ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING};
constexpr ev1::WorkflowExecutionStatus kClosedStatuses[] = {
    ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED,  ev1::WORKFLOW_EXECUTION_STATUS_FAILED,
    ev1::WORKFLOW_EXECUTION_STATUS_CANCELED,   ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED,
    ev1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT};

CurrentRun CurrentRunOf(bool open, ev1::WorkflowExecutionStatus status = ev1::WORKFLOW_EXECUTION_STATUS_RUNNING) {
  CurrentRun r;
  r.open = open;
  r.status = open ? ev1::WORKFLOW_EXECUTION_STATUS_RUNNING : status;
  r.run_id = "run-1";
  r.start_request_id = "req-1";
  r.first_execution_run_id = "run-0";
  return r;
}

std::string Name(ev1::WorkflowIdReusePolicy p) { return ev1::WorkflowIdReusePolicy_Name(p); }
std::string Name(ev1::WorkflowIdConflictPolicy p) { return ev1::WorkflowIdConflictPolicy_Name(p); }
std::string Name(ev1::WorkflowExecutionStatus s) { return ev1::WorkflowExecutionStatus_Name(s); }

// The rejection is ALREADY_EXISTS with `message` and a WorkflowExecutionAlreadyStartedFailure
// naming the current run and the request id that started it.
void ExpectAlreadyStarted(const StartDecision& d, const std::string& message) {
  ASSERT_EQ(d.action, Action::kReject);
  EXPECT_EQ(d.rejection.code(), Code::kAlreadyExists);
  EXPECT_EQ(d.rejection.message(), message);
  google::protobuf::Any any;
  ASSERT_TRUE(any.ParseFromString(d.rejection.details()));
  edv1::WorkflowExecutionAlreadyStartedFailure f;
  ASSERT_TRUE(any.UnpackTo(&f)) << any.type_url();
  EXPECT_EQ(f.run_id(), "run-1");
  EXPECT_EQ(f.start_request_id(), "req-1");
  EXPECT_EQ(f.first_execution_run_id(), "run-0");  // Temporal's generateWorkflowAlreadyStartedError
}

const char kAlreadyRunning[] = "Workflow execution is already running. WorkflowId: wf, RunId: run-1.";
// Temporal's messages (service/history/api/create_workflow_util.go, ResolveWorkflowIDReusePolicy).
const char kRejectDuplicate[] =
    "Workflow execution already finished. WorkflowId: wf, RunId: run-1. Workflow Id reuse policy: reject duplicate "
    "workflow Id.";
const char kFailedOnly[] =
    "Workflow execution already finished successfully. WorkflowId: wf, RunId: run-1. Workflow Id reuse policy: allow "
    "duplicate workflow Id if last run failed.";

// --- the id-conflict decision ---

TEST(DecideStartTest, NoCurrentRunStartsUnderEveryPolicy) {
  for (auto reuse : kReusePolicies) {
    for (auto conflict : kConflictPolicies) {
      StartDecision d = DecideStart("wf", "req-2", nullptr, reuse, conflict);
      EXPECT_EQ(d.action, Action::kStartNew) << Name(reuse) << " " << Name(conflict);
      EXPECT_TRUE(d.rejection.ok());
    }
  }
}

// An open run: the conflict policy decides (the reuse policy only through TERMINATE_IF_RUNNING,
// which acts as TERMINATE_EXISTING, Temporal's migration of the old policy).
TEST(DecideStartTest, OpenRunEachConflictPolicy) {
  const CurrentRun open = CurrentRunOf(true);
  for (auto reuse : kReusePolicies) {
    const bool terminate_if_running = reuse == ev1::WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING;
    SCOPED_TRACE(Name(reuse));
    for (auto conflict : {ev1::WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, ev1::WORKFLOW_ID_CONFLICT_POLICY_FAIL}) {
      StartDecision d = DecideStart("wf", "req-2", &open, reuse, conflict);
      if (terminate_if_running) {
        EXPECT_EQ(d.action, Action::kTerminateAndStart);
      } else {
        ExpectAlreadyStarted(d, kAlreadyRunning);
      }
    }
    StartDecision use = DecideStart("wf", "req-2", &open, reuse, ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING);
    EXPECT_EQ(use.action, Action::kUseExisting);
    EXPECT_FALSE(use.deduped);
    StartDecision term = DecideStart("wf", "req-2", &open, reuse, ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING);
    EXPECT_EQ(term.action, Action::kTerminateAndStart);
    EXPECT_TRUE(term.rejection.ok());
  }
}

// A closed run: the reuse policy against the run's close, whatever the conflict policy says.
TEST(DecideStartTest, ClosedRunEachReusePolicyAndStatus) {
  for (auto status : kClosedStatuses) {
    const CurrentRun closed = CurrentRunOf(false, status);
    const bool failed_like = status == ev1::WORKFLOW_EXECUTION_STATUS_FAILED ||
                             status == ev1::WORKFLOW_EXECUTION_STATUS_CANCELED ||
                             status == ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED ||
                             status == ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
    for (auto reuse : kReusePolicies) {
      for (auto conflict : kConflictPolicies) {
        SCOPED_TRACE(Name(status) + " " + Name(reuse) + " " + Name(conflict));
        StartDecision d = DecideStart("wf", "req-2", &closed, reuse, conflict);
        if (reuse == ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE) {
          ExpectAlreadyStarted(d, kRejectDuplicate);
        } else if (reuse == ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY && !failed_like) {
          ExpectAlreadyStarted(d, kFailedOnly);
        } else {
          EXPECT_EQ(d.action, Action::kStartNew) << "a closed run is never terminated nor used";
          EXPECT_TRUE(d.rejection.ok());
        }
      }
    }
  }
}

// The request id that started the current run answers with it (a client's retry), before any
// policy: open or closed, even a policy that would terminate or reject.
TEST(DecideStartTest, RequestIdDedupeOnOpenAndClosedRuns) {
  std::vector<CurrentRun> runs = {CurrentRunOf(true)};
  for (auto status : kClosedStatuses) runs.push_back(CurrentRunOf(false, status));
  for (const CurrentRun& run : runs) {
    for (auto reuse : kReusePolicies) {
      for (auto conflict : kConflictPolicies) {
        SCOPED_TRACE(Name(run.status) + " " + Name(reuse) + " " + Name(conflict));
        StartDecision d = DecideStart("wf", "req-1", &run, reuse, conflict);
        EXPECT_EQ(d.action, Action::kUseExisting);
        EXPECT_TRUE(d.deduped);
        EXPECT_TRUE(d.rejection.ok());
      }
    }
  }
}

// A request without a request id is never a retry, not even of a run that has none.
TEST(DecideStartTest, AnEmptyRequestIdIsNotADuplicate) {
  CurrentRun open = CurrentRunOf(true);
  open.start_request_id.clear();
  StartDecision d = DecideStart("wf", "", &open, ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
                                ev1::WORKFLOW_ID_CONFLICT_POLICY_FAIL);
  ASSERT_EQ(d.action, Action::kReject);
  EXPECT_EQ(d.rejection.code(), Code::kAlreadyExists);
  CurrentRun closed = CurrentRunOf(false, ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  closed.start_request_id.clear();
  EXPECT_EQ(DecideStart("wf", "", &closed, ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
                        ev1::WORKFLOW_ID_CONFLICT_POLICY_FAIL).action,
            Action::kReject);
}

// A request id a start attached to the current run (USE_EXISTING with attach_request_id) answers
// with it as the start's own request id does, under every policy, but is not the run's start.
TEST(DecideStartTest, AttachedRequestIdDedupeOnOpenAndClosedRuns) {
  std::vector<CurrentRun> runs = {CurrentRunOf(true)};
  for (auto status : kClosedStatuses) runs.push_back(CurrentRunOf(false, status));
  for (CurrentRun& run : runs) {
    run.attached_request_ids = {"req-3", "req-4"};
    for (auto reuse : kReusePolicies) {
      for (auto conflict : kConflictPolicies) {
        SCOPED_TRACE(Name(run.status) + " " + Name(reuse) + " " + Name(conflict));
        StartDecision d = DecideStart("wf", "req-4", &run, reuse, conflict);
        EXPECT_EQ(d.action, Action::kUseExisting);
        EXPECT_FALSE(d.deduped);
        EXPECT_TRUE(d.deduped_attached);
      }
    }
  }
}

// history.workflowIdReuseMinimalInterval with history.enableWorkflowIdReuseStartTimeValidation:
// a terminate of the open run, or a start after the closed one, no more than the interval after
// that run's start is RESOURCE_EXHAUSTED (BUSY_WORKFLOW, NAMESPACE) with Temporal's messages;
// rejections, request-id dedupe and USE_EXISTING come first; off without the validation or at 0.
TEST(DecideStartTest, MinimalIntervalBetweenStarts) {
  const TimePoint t0 = TimePoint(std::chrono::seconds(1704067200));
  CurrentRun open = CurrentRunOf(true);
  open.start_time = t0;
  CurrentRun closed = CurrentRunOf(false, ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED);
  closed.start_time = t0;
  const auto at = [&](int ms, bool validate = true, Duration minimal = std::chrono::seconds(1)) {
    return IdReuseInterval{.minimal = minimal, .validate = validate, .now = t0 + std::chrono::milliseconds(ms)};
  };
  const auto busy = [](const StartDecision& d, const std::string& message) {
    ASSERT_EQ(d.action, Action::kReject);
    EXPECT_EQ(d.rejection.code(), Code::kResourceExhausted);
    EXPECT_EQ(d.rejection.message(), message);
    google::protobuf::Any any;
    ASSERT_TRUE(any.ParseFromString(d.rejection.details()));
    edv1::ResourceExhaustedFailure f;
    ASSERT_TRUE(any.UnpackTo(&f)) << any.type_url();
    EXPECT_EQ(f.cause(), ev1::RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW);
    EXPECT_EQ(f.scope(), ev1::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  };
  const auto allow = ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE;
  const auto fail = ev1::WORKFLOW_ID_CONFLICT_POLICY_FAIL;
  const auto term = ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING;
  busy(DecideStart("wf", "req-2", &open, allow, term, at(999)),
       "Too many restarts for workflow wf. Time since last start: 999 ms");
  busy(DecideStart("wf", "req-2", &open, ev1::WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING, fail, at(1000)),
       "Too many restarts for workflow wf. Time since last start: 1000 ms");
  EXPECT_EQ(DecideStart("wf", "req-2", &open, allow, term, at(1001)).action, Action::kTerminateAndStart);
  EXPECT_EQ(DecideStart("wf", "req-2", &open, allow, term, at(10, false)).action, Action::kTerminateAndStart);
  EXPECT_EQ(DecideStart("wf", "req-2", &open, allow, term, at(10, true, Duration::zero())).action,
            Action::kTerminateAndStart);
  EXPECT_EQ(DecideStart("wf", "req-2", &open, allow, ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, at(10)).action,
            Action::kUseExisting);
  ExpectAlreadyStarted(DecideStart("wf", "req-2", &open, allow, fail, at(10)), kAlreadyRunning);
  EXPECT_EQ(DecideStart("wf", "req-1", &open, allow, term, at(10)).action, Action::kUseExisting);

  busy(DecideStart("wf", "req-2", &closed, allow, fail, at(20)),
       "Too many starts for workflow wf. Time since last start: 20 ms");
  busy(DecideStart("wf", "req-2", &closed, ev1::WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED, term, at(20)),
       "Too many starts for workflow wf. Time since last start: 20 ms");
  ExpectAlreadyStarted(DecideStart("wf", "req-2", &closed, ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, fail, at(20)),
                       kRejectDuplicate);
  EXPECT_EQ(DecideStart("wf", "req-2", &closed, allow, fail, at(1001)).action, Action::kStartNew);
  EXPECT_EQ(DecideStart("wf", "req-2", &closed, allow, fail, at(20, false)).action, Action::kStartNew);
  EXPECT_EQ(DecideStart("wf", "req-2", &closed, allow, fail).action, Action::kStartNew) << "the default: off";
}

// --- the new run's fields from a request ---

class StartFieldsTest : public ::testing::Test {
 protected:
  // 2024-01-01T00:00:00.300Z: a cron's first wait is rounded up to whole seconds.
  SimClock clock_{TimePoint(std::chrono::seconds(1704067200)) + std::chrono::milliseconds(300)};
  // "every minute": the next whole minute strictly after `after`.
  NextCronTimeFn every_minute_ = [](const std::string& cron, TimePoint after) {
    if (cron == "never") return TimePoint::max();
    auto m = std::chrono::floor<std::chrono::minutes>(after.time_since_epoch()) + std::chrono::minutes(1);
    return TimePoint(std::chrono::duration_cast<Duration>(m));
  };
};

template <class Req>
Req FullRequest() {
  Req req;
  req.set_namespace_("default");
  req.set_workflow_id("wf");
  req.set_request_id("req-1");
  req.mutable_workflow_type()->set_name("Type");
  req.mutable_task_queue()->set_name("tq");
  req.mutable_input()->add_payloads()->set_data("in");
  *req.mutable_workflow_execution_timeout() = ToProtoDuration(std::chrono::hours(1));
  *req.mutable_workflow_task_timeout() = ToProtoDuration(std::chrono::seconds(5));
  req.set_identity("client");
  req.mutable_retry_policy()->set_maximum_attempts(3);
  (*req.mutable_memo()->mutable_fields())["m"].set_data("memo");
  auto& sa = (*req.mutable_search_attributes()->mutable_indexed_fields())["CustomKeywordField"];
  (*sa.mutable_metadata())["encoding"] = "json/plain";
  sa.set_data("\"v\"");
  (*req.mutable_header()->mutable_fields())["h"].set_data("header");
  req.mutable_priority()->set_priority_key(2);
  req.mutable_priority()->set_fairness_key("tenant");
  req.mutable_user_metadata()->mutable_summary()->set_data("summary");
  return req;
}

TEST_F(StartFieldsTest, FieldsOfAStart) {
  auto req = FullRequest<wsv1::StartWorkflowExecutionRequest>();
  req.mutable_continued_failure()->set_message("before");
  req.mutable_last_completion_result()->add_payloads()->set_data("last");
  StartFields f = StartFieldsFrom(req, clock_.Now(), every_minute_);
  EXPECT_EQ(f.workflow_id, "wf");
  EXPECT_EQ(f.request_id, "req-1");
  EXPECT_TRUE(f.run_id.empty());
  const auto& a = f.attrs;
  EXPECT_EQ(a.workflow_type().name(), "Type");
  EXPECT_EQ(a.task_queue().name(), "tq");
  EXPECT_EQ(a.input().payloads(0).data(), "in");
  EXPECT_EQ(FromProto(a.workflow_execution_timeout()), std::chrono::hours(1));
  EXPECT_FALSE(a.has_workflow_run_timeout()) << "an unset timeout stays unset";
  EXPECT_EQ(FromProto(a.workflow_task_timeout()), std::chrono::seconds(5));
  EXPECT_EQ(a.identity(), "client");
  EXPECT_EQ(a.retry_policy().maximum_attempts(), 3);
  EXPECT_EQ(a.memo().fields().at("m").data(), "memo");
  EXPECT_EQ(a.search_attributes().indexed_fields().at("CustomKeywordField").data(), "\"v\"");
  EXPECT_EQ(a.header().fields().at("h").data(), "header");
  EXPECT_EQ(a.priority().priority_key(), 2);
  EXPECT_EQ(a.priority().fairness_key(), "tenant");
  EXPECT_EQ(f.user_metadata.summary().data(), "summary");
  EXPECT_EQ(a.continued_failure().message(), "before");
  EXPECT_EQ(a.last_completion_result().payloads(0).data(), "last");
  EXPECT_FALSE(a.has_first_workflow_task_backoff()) << "no delay, no cron: the first task at once";
}

// One home for the shared fields: SignalWithStart's run gets what a start's gets (priority
// included, which a hand-made copy once dropped), only the start-only fields differ.
TEST_F(StartFieldsTest, SignalWithStartKeepsEveryFieldAStartKeeps) {
  auto start = FullRequest<wsv1::StartWorkflowExecutionRequest>();
  auto sws = FullRequest<wsv1::SignalWithStartWorkflowExecutionRequest>();
  *start.mutable_workflow_start_delay() = ToProtoDuration(std::chrono::seconds(7));
  *sws.mutable_workflow_start_delay() = ToProtoDuration(std::chrono::seconds(7));
  sws.set_signal_name("sig");
  StartFields a = StartFieldsFrom(start, clock_.Now(), every_minute_);
  StartFields b = StartFieldsFrom(sws, clock_.Now(), every_minute_);
  EXPECT_TRUE(b.attrs.has_priority());
  EXPECT_EQ(a.attrs.SerializeAsString(), b.attrs.SerializeAsString());
  EXPECT_EQ(a.user_metadata.SerializeAsString(), b.user_metadata.SerializeAsString());
  EXPECT_EQ(a.workflow_id, b.workflow_id);
  EXPECT_EQ(a.request_id, b.request_id);
}

TEST_F(StartFieldsTest, StartDelayIsTheFirstTaskBackoff) {
  auto req = FullRequest<wsv1::StartWorkflowExecutionRequest>();
  *req.mutable_workflow_start_delay() = ToProtoDuration(std::chrono::seconds(90));
  StartFields f = StartFieldsFrom(req, clock_.Now(), every_minute_);
  EXPECT_EQ(FromProto(f.attrs.first_workflow_task_backoff()), std::chrono::seconds(90));
}

// A cron schedule without a delay waits for its first fire time, rounded up to whole seconds
// (Temporal's backoff); a start delay, when set, is the wait instead.
TEST_F(StartFieldsTest, CronScheduleFirstWaitUnlessAStartDelayIsSet) {
  auto req = FullRequest<wsv1::StartWorkflowExecutionRequest>();
  req.set_cron_schedule("* * * * *");
  StartFields f = StartFieldsFrom(req, clock_.Now(), every_minute_);
  EXPECT_EQ(f.attrs.cron_schedule(), "* * * * *");
  EXPECT_EQ(FromProto(f.attrs.first_workflow_task_backoff()), std::chrono::seconds(60)) << "59.7 s rounded up";
  clock_.Advance(std::chrono::seconds(20));
  f = StartFieldsFrom(req, clock_.Now(), every_minute_);
  EXPECT_EQ(FromProto(f.attrs.first_workflow_task_backoff()), std::chrono::seconds(40));

  *req.mutable_workflow_start_delay() = ToProtoDuration(std::chrono::seconds(5));
  f = StartFieldsFrom(req, clock_.Now(), every_minute_);
  EXPECT_EQ(FromProto(f.attrs.first_workflow_task_backoff()), std::chrono::seconds(5));

  req.clear_workflow_start_delay();
  f = StartFieldsFrom(req, clock_.Now(), nullptr);
  EXPECT_FALSE(f.attrs.has_first_workflow_task_backoff()) << "without a cron parser (the start is refused)";
}

// --- the start's checks ---

class ValidateStartTest : public StartFieldsTest {
 protected:
  Status Check(const StartFields& f, const NextCronTimeFn& next_cron) {
    StartLimits limits;
    limits.max_id_length = 16;
    limits.blob_size_limit_error = 64;
    limits.blob_size_limit_warn = 32;
    visibility::TypeMap custom = {{"CustomKeywordField", ev1::INDEXED_VALUE_TYPE_KEYWORD}};
    return ValidateStart(f, limits, custom, next_cron, clock_.Now());
  }
  StartFields Valid() {
    auto req = FullRequest<wsv1::StartWorkflowExecutionRequest>();
    req.clear_memo();
    req.clear_header();
    return StartFieldsFrom(req, clock_.Now(), every_minute_);
  }
  void ExpectInvalid(const StartFields& f, const std::string& message) {
    Status s = Check(f, every_minute_);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.message(), message);
  }
};

TEST_F(ValidateStartTest, AValidStartPasses) {
  Status s = Check(Valid(), every_minute_);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(ValidateStartTest, IdsAndRequestId) {
  StartFields f = Valid();
  f.workflow_id.clear();
  ExpectInvalid(f, "WorkflowId is not set on request.");
  f = Valid();
  f.attrs.mutable_workflow_type()->clear_name();
  ExpectInvalid(f, "WorkflowType is not set on request.");
  f = Valid();
  f.attrs.mutable_task_queue()->set_name(std::string(17, 'q'));
  ExpectInvalid(f, "TaskQueue exceeds length limit of 16.");
  f = Valid();
  f.request_id = std::string(17, 'r');
  ExpectInvalid(f, "RequestId exceeds length limit.");
}

TEST_F(ValidateStartTest, NegativeDurations) {
  StartFields f = Valid();
  f.attrs.mutable_workflow_run_timeout()->set_seconds(-1);
  ExpectInvalid(f, "Invalid WorkflowRunTimeout.");
  f = Valid();
  f.attrs.mutable_first_workflow_task_backoff()->set_seconds(-5);
  ExpectInvalid(f, "Invalid WorkflowStartDelay.");
}

TEST_F(ValidateStartTest, PayloadsSearchAttributesPriorityAndRetryPolicy) {
  StartFields f = Valid();
  f.attrs.mutable_input()->mutable_payloads(0)->set_data(std::string(100, 'x'));
  Status s = Check(f, every_minute_);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("Input size of ", 0), 0u) << s.message();
  f = Valid();
  (*f.attrs.mutable_search_attributes()->mutable_indexed_fields())["NoSuchAttribute"].set_data("1");
  ExpectInvalid(f, "search attribute NoSuchAttribute is not defined");
  f = Valid();
  f.attrs.mutable_priority()->set_priority_key(-1);
  ExpectInvalid(f, "priority key can't be negative");
  f = Valid();
  f.attrs.mutable_retry_policy()->set_backoff_coefficient(0.5);
  ExpectInvalid(f, "BackoffCoefficient cannot be less than 1.");
  f = Valid();
  f.attrs.mutable_retry_policy()->set_maximum_attempts(-1);
  ExpectInvalid(f, "MaximumAttempts cannot be negative.");
}

TEST_F(ValidateStartTest, CronSchedule) {
  StartFields f = Valid();
  f.attrs.set_cron_schedule("* * * * *");
  EXPECT_TRUE(Check(f, every_minute_).ok());
  Status unsupported = Check(f, nullptr);
  EXPECT_EQ(unsupported.code(), Code::kUnimplemented);
  EXPECT_EQ(unsupported.message(), "cron schedules are not supported by this server build");
  f.attrs.set_cron_schedule("never");
  ExpectInvalid(f, "Invalid CronSchedule: \"never\" never fires.");
}

}  // namespace
}  // namespace temporalite::history
