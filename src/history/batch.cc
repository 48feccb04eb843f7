// Batch operations: the engine's RPC entry points into the BatchOperations unit
// (batch_operations.h) and the engine's side of its BatchEngine interface.
#include "history/engine.h"

namespace temporalite::history {

void Engine::StartBatchOperation(const wsv1::StartBatchOperationRequest& req, wsv1::StartBatchOperationResponse*,
                                 Done done) {
  MutexLock l(mu_);
  batch_.Start(l, req, std::move(done));
}

void Engine::StopBatchOperation(const wsv1::StopBatchOperationRequest& req, wsv1::StopBatchOperationResponse*,
                                Done done) {
  MutexLock l(mu_);
  batch_.Stop(l, req, std::move(done));
}

void Engine::DescribeBatchOperation(const wsv1::DescribeBatchOperationRequest& req,
                                    wsv1::DescribeBatchOperationResponse* resp, Done done) {
  MutexLock l(mu_);
  batch_.Describe(l, req, resp, std::move(done));
}

void Engine::ListBatchOperations(const wsv1::ListBatchOperationsRequest& req, wsv1::ListBatchOperationsResponse* resp,
                                 Done done) {
  MutexLock l(mu_);
  batch_.List(l, req, resp, std::move(done));
}

// --- BatchEngine ---

Result<state::NamespaceRecord*> Engine::NamespaceByName(const std::string& name) {
  mu_.AssertHeld();  // BatchEngine calls come from the unit, which runs under mu_
  auto ns = NamespaceByNameLocked(name);
  if (!ns.ok()) return ns.status();
  return &namespaces_.at(name);
}

visibility::TypeMap Engine::CustomSearchAttributes(const std::string& ns_id) {
  mu_.AssertHeld();
  return CustomSearchAttributesLocked(ns_id);
}

Result<int64_t> Engine::CountVisibility(const persistence::VisibilityQuery& q) { return StoreReads().CountVisibility(q); }

Result<persistence::VisibilityPage> Engine::ListVisibility(const persistence::VisibilityQuery& q) {
  return StoreReads().ListVisibility(q);
}

Status Engine::ListWorkflows(const std::string& ns_id, Result<visibility::CompiledQuery> compiled, int32_t page_size,
                             const std::string& page_token, WorkflowInfos* out, std::string* next_token) {
  return visibility_.ListPage(ns_id, std::move(compiled), page_size, page_token, out, next_token);
}

}  // namespace temporalite::history
