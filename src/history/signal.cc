// Signals (issue 3 builds the rest of the messaging features on this).
#include <algorithm>

#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;

namespace {
constexpr int kMaxRememberedSignalRequestIds = 1000;
constexpr int64_t kMaxSignalsPerExecution = 10000;

// Whether the run took a signal with this request id (Temporal's IsSignalRequested).
bool SignalRequested(const state::ExecutionState& st, const std::string& request_id) {
  return !request_id.empty() && std::find(st.signal_request_ids().begin(), st.signal_request_ids().end(),
                                          request_id) != st.signal_request_ids().end();
}
}  // namespace

void Engine::SignalWorkflowExecution(const wsv1::SignalWorkflowExecutionRequest& req, Done done) {
  MutexLock l(mu_);
  auto fail = [&](Status s) { ReplyNow(l, done, s); };
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  Status s = CheckId(req.workflow_execution().workflow_id(), "WorkflowId");
  if (s.ok()) s = CheckId(req.signal_name(), "SignalName");
  if (s.ok() && req.request_id().size() > options_.max_id_length) s = InvalidArgument("RequestId exceeds length limit.");
  if (s.ok()) s = CheckBlob(req.input().ByteSizeLong() + req.header().ByteSizeLong(), "Input");
  if (!s.ok()) return fail(s);
  const std::string& ns_id = ns.value()->info().id();
  const auto& target = req.workflow_execution();
  // Temporal (service/history/api/signalworkflow/api.go) looks for the request id before it looks
  // at the run's status: a retry of a signal that a run took before it closed (its reply lost to
  // a crash or a client deadline) is answered as its first attempt was, not "already completed".
  if (!req.request_id().empty()) {
    auto any = FetchRun(ns_id, target.workflow_id(), target.run_id(), /*with_events=*/false);
    if (any.ok() && !any.value()->open() && SignalRequested(any.value()->st, req.request_id())) {
      return ReplyWhenDurableLocked(std::move(done), Status::Ok());
    }
  }
  auto r = FetchOpenRun(ns_id, target.workflow_id(), target.run_id());
  if (!r.ok()) return fail(r.status());
  Txn txn;
  bool duplicate = false;
  s = DeliverSignal(txn, *r.value(), req.signal_name(), req.input(), req.header(), req.identity(), req.request_id(),
                    nullptr, &duplicate);
  if (!s.ok()) return fail(s);
  if (duplicate) return ReplyWhenDurableLocked(std::move(done), Status::Ok());  // a retry of an accepted signal
  CommitLocked(txn, std::move(done));
}

// EngineContext::DeliverSignal (engine_context.h): for SignalWorkflowExecution above and for
// external signals (external.h).
Status Engine::DeliverSignal(Txn& txn, Execution& ex, const std::string& name, const cv1::Payloads& input,
                             const cv1::Header& header, const std::string& identity, const std::string& request_id,
                             const cv1::WorkflowExecution* external, bool* duplicate) {
  mu_.AssertHeld();  // from SignalWorkflowExecution, or a unit (both under mu_)
  auto& st = ex.st;
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
  st.set_signal_count(st.signal_count() + 1);
  if (!request_id.empty()) {
    st.add_signal_request_ids(request_id);
    if (st.signal_request_ids_size() > kMaxRememberedSignalRequestIds) st.mutable_signal_request_ids()->DeleteSubrange(0, 1);
  }
  auto* e = AddOrBufferEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, clock_.Now());
  auto* a = e->mutable_workflow_execution_signaled_event_attributes();
  a->set_signal_name(name);
  *a->mutable_input() = input;
  a->set_identity(identity);
  *a->mutable_header() = header;
  a->set_request_id(request_id);
  if (external) *a->mutable_external_workflow_execution() = *external;
  if (!ex.wft_pending() && IsZero(st.first_wft_due_time())) ScheduleWorkflowTaskLocked(txn, ex);
  return Status::Ok();
}

}  // namespace temporalite::history
