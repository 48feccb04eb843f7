// Typing search attribute payloads the way Temporal's server does before SDKs see them: each value
// of a known attribute carries metadata "type" = the attribute's type name ("Datetime", "Int",
// "KeywordList", ...), so SDKs decode typed values (a Datetime as a date) even when the value was
// set in the legacy untyped form.
#pragma once

#include "temporal/api/common/v1/message.pb.h"
#include "visibility/search_attributes.h"

namespace temporalite::history {

inline void SetSearchAttributeTypes(::temporal::api::common::v1::SearchAttributes* attrs,
                                    const visibility::TypeMap& custom) {
  for (auto& [name, payload] : *attrs->mutable_indexed_fields()) {
    if (visibility::IsUnset(payload)) continue;  // a removal stays untyped
    auto type = visibility::LookupType(name, custom);
    if (type) (*payload.mutable_metadata())["type"] = visibility::TypeName(*type);
  }
}

}  // namespace temporalite::history
