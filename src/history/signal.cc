// Signals: the engine's RPC entry point into the SignalWorkflow unit (signal_workflow.h) and
// EngineContext::DeliverSignal, through which external signals (external.h) reach the unit.
#include "history/engine.h"

namespace temporalite::history {

void Engine::SignalWorkflowExecution(const wsv1::SignalWorkflowExecutionRequest& req, Done done) {
  MutexLock l(mu_);
  signals_.Signal(l, req, std::move(done));
}

Status Engine::DeliverSignal(Txn& txn, Execution& ex, const std::string& name,
                             const ::temporal::api::common::v1::Payloads& input,
                             const ::temporal::api::common::v1::Header& header, const std::string& identity,
                             const std::string& request_id, const ::temporal::api::common::v1::WorkflowExecution* external,
                             bool* duplicate) {
  mu_.AssertHeld();  // from a unit (under mu_)
  return signals_.Deliver(txn, ex, name, input, header, identity, request_id, external, duplicate);
}

}  // namespace temporalite::history
