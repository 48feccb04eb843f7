// DescribeWorkflowExecution's answer (describe_workflow.h).
#include "history/describe_workflow.h"

#include "history/compat_fields.h"
#include "history/proto_time.h"

namespace temporalite::history {

namespace ev1 = ::temporal::api::enums::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

void DescribeRun(const Execution& ex, const std::string& parent_namespace_id,
                 wsv1::DescribeWorkflowExecutionResponse* resp) {
  const auto& st = ex.st();
  auto* info = resp->mutable_workflow_execution_info();
  info->mutable_execution()->set_workflow_id(st.workflow_id());
  info->mutable_execution()->set_run_id(st.run_id());
  info->mutable_type()->set_name(st.workflow_type());
  *info->mutable_start_time() = st.start_time();
  if (!ex.open()) {
    *info->mutable_close_time() = st.close_time();
    *info->mutable_execution_duration() =
        ToProtoDuration(FromProto(st.close_time()) - FromProto(st.execution_time()));
  }
  info->set_status(st.status());
  info->set_history_length(st.next_event_id() - 1);
  *info->mutable_execution_time() = st.execution_time();
  *info->mutable_memo() = st.memo();
  *info->mutable_search_attributes() = st.search_attributes();
  info->set_task_queue(st.task_queue());
  info->set_state_transition_count(st.state_transition_count());
  info->set_history_size_bytes(st.history_size_bytes());
  info->set_first_run_id(st.first_execution_run_id());
  if (!st.parent_workflow_id().empty()) {
    info->mutable_parent_execution()->set_workflow_id(st.parent_workflow_id());
    info->mutable_parent_execution()->set_run_id(st.parent_run_id());
    if (!parent_namespace_id.empty()) info->set_parent_namespace_id(parent_namespace_id);
  }
  // A top-level workflow is its own root.
  info->mutable_root_execution()->set_workflow_id(st.root_workflow_id().empty() ? st.workflow_id() : st.root_workflow_id());
  info->mutable_root_execution()->set_run_id(st.root_run_id().empty() ? st.run_id() : st.root_run_id());
  for (const auto& [id, ci] : st.children()) {
    auto* pc = resp->add_pending_children();
    pc->set_workflow_id(ci.workflow_id());
    pc->set_run_id(ci.run_id());
    pc->set_workflow_type_name(ci.workflow_type());
    pc->set_initiated_id(ci.initiated_event_id());
    pc->set_parent_close_policy(ci.parent_close_policy());
  }
  auto* cfg = resp->mutable_execution_config();
  cfg->mutable_task_queue()->set_name(st.task_queue());
  cfg->mutable_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
  // Unset timeouts stay absent, as in Temporal.
  if (!IsZero(st.execution_timeout())) *cfg->mutable_workflow_execution_timeout() = st.execution_timeout();
  if (!IsZero(st.run_timeout())) *cfg->mutable_workflow_run_timeout() = st.run_timeout();
  *cfg->mutable_default_workflow_task_timeout() = st.workflow_task_timeout();
  for (const auto& [sid, ai] : st.activities()) {
    auto* pa = resp->add_pending_activities();
    pa->set_activity_id(ai.activity_id());
    pa->mutable_activity_type()->set_name(ai.activity_type());
    if (ai.cancel_requested()) pa->set_state(ev1::PENDING_ACTIVITY_STATE_CANCEL_REQUESTED);
    else if (ai.started()) pa->set_state(ev1::PENDING_ACTIVITY_STATE_STARTED);
    else pa->set_state(ev1::PENDING_ACTIVITY_STATE_SCHEDULED);
    *pa->mutable_heartbeat_details() = ai.heartbeat_details();
    if (!IsZero(ai.last_heartbeat_time())) *pa->mutable_last_heartbeat_time() = ai.last_heartbeat_time();
    if (ai.started()) *pa->mutable_last_started_time() = ai.started_time();
    pa->set_attempt(ai.attempt());
    pa->set_maximum_attempts(ai.retry_policy().maximum_attempts());
    *pa->mutable_scheduled_time() = ai.current_attempt_scheduled_time();
    if (!IsZero(ai.schedule_to_close_timeout())) {
      *pa->mutable_expiration_time() =
          ToProto(FromProto(ai.scheduled_time()) + FromProto(ai.schedule_to_close_timeout()));
    }
    if (ai.has_last_failure()) *pa->mutable_last_failure() = ai.last_failure();
    pa->set_last_worker_identity(ai.last_worker_identity());
    if (!IsZero(ai.last_attempt_complete_time())) *pa->mutable_last_attempt_complete_time() = ai.last_attempt_complete_time();
    if (!ai.started() && ai.attempt() > 1) *pa->mutable_next_attempt_schedule_time() = ai.current_attempt_scheduled_time();
  }
  if (ex.open() && ex.wft_pending()) {
    auto* pw = resp->mutable_pending_workflow_task();
    pw->set_state(ex.wft_started() ? ev1::PENDING_WORKFLOW_TASK_STATE_STARTED : ev1::PENDING_WORKFLOW_TASK_STATE_SCHEDULED);
    *pw->mutable_scheduled_time() = st.wft().scheduled_time();
    *pw->mutable_original_scheduled_time() = st.wft().scheduled_time();
    if (ex.wft_started()) *pw->mutable_started_time() = st.wft().started_time();
    pw->set_attempt(st.wft().attempt());
  }
  FillDescribeExtras(st, resp);
}

}  // namespace temporalite::history
