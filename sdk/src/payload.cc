#include "temporalite/sdk/payload.h"

namespace temporalite::sdk {

std::string PayloadEncoding(const Payload& p) {
  auto it = p.metadata().find("encoding");
  return it == p.metadata().end() ? std::string() : it->second;
}

Payload JsonPayload(const nlohmann::json& j) {
  Payload p;
  (*p.mutable_metadata())["encoding"] = "json/plain";
  p.set_data(j.dump());
  return p;
}

Payload NullPayload() {
  Payload p;
  (*p.mutable_metadata())["encoding"] = "binary/null";
  return p;
}

nlohmann::json PayloadToJson(const Payload& p) {
  std::string enc = PayloadEncoding(p);
  if (enc == "binary/null") return nullptr;
  if (enc == "json/plain" || enc == "json/protobuf") {
    try {
      return nlohmann::json::parse(p.data());
    } catch (const nlohmann::json::exception& e) {
      throw DataConverterError(std::string("invalid JSON in json/plain payload: ") + e.what());
    }
  }
  throw DataConverterError("cannot decode a payload with encoding '" + enc + "' as JSON");
}

}  // namespace temporalite::sdk
