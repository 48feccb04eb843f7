// libFuzzer target: Temporal's list-filter language (visibility/query.h), the query text every
// ListWorkflowExecutions / CountWorkflowExecutions / batch request carries from any client.
// Any input must give a CompiledQuery or an INVALID_ARGUMENT error: no crash, no unbounded
// recursion, no hang, and never another status code (UNAVAILABLE makes SDKs retry).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "visibility/query.h"

namespace vis = temporalite::visibility;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const vis::TypeMap kCustom = {
      {"CustomKeywordField", temporal::api::enums::v1::INDEXED_VALUE_TYPE_KEYWORD},
      {"CustomTextField", temporal::api::enums::v1::INDEXED_VALUE_TYPE_TEXT},
      {"CustomIntField", temporal::api::enums::v1::INDEXED_VALUE_TYPE_INT},
      {"CustomDoubleField", temporal::api::enums::v1::INDEXED_VALUE_TYPE_DOUBLE},
      {"CustomBoolField", temporal::api::enums::v1::INDEXED_VALUE_TYPE_BOOL},
      {"CustomDatetimeField", temporal::api::enums::v1::INDEXED_VALUE_TYPE_DATETIME},
      {"CustomKeywordListField", temporal::api::enums::v1::INDEXED_VALUE_TYPE_KEYWORD_LIST},
  };
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto compiled = vis::CompileQuery(text, kCustom);
  if (!compiled.ok() && compiled.status().code() != temporalite::Code::kInvalidArgument) std::abort();
  if (compiled.ok()) {
    // Every bound value has its placeholder.
    size_t placeholders = 0;
    for (char c : compiled->where) placeholders += c == '?';
    if (placeholders != compiled->args.size()) std::abort();
  }
  std::string s(text);
  (void)vis::ParseDuration(s);
  (void)vis::ParseExecutionStatus(s);
  return 0;
}
