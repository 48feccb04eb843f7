#include "temporalite/sdk/replayer.h"

#include <google/protobuf/descriptor.h>

#include <cctype>

#include "workflow_instance.h"

namespace temporalite::sdk {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// "WorkflowExecutionStarted" -> "WORKFLOW_EXECUTION_STARTED".
std::string UpperSnake(const std::string& pascal) {
  std::string out;
  for (size_t i = 0; i < pascal.size(); ++i) {
    const auto c = static_cast<unsigned char>(pascal[i]);
    if (std::isupper(c) && i > 0) out += '_';
    out += static_cast<char>(std::toupper(c));
  }
  return out;
}

// An enum value written in PascalCase without its prefix, as its proto name
// ("Normal" -> "TASK_QUEUE_KIND_NORMAL"); anything else is left as it is.
void FixEnum(const google::protobuf::EnumDescriptor* e, nlohmann::json& v) {
  if (!v.is_string() || e->value_count() == 0) return;
  const std::string s = v.get<std::string>();
  if (e->FindValueByName(s)) return;
  std::string prefix = e->value(0)->name();  // FOO_BAR_UNSPECIFIED
  const auto cut = prefix.rfind("UNSPECIFIED");
  prefix = cut == std::string::npos ? "" : prefix.substr(0, cut);
  if (const auto* value = e->FindValueByName(prefix + UpperSnake(s))) v = value->name();
}

// Walks `j` (JSON of a message of type `d`) fixing enum values.
void Normalize(const Descriptor* d, nlohmann::json& j) {
  if (!j.is_object() || d->full_name().rfind("google.protobuf.", 0) == 0) return;
  for (auto& [key, value] : j.items()) {
    const FieldDescriptor* f = d->FindFieldByName(key);
    if (!f) f = d->FindFieldByCamelcaseName(key);
    if (!f) continue;
    auto fix = [&](nlohmann::json& v) {
      if (f->enum_type()) FixEnum(f->enum_type(), v);
      else if (f->message_type()) Normalize(f->message_type(), v);
    };
    if (f->is_map()) {
      const FieldDescriptor* mv = f->message_type()->map_value();
      if (mv->message_type() && value.is_object()) {
        for (auto& [k, v] : value.items()) Normalize(mv->message_type(), v);
      }
    } else if (f->is_repeated() && value.is_array()) {
      for (auto& v : value) fix(v);
    } else {
      fix(value);
    }
  }
}

}  // namespace

std::vector<HistoryEvent> Replayer::ParseHistoryJson(const std::string& json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw std::invalid_argument("not a history JSON: invalid JSON");
  nlohmann::json* events = nullptr;
  if (doc.is_array()) {
    events = &doc;
  } else if (doc.is_object() && doc.contains("events") && doc["events"].is_array()) {
    events = &doc["events"];
  } else if (doc.is_object() && doc.contains("history") && doc["history"].is_object() &&
             doc["history"].contains("events")) {
    events = &doc["history"]["events"];  // a GetWorkflowExecutionHistory response
  } else {
    throw std::invalid_argument("not a history JSON: expected an array of events or {\"events\": [...]}");
  }
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  std::vector<HistoryEvent> out;
  for (auto& e : *events) {
    Normalize(HistoryEvent::descriptor(), e);
    HistoryEvent ev;
    auto st = google::protobuf::util::JsonStringToMessage(e.dump(), &ev, opts);
    if (!st.ok()) {
      throw std::invalid_argument("not a history JSON: event " + std::to_string(out.size() + 1) + ": " +
                                  std::string(st.message()));
    }
    out.push_back(std::move(ev));
  }
  return out;
}

void Replayer::ReplayHistory(const std::vector<HistoryEvent>& events, const std::string& workflow_id) const {
  if (events.empty() || !events[0].has_workflow_execution_started_event_attributes()) {
    throw std::invalid_argument("a history must start with WorkflowExecutionStarted");
  }
  const auto& started = events[0].workflow_execution_started_event_attributes();
  auto it = workflows_.find(started.workflow_type().name());
  if (it == workflows_.end()) {
    throw std::invalid_argument("workflow type " + started.workflow_type().name() +
                                " is not registered with the Replayer");
  }
  internal::WorkflowInstance inst(&it->second, "default", "replayer");
  std::string run_id =
      started.original_execution_run_id().empty() ? started.first_execution_run_id() : started.original_execution_run_id();
  inst.SetExecution(workflow_id.empty() ? "replay-" + run_id : workflow_id, run_id);
  inst.Replay(events);
}

void Replayer::ReplayHistoryJson(const std::string& json, const std::string& workflow_id) const {
  ReplayHistory(ParseHistoryJson(json), workflow_id);
}

}  // namespace temporalite::sdk
