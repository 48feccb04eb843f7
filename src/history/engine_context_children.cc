// The engine's side of EngineContext (engine_context.h) for the child-workflow and external-command
// units (children.h, external.h): namespaces, runs by id and by workflow id, termination (a child's
// start: start_engine.cc). Called by the units, under the engine mutex.
#include "history/engine.h"
#include "history/execution.h"

namespace temporalite::history {

std::string Engine::NamespaceName(const std::string& ns_id) {
  mu_.AssertHeld();  // EngineContext calls come from the units, which run under mu_
  auto it = namespace_names_.find(ns_id);
  return it == namespace_names_.end() ? std::string() : it->second;
}

std::string Engine::NamespaceId(const std::string& name) {
  mu_.AssertHeld();
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? std::string() : it->second.info().id();
}

Execution* Engine::FindRun(const std::string& run_id) {
  mu_.AssertHeld();
  auto it = runs_.find(run_id);
  return it == runs_.end() ? nullptr : it->second.get();
}

Execution* Engine::OpenRunOf(const std::string& ns_id, const std::string& workflow_id) {
  mu_.AssertHeld();
  auto it = open_by_workflow_id_.find(WorkflowKey(ns_id, workflow_id));
  if (it == open_by_workflow_id_.end()) return nullptr;
  auto run = runs_.find(it->second);  // an evicted run: null (callers defer on it, RunEvicted)
  return run == runs_.end() ? nullptr : run->second.get();
}

bool Engine::RunEvicted(const std::string& run_id) {
  mu_.AssertHeld();
  return !run_id.empty() && runs_.eviction_seq(run_id) != 0;
}

std::string Engine::OpenRunIdOf(const std::string& ns_id, const std::string& workflow_id) {
  mu_.AssertHeld();
  auto it = open_by_workflow_id_.find(WorkflowKey(ns_id, workflow_id));
  return it == open_by_workflow_id_.end() ? std::string() : it->second;
}

TimePoint Engine::NextCronTime(const std::string& cron, TimePoint after) {
  return cron_next_ ? cron_next_(cron, after) : TimePoint::max();
}

void Engine::TerminateRun(Txn& txn, Execution& ex, const std::string& reason, const std::string& identity) {
  mu_.AssertHeld();
  TerminateLocked(txn, ex, reason, nullptr, identity);
}

Result<Execution*> Engine::OpenRun(const std::string& ns_id, const std::string& workflow_id, const std::string& run_id) {
  mu_.AssertHeld();
  return OpenExecutionLocked(ns_id, workflow_id, run_id);
}

Result<std::shared_ptr<Execution>> Engine::AnyRun(const std::string& ns_id, const std::string& workflow_id,
                                                  const std::string& run_id) {
  mu_.AssertHeld();
  return LoadAnyExecutionLocked(ns_id, workflow_id, run_id);
}

}  // namespace temporalite::history
