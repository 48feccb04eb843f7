// The SQLite store's schema (migrations by version) and its start-up checks.
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "persistence/blob_codec.h"
#include "persistence/sqlite_internal.h"

namespace temporalite::persistence {
namespace {

// kMigrations[v] brings a database from schema version v-1 to v (tracked in PRAGMA user_version).
// Index 0 is the empty database. Append new versions; never edit a released one.
constexpr const char* kMigrations[] = {
    nullptr,
    // v1
    R"sql(
CREATE TABLE namespaces(
  id TEXT PRIMARY KEY,
  name TEXT UNIQUE NOT NULL,
  data BLOB NOT NULL);
CREATE TABLE executions(
  run_id TEXT PRIMARY KEY,
  namespace_id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  open INTEGER NOT NULL,
  close_time INTEGER NOT NULL,
  state BLOB NOT NULL);
CREATE INDEX executions_by_workflow ON executions(namespace_id, workflow_id);
-- Startup loads only open runs; closed ones dominate the table over time.
CREATE INDEX executions_open ON executions(namespace_id) WHERE open = 1;
CREATE TABLE current_executions(
  namespace_id TEXT,
  workflow_id TEXT,
  run_id TEXT NOT NULL,
  PRIMARY KEY(namespace_id, workflow_id)) WITHOUT ROWID;
CREATE TABLE history_events(
  run_id TEXT,
  event_id INTEGER,
  data BLOB NOT NULL,
  PRIMARY KEY(run_id, event_id)) WITHOUT ROWID;
)sql",
    // v2: visibility (one row per run, written with the state change it reflects) and an index
    // for retention. The default list order is Temporal's SQL order: open runs first, then by
    // close time, start time and run id, all descending; the indexes end in that order so a
    // filtered page of 100 reads about 100 index entries.
    R"sql(
CREATE TABLE visibility(
  run_id TEXT PRIMARY KEY,
  namespace_id TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  workflow_type TEXT NOT NULL,
  task_queue TEXT NOT NULL,
  status INTEGER NOT NULL,
  start_time INTEGER NOT NULL,
  execution_time INTEGER NOT NULL,
  close_time INTEGER,
  execution_duration INTEGER,
  history_length INTEGER NOT NULL,
  history_size_bytes INTEGER NOT NULL,
  state_transition_count INTEGER NOT NULL,
  parent_workflow_id TEXT,
  parent_run_id TEXT,
  root_workflow_id TEXT,
  root_run_id TEXT,
  search_attributes TEXT,
  info BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX visibility_by_order ON visibility(namespace_id,
  coalesce(close_time, 9223372036854775807) DESC, start_time DESC, run_id DESC);
CREATE INDEX visibility_by_type ON visibility(namespace_id, workflow_type, status,
  coalesce(close_time, 9223372036854775807) DESC, start_time DESC, run_id DESC);
CREATE INDEX visibility_by_workflow_id ON visibility(namespace_id, workflow_id);
CREATE INDEX executions_closed ON executions(namespace_id, close_time) WHERE open = 0;
)sql",
    // v3: Temporal Schedules (the scheduler's records, one blob per schedule).
    R"sql(
CREATE TABLE schedules(
  namespace_id TEXT,
  schedule_id TEXT,
  data BLOB NOT NULL,
  PRIMARY KEY(namespace_id, schedule_id)) WITHOUT ROWID;
)sql",
    // v4: small records of server components beside the engine (the alerter's streaks and
    // outbox), so they are in backups and restored with the database.
    R"sql(
CREATE TABLE server_state(
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL) WITHOUT ROWID;
)sql",
    // v5: smaller files (issue 16). History in one row per run and commit instead of one per
    // event, blobs compressed with zstd dictionaries trained on the database's own records
    // (blob_codec.h; older blobs read unchanged), and no index of executions by workflow id
    // (nothing reads through it: current_executions and visibility answer those lookups).
    // MoveHistoryToRows copies history_events into `history` (one row per run) and drops it.
    R"sql(
CREATE TABLE history(
  run_id TEXT,
  last_event_id INTEGER,
  data BLOB NOT NULL,
  PRIMARY KEY(run_id, last_event_id)) WITHOUT ROWID;
CREATE TABLE dictionaries(
  id INTEGER PRIMARY KEY,
  data BLOB NOT NULL);
DROP INDEX executions_by_workflow;
)sql",
    // v6: compact keys (issue 16). Namespace ids become small integers (namespace_keys) in
    // executions, current_executions and visibility, and run ids canonical UUIDs' 16 bytes in
    // executions, current_executions and history (sqlite_internal.h, Binder::RunId): the 36-byte
    // texts were repeated in every index entry. CompactKeys rebuilds those tables with the new
    // column types, converting each row and recreating the tables' indexes (search attribute
    // indexes included) from their stored SQL. Visibility keeps text run ids: RunId filters and
    // list cursors compare them as text.
    R"sql(
CREATE TABLE namespace_keys(
  key INTEGER PRIMARY KEY,
  id TEXT UNIQUE NOT NULL);
INSERT INTO namespace_keys(id)
  SELECT namespace_id FROM executions UNION SELECT namespace_id FROM current_executions
  UNION SELECT namespace_id FROM visibility;
)sql",
    // v7: an idle open run's earliest timer (ExecutionRow::idle_wake_unix_nanos), so recovery
    // arms one wake-up per idle run without reading its state. NULL (every row of an older file,
    // every run that is not idle) means "read the state", as before; recovery fills it in for
    // the idle runs it finds that way, so a migrated file pays for this once.
    R"sql(
ALTER TABLE executions ADD COLUMN wake INTEGER;
)sql",
};
constexpr int kLatestVersion = static_cast<int>(std::size(kMigrations)) - 1;

}  // namespace

int LatestSchemaVersion() { return kLatestVersion; }

Status QuickCheck(sqlite3* db, const std::string& path) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(5)", -1, &s, nullptr);
  std::vector<std::string> problems;
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      std::string line = ColumnBytes(s, 0);
      if (line != "ok") problems.push_back(line);
    }
  }
  if (rc == SQLITE_INTERRUPT) {  // stopped (Close), no verdict
    sqlite3_finalize(s);
    return Status(Code::kCancelled, "integrity check of " + path + " interrupted");
  }
  if (rc != SQLITE_DONE) problems.push_back(sqlite3_errmsg(db));
  sqlite3_finalize(s);
  if (problems.empty()) return Status::Ok();
  std::string first = problems.front();
  TL_LOG_ERROR("integrity check of %s failed:", path.c_str());
  for (const std::string& p : problems) TL_LOG_ERROR("  %s", p.c_str());
  return Internal("database " + path + " is damaged (integrity check: " + first +
                                     "); restore it from a backup: temporalite backup restore --from <backup> "
                                     "--db-filename " + path + " (or move it aside to start empty)");
}

namespace {

Result<int> UserVersion(sqlite3* db) {
  Result<std::string> v = QueryText(db, "PRAGMA user_version");
  if (!v.ok()) return v.status();
  return std::atoi(v->c_str());
}

bool AllOf(std::string_view s, bool (*pred)(unsigned char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [pred](char c) {
    return pred(static_cast<unsigned char>(c));
  });
}

}  // namespace

// Pragma names and values are spliced into SQL text (PRAGMA takes no bound parameters), so both
// are restricted to characters that cannot end the statement or start another.
Status ParsePragma(const std::string& pragma, std::string* name, std::string* value) {
  size_t eq = pragma.find('=');
  if (eq != std::string::npos) {
    *name = pragma.substr(0, eq);
    *value = pragma.substr(eq + 1);
  }
  bool ok = eq != std::string::npos &&
            AllOf(*name, [](unsigned char c) { return std::islower(c) != 0 || c == '_'; }) &&
            AllOf(*value, [](unsigned char c) {
              return std::isalnum(c) != 0 || c == '_' || c == '-' || c == '+' || c == '.';
            });
  if (!ok) {
    return InvalidArgument("invalid sqlite pragma \"" + pragma +
                           "\": want name=value with name in [a-z_]+ and value in "
                           "[A-Za-z0-9_.+-]+");
  }
  return Status::Ok();
}

Status ValidateSynchronous(const std::string& v) {
  std::string upper;
  for (char c : v) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const char* ok : {"OFF", "NORMAL", "FULL", "EXTRA", "0", "1", "2", "3"}) {
    if (upper == ok) return Status::Ok();
  }
  return InvalidArgument("invalid sqlite synchronous mode \"" + v +
                         "\": want OFF, NORMAL, FULL or EXTRA");
}

// SQLite silently ignores unknown pragmas; a typo in --sqlite-pragma should not go unnoticed.
Status CheckPragmaExists(sqlite3* db, const std::string& name) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_pragma_list WHERE name = ?1", -1, &s,
                         nullptr) != SQLITE_OK) {
    return Status::Ok();  // Built without introspection pragmas: cannot check.
  }
  sqlite3_bind_text(s, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  // Only a definite "no such row" rejects; a failing lookup leaves the decision to SQLite.
  if (rc != SQLITE_DONE) return Status::Ok();
  return InvalidArgument("unknown sqlite pragma \"" + name + "\"");
}

// v5: history_events (one row per event) -> history (one row per run: all its events, stored
// raw; rows written from now on hold one commit's events, compressed). Chunks of at most 1,000
// events or 1 MiB, so a long history does not become one huge row.
Status MoveHistoryToRows(sqlite3* db) {
  sqlite3_stmt* read = nullptr;
  sqlite3_stmt* write = nullptr;
  auto finish = [&](Status s) {
    sqlite3_finalize(read);
    sqlite3_finalize(write);
    return s;
  };
  if (sqlite3_prepare_v2(db, "SELECT run_id, event_id, data FROM history_events ORDER BY run_id, event_id", -1, &read,
                         nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO history(run_id, last_event_id, data) VALUES(?1, ?2, ?3)", -1, &write,
                         nullptr) != SQLITE_OK) {
    return finish(SqlError(db, "preparing the history migration"));
  }
  std::string run;
  std::string payload;
  int64_t last = 0;
  int count = 0;
  auto flush = [&]() -> Status {
    if (count == 0) return Status::Ok();
    std::string data = EncodeRaw(payload);
    sqlite3_bind_text64(write, 1, run.data(), run.size(), SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_int64(write, 2, last);
    sqlite3_bind_blob64(write, 3, data.data(), data.size(), SQLITE_STATIC);
    int rc = sqlite3_step(write);
    sqlite3_reset(write);
    if (rc != SQLITE_DONE) return SqlError(db, "migrating history");
    payload.clear();
    count = 0;
    return Status::Ok();
  };
  int rc;
  while ((rc = sqlite3_step(read)) == SQLITE_ROW) {
    std::string r = ColumnBytes(read, 0);
    int64_t id = sqlite3_column_int64(read, 1);
    if (r != run || id != last + 1 || count >= 1000 || payload.size() >= (1u << 20)) {
      Status s = flush();
      if (!s.ok()) return finish(s);
      run = std::move(r);
    }
    AppendEvent(&payload, ColumnBytes(read, 2));
    last = id;
    ++count;
  }
  if (rc != SQLITE_DONE) return finish(SqlError(db, "reading history for the migration"));
  Status s = flush();
  if (!s.ok()) return finish(s);
  finish(Status::Ok());
  return Exec(db, "DROP TABLE history_events", "dropping the per-event history table");
}

namespace {

// temporalite_run_key(x): Binder::RunId's encoding of a run id, for the v6 migration.
void RunKeyFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  unsigned char bytes[16];
  if (sqlite3_value_type(argv[0]) == SQLITE_TEXT) {
    const char* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    if (UuidToBytes(std::string_view(text, sqlite3_value_bytes(argv[0])), bytes)) {
      sqlite3_result_blob(ctx, bytes, sizeof bytes, SQLITE_TRANSIENT);
      return;
    }
  }
  sqlite3_result_value(ctx, argv[0]);
}

Result<std::vector<std::string>> Strings(sqlite3* db, const std::string& sql, const std::string& arg) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) return SqlError(db, "preparing " + sql);
  sqlite3_bind_text(s, 1, arg.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(ColumnBytes(s, 0));
  Status status = rc == SQLITE_DONE ? Status::Ok() : SqlError(db, "reading " + sql);
  sqlite3_finalize(s);
  if (!status.ok()) return status;
  return out;
}

// Recreates `table` as `definition` (what follows CREATE TABLE's name), copying every row with its
// namespace_id mapped to its key and, when `run_keys`, its run_id encoded; its indexes are
// recreated from their stored SQL.
Status RebuildTable(sqlite3* db, const std::string& table, const std::string& definition, bool run_keys) {
  Result<std::vector<std::string>> indexes =
      Strings(db, "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL", table);
  if (!indexes.ok()) return indexes.status();
  Result<std::vector<std::string>> names = Strings(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid", table);
  if (!names.ok()) return names.status();
  std::string list, values;
  for (const std::string& n : *names) {
    if (!list.empty()) list += ", ", values += ", ";
    list += n;
    if (n == "namespace_id") {
      values += "(SELECT key FROM namespace_keys WHERE id = o.namespace_id)";
    } else if (n == "run_id" && run_keys) {
      values += "temporalite_run_key(o.run_id)";
    } else {
      values += "o." + n;
    }
  }
  const std::string what = "migrating table " + table + " to compact keys";
  TL_RETURN_IF_ERROR(Exec(db, "CREATE TABLE v6_" + table + definition, what));
  TL_RETURN_IF_ERROR(Exec(db, "INSERT INTO v6_" + table + "(" + list + ") SELECT " + values + " FROM " + table + " AS o", what));
  TL_RETURN_IF_ERROR(Exec(db, "DROP TABLE " + table, what));
  TL_RETURN_IF_ERROR(Exec(db, "ALTER TABLE v6_" + table + " RENAME TO " + table, what));
  for (const std::string& sql : *indexes) TL_RETURN_IF_ERROR(Exec(db, sql, what));
  return Status::Ok();
}

Status CompactKeys(sqlite3* db) {
  if (sqlite3_create_function(db, "temporalite_run_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                              RunKeyFunction, nullptr, nullptr) != SQLITE_OK) {
    return SqlError(db, "registering the run key function");
  }
  TL_RETURN_IF_ERROR(RebuildTable(db, "executions",
                                  "(run_id BLOB PRIMARY KEY, namespace_id INTEGER NOT NULL, workflow_id TEXT NOT NULL, "
                                  "open INTEGER NOT NULL, close_time INTEGER NOT NULL, state BLOB NOT NULL)",
                                  true));
  TL_RETURN_IF_ERROR(RebuildTable(db, "current_executions",
                                  "(namespace_id INTEGER, workflow_id TEXT, run_id BLOB NOT NULL, "
                                  "PRIMARY KEY(namespace_id, workflow_id)) WITHOUT ROWID",
                                  true));
  TL_RETURN_IF_ERROR(RebuildTable(db, "history",
                                  "(run_id BLOB, last_event_id INTEGER, data BLOB NOT NULL, "
                                  "PRIMARY KEY(run_id, last_event_id)) WITHOUT ROWID",
                                  true));
  TL_RETURN_IF_ERROR(RebuildTable(
      db, "visibility",
      "(run_id TEXT PRIMARY KEY, namespace_id INTEGER NOT NULL, workflow_id TEXT NOT NULL, "
      "workflow_type TEXT NOT NULL, task_queue TEXT NOT NULL, status INTEGER NOT NULL, start_time INTEGER NOT NULL, "
      "execution_time INTEGER NOT NULL, close_time INTEGER, execution_duration INTEGER, history_length INTEGER NOT NULL, "
      "history_size_bytes INTEGER NOT NULL, state_transition_count INTEGER NOT NULL, parent_workflow_id TEXT, "
      "parent_run_id TEXT, root_workflow_id TEXT, root_run_id TEXT, search_attributes TEXT, info BLOB NOT NULL) "
      "WITHOUT ROWID",
      false));
  sqlite3_create_function(db, "temporalite_run_key", 1, SQLITE_UTF8, nullptr, nullptr, nullptr, nullptr);
  return Status::Ok();
}

MigrationHook& Hook() {
  static MigrationHook hook;
  return hook;
}

}  // namespace

void SetMigrationHookForTesting(MigrationHook hook) { Hook() = std::move(hook); }

Status MigrateFileTo(const std::string& path, int version) {
  if (version < 0 || version > kLatestVersion) return InvalidArgument("no schema version " + std::to_string(version));
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  Status status = rc == SQLITE_OK ? Exec(db, "PRAGMA journal_mode=WAL", "enabling WAL") : SqlError(db, "opening " + path);
  if (status.ok()) status = MigrateTo(db, path, version);
  sqlite3_close_v2(db);
  return status;
}

Status Migrate(sqlite3* db, const std::string& path) { return MigrateTo(db, path, kLatestVersion); }

Status MigrateTo(sqlite3* db, const std::string& path, int target) {
  Result<int> version = UserVersion(db);
  if (!version.ok()) return version.status();
  auto too_new = [&](int v) {
    return FailedPrecondition("database " + path + " has schema version " + std::to_string(v) +
                              " but this temporalite supports up to " +
                              std::to_string(kLatestVersion) + "; upgrade temporalite");
  };
  if (*version > kLatestVersion) return too_new(*version);
  if (*version >= target) return Status::Ok();

  // All steps in one transaction: a crash mid-upgrade leaves the old schema intact.
  TL_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", "starting schema migration"));
  auto migrate = [&]() -> Status {
    // Re-read under the write lock in case another process migrated in between.
    Result<int> v = UserVersion(db);
    if (!v.ok()) return v.status();
    if (*v > kLatestVersion) return too_new(*v);
    for (int next = *v + 1; next <= target; ++next) {
      TL_RETURN_IF_ERROR(
          Exec(db, kMigrations[next], "migrating schema to version " + std::to_string(next)));
      if (next == 5) TL_RETURN_IF_ERROR(MoveHistoryToRows(db));
      if (next == 6) TL_RETURN_IF_ERROR(CompactKeys(db));
      if (Hook()) Hook()(next);
    }
    TL_RETURN_IF_ERROR(Exec(db, "PRAGMA user_version = " + std::to_string(target),
                            "setting schema version"));
    return Exec(db, "COMMIT", "committing schema migration");
  };
  Status status = migrate();
  if (!status.ok() && sqlite3_get_autocommit(db) == 0) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  return status;
}

}  // namespace temporalite::persistence
