#include "http/transcode.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>
#include <nlohmann/json.hpp>

namespace temporalite::http {

namespace pb = google::protobuf;
using nlohmann::json;

namespace {

bool IsWellKnown(const pb::Descriptor* d) { return d->file()->package() == "google.protobuf"; }

// The field named `key` by its proto name or its JSON (lowerCamelCase) name.
const pb::FieldDescriptor* FindField(const pb::Descriptor* d, std::string_view key) {
  std::string k(key);
  if (const auto* f = d->FindFieldByName(k)) return f;
  if (const auto* f = d->FindFieldByCamelcaseName(k)) return f;
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i)->json_name() == k) return d->field(i);
  }
  return nullptr;
}

std::string Squash(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == '-' || c == ' ') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

std::string UpperSnake(std::string_view camel) {
  std::string out;
  for (size_t i = 0; i < camel.size(); ++i) {
    char c = camel[i];
    if (std::isupper(static_cast<unsigned char>(c)) && i > 0) out.push_back('_');
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

void NormalizeEnumValue(const pb::EnumDescriptor* e, json& v) {
  if (!v.is_string()) return;
  const std::string s = v.get<std::string>();
  if (s.empty() || e->FindValueByName(s)) return;
  bool numeric = true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!(std::isdigit(static_cast<unsigned char>(s[i])) || (i == 0 && s[i] == '-'))) numeric = false;
  }
  if (numeric && s != "-") {
    v = std::stoll(s);
    return;
  }
  // Short names: "BufferOne" / "buffer_one" for SCHEDULE_OVERLAP_POLICY_BUFFER_ONE.
  const std::string prefix = UpperSnake(e->name()) + "_";
  const std::string want = Squash(s);
  for (int i = 0; i < e->value_count(); ++i) {
    std::string_view name = e->value(i)->name();
    if (name.rfind(prefix, 0) == 0) name.remove_prefix(prefix.size());
    if (Squash(name) == want) {
      v = e->value(i)->name();
      return;
    }
  }
}

void Normalize(const pb::Descriptor* d, json& obj);

void NormalizeValue(const pb::FieldDescriptor* f, json& v) {
  if (f->is_map()) {
    const pb::FieldDescriptor* value = f->message_type()->map_value();
    if (!v.is_object()) return;
    for (auto& [k, item] : v.items()) {
      (void)k;
      if (value->type() == pb::FieldDescriptor::TYPE_ENUM) NormalizeEnumValue(value->enum_type(), item);
      if (value->type() == pb::FieldDescriptor::TYPE_MESSAGE && !IsWellKnown(value->message_type()))
        Normalize(value->message_type(), item);
    }
    return;
  }
  auto one = [&](json& item) {
    if (f->type() == pb::FieldDescriptor::TYPE_ENUM) NormalizeEnumValue(f->enum_type(), item);
    if (f->type() == pb::FieldDescriptor::TYPE_MESSAGE && !IsWellKnown(f->message_type()))
      Normalize(f->message_type(), item);
  };
  if (f->is_repeated() && v.is_array()) {
    for (auto& item : v) one(item);
  } else {
    one(v);
  }
}

void Normalize(const pb::Descriptor* d, json& obj) {
  if (!obj.is_object()) return;
  for (auto& [key, value] : obj.items()) {
    if (const auto* f = FindField(d, key)) NormalizeValue(f, value);
  }
}

// A query or path value (a string) as the JSON the proto3 parser takes for field `f`.
Status ScalarJson(const pb::FieldDescriptor* f, const std::string& path, const std::string& value, json* out) {
  switch (f->type()) {
    case pb::FieldDescriptor::TYPE_BOOL:
      if (value == "true" || value == "1") *out = true;
      else if (value == "false" || value == "0") *out = false;
      else return InvalidArgument("invalid value \"" + value + "\" for boolean " + path);
      return Status::Ok();
    case pb::FieldDescriptor::TYPE_MESSAGE:
      if (!IsWellKnown(f->message_type()))
        return InvalidArgument(path + " is a message; it cannot be given as a query parameter");
      *out = value;  // Timestamp, Duration, FieldMask and the wrappers take their string forms
      return Status::Ok();
    default:
      *out = value;  // numbers may be quoted in proto3 JSON; enums are normalized afterwards
      return Status::Ok();
  }
}

// Sets root[path] = value, creating objects along the dotted path and replacing a value given
// under the other (camelCase / snake_case) spelling. `append` adds to a repeated field.
Status SetPath(const pb::Descriptor* d, json& root, const std::string& dotted, const std::string& value, bool strict,
               bool append) {
  json* cur = &root;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const pb::FieldDescriptor* f = FindField(d, part);
    if (!f) {
      if (strict) return InvalidArgument("no field \"" + part + "\" in " + d->full_name());
      return Status::Ok();  // unknown query parameters are ignored
    }
    if (!cur->is_object()) return InvalidArgument("\"" + dotted + "\" conflicts with another parameter");
    // One spelling per field: the proto name.
    if (f->json_name() != f->name() && cur->contains(f->json_name())) {
      (*cur)[f->name()] = std::move((*cur)[f->json_name()]);
      cur->erase(f->json_name());
    }
    if (dot == std::string::npos) {
      if (f->is_map()) return InvalidArgument(dotted + " is a map; it cannot be given as a parameter");
      json v;
      Status s = ScalarJson(f, dotted, value, &v);
      if (!s.ok()) return s;
      if (f->is_repeated()) {
        json& arr = (*cur)[f->name()];
        if (!append || !arr.is_array()) arr = json::array();
        arr.push_back(std::move(v));
      } else {
        (*cur)[f->name()] = std::move(v);
      }
      return Status::Ok();
    }
    if (f->type() != pb::FieldDescriptor::TYPE_MESSAGE || f->is_repeated() || IsWellKnown(f->message_type()))
      return InvalidArgument("\"" + dotted + "\": " + part + " has no fields");
    json& next = (*cur)[f->name()];
    if (next.is_null()) next = json::object();
    cur = &next;
    d = f->message_type();
    start = dot + 1;
  }
}

}  // namespace

void NormalizeEnums(const pb::Descriptor* type, void* json_object) { Normalize(type, *static_cast<json*>(json_object)); }

Status ParseQueryString(std::string_view raw, QueryParams* out) {
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string k, v;
    if (!PercentDecode(pair.substr(0, eq), true, &k) ||
        !PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true, &v))
      return InvalidArgument("malformed query string");
    out->emplace_back(std::move(k), std::move(v));
  }
  return Status::Ok();
}

Status BuildRequest(const Route& route, const PathBindings& bindings, const QueryParams& query, std::string_view body,
                    pb::Message* out) {
  const pb::Descriptor* d = out->GetDescriptor();
  json root = json::object();
  auto parse_body = [&](json* into) -> Status {
    bool blank = true;
    for (char c : body) blank = blank && std::isspace(static_cast<unsigned char>(c));
    if (blank) {
      *into = json::object();
      return Status::Ok();
    }
    *into = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (into->is_discarded()) return InvalidArgument("invalid JSON in request body");
    return Status::Ok();
  };
  if (route.body == "*") {
    Status s = parse_body(&root);
    if (!s.ok()) return s;
    if (!root.is_object()) return InvalidArgument("request body must be a JSON object");
  } else {
    if (!route.body.empty()) {
      const pb::FieldDescriptor* f = FindField(d, route.body);
      if (!f) return Internal("route body field " + route.body + " not in " + d->full_name());
      json b;
      Status s = parse_body(&b);
      if (!s.ok()) return s;
      root[f->name()] = std::move(b);
    }
    std::string last_key;
    for (const auto& [k, v] : query) {
      Status s = SetPath(d, root, k, v, /*strict=*/false, /*append=*/k == last_key);
      if (!s.ok()) return s;
      last_key = k;
    }
  }
  for (const auto& [path, value] : bindings) {
    Status s = SetPath(d, root, path, value, /*strict=*/true, /*append=*/false);
    if (!s.ok()) return s;
  }
  Normalize(d, root);
  pb::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto st = pb::util::JsonStringToMessage(root.dump(-1, ' ', false, json::error_handler_t::replace), out, opts);
  if (!st.ok()) return InvalidArgument("invalid request: " + std::string(st.message()));
  return Status::Ok();
}

std::string MessageToJson(const pb::Message& m) {
  std::string out;
  pb::util::JsonPrintOptions opts;
  opts.add_whitespace = false;
  opts.always_print_primitive_fields = false;
  opts.preserve_proto_field_names = false;
  auto st = pb::util::MessageToJsonString(m, &out, opts);
  if (!st.ok()) return "{}";
  return out;
}

int HttpStatusForCode(int code) {
  switch (code) {
    case 0: return 200;
    case 1: return 499;   // CANCELLED
    case 2: return 500;   // UNKNOWN
    case 3: return 400;   // INVALID_ARGUMENT
    case 4: return 504;   // DEADLINE_EXCEEDED
    case 5: return 404;   // NOT_FOUND
    case 6: return 409;   // ALREADY_EXISTS
    case 7: return 403;   // PERMISSION_DENIED
    case 8: return 429;   // RESOURCE_EXHAUSTED
    case 9: return 400;   // FAILED_PRECONDITION
    case 10: return 409;  // ABORTED
    case 11: return 400;  // OUT_OF_RANGE
    case 12: return 501;  // UNIMPLEMENTED
    case 13: return 500;  // INTERNAL
    case 14: return 503;  // UNAVAILABLE
    case 15: return 500;  // DATA_LOSS
    case 16: return 401;  // UNAUTHENTICATED
    default: return 500;
  }
}

namespace {

// One google.protobuf.Any (type_url = 1, value = 2) as JSON with "@type", when its type is known.
json AnyToJson(const std::string& any_bytes) {
  pb::UnknownFieldSet fields;
  if (!fields.ParseFromString(any_bytes)) return json();
  std::string type_url, value;
  for (int i = 0; i < fields.field_count(); ++i) {
    const auto& f = fields.field(i);
    if (f.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED) continue;
    if (f.number() == 1) type_url = f.length_delimited();
    if (f.number() == 2) value = f.length_delimited();
  }
  json out = json::object();
  out["@type"] = type_url;
  std::string name = type_url.substr(type_url.rfind('/') + 1);
  const pb::Descriptor* d = pb::DescriptorPool::generated_pool()->FindMessageTypeByName(name);
  if (!d) return out;
  const pb::Message* proto = pb::MessageFactory::generated_factory()->GetPrototype(d);
  std::unique_ptr<pb::Message> m(proto->New());
  if (!m->ParseFromString(value)) return out;
  json body = json::parse(MessageToJson(*m), nullptr, false);
  if (body.is_object()) {
    for (auto& [k, v] : body.items()) out[k] = v;
  }
  return out;
}

}  // namespace

std::string StatusToJson(int grpc_code, const std::string& message, const std::string& details_status) {
  json j = json::object();
  j["code"] = grpc_code;
  j["message"] = message;
  j["details"] = json::array();
  if (!details_status.empty()) {
    pb::UnknownFieldSet fields;
    if (fields.ParseFromString(details_status)) {
      for (int i = 0; i < fields.field_count(); ++i) {
        const auto& f = fields.field(i);
        if (f.number() == 3 && f.type() == pb::UnknownField::TYPE_LENGTH_DELIMITED) {
          json d = AnyToJson(f.length_delimited());
          if (!d.is_null()) j["details"].push_back(std::move(d));
        }
      }
    }
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace temporalite::http
