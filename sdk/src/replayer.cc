#include "temporalite/sdk/replayer.h"

#include "workflow_instance.h"

namespace temporalite::sdk {

void Replayer::ReplayHistory(const std::vector<HistoryEvent>& events) const {
  if (events.empty() || !events[0].has_workflow_execution_started_event_attributes()) {
    throw std::invalid_argument("a history must start with WorkflowExecutionStarted");
  }
  auto it = workflows_.find(events[0].workflow_execution_started_event_attributes().workflow_type().name());
  internal::WorkflowInstance inst(it == workflows_.end() ? nullptr : &it->second, "default", "replayer");
  inst.Replay(events);
}

void Replayer::ReplayHistoryJson(const std::string& json) const {
  temporal::api::history::v1::History h;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(json, &h, opts);
  if (!st.ok()) throw std::invalid_argument("not a history JSON: " + std::string(st.message()));
  ReplayHistory(std::vector<HistoryEvent>(h.events().begin(), h.events().end()));
}

}  // namespace temporalite::sdk
