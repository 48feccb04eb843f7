#include "scheduler/list_query.h"

#include <sqlite3.h>

#include <memory>
#include <variant>

namespace temporalite::scheduler {

Result<ScheduleFilter> ScheduleFilter::Compile(std::string_view query, const visibility::TypeMap& custom) {
  ScheduleFilter f;
  auto compiled = visibility::CompileQuery(query, custom);
  if (!compiled.ok()) return compiled.status();
  for (const auto& [alias, name] : compiled->fields) {
    if (alias == "ScheduleId" || alias == "TemporalScheduleId" || name == "TemporalSchedulePaused") continue;
    if (visibility::IsReserved(name)) {
      return InvalidArgument("invalid query filter for schedules: cannot filter on \"" + alias + "\"");
    }
  }
  if (!compiled->order_by.empty() || compiled->group_by_status) {
    return InvalidArgument("invalid query filter for schedules: 'ORDER BY' and 'GROUP BY' are not supported");
  }
  f.compiled_ = std::move(compiled).value();
  return f;
}

Result<std::set<std::string>> ScheduleFilter::Match(const std::vector<Row>& rows) const {
  std::set<std::string> out;
  if (empty()) {
    for (const Row& r : rows) out.insert(r.schedule_id);
    return out;
  }
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    return Internal("schedule list: cannot open an in-memory database");
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  auto fail = [&](const char* what) { return Internal(std::string("schedule list: ") + what + ": " + sqlite3_errmsg(db.get())); };
  if (sqlite3_exec(db.get(), "CREATE TABLE visibility(workflow_id TEXT, search_attributes TEXT)", nullptr, nullptr,
                   nullptr) != SQLITE_OK) {
    return fail("creating the table");
  }
  {
    sqlite3_stmt* ins = nullptr;
    if (sqlite3_prepare_v2(db.get(), "INSERT INTO visibility VALUES(?1, ?2)", -1, &ins, nullptr) != SQLITE_OK) {
      return fail("preparing the insert");
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(ins, sqlite3_finalize);
    for (const Row& r : rows) {
      sqlite3_bind_text(ins, 1, r.schedule_id.data(), static_cast<int>(r.schedule_id.size()), SQLITE_STATIC);
      if (r.search_attributes_json.empty()) {
        sqlite3_bind_null(ins, 2);
      } else {
        sqlite3_bind_text(ins, 2, r.search_attributes_json.data(), static_cast<int>(r.search_attributes_json.size()),
                          SQLITE_STATIC);
      }
      if (sqlite3_step(ins) != SQLITE_DONE) return fail("inserting a schedule");
      sqlite3_reset(ins);
    }
  }
  const std::string sql = "SELECT workflow_id FROM visibility WHERE " + compiled_.where;
  sqlite3_stmt* sel = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &sel, nullptr) != SQLITE_OK) return fail("preparing the query");
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(sel, sqlite3_finalize);
  int i = 1;
  for (const auto& arg : compiled_.args) {
    if (const auto* n = std::get_if<int64_t>(&arg)) {
      sqlite3_bind_int64(sel, i, *n);
    } else if (const auto* d = std::get_if<double>(&arg)) {
      sqlite3_bind_double(sel, i, *d);
    } else {
      const auto& s = std::get<std::string>(arg);
      sqlite3_bind_text(sel, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    }
    ++i;
  }
  int rc;
  while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
    out.insert(std::string(reinterpret_cast<const char*>(sqlite3_column_text(sel, 0)),
                           static_cast<size_t>(sqlite3_column_bytes(sel, 0))));
  }
  if (rc != SQLITE_DONE) return fail("running the query");
  return out;
}

}  // namespace temporalite::scheduler
