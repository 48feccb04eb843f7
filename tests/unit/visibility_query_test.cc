// The list-filter compiler and the search attribute type model (no database: SQL text and
// bound values are checked directly; the SDK tests run the same queries against SQLite).
#include <gtest/gtest.h>

#include "temporal/api/enums/v1/workflow.pb.h"
#include "visibility/query.h"
#include "visibility/search_attributes.h"

namespace temporalite::visibility {
namespace {

namespace ev1 = ::temporal::api::enums::v1;
namespace cv1 = ::temporal::api::common::v1;

TypeMap Custom() {
  return {{"Kw", ev1::INDEXED_VALUE_TYPE_KEYWORD},   {"Num", ev1::INDEXED_VALUE_TYPE_INT},
          {"Dbl", ev1::INDEXED_VALUE_TYPE_DOUBLE},   {"Flag", ev1::INDEXED_VALUE_TYPE_BOOL},
          {"When", ev1::INDEXED_VALUE_TYPE_DATETIME}, {"Tags", ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST},
          {"Txt", ev1::INDEXED_VALUE_TYPE_TEXT}};
}

CompiledQuery Ok(const std::string& q) {
  auto c = CompileQuery(q, Custom());
  EXPECT_TRUE(c.ok()) << q << ": " << c.status().ToString();
  return c.ok() ? *c : CompiledQuery{};
}

std::string Err(const std::string& q) {
  auto c = CompileQuery(q, Custom());
  EXPECT_FALSE(c.ok()) << q;
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  return c.status().message();
}

TEST(VisibilityQuery, SystemColumnsAndOperators) {
  auto c = Ok("WorkflowType = 'X' AND ExecutionStatus = 'Failed'");
  EXPECT_EQ(c.where, "workflow_type = ? AND status = ?");
  ASSERT_EQ(c.args.size(), 2u);
  EXPECT_EQ(std::get<std::string>(c.args[0]), "X");
  EXPECT_EQ(std::get<int64_t>(c.args[1]), ev1::WORKFLOW_EXECUTION_STATUS_FAILED);
  EXPECT_EQ(Ok("WorkflowId != 'a' OR (RunId IN ('r1', 'r2'))").where, "workflow_id != ? OR run_id IN (?, ?)");
  EXPECT_EQ(Ok("WorkflowId <> 'a'").where, "workflow_id != ?");
  EXPECT_EQ(Ok("NOT WorkflowId = 'a'").where, "NOT workflow_id = ?");
  EXPECT_EQ(Ok("CloseTime IS NULL").where, "close_time IS NULL");
  EXPECT_EQ(Ok("CloseTime is not null").where, "close_time IS NOT NULL");
  EXPECT_EQ(Ok("HistoryLength BETWEEN 1 AND 5").where, "history_length BETWEEN ? AND ?");
  EXPECT_EQ(Ok("HistoryLength NOT BETWEEN 1 AND 5").where, "history_length NOT BETWEEN ? AND ?");
  EXPECT_EQ(Ok("TaskQueue NOT IN ('a')").where, "task_queue NOT IN (?)");
  EXPECT_EQ(Ok("WorkflowId STARTS_WITH 'ab'").where, "substr(workflow_id, 1, ?) = ?");
  EXPECT_EQ(Ok("WorkflowId NOT STARTS_WITH 'ab'").where, "substr(workflow_id, 1, ?) != ?");
  EXPECT_EQ(Ok("").where, "");
}

TEST(VisibilityQuery, ValueFormats) {
  auto c = Ok("StartTime > '2024-01-01T00:00:00Z' AND CloseTime < '2024-01-01T01:00:00.5+01:00'");
  EXPECT_EQ(std::get<int64_t>(c.args[0]), 1704067200LL * 1000000000);
  EXPECT_EQ(std::get<int64_t>(c.args[1]), 1704067200LL * 1000000000 + 500000000);
  EXPECT_EQ(std::get<int64_t>(Ok("ExecutionDuration > '2h45m'").args[0]), (2 * 3600 + 45 * 60) * 1000000000LL);
  EXPECT_EQ(std::get<int64_t>(Ok("ExecutionDuration > '01:00:01'").args[0]), 3601 * 1000000000LL);
  EXPECT_EQ(std::get<int64_t>(Ok("ExecutionDuration > '1d'").args[0]), 86400 * 1000000000LL);
  EXPECT_EQ(std::get<int64_t>(Ok("ExecutionDuration > 5").args[0]), 5);
  EXPECT_EQ(std::get<int64_t>(Ok("ExecutionStatus = 3").args[0]), 3);
  EXPECT_EQ(std::get<int64_t>(Ok("ExecutionStatus = 'ContinuedAsNew'").args[0]),
            ev1::WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW);
  EXPECT_EQ(std::get<int64_t>(Ok("Flag = true").args[0]), 1);
  EXPECT_EQ(std::get<double>(Ok("Dbl > 1.5").args[0]), 1.5);
  EXPECT_EQ(std::get<std::string>(Ok("Kw = 'it''s'").args[0]), "it's");
  EXPECT_EQ(std::get<std::string>(Ok("Kw = \"dq\"").args[0]), "dq");
}

TEST(VisibilityQuery, CustomAttributesAndAliases) {
  EXPECT_EQ(Ok("Kw = 'a'").where, "json_extract(search_attributes, '$.\"Kw\"') = ?");
  EXPECT_EQ(Ok("`Kw` = 'a'").where, "json_extract(search_attributes, '$.\"Kw\"') = ?");
  EXPECT_NE(Ok("Tags = 'a'").where.find("json_each"), std::string::npos);
  EXPECT_NE(Ok("TemporalScheduledById = 's'").where.find("TemporalScheduledById"), std::string::npos);
  // Temporal resolves names with and without the "Temporal" prefix, and ScheduleId.
  EXPECT_NE(Ok("ScheduledById = 's'").where.find("TemporalScheduledById"), std::string::npos);
  EXPECT_EQ(Ok("ScheduleId = 's'").where, "workflow_id = ?");
}

TEST(VisibilityQuery, OrderAndGroupBy) {
  auto c = Ok("WorkflowType = 'X' ORDER BY StartTime DESC, Num");
  EXPECT_EQ(c.order_by, "start_time DESC, json_extract(search_attributes, '$.\"Num\"') ASC");
  EXPECT_EQ(Ok("order by CloseTime asc").order_by, "close_time ASC");
  EXPECT_TRUE(Ok("GROUP BY ExecutionStatus").group_by_status);
  EXPECT_TRUE(Ok("WorkflowType = 'X' GROUP BY ExecutionStatus").group_by_status);
}

TEST(VisibilityQuery, TemporalErrorWording) {
  EXPECT_EQ(Err("Nope = 1"), "invalid query: invalid expression: column name 'Nope' is not a valid search attribute");
  EXPECT_EQ(Err("Num = 'x'"),
            "invalid query: invalid expression: invalid value type for search attribute Num of type Int: \"x\" (type: string)");
  EXPECT_EQ(Err("Flag = 1"), "invalid query: invalid expression: invalid value type for search attribute Flag of type Bool: 1 (type: int64)");
  EXPECT_EQ(Err("Num STARTS_WITH 'a'"),
            "invalid query: operation is not supported: operator 'STARTS_WITH' not supported for Int type search attribute 'Num'");
  EXPECT_EQ(Err("Tags > 'a'"),
            "invalid query: operation is not supported: operator '>' not supported for KeywordList type search attribute 'Tags'");
  EXPECT_EQ(Err("Txt IN ('a')"), "invalid query: operation is not supported: operator 'IN' not supported for Text type search attribute 'Txt'");
  EXPECT_EQ(Err("Flag BETWEEN true AND false"),
            "invalid query: invalid expression: cannot do range condition on search attribute 'Flag' of type Bool");
  EXPECT_EQ(Err("When = 'noon'"), "invalid query: invalid expression: unable to parse datetime 'noon'");
  EXPECT_EQ(Err("ExecutionStatus = 'Done'"), "invalid query: invalid expression: invalid ExecutionStatus value 'Done'");
  EXPECT_EQ(Err("ExecutionStatus = 99"), "invalid query: invalid expression: invalid ExecutionStatus value 99");
  EXPECT_EQ(Err("ExecutionDuration > 'x'"),
            "invalid query: invalid expression: invalid duration value for search attribute ExecutionDuration: x");
  // Found by fuzz/list_filter_fuzzer.cc (UBSan: a double out of int64's range cast to int64):
  // durations beyond int64 nanoseconds (~292 years) are invalid, as in Go.
  EXPECT_EQ(Err("ExecutionDuration > '99999999999999999999h'"),
            "invalid query: invalid expression: invalid duration value for search attribute ExecutionDuration: "
            "99999999999999999999h");
  EXPECT_FALSE(CompileQuery("ExecutionDuration < '1e308h'", Custom()).ok());
  EXPECT_FALSE(CompileQuery("ExecutionDuration < '2147483647:00:00'", Custom()).ok());
  EXPECT_EQ(std::get<int64_t>(Ok("ExecutionDuration > '2562046:00:00'").args[0]), 2562046LL * 3600 * 1000000000LL);
  EXPECT_EQ(std::get<int64_t>(Ok("ExecutionDuration > '2562047h'").args[0]), 2562047LL * 3600 * 1000000000LL);
  // Also found by the fuzzer (signed overflow): datetimes outside int64 Unix nanoseconds are invalid.
  EXPECT_EQ(Err("StartTime > '4048-01-01T00:00:00Z'"),
            "invalid query: invalid expression: unable to parse datetime '4048-01-01T00:00:00Z'");
  EXPECT_FALSE(CompileQuery("CloseTime < '1600-01-01T00:00:00Z'", Custom()).ok());
  EXPECT_TRUE(CompileQuery("StartTime > '2262-04-11T00:00:00Z'", Custom()).ok());
  EXPECT_EQ(Err("ORDER BY Txt"), "invalid query: operation is not supported: unable to sort by search attribute type Text");
  EXPECT_EQ(Err("GROUP BY WorkflowType"),
            "invalid query: operation is not supported: 'GROUP BY' clause is not supported for search attribute WorkflowType");
  EXPECT_EQ(Err("GROUP BY ExecutionStatus, WorkflowType"),
            "invalid query: operation is not supported: 'GROUP BY' clause supports only a single field");
  EXPECT_EQ(Err("Kw = 'a' LIMIT 5"), "invalid query: operation is not supported: 'LIMIT' clause");
  EXPECT_EQ(Err("Kw = Num"),
            "invalid query: operation is not supported: column name on the right side of comparison expression (did you forget to quote \"Num\"?)");
  EXPECT_EQ(Err("Kw IS 'a'"), "invalid query: invalid expression: 'IS' operator can only be used as 'IS NULL' or 'IS NOT NULL'");
  EXPECT_EQ(Err("lower(Kw) = 'a'"), "invalid query: operation is not supported: function expression");
  EXPECT_EQ(Err("Kw = 'a' AND").rfind("invalid query: malformed SQL query: syntax error at position", 0), 0u);
  EXPECT_EQ(Err("Kw = 'unterminated").rfind("invalid query: malformed SQL query: syntax error", 0), 0u);
  EXPECT_EQ(Err("(Kw = 'a'").rfind("invalid query: malformed SQL query: syntax error", 0), 0u);
  EXPECT_EQ(Err("Kw = 'a' Num = 1").rfind("invalid query: malformed SQL query: syntax error", 0), 0u);
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int k = 0; k < n; ++k) out += s;
  return out;
}

// Alternating AND/OR nesting `depth` levels deep: "(Kw = 'a' OR (Kw = 'a' AND (... Kw = 'z')))".
std::string Alternating(int depth) {
  std::string q = "Kw = 'z'";
  for (int d = 0; d < depth; ++d) q = "(Kw = 'a' " + std::string(d % 2 ? "AND " : "OR ") + q + ")";
  return q;
}

TEST(VisibilityQuery, NestingAndSizeLimits) {
  // Redundant parentheses cost nothing: they are dropped from the SQL.
  EXPECT_EQ(Ok(Repeat("(", 89) + "WorkflowId = 'x'" + Repeat(")", 89)).where, "workflow_id = ?");
  // Deep nesting as written is refused before it can exhaust the stack.
  EXPECT_EQ(Err(Repeat("(", 5000) + "WorkflowId = 'x'" + Repeat(")", 5000)).rfind(
                "invalid query: malformed SQL query: max nesting level reached at position ", 0),
            0u);
  EXPECT_EQ(Err(Repeat("NOT ", 5000) + "WorkflowId = 'x'").rfind("invalid query: malformed SQL query: max nesting level", 0),
            0u);
  // Nesting that would reach SQLite is bounded (8 AND/OR/NOT levels).
  Ok(Alternating(7));
  EXPECT_EQ(Err(Alternating(9)).rfind("invalid query: malformed SQL query: max nesting level reached", 0), 0u);
  // 1,000 conditions are fine; SQL is a balanced tree, not a chain 1,000 deep.
  std::string ors = "WorkflowId = 'w0'";
  for (int k = 1; k < 1000; ++k) ors += " OR WorkflowId = 'w" + std::to_string(k) + "'";
  CompiledQuery c = Ok(ors);
  EXPECT_EQ(c.args.size(), 1000u);
  int depth = 0, max_depth = 0;
  for (char ch : c.where) {
    depth += ch == '(' ? 1 : ch == ')' ? -1 : 0;
    max_depth = std::max(max_depth, depth);
  }
  EXPECT_LE(max_depth, 4);
  EXPECT_EQ(Err(ors + " OR WorkflowId = 'one-more'"),
            "invalid query: operation is not supported: more than 1000 conditions in one query");
  std::string in = "WorkflowId IN ('v0'";
  for (int k = 1; k <= 10000; ++k) in += ", 'v" + std::to_string(k) + "'";
  EXPECT_EQ(Err(in + ")"), "invalid query: operation is not supported: more than 10000 values in one query");
}

cv1::Payload Json(const std::string& data) {
  cv1::Payload p;
  (*p.mutable_metadata())["encoding"] = "json/plain";
  p.set_data(data);
  return p;
}

TEST(SearchAttributes, ValidateAndJsonColumn) {
  cv1::SearchAttributes sa;
  (*sa.mutable_indexed_fields())["Kw"] = Json("\"v\"");
  (*sa.mutable_indexed_fields())["Num"] = Json("[7]");  // legacy one-element list
  (*sa.mutable_indexed_fields())["Tags"] = Json("[\"a\",\"b\"]");
  (*sa.mutable_indexed_fields())["When"] = Json("\"2024-01-01T00:00:00Z\"");
  (*sa.mutable_indexed_fields())["TemporalScheduledById"] = Json("\"sched\"");
  EXPECT_TRUE(Validate(sa, Custom()).ok());
  EXPECT_EQ(ToJsonColumn(sa, Custom()),
            "{\"Kw\":\"v\",\"Num\":7,\"Tags\":[\"a\",\"b\"],\"TemporalScheduledById\":\"sched\",\"When\":1704067200000000000}");

  cv1::SearchAttributes bad;
  (*bad.mutable_indexed_fields())["Num"] = Json("\"seven\"");
  EXPECT_EQ(Validate(bad, Custom()).message(), "invalid value for search attribute Num of type Int: \"seven\"");
  cv1::SearchAttributes undefined;
  (*undefined.mutable_indexed_fields())["Nope"] = Json("1");
  EXPECT_EQ(Validate(undefined, Custom()).message(), "search attribute Nope is not defined");
  cv1::SearchAttributes system;
  (*system.mutable_indexed_fields())["WorkflowId"] = Json("\"x\"");
  EXPECT_EQ(Validate(system, Custom()).message(), "WorkflowId attribute can't be set in SearchAttributes");
  cv1::SearchAttributes list;
  (*list.mutable_indexed_fields())["Num"] = Json("[1,2]");
  EXPECT_FALSE(Validate(list, Custom()).ok());
  cv1::SearchAttributes unset;
  (*unset.mutable_indexed_fields())["Num"] = Json("null");
  EXPECT_TRUE(Validate(unset, Custom()).ok());
  EXPECT_EQ(ToJsonColumn(unset, Custom()), "");
}

TEST(SearchAttributes, SizeLimitsWithTemporalMessages) {
  // 2 KB of data per value is fine; one byte more is not (the JSON quotes count: data is bytes).
  cv1::SearchAttributes at_limit;
  (*at_limit.mutable_indexed_fields())["Kw"] = Json("\"" + std::string(2046, 'k') + "\"");
  EXPECT_TRUE(Validate(at_limit, Custom()).ok());
  cv1::SearchAttributes big;
  (*big.mutable_indexed_fields())["Kw"] = Json("\"" + std::string(2047, 'k') + "\"");
  EXPECT_EQ(Validate(big, Custom()).message(), "search attribute Kw value of size 2049 exceeds size limit 2048");
  cv1::SearchAttributes huge;
  (*huge.mutable_indexed_fields())["Kw"] = Json("\"" + std::string(3 << 20, 'k') + "\"");
  EXPECT_EQ(Validate(huge, Custom()).code(), Code::kInvalidArgument);
  // 40 KB in total, each value under 2 KB.
  cv1::SearchAttributes many;
  for (int i = 0; i < 21; ++i) (*many.mutable_indexed_fields())["A" + std::to_string(i)] = Json(std::string(2000, '1'));
  Status total = ValidateSize(many);
  EXPECT_EQ(total.code(), Code::kInvalidArgument);
  EXPECT_EQ(total.message().rfind("total size of search attributes ", 0), 0u) << total.message();
  EXPECT_NE(total.message().find(" exceeds size limit 40960"), std::string::npos) << total.message();
}

TEST(SearchAttributes, TypeNamesAndReservedNames) {
  EXPECT_EQ(ParseTypeName("keywordlist"), ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST);
  EXPECT_EQ(ParseTypeName("Datetime"), ev1::INDEXED_VALUE_TYPE_DATETIME);
  EXPECT_EQ(ParseTypeName("INDEXED_VALUE_TYPE_INT"), ev1::INDEXED_VALUE_TYPE_INT);
  EXPECT_FALSE(ParseTypeName("string").has_value());
  EXPECT_TRUE(IsReserved("WorkflowId"));
  EXPECT_TRUE(IsReserved("BuildIds"));
  EXPECT_TRUE(IsReserved("Memo"));
  EXPECT_FALSE(IsReserved("CustomKeywordField"));
  EXPECT_EQ(PredefinedAttributes().at("TemporalScheduledStartTime"), ev1::INDEXED_VALUE_TYPE_DATETIME);
  EXPECT_EQ(PredefinedAttributes().at("TemporalSchedulePaused"), ev1::INDEXED_VALUE_TYPE_BOOL);
}

}  // namespace
}  // namespace temporalite::visibility
