#include "workflow_support.h"

namespace temporalite::sdk::internal {

namespace enums = temporal::api::enums::v1;

std::chrono::system_clock::time_point ToTime(const google::protobuf::Timestamp& t) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(t.seconds()) +
                                               std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                   std::chrono::nanoseconds(t.nanos())));
}

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// UPPER_SNAKE without its type prefix -> PascalCase, as Temporal names events and commands in its
// UI and errors.
namespace {

std::string PascalName(std::string n, const std::string& prefix) {
  if (n.rfind(prefix, 0) == 0) n = n.substr(prefix.size());
  std::string out;
  bool up = true;
  for (char c : n) {
    if (c == '_') { up = true; continue; }
    out += up ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    up = false;
  }
  return out;
}

}  // namespace

std::string EventName(const HistoryEvent& e) { return PascalName(enums::EventType_Name(e.event_type()), "EVENT_TYPE_"); }

std::string CommandName(enums::CommandType t) { return PascalName(enums::CommandType_Name(t), "COMMAND_TYPE_"); }

std::string MarkerKey(const std::string& name, const google::protobuf::Map<std::string, Payloads>& details) {
  std::string id;
  if (name == "Patched") {
    auto it = details.find("patch_id");
    if (it != details.end() && it->second.payloads_size() > 0) id = it->second.payloads(0).data();
  } else if (name == "SideEffect") {
    auto it = details.find("seq");
    if (it != details.end() && it->second.payloads_size() > 0) id = it->second.payloads(0).data();
  }
  return name + "|" + id;
}

bool IsCancellation(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const CanceledFailure&) {
    return true;
  } catch (const TemporalFailure& f) {
    for (auto c = f.cause(); c; c = c->cause()) {
      if (dynamic_cast<const CanceledFailure*>(c.get())) return true;
    }
    return false;
  } catch (...) {
    return false;
  }
}

// Runs an accepted update's handler and reports its outcome.
Task<void> RunUpdateHandler(WorkflowContext::UpdateHandler handler, Payloads args,
                            std::function<void(temporal::api::update::v1::Outcome)> done) {
  temporal::api::update::v1::Outcome outcome;
  try {
    *outcome.mutable_success() = co_await handler(std::move(args));
  } catch (...) {
    *outcome.mutable_failure() = ToFailureProto(std::current_exception());
  }
  done(std::move(outcome));
}

bool IsNullPayload(const Payload& p) {
  auto it = p.metadata().find("encoding");
  if (it != p.metadata().end() && it->second == "binary/null") return true;
  return p.data().empty() || p.data() == "null";
}

std::string Describe(enums::CommandType type, const std::string& text) {
  return CommandName(type) + (text.empty() ? "" : "(" + text + ")");
}

}  // namespace temporalite::sdk::internal
