// Replays saved histories against the current workflow code, to catch non-deterministic
// changes before deploying them. Accepts the JSON of `temporal workflow show -o json` /
// `temporalite workflow show -o json` and of the UI's history download ({"events": [...]}).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "temporalite/sdk/client.h"
#include "temporalite/sdk/workflow.h"

namespace temporalite::sdk {

class Replayer {
 public:
  template <class F>
  void RegisterWorkflow(const std::string& name, F fn) {
    workflows_[name] = internal::MakeWorkflowFn(fn);
  }
  // Throws NondeterminismError (a std::runtime_error whose message names the history event and
  // the workflow's command) on a mismatch, or another exception if the workflow task failed.
  void ReplayHistory(const std::vector<HistoryEvent>& events) const;
  void ReplayHistoryJson(const std::string& json) const;

 private:
  std::map<std::string, internal::WorkflowFn> workflows_;
};

}  // namespace temporalite::sdk
