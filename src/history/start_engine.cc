// The engine's side of the StartWorkflow unit (start_workflow.h): the thin RPC entry points (the
// current run's store read before the mutex, then the unit) and StartEngine: the workflow id's
// current run for an id-conflict check, a new run taken into memory, its timers, and matching's
// part of an eager start. Called by the unit under the engine mutex.
#include <deque>
#include <memory>

#include "common/log.h"
#include "common/proto_time.h"
#include "history/current_run_of.h"
#include "history/engine.h"
#include "history/execution.h"

namespace temporalite::history {

void Engine::StartWorkflowExecution(const wsv1::StartWorkflowExecutionRequest& req,
                                    wsv1::StartWorkflowExecutionResponse* resp, Done done) {
  // The store read of the id-conflict check, when the id is not in memory, without the mutex.
  CurrentRunRead pre = ReadCurrentRun(req.namespace_(), req.workflow_id());
  MutexLock l(mu_);
  RereadCurrentRunIfStaleLocked(&pre, req.namespace_(), req.workflow_id());
  starts_.Start(l, req, resp, std::move(done), &pre);
}

void Engine::SignalWithStartWorkflowExecution(const wsv1::SignalWithStartWorkflowExecutionRequest& req,
                                              wsv1::SignalWithStartWorkflowExecutionResponse* resp, Done done) {
  CurrentRunRead pre = ReadCurrentRun(req.namespace_(), req.workflow_id());  // as StartWorkflowExecution
  MutexLock l(mu_);
  RereadCurrentRunIfStaleLocked(&pre, req.namespace_(), req.workflow_id());
  starts_.SignalWithStart(l, req, resp, std::move(done), &pre);
}

Execution* Engine::StartChildRun(Txn& txn, const std::string& ns_id, ChildStart start) {
  mu_.AssertHeld();  // EngineContext calls come from the units, which run under mu_
  return starts_.StartChild(txn, ns_id, std::move(start));
}

// --- StartEngine ---

const NextCronTimeFn& Engine::CronParser() { return cron_next_; }

CurrentRunLookup Engine::CurrentRunForStart(const std::string& ns_id, const std::string& workflow_id,
                                            CurrentRunRead* pre) {
  mu_.AssertHeld();
  CurrentRunLookup out;
  auto found = [&](const state::ExecutionState& st) {
    out.current = CurrentRunOf(st, out.open != nullptr);
    return out;
  };
  const std::string key = WorkflowKey(ns_id, workflow_id);
  if (auto open = open_by_workflow_id_.find(key); open != open_by_workflow_id_.end()) {
    out.open = runs_.at(open->second).get();
    return found(out.open->st());
  }
  if (auto closing = closing_by_workflow_id_.find(key); closing != closing_by_workflow_id_.end()) {
    // The current run closed but the store does not know yet (its row says RUNNING, or there is
    // no row at all): judge on memory, and let a rejection wait until the close is durable.
    out.judged_on_undurable_close = true;
    return found(runs_.at(closing->second)->st());
  }
  if (pre && pre->done && pre->ns_id == ns_id && pre->workflow_id == workflow_id &&
      pre->generation == WorkflowKeyGenerationLocked(key)) {
    // Read before the mutex was taken, and still what the store says (see CurrentRunRead).
    if (!pre->status.ok()) {
      out.status = pre->status;
      return out;
    }
    return pre->state ? found(*pre->state) : out;
  }
  if (const PrefetchedRun* child = PrefetchedLocked(ns_id, workflow_id, "")) {
    // A child's start: read by PrefetchCommandTargets before the completion's transition.
    if (!child->status.ok()) {
      out.status = child->status;
      return out;
    }
    return child->run ? found(child->run->st()) : out;
  }
  // Never read from the store here (the engine mutex is held): a start's read is made before the
  // mutex (ReadCurrentRun, RereadCurrentRunIfStaleLocked), a child's by PrefetchCommandTargets.
  // One that was not is a bug; the start fails rather than block.
  TL_LOG_ERROR("id-conflict check of %s inside a transition without a read of its current run", workflow_id.c_str());
  out.status = Status(Code::kUnavailable, "the current run of " + workflow_id + " was not read before the transition");
  return out;
}

Execution* Engine::AddRun(std::shared_ptr<Execution> ex) {
  mu_.AssertHeld();
  Execution* raw = ex.get();
  const std::string run_id = raw->st().run_id();
  runs_[run_id] = std::move(ex);
  open_by_workflow_id_[raw->workflow_key()] = run_id;
  return raw;
}

void Engine::TerminateRunWithDetails(Txn& txn, Execution& ex, const std::string& reason,
                                     const temporal::api::common::v1::Payloads& details, const std::string& identity) {
  mu_.AssertHeld();
  TerminateLocked(txn, ex, reason, &details, identity);
}

void Engine::ArmWorkflowTimers(Execution& ex) {
  mu_.AssertHeld();
  ArmWorkflowTimersLocked(ex);
}

std::deque<EngineContext::WorkflowPoller> Engine::SetAsideWorkflowPollers(const std::string& ns_id,
                                                                          const std::string& task_queue) {
  mu_.AssertHeld();
  return workflow_queues_.SetAsidePollers(matching::QueueKey{ns_id, task_queue, matching::TaskType::kWorkflow});
}

void Engine::RestoreWorkflowPollers(const std::string& ns_id, const std::string& task_queue,
                                    std::deque<EngineContext::WorkflowPoller> aside) {
  mu_.AssertHeld();
  workflow_queues_.RestorePollers(matching::QueueKey{ns_id, task_queue, matching::TaskType::kWorkflow},
                                  std::move(aside));
}

void Engine::StartEagerWorkflowTask(Txn& txn, Execution& ex, const std::string& identity,
                                    wsv1::PollWorkflowTaskQueueResponse* out) {
  mu_.AssertHeld();
  // The queue entry dispatch left goes: the task is the caller's.
  workflow_queues_.Withdraw(matching::QueueKey{ex.st().namespace_id(), ex.st().task_queue(), matching::TaskType::kWorkflow},
                            ex.st().run_id(), ex.st().wft().scheduled_event_id());
  auto eager = std::make_shared<matching::PollWaiter<wsv1::PollWorkflowTaskQueueResponse>>(out);
  eager->identity = identity;
  eager->finish = [](const Status&) {};  // The start's own reply carries the task.
  wft_.Start(txn, ex, eager, /*from_sticky=*/false);
}

}  // namespace temporalite::history
