// External commands (external.h): signalling and asking to cancel another workflow from a
// workflow-task completion. The unit sees the engine only through EngineContext.
#include "history/external.h"

#include "common/ids.h"
#include "history/execution.h"
#include "history/proto_time.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;
namespace cmdv1 = ::temporal::api::command::v1;

namespace {
constexpr const char* kHistoryServiceIdentity = "history-service";

// child_workflow_only: the target's parent is the source run, or the source is a reset run of that
// parent which adopted the child (it is in the source's pending children).
bool IsChildOf(const Execution& target, const Execution& src) {
  if (target.st().parent_workflow_id() != src.st().workflow_id()) return false;
  if (target.st().parent_run_id() == src.st().run_id()) return true;
  auto c = src.st().children().find(target.st().parent_initiated_event_id());
  return c != src.st().children().end() && c->second.workflow_id() == target.st().workflow_id();
}
}  // namespace

void ExternalCommands::Signal(Txn& txn, Execution& src, const cmdv1::SignalExternalWorkflowExecutionCommandAttributes& c,
                              int64_t completed_id, bool source_closes, bool* need_wft) {
  const TimePoint now = engine_.Now();
  const std::string ns_name = c.namespace_().empty() ? engine_.NamespaceName(src.st().namespace_id()) : c.namespace_();
  const std::string ns_id = engine_.NamespaceId(ns_name);
  auto* e = AddEvent(src, ev1::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, now);
  auto* a = e->mutable_signal_external_workflow_execution_initiated_event_attributes();
  a->set_workflow_task_completed_event_id(completed_id);
  a->set_namespace_(ns_name);
  a->set_namespace_id(ns_id);
  *a->mutable_workflow_execution() = c.execution();
  a->set_signal_name(c.signal_name());
  *a->mutable_input() = c.input();
  a->set_control(c.control());
  a->set_child_workflow_only(c.child_workflow_only());
  *a->mutable_header() = c.header();
  const int64_t initiated_id = e->event_id();
  if (source_closes) return;

  *need_wft = true;
  auto failed = [&](ev1::SignalExternalWorkflowExecutionFailedCause cause) {
    auto* b = AddOrBufferEvent(src, ev1::EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED, now);
    auto* fa = b->mutable_signal_external_workflow_execution_failed_event_attributes();
    fa->set_cause(cause);
    fa->set_namespace_(ns_name);
    fa->set_namespace_id(ns_id);
    *fa->mutable_workflow_execution() = c.execution();
    fa->set_initiated_event_id(initiated_id);
    fa->set_control(c.control());
  };
  if (ns_id.empty()) return failed(ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_NAMESPACE_NOT_FOUND);
  // A workflow signalling itself (any run) is refused, as in Temporal.
  if (ns_id == src.st().namespace_id() && c.execution().workflow_id() == src.st().workflow_id()) {
    return failed(ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  }
  auto target = engine_.OpenRun(ns_id, c.execution().workflow_id(), c.execution().run_id());
  if (!target.ok()) return failed(ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  Execution& t = *target.value();
  if (c.child_workflow_only() && !IsChildOf(t, src)) {
    return failed(ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  }
  cv1::WorkflowExecution source;
  source.set_workflow_id(src.st().workflow_id());
  source.set_run_id(src.st().run_id());
  bool duplicate = false;
  Status s = engine_.DeliverSignal(txn, t, c.signal_name(), c.input(), c.header(), kHistoryServiceIdentity,
                                   NewUuid(), &source, &duplicate);
  if (!s.ok()) return failed(ev1::SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_SIGNAL_COUNT_LIMIT_EXCEEDED);
  auto* b = AddOrBufferEvent(src, ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED, now);
  auto* sa = b->mutable_external_workflow_execution_signaled_event_attributes();
  sa->set_initiated_event_id(initiated_id);
  sa->set_namespace_(ns_name);
  sa->set_namespace_id(ns_id);
  // Temporal echoes the command's execution (run id as given, possibly empty).
  *sa->mutable_workflow_execution() = c.execution();
  sa->set_control(c.control());
}

void ExternalCommands::RequestCancel(Txn& txn, Execution& src,
                                     const cmdv1::RequestCancelExternalWorkflowExecutionCommandAttributes& c,
                                     int64_t completed_id, bool source_closes, bool* need_wft) {
  const TimePoint now = engine_.Now();
  const std::string ns_name = c.namespace_().empty() ? engine_.NamespaceName(src.st().namespace_id()) : c.namespace_();
  const std::string ns_id = engine_.NamespaceId(ns_name);
  cv1::WorkflowExecution target_we;
  target_we.set_workflow_id(c.workflow_id());
  target_we.set_run_id(c.run_id());
  auto* e = AddEvent(src, ev1::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED, now);
  auto* a = e->mutable_request_cancel_external_workflow_execution_initiated_event_attributes();
  a->set_workflow_task_completed_event_id(completed_id);
  a->set_namespace_(ns_name);
  a->set_namespace_id(ns_id);
  *a->mutable_workflow_execution() = target_we;
  a->set_control(c.control());
  a->set_child_workflow_only(c.child_workflow_only());
  a->set_reason(c.reason());
  const int64_t initiated_id = e->event_id();
  if (source_closes) return;

  *need_wft = true;
  auto failed = [&](ev1::CancelExternalWorkflowExecutionFailedCause cause) {
    auto* b = AddOrBufferEvent(src, ev1::EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED, now);
    auto* fa = b->mutable_request_cancel_external_workflow_execution_failed_event_attributes();
    fa->set_cause(cause);
    fa->set_namespace_(ns_name);
    fa->set_namespace_id(ns_id);
    *fa->mutable_workflow_execution() = target_we;
    fa->set_initiated_event_id(initiated_id);
    fa->set_control(c.control());
  };
  if (ns_id.empty()) return failed(ev1::CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_NAMESPACE_NOT_FOUND);
  if (ns_id == src.st().namespace_id() && c.workflow_id() == src.st().workflow_id()) {
    return failed(ev1::CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  }
  auto target = engine_.AnyRun(ns_id, c.workflow_id(), c.run_id());
  if (!target.ok()) return failed(ev1::CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
  Execution& t = *target.value();
  // Temporal: cancelling a closed run succeeds without touching it; so does a repeated request.
  if (t.open()) {
    if (c.child_workflow_only() && !IsChildOf(t, src)) {
      return failed(ev1::CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND);
    }
    if (!t.st().cancel_requested()) {
      txn.Touch(&t);
      t.RequestCancel();
      auto* ce = AddOrBufferEvent(t, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, now);
      auto* ca = ce->mutable_workflow_execution_cancel_requested_event_attributes();
      ca->set_cause(c.reason());
      ca->set_external_initiated_event_id(initiated_id);
      ca->mutable_external_workflow_execution()->set_workflow_id(src.st().workflow_id());
      ca->mutable_external_workflow_execution()->set_run_id(src.st().run_id());
      ca->set_identity(kHistoryServiceIdentity);
      if (!t.wft_pending() && IsZero(t.st().first_wft_due_time())) engine_.ScheduleWorkflowTask(txn, t);
    }
  }
  auto* b = AddOrBufferEvent(src, ev1::EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED, now);
  auto* ra = b->mutable_external_workflow_execution_cancel_requested_event_attributes();
  ra->set_initiated_event_id(initiated_id);
  ra->set_namespace_(ns_name);
  ra->set_namespace_id(ns_id);
  *ra->mutable_workflow_execution() = target_we;
}

}  // namespace temporalite::history
