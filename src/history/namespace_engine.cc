// Namespaces: the engine's RPC entry points into the Namespaces unit (namespaces.h) and the
// engine's side of its NamespacesEngine interface (with the namespace lookups the other units
// share: batch.cc, namespace_delete.cc).
#include "history/engine.h"

namespace temporalite::history {

void Engine::RegisterNamespace(const wsv1::RegisterNamespaceRequest& req, Done done) {
  MutexLock l(mu_);
  namespace_rpcs_.Register(l, req, std::move(done));
}

void Engine::DescribeNamespace(const wsv1::DescribeNamespaceRequest& req, wsv1::DescribeNamespaceResponse* resp,
                               Done done) {
  MutexLock l(mu_);
  namespace_rpcs_.Describe(l, req, resp, std::move(done));
}

void Engine::ListNamespaces(const wsv1::ListNamespacesRequest& req, wsv1::ListNamespacesResponse* resp, Done done) {
  MutexLock l(mu_);
  namespace_rpcs_.List(l, req, resp, std::move(done));
}

void Engine::UpdateNamespace(const wsv1::UpdateNamespaceRequest& req, wsv1::UpdateNamespaceResponse* resp, Done done) {
  MutexLock l(mu_);
  namespace_rpcs_.Update(l, req, resp, std::move(done));
}

// --- NamespacesEngine (and VisibilityEngine's) ---

std::vector<state::NamespaceRecord*> Engine::AllNamespaces() {
  mu_.AssertHeld();  // the units call under mu_
  std::vector<state::NamespaceRecord*> out;
  out.reserve(namespaces_.size());
  for (auto& [name, rec] : namespaces_) out.push_back(&rec);
  return out;
}

}  // namespace temporalite::history
