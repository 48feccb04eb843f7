// libFuzzer target: values inside protobuf requests that the server decodes itself: task tokens
// (RespondWorkflowTaskCompleted, RespondActivityTask*, heartbeats), search attributes
// (StartWorkflowExecution, UpsertSearchAttributes commands: names, types, the size limits)
// and each search attribute payload decoded as every type. The first byte picks the form, the
// rest is the wire-format message (structure-aware through protobuf's parser).
// Bad values must be INVALID_ARGUMENT; nothing may crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "history/task_token.h"
#include "temporal/api/common/v1/message.pb.h"
#include "visibility/search_attributes.h"

namespace vis = temporalite::visibility;
namespace ev1 = temporal::api::enums::v1;

namespace {

void CheckError(const temporalite::Status& s) {
  if (!s.ok() && s.code() != temporalite::Code::kInvalidArgument) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  static const vis::TypeMap kCustom = {
      {"CustomKeywordField", ev1::INDEXED_VALUE_TYPE_KEYWORD},
      {"CustomTextField", ev1::INDEXED_VALUE_TYPE_TEXT},
      {"CustomIntField", ev1::INDEXED_VALUE_TYPE_INT},
      {"CustomDoubleField", ev1::INDEXED_VALUE_TYPE_DOUBLE},
      {"CustomBoolField", ev1::INDEXED_VALUE_TYPE_BOOL},
      {"CustomDatetimeField", ev1::INDEXED_VALUE_TYPE_DATETIME},
      {"CustomKeywordListField", ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST},
  };
  switch (data[0] % 3) {
    case 0:
      CheckError(temporalite::history::DecodeTaskToken(bytes).status());
      break;
    case 1: {
      temporal::api::common::v1::SearchAttributes attrs;
      if (!attrs.ParseFromString(bytes)) return 0;
      CheckError(vis::Validate(attrs, kCustom));
      break;
    }
    default: {
      temporal::api::common::v1::Payload p;
      if (!p.ParseFromString(bytes)) {
        // Also as the json/plain data of a payload, the common case.
        p.Clear();
        (*p.mutable_metadata())["encoding"] = "json/plain";
        p.set_data(bytes);
      }
      (void)vis::IsUnset(p);
      for (int t = ev1::IndexedValueType_MIN; t <= ev1::IndexedValueType_MAX; ++t) {
        CheckError(vis::DecodeValue(p, static_cast<ev1::IndexedValueType>(t)).status());
      }
      break;
    }
  }
  return 0;
}
