// Namespace deletion: the engine's RPC entry point into the NamespaceDeletion unit
// (namespace_deletion.h) and the engine's side of its NamespaceDeletionEngine interface (with the
// namespace lookups and the commit the batch unit shares).
#include "history/engine.h"
#include "history/execution.h"

namespace temporalite::history {

void Engine::DeleteNamespace(const ::temporal::api::operatorservice::v1::DeleteNamespaceRequest& req,
                             ::temporal::api::operatorservice::v1::DeleteNamespaceResponse* resp, Done done) {
  MutexLock l(mu_);
  namespace_deletion_.Delete(l, req, resp, std::move(done));
}

// --- NamespaceDeletionEngine (NamespaceById and Commit: BatchEngine's too) ---

state::NamespaceRecord* Engine::NamespaceById(const std::string& ns_id) {
  mu_.AssertHeld();  // the units call under mu_
  auto name = namespace_names_.find(ns_id);
  if (name == namespace_names_.end()) return nullptr;
  auto it = namespaces_.find(name->second);
  return it == namespaces_.end() ? nullptr : &it->second;
}

state::NamespaceRecord* Engine::NamespaceNamed(const std::string& name) {
  mu_.AssertHeld();
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : &it->second;
}

void Engine::ReplaceNamespace(const std::string& old_name, state::NamespaceRecord rec) {
  mu_.AssertHeld();
  namespaces_.erase(old_name);
  const std::string new_name = rec.info().name();
  namespace_names_[rec.info().id()] = new_name;
  namespaces_[new_name] = std::move(rec);
}

void Engine::EraseNamespace(const std::string& ns_id) {
  mu_.AssertHeld();
  auto name = namespace_names_.find(ns_id);
  if (name == namespace_names_.end()) return;
  namespaces_.erase(name->second);
  namespace_names_.erase(name);
}

bool Engine::NamespaceRunsInMemory(const std::string& ns_id, size_t limit, std::vector<std::string>* open) {
  mu_.AssertHeld();
  bool in_memory = false;
  for (const auto& [run_id, ex] : runs_) {
    if (ex->st().namespace_id() != ns_id) continue;
    in_memory = true;
    break;
  }
  // open_by_workflow_id_ knows every open run, also those evicted from memory while idle.
  const std::string prefix = ns_id + "\n";
  for (const auto& [key, run_id] : open_by_workflow_id_) {
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    in_memory = true;
    if (open->size() >= limit) break;
    open->push_back(run_id);
  }
  return in_memory;
}

uint64_t Engine::ClosedRunsLeftMemory() {
  mu_.AssertHeld();
  return closed_runs_left_memory_;
}

bool Engine::TerminateRun(Txn& txn, const std::string& run_id, const std::string& reason, const std::string& identity) {
  mu_.AssertHeld();
  auto it = runs_.find_loaded(run_id);
  if (it == runs_.end() || !it->second->open()) return false;
  std::shared_ptr<Execution> ex = it->second;  // keep alive across the terminate
  TerminateLocked(txn, *ex, reason, nullptr, identity);
  return true;
}

void Engine::Commit(Txn& txn, Done done) {
  mu_.AssertHeld();
  CommitLocked(txn, std::move(done));
}

Result<std::vector<std::string>> Engine::ClosedRunsBefore(const std::string& ns_id, int64_t close_before,
                                                          int64_t limit) {
  return StoreReads().ClosedRunsBefore(ns_id, close_before, limit);
}

}  // namespace temporalite::history
