#include "visibility/search_attributes.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace temporalite::visibility {

namespace ev1 = ::temporal::api::enums::v1;
namespace cv1 = ::temporal::api::common::v1;

std::string TypeName(ValueType t) {
  switch (t) {
    case ev1::INDEXED_VALUE_TYPE_TEXT: return "Text";
    case ev1::INDEXED_VALUE_TYPE_KEYWORD: return "Keyword";
    case ev1::INDEXED_VALUE_TYPE_INT: return "Int";
    case ev1::INDEXED_VALUE_TYPE_DOUBLE: return "Double";
    case ev1::INDEXED_VALUE_TYPE_BOOL: return "Bool";
    case ev1::INDEXED_VALUE_TYPE_DATETIME: return "Datetime";
    case ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST: return "KeywordList";
    default: return "Unspecified";
  }
}

std::optional<ValueType> ParseTypeName(const std::string& name) {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::string n = lower(name);
  for (int v = ev1::INDEXED_VALUE_TYPE_TEXT; v <= ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST; ++v) {
    auto t = static_cast<ValueType>(v);
    if (n == lower(TypeName(t)) || n == lower(ev1::IndexedValueType_Name(t))) return t;
  }
  return std::nullopt;
}

const TypeMap& SystemAttributes() {
  static const TypeMap m = {
      {"WorkflowId", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"RunId", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"WorkflowType", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"StartTime", ev1::INDEXED_VALUE_TYPE_DATETIME},
      {"ExecutionTime", ev1::INDEXED_VALUE_TYPE_DATETIME},
      {"CloseTime", ev1::INDEXED_VALUE_TYPE_DATETIME},
      {"ExecutionStatus", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"TaskQueue", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"HistoryLength", ev1::INDEXED_VALUE_TYPE_INT},
      {"ExecutionDuration", ev1::INDEXED_VALUE_TYPE_INT},
      {"StateTransitionCount", ev1::INDEXED_VALUE_TYPE_INT},
      {"HistorySizeBytes", ev1::INDEXED_VALUE_TYPE_INT},
      {"ParentWorkflowId", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"ParentRunId", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"RootWorkflowId", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"RootRunId", ev1::INDEXED_VALUE_TYPE_KEYWORD},
  };
  return m;
}

const TypeMap& PredefinedAttributes() {
  static const TypeMap m = {
      {"TemporalChangeVersion", ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST},
      {"BinaryChecksums", ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST},
      {"BuildIds", ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST},
      {"BatcherNamespace", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"BatcherUser", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"TemporalScheduledStartTime", ev1::INDEXED_VALUE_TYPE_DATETIME},
      {"TemporalScheduledById", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"TemporalSchedulePaused", ev1::INDEXED_VALUE_TYPE_BOOL},
      {"TemporalNamespaceDivision", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"TemporalPauseInfo", ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST},
      {"TemporalReportedProblems", ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST},
      {"TemporalWorkerDeploymentVersion", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"TemporalWorkflowVersioningBehavior", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"TemporalWorkerDeployment", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"TemporalUsedWorkerDeploymentVersions", ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST},
      {"TemporalExternalPayloadCount", ev1::INDEXED_VALUE_TYPE_INT},
      {"TemporalExternalPayloadSizeBytes", ev1::INDEXED_VALUE_TYPE_INT},
  };
  return m;
}

bool IsSettablePredefined(const std::string& name) {
  static const char* kWhiteList[] = {"TemporalChangeVersion", "BinaryChecksums", "BuildIds", "BatcherNamespace",
                                     "BatcherUser", "TemporalScheduledStartTime", "TemporalScheduledById",
                                     "TemporalSchedulePaused", "TemporalNamespaceDivision", "TemporalPauseInfo",
                                     "TemporalReportedProblems"};
  return std::any_of(std::begin(kWhiteList), std::end(kWhiteList), [&](const char* n) { return name == n; });
}

bool IsReserved(const std::string& name) {
  return SystemAttributes().count(name) || PredefinedAttributes().count(name) || name == "NamespaceId" ||
         name == "Memo" || name == "MemoEncoding" || name == "VisibilityTaskKey";
}

bool IsValidName(const std::string& n) {
  if (n.empty() || !std::isalpha(static_cast<unsigned char>(n[0]))) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

std::optional<ValueType> LookupType(const std::string& name, const TypeMap& custom) {
  for (const TypeMap* m : {&SystemAttributes(), &PredefinedAttributes(), &custom}) {
    auto it = m->find(name);
    if (it != m->end()) return it->second;
  }
  return std::nullopt;
}

std::optional<int64_t> ParseRfc3339(const std::string& s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  auto digits = [&](size_t pos, size_t n, int* out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (!digits(0, 4, &y) || s.size() < 20 || s[4] != '-' || !digits(5, 2, &mo) || s[7] != '-' || !digits(8, 2, &d) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(11, 2, &h) || s[13] != ':' || !digits(14, 2, &mi) ||
      s[16] != ':' || !digits(17, 2, &sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000000;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (scale > 0) nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(pos + 4, 2, &om)) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset;
  // Unix nanoseconds in int64 reach 1677-09-21..2262-04-11; later or earlier times are invalid
  // (the multiplication would overflow; found by fuzz/list_filter_fuzzer.cc).
  if (secs <= -9223372036LL || secs >= 9223372036LL) return std::nullopt;
  return secs * 1000000000 + nanos;
}

namespace {

Status InvalidValue(const std::string& name, ValueType type, const std::string& shown) {
  return InvalidArgument("invalid value for search attribute " + name + " of type " + TypeName(type) + ": " + shown);
}

}  // namespace

Result<Value> DecodeValue(const cv1::Payload& payload, ValueType type) {
  Value v;
  v.type = type;
  auto enc = payload.metadata().find("encoding");
  nlohmann::json j;
  bool ok = enc != payload.metadata().end() && enc->second == "json/plain";
  if (ok) {
    j = nlohmann::json::parse(payload.data(), nullptr, false);
    ok = !j.is_discarded();
  }
  if (!ok) return InvalidArgument("value from <" + payload.ShortDebugString() + ">");
  auto bad = [&]() -> Result<Value> { return InvalidArgument(j.dump()); };
  // Scalars may also come as a one-element list (the SDKs' legacy untyped attributes).
  if (j.is_array() && type != ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST) {
    if (j.size() != 1) return bad();
    j = nlohmann::json(j[0]);
  }
  switch (type) {
    case ev1::INDEXED_VALUE_TYPE_KEYWORD:
    case ev1::INDEXED_VALUE_TYPE_TEXT:
      if (!j.is_string()) return bad();
      v.str = j.get<std::string>();
      return v;
    case ev1::INDEXED_VALUE_TYPE_INT:
      if (!j.is_number_integer()) return bad();
      v.i = j.get<int64_t>();
      return v;
    case ev1::INDEXED_VALUE_TYPE_DOUBLE:
      if (!j.is_number()) return bad();
      v.d = j.get<double>();
      return v;
    case ev1::INDEXED_VALUE_TYPE_BOOL:
      if (!j.is_boolean()) return bad();
      v.i = j.get<bool>() ? 1 : 0;
      return v;
    case ev1::INDEXED_VALUE_TYPE_DATETIME: {
      if (!j.is_string()) return bad();
      auto t = ParseRfc3339(j.get<std::string>());
      if (!t) return bad();
      v.i = *t;
      return v;
    }
    case ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST:
      if (j.is_string()) {
        v.list.push_back(j.get<std::string>());
        return v;
      }
      if (!j.is_array()) return bad();
      for (const auto& e : j) {
        if (!e.is_string()) return bad();
        v.list.push_back(e.get<std::string>());
      }
      return v;
    default:
      return bad();
  }
}

bool IsUnset(const cv1::Payload& p) {
  auto enc = p.metadata().find("encoding");
  if (enc != p.metadata().end() && enc->second == "binary/null") return true;
  return p.data().empty() || p.data() == "null" || p.data() == "[]";
}

Status ValidateSize(const cv1::SearchAttributes& attrs) {
  std::map<std::string, const cv1::Payload*> sorted;
  for (const auto& [k, p] : attrs.indexed_fields()) sorted[k] = &p;
  for (const auto& [name, payload] : sorted) {
    if (payload->data().size() > kMaxValueBytes) {
      return InvalidArgument("search attribute " + name + " value of size " + std::to_string(payload->data().size()) +
                             " exceeds size limit " + std::to_string(kMaxValueBytes));
    }
  }
  size_t total = attrs.ByteSizeLong();
  if (total > kMaxTotalBytes) {
    return InvalidArgument("total size of search attributes " + std::to_string(total) + " exceeds size limit " +
                           std::to_string(kMaxTotalBytes));
  }
  return Status::Ok();
}

Status Validate(const cv1::SearchAttributes& attrs, const TypeMap& custom) {
  TL_RETURN_IF_ERROR(ValidateSize(attrs));
  // Sorted for a deterministic first error.
  std::map<std::string, const cv1::Payload*> sorted;
  for (const auto& [k, p] : attrs.indexed_fields()) sorted[k] = &p;
  for (const auto& [name, payload] : sorted) {
    if (SystemAttributes().count(name)) return InvalidArgument(name + " attribute can't be set in SearchAttributes");
    std::optional<ValueType> type;
    auto pit = PredefinedAttributes().find(name);
    if (pit != PredefinedAttributes().end()) {
      if (!IsSettablePredefined(name)) return InvalidArgument(name + " attribute can't be set in SearchAttributes");
      type = pit->second;
    } else {
      auto cit = custom.find(name);
      if (cit != custom.end()) type = cit->second;
    }
    if (!type) return InvalidArgument("search attribute " + name + " is not defined");
    // An empty payload (no data) unsets the attribute.
    if (IsUnset(*payload)) continue;
    auto v = DecodeValue(*payload, *type);
    if (!v.ok()) return InvalidValue(name, *type, v.status().message());
  }
  return Status::Ok();
}

std::string ToJsonColumn(const cv1::SearchAttributes& attrs, const TypeMap& custom) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, payload] : attrs.indexed_fields()) {
    auto type = LookupType(name, custom);
    if (!type || SystemAttributes().count(name) || IsUnset(payload)) continue;
    auto v = DecodeValue(payload, *type);
    if (!v.ok()) continue;
    switch (*type) {
      case ev1::INDEXED_VALUE_TYPE_KEYWORD:
      case ev1::INDEXED_VALUE_TYPE_TEXT: out[name] = v->str; break;
      case ev1::INDEXED_VALUE_TYPE_DOUBLE: out[name] = v->d; break;
      case ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST: out[name] = v->list; break;
      default: out[name] = v->i; break;  // Int, Bool (0/1), Datetime (ns)
    }
  }
  return out.empty() ? std::string() : out.dump();
}

}  // namespace temporalite::visibility
