// The engine's side of the WorkflowTasks unit (workflow_tasks.h): the thin RPC entry points (a
// token decoded before the mutex, then the unit), WorkflowTaskEngine (matching's workflow queues,
// a poll's timeout, the completion's command context, a run's close and next run, eager
// activities), and the forwarders the activity and lifecycle code call. Called by the unit under
// the engine mutex.
#include <memory>

#include "history/engine.h"
#include "history/engine_command_context.h"
#include "history/execution.h"

namespace temporalite::history {

void Engine::PollWorkflowTaskQueue(const wsv1::PollWorkflowTaskQueueRequest& req, WorkflowPoller waiter,
                                   Duration max_wait) {
  MutexLock l(mu_);
  wft_.Poll(l, req, waiter, max_wait);
}

void Engine::RespondWorkflowTaskCompleted(const wsv1::RespondWorkflowTaskCompletedRequest& req,
                                          wsv1::RespondWorkflowTaskCompletedResponse* resp, Done done) {
  auto tok = WorkflowTasks::DecodeToken(req.task_token());
  if (!tok.ok()) return done(tok.status());
  MutexLock l(mu_);
  wft_.Complete(l, *tok, req, resp, std::move(done));
}

void Engine::RespondWorkflowTaskFailed(const wsv1::RespondWorkflowTaskFailedRequest& req, Done done) {
  auto tok = WorkflowTasks::DecodeToken(req.task_token());
  if (!tok.ok()) return done(tok.status());
  MutexLock l(mu_);
  wft_.Fail(l, *tok, req, std::move(done));
}

void Engine::ResetStickyTaskQueue(const wsv1::ResetStickyTaskQueueRequest& req, Done done) {
  MutexLock l(mu_);
  wft_.ResetSticky(l, req, std::move(done));
}

void Engine::ShutdownWorker(const wsv1::ShutdownWorkerRequest& req, Done done) {
  MutexLock l(mu_);
  wft_.ShutdownWorker(l, req, std::move(done));
}

// --- WorkflowTaskEngine ---

WorkflowTaskEngine::WorkflowQueues& Engine::workflow_queues() {
  mu_.AssertHeld();  // WorkflowTaskEngine calls come from the unit, which runs under mu_
  return workflow_queues_;
}

void Engine::ArmPollTimeout(const std::shared_ptr<matching::Waiter>& waiter, Duration max_wait,
                            matching::QueueKey key) {
  mu_.AssertHeld();
  ArmPollTimeoutLocked(waiter, max_wait, std::move(key));
}

std::unique_ptr<CompletionContext> Engine::NewCompletionContext(Txn& txn, Execution& ex) {
  mu_.AssertHeld();
  return std::make_unique<EngineCommandContext>(*this, txn, ex);
}

void Engine::OnRunClosed(Txn& txn, Execution& ex, bool chain_continues) {
  mu_.AssertHeld();
  OnRunClosedLocked(txn, ex, chain_continues);
}

void Engine::StartEagerActivities(Txn& txn, Execution& ex, const std::vector<int64_t>& scheduled_ids,
                                  const std::string& identity, TimePoint now,
                                  wsv1::RespondWorkflowTaskCompletedResponse* resp) {
  mu_.AssertHeld();
  activities_.StartEager(txn, ex, scheduled_ids, identity, now, resp);
}

}  // namespace temporalite::history
