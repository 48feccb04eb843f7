// Search attribute type model: Temporal's system and predefined attributes, namespace-scoped
// custom ones, and decoding/validation of the payload values workflows set. No engine types.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/enums/v1/common.pb.h"

namespace temporalite::visibility {

using ValueType = ::temporal::api::enums::v1::IndexedValueType;
// Custom search attributes of a namespace: name -> type.
using TypeMap = std::map<std::string, ValueType>;

// Temporal's shorthand type names ("Keyword", "KeywordList", ...), as Go's String() prints them.
std::string TypeName(ValueType t);
// Case-insensitive shorthand ("keyword") or full enum name; nullopt if unknown.
std::optional<ValueType> ParseTypeName(const std::string& name);

// System attributes (WorkflowId, StartTime, ExecutionStatus, ...): filterable, never settable.
const TypeMap& SystemAttributes();
// Predefined attributes (TemporalScheduledById, BuildIds, ...): stored with the custom ones.
const TypeMap& PredefinedAttributes();
// Predefined attributes a workflow may set (Temporal's predefined white list).
bool IsSettablePredefined(const std::string& name);
// System, predefined or reserved (NamespaceId, Memo, ...): cannot be added as custom.
bool IsReserved(const std::string& name);
// A name a custom attribute may have: a letter, then letters, digits, '_', '-' or '.'.
bool IsValidName(const std::string& name);
// Type of a name usable in a query: system, predefined, or custom of this namespace.
std::optional<ValueType> LookupType(const std::string& name, const TypeMap& custom);

// A decoded search attribute value.
struct Value {
  ValueType type = ::temporal::api::enums::v1::INDEXED_VALUE_TYPE_UNSPECIFIED;
  std::string str;                  // Keyword, Text
  int64_t i = 0;                    // Int, Bool (0/1), Datetime (Unix ns)
  double d = 0;                     // Double
  std::vector<std::string> list;    // KeywordList
};

// Decodes a json/plain payload as `type`; INVALID_ARGUMENT with the offending text otherwise.
Result<Value> DecodeValue(const ::temporal::api::common::v1::Payload& payload, ValueType type);

// A value that removes the attribute (null, empty list, binary/null, no data).
bool IsUnset(const ::temporal::api::common::v1::Payload& p);

// Validates values set by a start request or an upsert command the way Temporal does:
// undefined names, system names and values of the wrong type are INVALID_ARGUMENT with
// Temporal's messages.
// Includes ValidateSize.
Status Validate(const ::temporal::api::common::v1::SearchAttributes& attrs, const TypeMap& custom);

// Temporal's default size limits (limit.searchAttributesSizeOfValue, limit.searchAttributesTotalSize):
// a value's data over 2 KB, or the encoded attributes over 40 KB, are INVALID_ARGUMENT with
// Temporal's messages. For an upsert, pass the attributes merged with the workflow's current ones.
constexpr size_t kMaxValueBytes = 2 * 1024;
constexpr size_t kMaxTotalBytes = 40 * 1024;
Status ValidateSize(const ::temporal::api::common::v1::SearchAttributes& attrs);

// JSON object of the decoded values (the `search_attributes` visibility column); "" if none.
// Values that do not decode (attributes removed or retyped since) are left out.
std::string ToJsonColumn(const ::temporal::api::common::v1::SearchAttributes& attrs, const TypeMap& custom);

// RFC 3339 (with optional fraction and offset) -> Unix ns.
std::optional<int64_t> ParseRfc3339(const std::string& s);

}  // namespace temporalite::visibility
