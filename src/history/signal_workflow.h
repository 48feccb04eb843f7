// SignalWorkflowExecution as a unit of its own over a narrow interface (the model: Temporal's
// service/history/api/signalworkflow/api.go): the request's checks, the target run (the
// workflow's current run when the request names none), and the delivery of the signal, which is
// also what a SignalExternalWorkflowExecution command's target gets (EngineContext::DeliverSignal,
// external.h): a WorkflowExecutionSignaled event (buffered while a workflow task runs), its
// request id remembered for dedupe, the per-run signal limit, and a workflow task. The engine owns
// one (guarded by its mutex) and calls Signal with its mutex held (a MutexLock the unit releases
// before it answers; the engine releases it inside FetchRun while a store read is made).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/execution.h"
#include "history/run_lookup.h"
#include "history/state.pb.h"
#include "history/txn.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

// What SignalWorkflow sees of the engine besides EngineContext and the run lookup (run_lookup.h).
// Under the engine mutex.
class SignalEngine : public virtual RunLookupEngine {
 public:
  // Submits `txn`; `done` once it is durable.
  virtual void Commit(Txn& txn, Done done) = 0;
};

class SignalWorkflow {
 public:
  struct Limits {
    size_t max_id_length = 1000;
    size_t blob_size_limit_error = 2 * 1024 * 1024;
    size_t blob_size_limit_warn = 512 * 1024;
  };
  // Temporal's per-run limits: signals (history.maximumSignalsPerExecution) and the signal request
  // ids remembered for dedupe.
  static constexpr int64_t kMaxSignalsPerExecution = 10000;
  static constexpr int kMaxRememberedSignalRequestIds = 1000;

  SignalWorkflow(EngineContext& engine, SignalEngine& host, Limits limits)
      : engine_(engine), host_(host), limits_(limits) {}
  SignalWorkflow(const SignalWorkflow&) = delete;
  SignalWorkflow& operator=(const SignalWorkflow&) = delete;

  // SignalWorkflowExecution, with the engine mutex held by `l`; released before it answers: an
  // error at once, a delivery after its commit, a retry of an accepted signal (same request id)
  // once everything submitted so far is durable. As in Temporal, the request id is looked for
  // before the run's status: a retry of a signal that the run took before it closed (its reply
  // lost to a crash or a client deadline) is answered OK, not "workflow execution already
  // completed".
  void Signal(MutexLock& l, const ::temporal::api::workflowservice::v1::SignalWorkflowExecutionRequest& req,
              Done done);
  // Adds WorkflowExecutionSignaled to open run `target` in `txn` (buffered while a workflow task
  // runs) and schedules a workflow task unless one is pending or the first one is delayed. A
  // request id seen before sets `duplicate` and changes nothing; over the run's signal limit:
  // INVALID_ARGUMENT. `external`: the signalling run (a SignalExternal command's source).
  Status Deliver(Txn& txn, Execution& target, const std::string& name,
                 const ::temporal::api::common::v1::Payloads& input, const ::temporal::api::common::v1::Header& header,
                 const std::string& identity, const std::string& request_id,
                 const ::temporal::api::common::v1::WorkflowExecution* external, bool* duplicate);

 private:
  Status CheckRequest(const ::temporal::api::workflowservice::v1::SignalWorkflowExecutionRequest& req) const;

  EngineContext& engine_;
  SignalEngine& host_;
  const Limits limits_;
};

}  // namespace temporalite::history
