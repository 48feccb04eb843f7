#pragma once

#include <string>
#include <unordered_map>

namespace temporalite::history {

// The run a request names, as far as memory knows: `run_id` itself when given; for an empty one
// the workflow id's open run (`open`, by workflow key), else its run whose close is not durable
// yet (`closing`: the store's current-run row may still be stale); empty when memory has neither.
// The engine passes its open_by_workflow_id_ and closing_by_workflow_id_ with its mutex held.
inline std::string RunIdInMemory(const std::unordered_map<std::string, std::string>& open,
                                 const std::unordered_map<std::string, std::string>& closing,
                                 const std::string& workflow_key, const std::string& run_id) {
  if (!run_id.empty()) return run_id;
  if (auto it = open.find(workflow_key); it != open.end()) return it->second;
  if (auto it = closing.find(workflow_key); it != closing.end()) return it->second;
  return "";
}

}  // namespace temporalite::history
