// Child workflows (children.h): starting them, reporting their close to the parent, and the
// parent close policy. The unit sees the engine only through EngineContext.
#include "history/children.h"

#include "history/compat_fields.h"
#include "history/execution.h"
#include "history/proto_time.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;
namespace cmdv1 = ::temporal::api::command::v1;

void ChildWorkflows::Start(Txn& txn, Execution& parent, const cmdv1::StartChildWorkflowExecutionCommandAttributes& c,
                           int64_t completed_id, bool* need_wft) {
  auto& pst = parent.st();
  const TimePoint now = engine_.Now();
  const std::string parent_ns_name = engine_.NamespaceName(pst.namespace_id());
  const std::string ns_name = c.namespace_().empty() ? parent_ns_name : c.namespace_();
  const std::string ns_id = engine_.NamespaceId(ns_name);  // exists: validated by the command validator
  const std::string task_queue = c.task_queue().name().empty() ? pst.task_queue() : c.task_queue().name();
  const auto policy = c.parent_close_policy() == ev1::PARENT_CLOSE_POLICY_UNSPECIFIED ? ev1::PARENT_CLOSE_POLICY_TERMINATE
                                                                                      : c.parent_close_policy();
  auto* e = AddEvent(parent, ev1::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, now);
  auto* a = e->mutable_start_child_workflow_execution_initiated_event_attributes();
  a->set_namespace_(ns_name);
  a->set_namespace_id(ns_id);
  a->set_workflow_id(c.workflow_id());
  *a->mutable_workflow_type() = c.workflow_type();
  a->mutable_task_queue()->set_name(task_queue);
  a->mutable_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
  *a->mutable_input() = c.input();
  // Unset timeouts stay absent (not zero durations), as in Temporal.
  if (!IsZero(c.workflow_execution_timeout())) *a->mutable_workflow_execution_timeout() = c.workflow_execution_timeout();
  if (!IsZero(c.workflow_run_timeout())) *a->mutable_workflow_run_timeout() = c.workflow_run_timeout();
  if (!IsZero(c.workflow_task_timeout())) *a->mutable_workflow_task_timeout() = c.workflow_task_timeout();
  a->set_parent_close_policy(policy);
  a->set_control(c.control());
  a->set_workflow_task_completed_event_id(completed_id);
  a->set_workflow_id_reuse_policy(c.workflow_id_reuse_policy());
  if (c.has_retry_policy()) *a->mutable_retry_policy() = c.retry_policy();
  a->set_cron_schedule(c.cron_schedule());
  *a->mutable_header() = c.header();
  *a->mutable_memo() = c.memo();
  *a->mutable_search_attributes() = c.search_attributes();
  if (c.has_priority()) *a->mutable_priority() = c.priority();
  const int64_t initiated_id = e->event_id();
  *need_wft = true;

  EngineContext::ChildStart f;
  f.workflow_id = c.workflow_id();
  f.reuse_policy = c.workflow_id_reuse_policy();
  f.user_metadata = e->user_metadata();  // the command's, on its initiated event: the child's start has it
  auto& sa = f.attrs;
  *sa.mutable_workflow_type() = c.workflow_type();
  sa.mutable_task_queue()->set_name(task_queue);
  *sa.mutable_input() = c.input();
  if (!IsZero(c.workflow_execution_timeout())) *sa.mutable_workflow_execution_timeout() = c.workflow_execution_timeout();
  if (!IsZero(c.workflow_run_timeout())) *sa.mutable_workflow_run_timeout() = c.workflow_run_timeout();
  if (!IsZero(c.workflow_task_timeout())) *sa.mutable_workflow_task_timeout() = c.workflow_task_timeout();
  if (c.has_retry_policy()) *sa.mutable_retry_policy() = c.retry_policy();
  sa.set_cron_schedule(c.cron_schedule());
  *sa.mutable_header() = c.header();
  *sa.mutable_memo() = c.memo();
  *sa.mutable_search_attributes() = c.search_attributes();
  sa.set_parent_workflow_namespace(parent_ns_name);
  sa.set_parent_workflow_namespace_id(pst.namespace_id());
  sa.mutable_parent_workflow_execution()->set_workflow_id(pst.workflow_id());
  sa.mutable_parent_workflow_execution()->set_run_id(pst.run_id());
  sa.set_parent_initiated_event_id(initiated_id);
  auto* root = sa.mutable_root_workflow_execution();
  root->set_workflow_id(pst.root_workflow_id().empty() ? pst.workflow_id() : pst.root_workflow_id());
  root->set_run_id(pst.root_run_id().empty() ? pst.run_id() : pst.root_run_id());
  // The child runs with the parent's priority, its own fields overriding (Temporal's merge).
  cv1::Priority merged;
  if (MergePriority(pst.has_priority() ? &pst.priority() : nullptr, c.has_priority() ? &c.priority() : nullptr, &merged)) {
    *sa.mutable_priority() = merged;
  }
  if (!c.cron_schedule().empty()) {
    TimePoint next = engine_.NextCronTime(c.cron_schedule(), now);
    if (next != TimePoint::max() && next > now) *sa.mutable_first_workflow_task_backoff() = ToProtoDuration(CronBackoff(now, next));
  }

  Execution* child = engine_.StartChildRun(txn, ns_id, std::move(f));
  if (child == nullptr) {
    auto* b = AddOrBufferEvent(parent, ev1::EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED, now);
    auto* fa = b->mutable_start_child_workflow_execution_failed_event_attributes();
    fa->set_namespace_(ns_name);
    fa->set_namespace_id(ns_id);
    fa->set_workflow_id(c.workflow_id());
    *fa->mutable_workflow_type() = c.workflow_type();
    fa->set_cause(ev1::START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS);
    fa->set_control(c.control());
    fa->set_initiated_event_id(initiated_id);
    fa->set_workflow_task_completed_event_id(completed_id);
    return;
  }
  state::ChildInfo ci;
  ci.set_initiated_event_id(initiated_id);
  ci.set_namespace_(ns_name);
  ci.set_namespace_id(ns_id);
  ci.set_workflow_id(c.workflow_id());
  ci.set_run_id(child->st().run_id());
  ci.set_workflow_type(c.workflow_type().name());
  ci.set_parent_close_policy(policy);
  parent.AddChild(std::move(ci));
  auto* b = AddOrBufferEvent(parent, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED, now);
  auto* sa2 = b->mutable_child_workflow_execution_started_event_attributes();
  sa2->set_namespace_(ns_name);
  sa2->set_namespace_id(ns_id);
  sa2->set_initiated_event_id(initiated_id);
  sa2->mutable_workflow_execution()->set_workflow_id(c.workflow_id());
  sa2->mutable_workflow_execution()->set_run_id(child->st().run_id());
  *sa2->mutable_workflow_type() = c.workflow_type();
  *sa2->mutable_header() = c.header();
}

Execution* ChildWorkflows::ParentOf(const Execution& child) {
  const auto& cst = child.st();
  if (Execution* parent = engine_.FindRun(cst.parent_run_id()); parent != nullptr && parent->open()) return parent;
  // The parent run is closed; a reset run of the parent that adopted this child (its history
  // prefix initiated it) gets the report instead (Temporal reconnects children after a reset).
  const std::string ns_id = engine_.NamespaceId(cst.parent_namespace());
  if (ns_id.empty()) return nullptr;
  Execution* candidate = engine_.OpenRunOf(ns_id, cst.parent_workflow_id());
  if (candidate == nullptr) return nullptr;
  auto c = candidate->st().children().find(cst.parent_initiated_event_id());
  if (c != candidate->st().children().end() && c->second.workflow_id() == cst.workflow_id() &&
      c->second.run_id() == cst.first_execution_run_id()) {
    return candidate;
  }
  return nullptr;
}

bool ChildWorkflows::ParentEvicted(const Execution& child) {
  const auto& cst = child.st();
  if (engine_.RunEvicted(cst.parent_run_id())) return true;
  const std::string ns_id = engine_.NamespaceId(cst.parent_namespace());
  return !ns_id.empty() && engine_.RunEvicted(engine_.OpenRunIdOf(ns_id, cst.parent_workflow_id()));
}

void ChildWorkflows::ReportClosed(Txn& txn, const Execution& child) {
  const auto& cst = child.st();
  if (ParentEvicted(child)) {
    state::PendingStep step;
    *step.mutable_child() = cst;
    *step.mutable_child_close() = child.events.back();
    engine_.DeferStep(txn, std::move(step));
    return;
  }
  Execution* found = ParentOf(child);
  if (!found) return;  // parent gone: nothing to tell
  Execution& parent = *found;
  auto ci = parent.st().children().find(cst.parent_initiated_event_id());
  if (ci == parent.st().children().end()) return;
  // The started event's id: it is in history (children start in the parent's transaction, and
  // are reported after it), unless still buffered behind a running task.
  int64_t started_id = 0;
  for (auto e = parent.events.rbegin(); e != parent.events.rend(); ++e) {
    if (e->has_child_workflow_execution_started_event_attributes() &&
        e->child_workflow_execution_started_event_attributes().initiated_event_id() == cst.parent_initiated_event_id()) {
      started_id = e->event_id();
      break;
    }
  }
  const auto& close = child.events.back();
  const TimePoint now = engine_.Now();
  cv1::WorkflowExecution we;
  we.set_workflow_id(cst.workflow_id());
  we.set_run_id(cst.run_id());
  cv1::WorkflowType wt;
  wt.set_name(cst.workflow_type());
  auto fill = [&](auto* a) {
    a->set_namespace_(ci->second.namespace_());
    a->set_namespace_id(ci->second.namespace_id());
    *a->mutable_workflow_execution() = we;
    *a->mutable_workflow_type() = wt;
    a->set_initiated_event_id(cst.parent_initiated_event_id());
    a->set_started_event_id(started_id);
  };
  txn.Touch(&parent);
  switch (cst.status()) {
    case ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED: {
      auto* a = AddOrBufferEvent(parent, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED, now)
                    ->mutable_child_workflow_execution_completed_event_attributes();
      fill(a);
      *a->mutable_result() = close.workflow_execution_completed_event_attributes().result();
      break;
    }
    case ev1::WORKFLOW_EXECUTION_STATUS_FAILED: {
      auto* a = AddOrBufferEvent(parent, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED, now)
                    ->mutable_child_workflow_execution_failed_event_attributes();
      fill(a);
      *a->mutable_failure() = close.workflow_execution_failed_event_attributes().failure();
      a->set_retry_state(close.workflow_execution_failed_event_attributes().retry_state());
      break;
    }
    case ev1::WORKFLOW_EXECUTION_STATUS_CANCELED: {
      auto* a = AddOrBufferEvent(parent, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED, now)
                    ->mutable_child_workflow_execution_canceled_event_attributes();
      fill(a);
      *a->mutable_details() = close.workflow_execution_canceled_event_attributes().details();
      break;
    }
    case ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT: {
      auto* a = AddOrBufferEvent(parent, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT, now)
                    ->mutable_child_workflow_execution_timed_out_event_attributes();
      fill(a);
      a->set_retry_state(close.workflow_execution_timed_out_event_attributes().retry_state());
      break;
    }
    default: {  // terminated
      auto* a = AddOrBufferEvent(parent, ev1::EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED, now)
                    ->mutable_child_workflow_execution_terminated_event_attributes();
      fill(a);
      break;
    }
  }
  parent.RemoveChild(cst.parent_initiated_event_id());  // `ci` dangles from here on
  if (!parent.wft_pending() && IsZero(parent.st().first_wft_due_time())) engine_.ScheduleWorkflowTask(txn, parent);
}

void ChildWorkflows::ApplyParentClosePolicy(Txn& txn, const std::vector<state::ChildInfo>& children) {
  state::PendingStep deferred;  // the children evicted from memory
  for (const auto& ci : children) {
    if (ci.parent_close_policy() == ev1::PARENT_CLOSE_POLICY_ABANDON) continue;
    if (engine_.RunEvicted(engine_.OpenRunIdOf(ci.namespace_id(), ci.workflow_id()))) {
      *deferred.add_children() = ci;
      continue;
    }
    Execution* open = engine_.OpenRunOf(ci.namespace_id(), ci.workflow_id());
    if (open == nullptr) continue;
    Execution& child = *open;
    if (ci.parent_close_policy() == ev1::PARENT_CLOSE_POLICY_REQUEST_CANCEL) {
      if (child.st().cancel_requested()) continue;
      txn.Touch(&child);
      child.RequestCancel();
      auto* e = AddOrBufferEvent(child, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, engine_.Now());
      e->mutable_workflow_execution_cancel_requested_event_attributes()->set_cause("by parent close policy");
      if (!child.wft_pending() && IsZero(child.st().first_wft_due_time())) engine_.ScheduleWorkflowTask(txn, child);
    } else {
      engine_.TerminateRun(txn, child, "by parent close policy", "history-service");
    }
  }
  if (deferred.children_size() > 0) engine_.DeferStep(txn, std::move(deferred));
}

}  // namespace temporalite::history
