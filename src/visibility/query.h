// Temporal's list filter language ("WorkflowType = 'X' AND StartTime > '2024-01-01T00:00:00Z'
// ORDER BY StartTime DESC") compiled to a SQL condition over the visibility table's columns
// (persistence/store.h documents them). Values are bound parameters; column and attribute names
// come only from the type model, never from the query text, so the output is safe to splice.
// Errors are INVALID_ARGUMENT with Temporal's wording ("invalid query: ...").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"
#include "visibility/search_attributes.h"

namespace temporalite::visibility {

// Same type as persistence::SqlValue.
using SqlArg = std::variant<int64_t, double, std::string>;

struct CompiledQuery {
  std::string where;           // empty: no filter
  std::vector<SqlArg> args;    // bound to the `?` in `where`, in order
  std::string order_by;        // "col DESC, ..." or empty (default order)
  bool group_by_status = false;  // GROUP BY ExecutionStatus
  // Every attribute the query names: (as written, resolved name), e.g. ("ScheduleId", "WorkflowId").
  std::vector<std::pair<std::string, std::string>> fields;
};

// `custom`: the namespace's custom search attributes.
Result<CompiledQuery> CompileQuery(std::string_view query, const TypeMap& custom);

// Temporal's ExecutionDuration formats: integer nanoseconds, Go durations with an extra "d"
// unit ("2h45m", "1.5h", "3d"), or "hh:mm:ss". Nanoseconds, or nullopt.
std::optional<int64_t> ParseDuration(const std::string& s);

// "Running", "Completed", ... (also the full enum name) -> WorkflowExecutionStatus value.
std::optional<int> ParseExecutionStatus(const std::string& s);
// WorkflowExecutionStatus value -> "Running", ...
std::string ExecutionStatusName(int status);

}  // namespace temporalite::visibility
