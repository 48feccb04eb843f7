// Merging an upserted memo into a workflow's memo, as Temporal's ModifyWorkflowProperties does.
#pragma once

#include "temporal/api/common/v1/message.pb.h"

namespace temporalite::history {

// A memo value Temporal treats as "no value": JSON null, or an empty / nil list (binary/null
// payloads carry no data). Upserting such a value removes the key.
inline bool IsNilMemoValue(const ::temporal::api::common::v1::Payload& p) {
  auto enc = p.metadata().find("encoding");
  if (enc != p.metadata().end() && enc->second == "binary/null") return true;
  return p.data() == "null" || p.data() == "[]";
}

// Merges `upserted` into `memo` key by key; a key upserted with a nil value is removed.
inline void MergeMemo(const ::temporal::api::common::v1::Memo& upserted, ::temporal::api::common::v1::Memo* memo) {
  for (const auto& [k, v] : upserted.fields()) {
    if (IsNilMemoValue(v)) {
      memo->mutable_fields()->erase(k);
    } else {
      (*memo->mutable_fields())[k] = v;
    }
  }
}

}  // namespace temporalite::history
