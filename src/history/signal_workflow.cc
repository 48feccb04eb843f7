// The SignalWorkflowExecution unit (signal_workflow.h).
#include "history/reply_now.h"
#include "history/signal_workflow.h"

#include <algorithm>

#include "history/errors.h"
#include "history/proto_time.h"
#include "history/signal_event.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;
namespace hv1 = ::temporal::api::history::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

namespace {
// Whether the run took a signal with this request id (Temporal's IsSignalRequested).
bool SignalRequested(const state::ExecutionState& st, const std::string& request_id) {
  return !request_id.empty() && std::find(st.signal_request_ids().begin(), st.signal_request_ids().end(),
                                          request_id) != st.signal_request_ids().end();
}
}  // namespace

Status SignalWorkflow::CheckRequest(const wsv1::SignalWorkflowExecutionRequest& req) const {
  Status s = CheckIdLength(req.workflow_execution().workflow_id(), "WorkflowId", limits_.max_id_length);
  if (s.ok()) s = CheckIdLength(req.signal_name(), "SignalName", limits_.max_id_length);
  if (s.ok() && req.request_id().size() > limits_.max_id_length) s = InvalidArgument("RequestId exceeds length limit.");
  if (s.ok()) {
    s = CheckBlobSize(req.input().ByteSizeLong() + req.header().ByteSizeLong(), "Input", limits_.blob_size_limit_error,
                      limits_.blob_size_limit_warn);
  }
  return s;
}

void SignalWorkflow::Signal(MutexLock& l, const wsv1::SignalWorkflowExecutionRequest& req, Done done) {
  auto fail = [&](const Status& s) { ReplyNow(l, done, s); };
  auto r = LookUpRun(host_, req.namespace_(), req.workflow_execution(), /*with_events=*/false,
                     [&] { return CheckRequest(req); });
  if (!r.ok()) return fail(r.status());  // WorkflowNotFound, or a failed store read's own error
  Execution& ex = *r.value();
  if (!ex.open()) {
    // The request id before the status (api.go): a retry of a signal the run took before it closed.
    if (SignalRequested(ex.st(), req.request_id())) return engine_.ReplyWhenDurable(std::move(done), Status::Ok());
    return fail(NotFound("workflow execution already completed"));  // told apart from a run never seen
  }
  Txn txn;
  bool duplicate = false;
  Status s = Deliver(txn, ex, req.signal_name(), req.input(), req.header(), req.identity(), req.request_id(), nullptr,
                     &duplicate);
  if (!s.ok()) return fail(s);
  if (duplicate) return engine_.ReplyWhenDurable(std::move(done), Status::Ok());  // a retry of an accepted signal
  host_.Commit(txn, std::move(done));
}

Status SignalWorkflow::Deliver(Txn& txn, Execution& ex, const std::string& name, const cv1::Payloads& input,
                               const cv1::Header& header, const std::string& identity, const std::string& request_id,
                               const cv1::WorkflowExecution* external, bool* duplicate) {
  const auto& st = ex.st();
  *duplicate = false;
  if (SignalRequested(st, request_id)) {
    *duplicate = true;
    return Status::Ok();
  }
  if (st.signal_count() >= kMaxSignalsPerExecution) {
    return Status(Code::kInvalidArgument, "the number of signals for this workflow execution exceeds the limit of " +
                                              std::to_string(kMaxSignalsPerExecution));
  }
  txn.Touch(&ex);
  AppendSignal(ex, engine_.Now(), name, input, header, identity, request_id, external);
  if (!ex.wft_pending() && IsZero(st.first_wft_due_time())) engine_.ScheduleWorkflowTask(txn, ex);
  return Status::Ok();
}

void RememberSignalRequestId(state::ExecutionState& st, const std::string& request_id) {
  if (request_id.empty()) return;
  st.add_signal_request_ids(request_id);
  if (st.signal_request_ids_size() > SignalWorkflow::kMaxRememberedSignalRequestIds) {
    st.mutable_signal_request_ids()->DeleteSubrange(0, 1);
  }
}

hv1::HistoryEvent* AppendSignal(Execution& ex, TimePoint now, const std::string& name, const cv1::Payloads& input,
                                const cv1::Header& header, const std::string& identity, const std::string& request_id,
                                const cv1::WorkflowExecution* external) {
  ex.RecordSignal(request_id);
  auto* e = ex.AddOrBufferEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, now);
  auto* a = e->mutable_workflow_execution_signaled_event_attributes();
  a->set_signal_name(name);
  *a->mutable_input() = input;
  a->set_identity(identity);
  *a->mutable_header() = header;
  a->set_request_id(request_id);
  if (external) *a->mutable_external_workflow_execution() = *external;
  return e;
}

void ReapplySignal(Execution& ex, TimePoint now, const hv1::HistoryEvent& signaled) {
  const auto& in = signaled.workflow_execution_signaled_event_attributes();
  auto* e = AppendSignal(ex, now, in.signal_name(), in.input(), in.header(), in.identity(), in.request_id(), nullptr);
  *e->mutable_links() = signaled.links();
}

}  // namespace temporalite::history
