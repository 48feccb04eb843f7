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

bool IsLocalActivityMarker(const std::string& marker_name) {
  return marker_name == kLocalActivityMarker || marker_name == kLegacyLocalActivityMarker;
}

namespace {

nlohmann::json TimestampJson(std::chrono::system_clock::time_point t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return {{"seconds", ns / 1000000000}, {"nanos", ns % 1000000000}};
}

nlohmann::json DurationJson(std::chrono::milliseconds d) {
  return {{"seconds", d.count() / 1000}, {"nanos", (d.count() % 1000) * 1000000}};
}

// {seconds, nanos} as sdk-core's serde writes a Timestamp or Duration, in nanoseconds.
int64_t JsonNanos(const nlohmann::json& j) {
  return j.value("seconds", int64_t{0}) * 1000000000 + j.value("nanos", int64_t{0});
}

}  // namespace

std::optional<LocalActivityMarkerData> ReadLocalActivityMarker(
    const temporal::api::history::v1::MarkerRecordedEventAttributes& m) {
  const auto& d = m.details();
  LocalActivityMarkerData out;
  try {
    if (m.marker_name() == kLocalActivityMarker) {
      auto data = d.find("data");
      if (data == d.end() || data->second.payloads_size() == 0) return std::nullopt;
      const nlohmann::json j = nlohmann::json::parse(data->second.payloads(0).data());
      out.seq = j.at("seq").get<int64_t>();
      out.attempt = j.value("attempt", 1);
      out.activity_type = j.value("activity_type", std::string());
      if (j.contains("backoff") && j["backoff"].is_object()) {
        out.backoff = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::nanoseconds(JsonNanos(j["backoff"])));
      }
      if (j.contains("original_schedule_time") && j["original_schedule_time"].is_object()) {
        out.original_schedule_time = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::nanoseconds(JsonNanos(j["original_schedule_time"]))));
      }
      return out;
    }
    if (m.marker_name() == kLegacyLocalActivityMarker) {
      auto seq = d.find("seq");
      if (seq == d.end()) return std::nullopt;
      out.seq = FirstPayload<int64_t>(seq->second);
      if (auto t = d.find("activity_type"); t != d.end()) out.activity_type = FirstPayload<std::string>(t->second);
      if (auto n = d.find("attempts"); n != d.end()) out.attempt = FirstPayload<int>(n->second);
      return out;
    }
  } catch (const std::exception&) {
    return std::nullopt;  // not a marker this SDK can read
  }
  return std::nullopt;
}

google::protobuf::Map<std::string, Payloads> LocalActivityMarkerDetails(
    int64_t seq, int attempt, const std::string& activity_type, std::chrono::system_clock::time_point complete_time,
    std::chrono::system_clock::time_point original_schedule_time, const Payloads* result,
    std::optional<std::chrono::milliseconds> backoff) {
  // All seven fields, as sdk-core writes them (it reads them back with serde, which wants each).
  nlohmann::json data = {{"seq", seq},
                         {"attempt", attempt},
                         {"activity_id", std::to_string(seq)},
                         {"activity_type", activity_type},
                         {"complete_time", TimestampJson(complete_time)},
                         {"backoff", backoff ? DurationJson(*backoff) : nlohmann::json(nullptr)},
                         {"original_schedule_time", TimestampJson(original_schedule_time)}};
  google::protobuf::Map<std::string, Payloads> details;
  Payload p;
  (*p.mutable_metadata())["encoding"] = "json/plain";
  p.set_data(data.dump());
  *details["data"].add_payloads() = std::move(p);
  if (result) {
    // sdk-core records exactly one result payload.
    Payloads& r = details["result"];
    if (result->payloads_size() > 0) *r.add_payloads() = result->payloads(0);
  }
  return details;
}

std::string Describe(enums::CommandType type, const std::string& text) {
  return CommandName(type) + (text.empty() ? "" : "(" + text + ")");
}

}  // namespace temporalite::sdk::internal
