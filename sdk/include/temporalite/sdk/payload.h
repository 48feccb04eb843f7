// Payload conversion compatible with the other Temporal SDKs' default data converter.
//
// Encodings (the "encoding" metadata key):
//   binary/null    std::nullptr_t, std::monostate and empty std::optional
//   binary/plain   temporalite::sdk::Bytes
//   json/protobuf  protobuf messages (also read from json/protobuf payloads of other SDKs)
//   json/plain     everything else, through nlohmann::json (user types by to_json/from_json)
// Conversion errors throw DataConverterError.
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>

#include "temporal/api/common/v1/message.pb.h"

namespace temporalite::sdk {

using Payload = temporal::api::common::v1::Payload;
using Payloads = temporal::api::common::v1::Payloads;

// Raw bytes, sent as binary/plain.
struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};

class DataConverterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The encoding of `p` ("" when absent).
std::string PayloadEncoding(const Payload& p);
Payload JsonPayload(const nlohmann::json& j);
Payload NullPayload();
// Decodes json/plain and binary/null payloads into JSON (binary/null -> null).
// REQUIRES: the payload is json/plain or binary/null, else DataConverterError.
nlohmann::json PayloadToJson(const Payload& p);

template <class T> struct IsOptional : std::false_type {};
template <class T> struct IsOptional<std::optional<T>> : std::true_type {};

template <class T>
Payload ToPayload(const T& value) {
  if constexpr (std::is_same_v<T, Payload>) {
    return value;
  } else if constexpr (std::is_same_v<T, Bytes>) {
    Payload p;
    (*p.mutable_metadata())["encoding"] = "binary/plain";
    p.set_data(value.data);
    return p;
  } else if constexpr (std::is_same_v<T, std::nullptr_t> || std::is_same_v<T, std::monostate>) {
    return NullPayload();
  } else if constexpr (IsOptional<T>::value) {
    if (!value) return NullPayload();
    return ToPayload(*value);
  } else if constexpr (std::is_base_of_v<google::protobuf::Message, T>) {
    Payload p;
    (*p.mutable_metadata())["encoding"] = "json/protobuf";
    (*p.mutable_metadata())["messageType"] = value.GetDescriptor()->full_name();
    std::string out;
    auto st = google::protobuf::util::MessageToJsonString(value, &out);
    if (!st.ok()) throw DataConverterError("cannot encode " + value.GetDescriptor()->full_name());
    p.set_data(out);
    return p;
  } else {
    return JsonPayload(nlohmann::json(value));
  }
}

template <class T>
T FromPayload(const Payload& p) {
  if constexpr (std::is_same_v<T, Payload>) {
    return p;
  } else if constexpr (std::is_same_v<T, Bytes>) {
    if (PayloadEncoding(p) != "binary/plain") {
      throw DataConverterError("expected a binary/plain payload, got '" + PayloadEncoding(p) + "'");
    }
    return Bytes{p.data()};
  } else if constexpr (IsOptional<T>::value) {
    if (PayloadEncoding(p) == "binary/null") return std::nullopt;
    return FromPayload<typename T::value_type>(p);
  } else if constexpr (std::is_base_of_v<google::protobuf::Message, T>) {
    if (PayloadEncoding(p) != "json/protobuf" && PayloadEncoding(p) != "json/plain") {
      throw DataConverterError("expected a json/protobuf payload, got '" + PayloadEncoding(p) + "'");
    }
    T out;
    google::protobuf::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = true;
    if (!google::protobuf::util::JsonStringToMessage(p.data(), &out, opts).ok()) {
      throw DataConverterError("cannot decode " + out.GetDescriptor()->full_name() + " from JSON");
    }
    return out;
  } else {
    nlohmann::json j = PayloadToJson(p);
    try {
      return j.get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw DataConverterError(std::string("cannot convert payload ") + j.dump().substr(0, 200) + ": " + e.what());
    }
  }
}

template <class... A>
Payloads ToPayloads(const A&... args) {
  Payloads out;
  (void)std::initializer_list<int>{(*out.add_payloads() = ToPayload(args), 0)...};
  return out;
}

// Argument `i` of `ps`, converted to T. A missing argument decodes as JSON null (so an optional
// parameter becomes empty); for other types that is a DataConverterError.
template <class T>
T PayloadArg(const Payloads& ps, int i) {
  if (i < ps.payloads_size()) return FromPayload<T>(ps.payloads(i));
  return FromPayload<T>(NullPayload());
}

// The first payload as T; no payload decodes as null (for `void`-like results).
template <class T>
T FirstPayload(const Payloads& ps) {
  return PayloadArg<T>(ps, 0);
}

}  // namespace temporalite::sdk
