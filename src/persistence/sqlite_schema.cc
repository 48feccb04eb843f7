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

Status Migrate(sqlite3* db, const std::string& path) {
  Result<int> version = UserVersion(db);
  if (!version.ok()) return version.status();
  auto too_new = [&](int v) {
    return FailedPrecondition("database " + path + " has schema version " + std::to_string(v) +
                              " but this temporalite supports up to " +
                              std::to_string(kLatestVersion) + "; upgrade temporalite");
  };
  if (*version > kLatestVersion) return too_new(*version);
  if (*version == kLatestVersion) return Status::Ok();

  // All steps in one transaction: a crash mid-upgrade leaves the old schema intact.
  TL_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", "starting schema migration"));
  auto migrate = [&]() -> Status {
    // Re-read under the write lock in case another process migrated in between.
    Result<int> v = UserVersion(db);
    if (!v.ok()) return v.status();
    if (*v > kLatestVersion) return too_new(*v);
    for (int next = *v + 1; next <= kLatestVersion; ++next) {
      TL_RETURN_IF_ERROR(
          Exec(db, kMigrations[next], "migrating schema to version " + std::to_string(next)));
      if (next == 5) TL_RETURN_IF_ERROR(MoveHistoryToRows(db));
    }
    TL_RETURN_IF_ERROR(Exec(db, "PRAGMA user_version = " + std::to_string(kLatestVersion),
                            "setting schema version"));
    return Exec(db, "COMMIT", "committing schema migration");
  };
  Status status = migrate();
  if (!status.ok() && sqlite3_get_autocommit(db) == 0) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  return status;
}

}  // namespace temporalite::persistence
