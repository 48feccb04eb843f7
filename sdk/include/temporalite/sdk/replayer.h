// Replays saved histories against the current workflow code, to catch non-deterministic
// changes before deploying them. Accepts the JSON of `temporal workflow show -o json` /
// `temporalite workflow show -o json` ({"events": [...]}), the Web UI's history download
// (`history.json`: a JSON array of events), and the older form of both whose enums are written
// in PascalCase ("eventType": "WorkflowExecutionStarted", "kind": "Normal").
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
  // A history does not name its workflow: `workflow_id` is what info().workflow_id returns during
  // the replay (default "replay-<run id>"); info().run_id is the run's original run id.
  void ReplayHistory(const std::vector<HistoryEvent>& events, const std::string& workflow_id = "") const;
  // Throws std::invalid_argument if `json` is not a history in one of the forms above.
  void ReplayHistoryJson(const std::string& json, const std::string& workflow_id = "") const;
  // The events of a history JSON (the forms above). Throws std::invalid_argument.
  static std::vector<HistoryEvent> ParseHistoryJson(const std::string& json);

 private:
  std::map<std::string, internal::WorkflowFn> workflows_;
};

}  // namespace temporalite::sdk
