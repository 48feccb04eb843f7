// Reset: the engine's RPC entry points into the ResetWorkflow unit (reset_workflow.h) and its side
// of ResetEngine (AddResetRun, ResumePendingWork; NamespaceByName, FetchRun and Commit are shared
// with the other units' interfaces).
#include "history/engine.h"
#include "history/execution.h"

namespace temporalite::history {

void Engine::ResetWorkflowExecution(const wsv1::ResetWorkflowExecutionRequest& req,
                                    wsv1::ResetWorkflowExecutionResponse* resp, Done done) {
  MutexLock l(mu_);
  reset_.Reset(l, req, resp, std::move(done));
}

void Engine::ResetToOptions(wsv1::ResetWorkflowExecutionRequest req, const temporal::api::common::v1::ResetOptions& options,
                            Done done) {
  MutexLock l(mu_);
  reset_.ResetTo(l, std::move(req), options, std::move(done));
}

Execution& Engine::AddResetRun(Txn& txn, std::shared_ptr<Execution> ex) {
  mu_.AssertHeld();  // ResetEngine calls come from the unit, which runs under mu_
  Execution& run = *ex;
  const std::string run_id = run.st().run_id();
  runs_[run_id] = std::move(ex);
  open_by_workflow_id_[run.workflow_key()] = run_id;
  run.visibility_dirty = true;  // listed while it runs, as a started run is
  txn.Touch(&run);
  txn.batch.upsert_current.push_back({run.st().namespace_id(), run.st().workflow_id(), run_id});
  return run;
}

void Engine::ResumePendingWork(Txn& txn, Execution& ex) {
  mu_.AssertHeld();
  activities_.ResumeAll(txn, ex, /*all=*/true);
  ArmWorkflowTimersLocked(ex);
}

}  // namespace temporalite::history
