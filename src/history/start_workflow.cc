// StartWorkflowExecution's decisions (start_workflow.h): the new run's fields from a request, the
// request's checks, and the id-conflict decision.
#include "history/start_workflow.h"

#include <algorithm>

#include "history/compat_fields.h"
#include "history/errors.h"
#include "history/proto_time.h"

namespace temporalite::history {

namespace ev1 = ::temporal::api::enums::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

namespace {

// The fields StartWorkflowExecutionRequest and SignalWithStartWorkflowExecutionRequest share (same
// names in both messages), so neither start path can drop one the other keeps.
template <class Req>
StartFields CommonStartFields(const Req& req, TimePoint now, const NextCronTimeFn& next_cron) {
  StartFields f;
  f.workflow_id = req.workflow_id();
  f.request_id = req.request_id();
  auto& a = f.attrs;
  *a.mutable_workflow_type() = req.workflow_type();
  a.mutable_task_queue()->set_name(req.task_queue().name());
  *a.mutable_input() = req.input();
  // Temporal leaves an unset timeout unset (absent), not a zero duration.
  if (!IsZero(req.workflow_execution_timeout())) *a.mutable_workflow_execution_timeout() = req.workflow_execution_timeout();
  if (!IsZero(req.workflow_run_timeout())) *a.mutable_workflow_run_timeout() = req.workflow_run_timeout();
  if (!IsZero(req.workflow_task_timeout())) *a.mutable_workflow_task_timeout() = req.workflow_task_timeout();
  a.set_identity(req.identity());
  if (req.has_retry_policy()) *a.mutable_retry_policy() = req.retry_policy();
  a.set_cron_schedule(req.cron_schedule());
  *a.mutable_memo() = req.memo();
  *a.mutable_search_attributes() = req.search_attributes();
  *a.mutable_header() = req.header();
  if (req.has_priority()) *a.mutable_priority() = req.priority();
  if (req.has_user_metadata()) f.user_metadata = req.user_metadata();
  Duration delay = FromProto(req.workflow_start_delay());
  if (!req.cron_schedule().empty() && next_cron && delay == Duration::zero()) {
    TimePoint next = next_cron(req.cron_schedule(), now);
    if (next != TimePoint::max() && next > now) delay = CronBackoff(now, next);
  }
  if (delay > Duration::zero()) *a.mutable_first_workflow_task_backoff() = ToProtoDuration(delay);
  return f;
}

Status CheckDuration(const google::protobuf::Duration& d, const char* what) {
  if (d.seconds() < 0 || d.nanos() < 0) return InvalidArgument(std::string("Invalid ") + what + ".");
  return Status::Ok();
}

// Temporal's consts.FailedWorkflowStatuses: the closes ALLOW_DUPLICATE_FAILED_ONLY starts after.
bool IsClosedFailedLike(ev1::WorkflowExecutionStatus s) {
  return s == ev1::WORKFLOW_EXECUTION_STATUS_FAILED || s == ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED ||
         s == ev1::WORKFLOW_EXECUTION_STATUS_CANCELED || s == ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
}

StartDecision Reject(Status s) {
  StartDecision d;
  d.action = StartDecision::Action::kReject;
  d.rejection = std::move(s);
  return d;
}

// Temporal's workflow_id_dedup.go: refused ("Too many <what> for workflow <id>. Time since last
// start: <ms> ms") unless the interval is 0 or shorter than the time since the current run's start.
StartDecision WithinInterval(StartDecision allowed, const std::string& workflow_id, const CurrentRun& current,
                             const IdReuseInterval& interval, const char* what) {
  if (!interval.validate || interval.minimal <= Duration::zero()) return allowed;
  const Duration since = interval.now - current.start_time;
  if (interval.minimal < since) return allowed;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count();
  return Reject(ResourceExhausted(
      "Too many " + std::string(what) + " for workflow " + workflow_id + ". Time since last start: " +
          std::to_string(ms) + " ms",
      ev1::RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW, ev1::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE));
}

}  // namespace

StartFields StartFieldsFrom(const wsv1::StartWorkflowExecutionRequest& req, TimePoint now,
                            const NextCronTimeFn& next_cron) {
  StartFields f = CommonStartFields(req, now, next_cron);
  if (req.has_continued_failure()) *f.attrs.mutable_continued_failure() = req.continued_failure();
  if (req.has_last_completion_result()) *f.attrs.mutable_last_completion_result() = req.last_completion_result();
  return f;
}

StartFields StartFieldsFrom(const wsv1::SignalWithStartWorkflowExecutionRequest& req, TimePoint now,
                            const NextCronTimeFn& next_cron) {
  return CommonStartFields(req, now, next_cron);
}

Status ValidateStart(const StartFields& f, const StartLimits& limits, const visibility::TypeMap& custom,
                     const NextCronTimeFn& next_cron, TimePoint now) {
  auto check_id = [&](const std::string& id, const char* what) { return CheckIdLength(id, what, limits.max_id_length); };
  auto check_blob = [&](size_t bytes, const char* what) {
    return CheckBlobSize(bytes, what, limits.blob_size_limit_error, limits.blob_size_limit_warn);
  };
  Status s = check_id(f.workflow_id, "WorkflowId");
  if (s.ok()) s = check_id(f.attrs.workflow_type().name(), "WorkflowType");
  if (s.ok()) s = check_id(f.attrs.task_queue().name(), "TaskQueue");
  if (s.ok() && f.request_id.size() > limits.max_id_length) s = InvalidArgument("RequestId exceeds length limit.");
  if (s.ok()) s = CheckDuration(f.attrs.workflow_execution_timeout(), "WorkflowExecutionTimeout");
  if (s.ok()) s = CheckDuration(f.attrs.workflow_run_timeout(), "WorkflowRunTimeout");
  if (s.ok()) s = CheckDuration(f.attrs.workflow_task_timeout(), "WorkflowTaskTimeout");
  if (s.ok()) s = CheckDuration(f.attrs.first_workflow_task_backoff(), "WorkflowStartDelay");
  if (s.ok()) s = check_blob(f.attrs.input().ByteSizeLong(), "Input");
  if (s.ok()) s = check_blob(f.attrs.memo().ByteSizeLong(), "Memo");
  if (s.ok()) s = check_blob(f.attrs.header().ByteSizeLong(), "Header");
  if (s.ok()) s = visibility::Validate(f.attrs.search_attributes(), custom);
  if (s.ok()) s = ValidatePriority(f.attrs.priority());
  if (s.ok() && f.attrs.has_retry_policy()) {
    const auto& p = f.attrs.retry_policy();
    if (p.backoff_coefficient() != 0 && p.backoff_coefficient() < 1) s = InvalidArgument("BackoffCoefficient cannot be less than 1.");
    if (p.maximum_attempts() < 0) s = InvalidArgument("MaximumAttempts cannot be negative.");
  }
  if (s.ok() && !f.attrs.cron_schedule().empty()) {
    if (!next_cron) {
      s = Status(Code::kUnimplemented, "cron schedules are not supported by this server build");
    } else if (next_cron(f.attrs.cron_schedule(), now) == TimePoint::max()) {
      s = InvalidArgument("Invalid CronSchedule: \"" + f.attrs.cron_schedule() + "\" never fires.");
    }
  }
  return s;
}

StartDecision DecideStart(const std::string& workflow_id, const std::string& request_id, const CurrentRun* current,
                          ev1::WorkflowIdReusePolicy reuse, ev1::WorkflowIdConflictPolicy conflict,
                          const IdReuseInterval& interval) {
  StartDecision d;
  if (current == nullptr) return d;
  if (!request_id.empty() && current->start_request_id == request_id) {  // a retry of the start
    d.action = StartDecision::Action::kUseExisting;
    d.deduped = true;
    return d;
  }
  const auto& attached = current->attached_request_ids;
  if (!request_id.empty() && std::find(attached.begin(), attached.end(), request_id) != attached.end()) {
    d.action = StartDecision::Action::kUseExisting;  // a retry of a start answered with this run
    d.deduped_attached = true;
    return d;
  }
  if (current->open) {
    if (conflict == ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING) {
      d.action = StartDecision::Action::kUseExisting;
      return d;
    }
    if (conflict == ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING ||
        reuse == ev1::WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING) {
      d.action = StartDecision::Action::kTerminateAndStart;
      return WithinInterval(d, workflow_id, *current, interval, "restarts");
    }
    return Reject(WorkflowAlreadyStarted(workflow_id, current->start_request_id, current->run_id,
                                         current->first_execution_run_id));
  }
  // Temporal's messages (ResolveWorkflowIDReusePolicy), its details as for a running workflow.
  auto finished = [&](const std::string& message) {
    Status dup = WorkflowAlreadyStarted(workflow_id, current->start_request_id, current->run_id,
                                        current->first_execution_run_id);
    return Reject(Status(dup.code(), message, dup.details()));
  };
  const std::string ids = "WorkflowId: " + workflow_id + ", RunId: " + current->run_id + ".";
  if (reuse == ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE) {
    return finished("Workflow execution already finished. " + ids +
                    " Workflow Id reuse policy: reject duplicate workflow Id.");
  }
  if (reuse == ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY && !IsClosedFailedLike(current->status)) {
    return finished("Workflow execution already finished successfully. " + ids +
                    " Workflow Id reuse policy: allow duplicate workflow Id if last run failed.");
  }
  return WithinInterval(d, workflow_id, *current, interval, "starts");
}

}  // namespace temporalite::history
