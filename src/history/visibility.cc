// Visibility: the engine's RPC entry points into the WorkflowVisibility unit
// (workflow_visibility.h) and the engine's side of its VisibilityEngine interface; and the
// visibility row its commit writes with each visible state change (VisibilityRowLocked).
#include "history/engine.h"
#include "history/execution.h"

namespace temporalite::history {

namespace osv1 = ::temporal::api::operatorservice::v1;

visibility::TypeMap Engine::CustomSearchAttributesLocked(const std::string& ns_id) const {
  visibility::TypeMap out;
  auto n = namespace_names_.find(ns_id);
  if (n == namespace_names_.end()) return out;
  auto it = namespaces_.find(n->second);
  if (it == namespaces_.end()) return out;
  for (const auto& [name, type] : it->second.custom_search_attributes()) {
    out[name] = static_cast<visibility::ValueType>(type);
  }
  return out;
}

persistence::VisibilityRow Engine::VisibilityRowLocked(const Execution& ex) const {
  const auto& st = ex.st();
  std::string parent_namespace_id;
  if (!st.parent_workflow_id().empty()) {
    auto pit = namespaces_.find(st.parent_namespace());
    if (pit != namespaces_.end()) parent_namespace_id = pit->second.info().id();
  }
  return VisibilityRowOf(ex, CustomSearchAttributesLocked(st.namespace_id()), parent_namespace_id);
}

void Engine::ListWorkflowExecutions(const wsv1::ListWorkflowExecutionsRequest& req,
                                    wsv1::ListWorkflowExecutionsResponse* resp, Done done) {
  visibility_.ListWorkflowExecutions(req, resp, std::move(done));
}

void Engine::ScanWorkflowExecutions(const wsv1::ScanWorkflowExecutionsRequest& req,
                                    wsv1::ScanWorkflowExecutionsResponse* resp, Done done) {
  visibility_.ScanWorkflowExecutions(req, resp, std::move(done));
}

void Engine::ListOpenWorkflowExecutions(const wsv1::ListOpenWorkflowExecutionsRequest& req,
                                        wsv1::ListOpenWorkflowExecutionsResponse* resp, Done done) {
  visibility_.ListOpenWorkflowExecutions(req, resp, std::move(done));
}

void Engine::ListClosedWorkflowExecutions(const wsv1::ListClosedWorkflowExecutionsRequest& req,
                                          wsv1::ListClosedWorkflowExecutionsResponse* resp, Done done) {
  visibility_.ListClosedWorkflowExecutions(req, resp, std::move(done));
}

void Engine::CountWorkflowExecutions(const wsv1::CountWorkflowExecutionsRequest& req,
                                     wsv1::CountWorkflowExecutionsResponse* resp, Done done) {
  visibility_.CountWorkflowExecutions(req, resp, std::move(done));
}

void Engine::GetSearchAttributes(const wsv1::GetSearchAttributesRequest& req, wsv1::GetSearchAttributesResponse* resp,
                                 Done done) {
  visibility_.GetSearchAttributes(req, resp, std::move(done));
}

void Engine::AddSearchAttributes(const osv1::AddSearchAttributesRequest& req, Done done) {
  visibility_.AddSearchAttributes(req, std::move(done));
}

void Engine::RemoveSearchAttributes(const osv1::RemoveSearchAttributesRequest& req, Done done) {
  visibility_.RemoveSearchAttributes(req, std::move(done));
}

void Engine::ListSearchAttributes(const osv1::ListSearchAttributesRequest& req, osv1::ListSearchAttributesResponse* resp,
                                  Done done) {
  visibility_.ListSearchAttributes(req, resp, std::move(done));
}

void Engine::StartRetention() { visibility_.StartRetention(); }

void Engine::RetentionSweep(std::function<void(int64_t)> done) { visibility_.RetentionSweep(std::move(done)); }

// --- VisibilityEngine (the namespace calls, Commit, CountVisibility, ListVisibility and
// ClosedRunsBefore are the other units' too: batch.cc, namespace_delete.cc, namespace_engine.cc) ---

bool Engine::RunInMemory(const std::string& run_id) {
  mu_.AssertHeld();  // the unit calls under mu_
  return runs_.count(run_id) > 0;
}

Result<std::vector<std::pair<int64_t, int64_t>>> Engine::CountVisibilityByStatus(const persistence::VisibilityQuery& q) {
  return StoreReads().CountVisibilityByStatus(q);
}

}  // namespace temporalite::history
