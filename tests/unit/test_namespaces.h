// The engine's NamespaceByName (Engine::NamespaceByNameLocked, engine.cc) for the test engines of
// the units' tests (SignalEngine, ResetEngine, CloseEngine, StartEngine, ActivityEngine,
// WorkflowTaskEngine, BatchEngine, NamespacesEngine, VisibilityEngine), over the test's namespace
// records: an empty name is INVALID_ARGUMENT "Namespace not set on request."; a name no record
// has, or one being deleted, is Temporal's NamespaceNotFound.
#pragma once

#include <string>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/errors.h"
#include "history/state.pb.h"
#include "temporal/api/enums/v1/namespace.pb.h"

namespace temporalite::history::testing {

// `records`: a map of state::NamespaceRecord, keyed by name or by id (looked up by info().name()).
template <class Records>
Result<state::NamespaceRecord*> TestNamespaceByName(Mutex& mu, Records& records, const std::string& name) {
  mu.AssertHeld();  // the units call their engine under its mutex
  if (name.empty()) return InvalidArgument("Namespace not set on request.");
  for (auto& [key, rec] : records) {
    if (rec.info().name() == name && rec.info().state() != ::temporal::api::enums::v1::NAMESPACE_STATE_DELETED) {
      return &rec;
    }
  }
  return NamespaceNotFound(name);
}

}  // namespace temporalite::history::testing
