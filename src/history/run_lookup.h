// The run an RPC names, found the one way the RPCs that take a namespace name and a workflow
// execution find it (Temporal's frontend then history service): the namespace by name (Temporal's
// errors for a missing or deleted one), then the request's own checks, then the run (FetchRun),
// and the NOT_FOUND of a run of another chain than the request's first_execution_run_id. Used by
// the signal, reset and close units (through their interfaces, which extend RunLookupEngine) and
// by the engine's own describe, query and update entry points.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/state.pb.h"
#include "temporal/api/common/v1/message.pb.h"

namespace temporalite::history {

// What LookUpRun sees of the engine. Under the engine mutex. A virtual base of the units'
// interfaces (CloseEngine, ResetEngine, SignalEngine), so that the engine is one of it.
class RunLookupEngine {
 public:
  virtual ~RunLookupEngine() = default;
  // A namespace that takes requests, by name (Temporal's errors for a missing or deleted one).
  virtual Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) = 0;
  // A run by id, or the workflow's current run when `run_id` is empty, open or closed: from memory
  // (an evicted open run comes back into memory; an open run is the engine's own), else a copy of
  // the closed run's rows read with the engine mutex released (its history too when
  // `with_events`). The caller holds no pointer into engine state across it. A run that does not
  // exist (or is another namespace's or workflow's): Temporal's WorkflowNotFound for the ids asked;
  // a failed store read: its own error, never "not found".
  virtual Result<std::shared_ptr<Execution>> FetchRun(std::string ns_id, std::string workflow_id, std::string run_id,
                                                      bool with_events) = 0;
};

// The run `execution` names in namespace `ns_name`: the namespace's error first, then the error
// of `check()` (the request's own checks, in the RPC's order; called only for a namespace that
// takes requests), then FetchRun's answer.
template <class Check>
Result<std::shared_ptr<Execution>> LookUpRun(RunLookupEngine& host, const std::string& ns_name,
                                             const ::temporal::api::common::v1::WorkflowExecution& execution,
                                             bool with_events, Check&& check) {
  auto ns = host.NamespaceByName(ns_name);
  if (!ns.ok()) return ns.status();
  if (Status s = check(); !s.ok()) return s;
  return host.FetchRun(ns.value()->info().id(), execution.workflow_id(), execution.run_id(), with_events);
}

// A request's first_execution_run_id, when set, names run `ex`'s chain (terminate, cancel,
// update); another chain's run is not the one asked for: WorkflowNotFound for the ids `asked`.
inline Status CheckSameChain(const Execution& ex, const ::temporal::api::common::v1::WorkflowExecution& asked,
                             const std::string& first_execution_run_id) {
  if (first_execution_run_id.empty() || ex.st().first_execution_run_id() == first_execution_run_id) return Status::Ok();
  return WorkflowNotFound(asked.workflow_id(), asked.run_id());
}

}  // namespace temporalite::history
