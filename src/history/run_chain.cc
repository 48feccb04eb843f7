// Run chains: the next run of a workflow id after a workflow retry, a cron tick or continue-as-new
// (run_chain.h).
#include "history/run_chain.h"

#include <cmath>

#include "common/ids.h"
#include "history/proto_time.h"

namespace temporalite::history {

namespace fv1 = ::temporal::api::failure::v1;
namespace cv1 = ::temporal::api::common::v1;
namespace cmdv1 = ::temporal::api::command::v1;
namespace ev1 = ::temporal::api::enums::v1;

StartFields NextRunBase(const Execution& ex, TimePoint now) {
  StartFields f;
  f.workflow_id = ex.st().workflow_id();
  f.run_id = NewTimeOrderedUuid(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  const auto& first = ex.events.front().workflow_execution_started_event_attributes();
  auto& a = f.attrs;
  *a.mutable_workflow_type() = first.workflow_type();
  *a.mutable_task_queue() = first.task_queue();
  *a.mutable_input() = first.input();
  if (!IsZero(first.workflow_execution_timeout())) *a.mutable_workflow_execution_timeout() = first.workflow_execution_timeout();
  if (!IsZero(first.workflow_run_timeout())) *a.mutable_workflow_run_timeout() = first.workflow_run_timeout();
  *a.mutable_workflow_task_timeout() = first.workflow_task_timeout();
  if (!IsZero(ex.st().execution_expiration_time())) *a.mutable_workflow_execution_expiration_time() = ex.st().execution_expiration_time();
  if (first.has_retry_policy()) *a.mutable_retry_policy() = first.retry_policy();
  a.set_cron_schedule(first.cron_schedule());
  *a.mutable_header() = first.header();
  *a.mutable_memo() = ex.st().memo();
  *a.mutable_search_attributes() = ex.st().search_attributes();
  a.set_identity(first.identity());
  a.set_continued_execution_run_id(ex.st().run_id());
  a.set_first_execution_run_id(ex.st().first_execution_run_id());
  a.set_attempt(1);
  a.set_parent_workflow_namespace(first.parent_workflow_namespace());
  a.set_parent_workflow_namespace_id(first.parent_workflow_namespace_id());
  if (first.has_parent_workflow_execution()) *a.mutable_parent_workflow_execution() = first.parent_workflow_execution();
  a.set_parent_initiated_event_id(first.parent_initiated_event_id());
  if (first.has_root_workflow_execution()) *a.mutable_root_workflow_execution() = first.root_workflow_execution();
  if (first.has_priority()) *a.mutable_priority() = first.priority();
  return f;
}

ev1::RetryState NextRunAfterFailure(const Execution& ex, const fv1::Failure* failure, TimePoint now,
                                    std::optional<StartFields>* next) {
  const auto& first = ex.events.front().workflow_execution_started_event_attributes();
  if (!first.has_retry_policy()) return ev1::RETRY_STATE_RETRY_POLICY_NOT_SET;
  cv1::RetryPolicy p = first.retry_policy();
  if (IsZero(p.initial_interval())) *p.mutable_initial_interval() = ToProtoDuration(std::chrono::seconds(1));
  if (p.backoff_coefficient() == 0) p.set_backoff_coefficient(2.0);
  if (IsZero(p.maximum_interval())) *p.mutable_maximum_interval() = ToProtoDuration(FromProto(p.initial_interval()) * 100);
  if (failure) {
    if (failure->has_application_failure_info()) {
      if (failure->application_failure_info().non_retryable()) return ev1::RETRY_STATE_NON_RETRYABLE_FAILURE;
      for (const auto& t : p.non_retryable_error_types()) {
        if (t == failure->application_failure_info().type()) return ev1::RETRY_STATE_NON_RETRYABLE_FAILURE;
      }
    } else if (failure->has_canceled_failure_info() || failure->has_terminated_failure_info()) {
      return ev1::RETRY_STATE_NON_RETRYABLE_FAILURE;
    }
  }
  if (p.maximum_attempts() > 0 && ex.st().attempt() >= p.maximum_attempts()) return ev1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED;
  Duration backoff;
  if (failure && failure->has_application_failure_info() && failure->application_failure_info().has_next_retry_delay()) {
    backoff = FromProto(failure->application_failure_info().next_retry_delay());
  } else {
    double ns = static_cast<double>(FromProto(p.initial_interval()).count()) * std::pow(p.backoff_coefficient(), ex.st().attempt() - 1);
    backoff = std::min<Duration>(FromProto(p.maximum_interval()), Duration(static_cast<int64_t>(ns)));
  }
  if (!IsZero(ex.st().execution_expiration_time()) && now + backoff >= FromProto(ex.st().execution_expiration_time())) {
    return ev1::RETRY_STATE_TIMEOUT;
  }
  StartFields f = NextRunBase(ex, now);
  f.attrs.set_attempt(ex.st().attempt() + 1);
  f.attrs.set_initiator(ev1::CONTINUE_AS_NEW_INITIATOR_RETRY);
  if (failure) *f.attrs.mutable_continued_failure() = *failure;
  *f.attrs.mutable_first_workflow_task_backoff() = ToProtoDuration(backoff);
  *next = std::move(f);
  return ev1::RETRY_STATE_IN_PROGRESS;
}

std::optional<StartFields> CronNextRun(const Execution& ex, TimePoint now, const NextCronTimeFn& next_cron,
                                       const cv1::Payloads* result, const fv1::Failure* failure) {
  if (ex.st().cron_schedule().empty() || !next_cron) return std::nullopt;
  TimePoint next = next_cron(ex.st().cron_schedule(), now);
  if (next == TimePoint::max()) return std::nullopt;
  if (!IsZero(ex.st().execution_expiration_time()) && next >= FromProto(ex.st().execution_expiration_time())) return std::nullopt;
  StartFields f = NextRunBase(ex, now);
  f.attrs.set_initiator(ev1::CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE);
  if (result) *f.attrs.mutable_last_completion_result() = *result;
  if (failure) *f.attrs.mutable_continued_failure() = *failure;
  *f.attrs.mutable_first_workflow_task_backoff() = ToProtoDuration(CronBackoff(now, next));
  return f;
}

ev1::RetryState NextRunAfterTimeout(const Execution& ex, TimePoint now, const NextCronTimeFn& next_cron,
                                    std::optional<StartFields>* next) {
  ev1::RetryState retry = NextRunAfterFailure(ex, nullptr, now, next);
  if (!*next) *next = CronNextRun(ex, now, next_cron, nullptr, nullptr);
  return retry;
}

StartFields ContinueAsNewRun(const Execution& ex, TimePoint now,
                             const cmdv1::ContinueAsNewWorkflowExecutionCommandAttributes& c) {
  StartFields f = NextRunBase(ex, now);
  auto& a = f.attrs;
  if (!c.workflow_type().name().empty()) *a.mutable_workflow_type() = c.workflow_type();
  if (!c.task_queue().name().empty()) a.mutable_task_queue()->set_name(c.task_queue().name());
  *a.mutable_input() = c.input();
  if (!IsZero(c.workflow_run_timeout())) *a.mutable_workflow_run_timeout() = c.workflow_run_timeout();
  if (!IsZero(c.workflow_task_timeout())) *a.mutable_workflow_task_timeout() = c.workflow_task_timeout();
  if (c.has_retry_policy()) *a.mutable_retry_policy() = c.retry_policy();
  if (!c.cron_schedule().empty()) a.set_cron_schedule(c.cron_schedule());
  if (c.has_header()) *a.mutable_header() = c.header();
  if (c.has_memo()) *a.mutable_memo() = c.memo();
  if (c.has_search_attributes()) *a.mutable_search_attributes() = c.search_attributes();
  if (c.has_last_completion_result()) *a.mutable_last_completion_result() = c.last_completion_result();
  if (c.has_failure()) *a.mutable_continued_failure() = c.failure();
  a.set_initiator(c.initiator() == ev1::CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED ? ev1::CONTINUE_AS_NEW_INITIATOR_WORKFLOW
                                                                              : c.initiator());
  if (!IsZero(c.backoff_start_interval())) *a.mutable_first_workflow_task_backoff() = c.backoff_start_interval();
  return f;
}

}  // namespace temporalite::history
