#include "history/engine.h"

namespace temporalite::history {

visibility::TypeMap Engine::SearchAttributeTypes(const std::string& ns) {
  MutexLock l(mu_);
  auto it = namespaces_.find(ns);
  if (it == namespaces_.end()) return {};
  return CustomSearchAttributesLocked(it->second.info().id());
}

}  // namespace temporalite::history
