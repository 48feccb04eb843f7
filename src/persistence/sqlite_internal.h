// Internals shared by the SQLite store's files, included by them only: sqlite_store.cc (open,
// start-up and the writer thread), sqlite_reads.cc (reader connections and visibility queries),
// sqlite_schema.cc (migrations and start-up checks).
#pragma once

#include <sqlite3.h>

#include <array>
#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"
#include "persistence/sqlite_store.h"

namespace temporalite::persistence {

// Every statement the store runs, prepared once per connection. Writer statements first.
enum Sql : int {
  kBegin,
  kCommit,
  kRollback,
  kPutNamespace,
  kPutExecution,
  kPutCurrent,
  kInsertHistory,
  kLastEventId,
  kPutDictionary,
  kDeleteCurrent,
  kDeleteEvents,
  kDeleteExecution,
  kPutVisibility,
  kDeleteVisibility,
  kPutSchedule,
  kDeleteSchedule,
  kDeleteNamespace,
  kPutServerState,
  kDeleteServerState,
  kUpdateExecutionState,
  kUpdateVisibilityInPlace,
  kAddNamespaceKey,
  kGetNamespaceKey,
  kNumWriterSql,
  kLoadNamespaces = kNumWriterSql,
  kLoadOpenExecutions,
  kGetExecution,
  kGetCurrent,
  kReadEvents,
  kClosedRunsBefore,
  kLoadSchedules,
  kGetServerState,
  kListServerState,
  kGetDictionary,
  kNumSql,
};

#define TL_EXECUTION_COLUMNS "run_id, namespace_id, workflow_id, open, close_time, state, wake"
// Schema 6 keys (docs/persistence.md, "Compact keys"): namespace_id columns of executions,
// current_executions and visibility hold the namespace's small integer key (namespace_keys);
// run_id columns of executions, current_executions and history hold a canonical UUID as its 16
// bytes (Binder::RunId, ColumnRunId). Reads map keys back: executions joined to namespace_keys,
// namespace filters through TL_NAMESPACE_KEY.
#define TL_EXECUTION_READ_COLUMNS "e.run_id, k.id, e.workflow_id, e.open, e.close_time, e.state"
#define TL_EXECUTION_READ_FROM " FROM executions e JOIN namespace_keys k ON k.key = e.namespace_id"
#define TL_NAMESPACE_KEY "(SELECT key FROM namespace_keys WHERE id = ?1)"
inline constexpr const char* kSql[kNumSql] = {
    // IMMEDIATE takes the write lock up front so a transaction cannot fail half way on BUSY.
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "INSERT OR REPLACE INTO namespaces(id, name, data) VALUES(?1, ?2, ?3)",
    // Update in place: INSERT OR REPLACE would delete and re-insert the row, rewriting every index
    // on each of the ~5 transitions a workflow makes.
    "INSERT INTO executions(" TL_EXECUTION_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT(run_id) DO UPDATE SET open = excluded.open, close_time = excluded.close_time, "
    "state = excluded.state, wake = excluded.wake",
    "INSERT OR REPLACE INTO current_executions(namespace_id, workflow_id, run_id) "
    "VALUES(?1, ?2, ?3)",
    // One row per run per commit (blob_codec.h), keyed by its last event id. Plain INSERT, and
    // kLastEventId before it: rewriting an event that already exists means the engine lost track
    // of history, which must fail loudly rather than silently overwrite.
    "INSERT INTO history(run_id, last_event_id, data) VALUES(?1, ?2, ?3)",
    "SELECT max(last_event_id) FROM history WHERE run_id = ?1",
    "INSERT INTO dictionaries(id, data) VALUES(?1, ?2)",
    // Must run before the execution row is deleted: it finds the current row through it (there
    // is no index on current_executions.run_id).
    "DELETE FROM current_executions WHERE run_id = ?1 AND (namespace_id, workflow_id) IN "
    "(SELECT namespace_id, workflow_id FROM executions WHERE run_id = ?1)",
    "DELETE FROM history WHERE run_id = ?1",
    "DELETE FROM executions WHERE run_id = ?1",
    // In place, like executions: only the indexes whose columns change (close) are rewritten.
    "INSERT INTO visibility(run_id, namespace_id, workflow_id, workflow_type, task_queue, "
    "status, start_time, execution_time, close_time, execution_duration, history_length, "
    "history_size_bytes, state_transition_count, parent_workflow_id, parent_run_id, "
    "root_workflow_id, root_run_id, search_attributes, info) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) "
    "ON CONFLICT(run_id) DO UPDATE SET status = excluded.status, close_time = excluded.close_time, "
    "execution_duration = excluded.execution_duration, history_length = excluded.history_length, "
    "history_size_bytes = excluded.history_size_bytes, "
    "state_transition_count = excluded.state_transition_count, "
    "search_attributes = excluded.search_attributes, info = excluded.info",
    "DELETE FROM visibility WHERE run_id = ?1",
    "INSERT OR REPLACE INTO schedules(namespace_id, schedule_id, data) VALUES(?1, ?2, ?3)",
    "DELETE FROM schedules WHERE namespace_id = ?1 AND schedule_id = ?2",
    "DELETE FROM namespaces WHERE id = ?1",
    "INSERT OR REPLACE INTO server_state(key, value) VALUES(?1, ?2)",
    "DELETE FROM server_state WHERE key = ?1",
    // Most transitions change only the state blob of a run whose row exists and whose open /
    // close_time stay as they are: setting `state` alone leaves every index untouched, where the
    // upsert above rewrites the partial indexes on `open` (executions_open) each time. No change
    // (a new run, a close) falls back to the upsert.
    // `wake` (schema 7) is in no index either.
    "UPDATE executions SET state = ?2, wake = ?5 WHERE run_id = ?1 AND open = ?3 AND close_time = ?4",
    // The same for a visibility row whose status and close time stay (a search attribute or
    // memo upsert, BuildIds at the first workflow task): the upsert's SET of those columns would
    // rewrite both ordering indexes. Parameters numbered as in kPutVisibility.
    "UPDATE visibility SET execution_duration = ?10, history_length = ?11, history_size_bytes = ?12, "
    "state_transition_count = ?13, search_attributes = ?18, info = ?19 "
    "WHERE run_id = ?1 AND status = ?6 AND close_time IS ?9",
    // A namespace's key is assigned on its first row and never reused (kept when it is deleted).
    "INSERT OR IGNORE INTO namespace_keys(id) VALUES(?1)",
    "SELECT key FROM namespace_keys WHERE id = ?1",
    "SELECT id, name, data FROM namespaces ORDER BY name",
    // Recovery: an idle run's state (wake set, see ExecutionRow) only when asked for; the CASE
    // keeps SQLite from copying the blob at all.
    "SELECT e.run_id, k.id, e.workflow_id, e.open, e.close_time, "
    "CASE WHEN e.wake IS NULL OR ?1 THEN e.state END, e.wake" TL_EXECUTION_READ_FROM " WHERE e.open = 1",
    "SELECT " TL_EXECUTION_READ_COLUMNS TL_EXECUTION_READ_FROM " WHERE e.run_id = ?1",
    "SELECT run_id FROM current_executions WHERE namespace_id = " TL_NAMESPACE_KEY " AND workflow_id = ?2",
    // Rows are stepped only until the page is full: no LIMIT (a row holds several events).
    "SELECT last_event_id, data FROM history WHERE run_id = ?1 AND last_event_id >= ?2 "
    "ORDER BY last_event_id",
    "SELECT run_id FROM executions WHERE namespace_id = " TL_NAMESPACE_KEY " AND open = 0 AND close_time < ?2 "
    "ORDER BY close_time LIMIT ?3",
    "SELECT namespace_id, schedule_id, data FROM schedules ORDER BY namespace_id, schedule_id",
    "SELECT value FROM server_state WHERE key = ?1",
    "SELECT key, value FROM server_state WHERE key >= ?1 AND key < ?2 ORDER BY key",
    "SELECT data FROM dictionaries WHERE id = ?1",
};
#undef TL_EXECUTION_COLUMNS
#undef TL_EXECUTION_READ_COLUMNS
#undef TL_EXECUTION_READ_FROM

inline constexpr const char* kRestoreHint =
    "stop the server and restore the database from a backup: temporalite backup restore --from <backup> "
    "--db-filename <path>";

// A storage failure as clients see it: the code says whether retrying can help, the message
// names the kind of failure (sqlite3_errstr: never SQL text or names from the schema). The full
// detail, with what was being done, goes to the server log.
Status StorageError(int rc, std::string_view what, const std::string& detail);
Status SqlError(sqlite3* db, std::string_view what);

// Run ids in compact form: `text` is a canonical lower-case UUID (8-4-4-4-12 hex digits) -> its
// 16 bytes; BytesToUuid is the inverse. Other ids (upper case, not UUIDs) are stored as text.
bool UuidToBytes(std::string_view text, unsigned char out[16]);
std::string BytesToUuid(const unsigned char bytes[16]);

// Binds parameters, remembering the first failure so call sites stay linear. Text and blobs are
// bound SQLITE_STATIC: callers keep the source strings alive until the statement is reset.
class Binder {
 public:
  explicit Binder(sqlite3_stmt* s) : s_(s) {}
  Binder& Text(int i, const std::string& v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_STATIC,
                                                    SQLITE_UTF8);
    return *this;
  }
  Binder& Blob(int i, const std::string& v) {
    // std::string::data() is never null, so an empty blob binds as a zero-length blob, not NULL.
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_blob64(s_, i, v.data(), v.size(), SQLITE_STATIC);
    return *this;
  }
  Binder& Null(int i) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_null(s_, i);
    return *this;
  }
  // Empty text binds as NULL.
  Binder& TextOrNull(int i, const std::string& v) { return v.empty() ? Null(i) : Text(i, v); }
  Binder& Double(int i, double v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Binder& Value(int i, const SqlValue& v) {
    if (const auto* n = std::get_if<int64_t>(&v)) return Int(i, *n);
    if (const auto* d = std::get_if<double>(&v)) return Double(i, *d);
    return Text(i, std::get<std::string>(v));
  }
  // A run id as stored in executions, current_executions and history: a canonical lower-case
  // UUID as its 16 bytes (a blob), anything else as text (the two never compare equal).
  Binder& RunId(int i, const std::string& v) {
    unsigned char bytes[16];
    if (!UuidToBytes(v, bytes)) return Text(i, v);
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_blob(s_, i, bytes, sizeof bytes, SQLITE_TRANSIENT);
    return *this;
  }
  Binder& Int(int i, int64_t v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  int rc() const { return rc_; }

 private:
  sqlite3_stmt* s_;
  int rc_ = SQLITE_OK;
};

// Resets a statement on scope exit so a reader never keeps its WAL snapshot open.
struct ResetOnExit {
  sqlite3_stmt* s;
  ~ResetOnExit() { sqlite3_reset(s); }
};

// A blob or text column as bytes ("" for NULL).
std::string ColumnBytes(sqlite3_stmt* s, int i);
// A run id column (Binder::RunId's encoding) as text.
std::string ColumnRunId(sqlite3_stmt* s, int i);
// A row of SELECT TL_EXECUTION_READ_COLUMNS, its state still in stored form (SqliteStore::Decode).
ExecutionRow ReadExecution(sqlite3_stmt* s);
Status Exec(sqlite3* db, const std::string& sql, std::string_view what);
// First column of the first row of `sql` as text ("" if no row).
Result<std::string> QueryText(sqlite3* db, const std::string& sql);

// Schema and start-up checks (sqlite_schema.cc).
// SQLite's quick_check (page structure, no index-content comparison): a damaged database is
// refused at start instead of failing requests one by one later.
Status QuickCheck(sqlite3* db, const std::string& path);
// "name=value" of --sqlite-pragma, validated.
Status ParsePragma(const std::string& pragma, std::string* name, std::string* value);
Status ValidateSynchronous(const std::string& v);
Status CheckPragmaExists(sqlite3* db, const std::string& name);
// Brings the schema to the latest version in one transaction (refuses a newer database).
Status Migrate(sqlite3* db, const std::string& path);
// The same up to `target` (tests make files of older versions with it: MigrateFileTo).
Status MigrateTo(sqlite3* db, const std::string& path, int target);

class SqliteStore::Conn {
 public:
  ~Conn() {
    for (sqlite3_stmt* s : stmts_) sqlite3_finalize(s);  // No-op on nullptr.
    sqlite3_close_v2(db_);
  }

  static Result<std::unique_ptr<Conn>> Open(const std::string& path, int flags) {
    auto conn = std::unique_ptr<Conn>(new Conn());
    // NOMUTEX: the store serializes each connection itself (writer thread / reader slot mutex).
    int rc = sqlite3_open_v2(path.c_str(), &conn->db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      return Unavailable("cannot open sqlite database " + path + ": " +
                         (conn->db_ != nullptr ? sqlite3_errmsg(conn->db_) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(conn->db_, 1);
    sqlite3_busy_timeout(conn->db_, 5000);
    return conn;
  }

  Status Prepare(int first, int last) {
    for (int i = first; i < last; ++i) {
      if (sqlite3_prepare_v3(db_, kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts_[i], nullptr) !=
          SQLITE_OK) {
        return SqlError(db_, std::string("preparing \"") + kSql[i] + "\"");
      }
    }
    return Status::Ok();
  }

  // Steps a write statement to completion and resets it.
  Status Run(int sql, const Binder& binder, std::string_view what) {
    sqlite3_stmt* s = stmts_[sql];
    if (binder.rc() != SQLITE_OK) {
      sqlite3_reset(s);
      return StorageError(binder.rc(), "binding " + std::string(what), sqlite3_errstr(binder.rc()));
    }
    int rc = sqlite3_step(s);
    // Capture the message before reset so nothing can overwrite it.
    Status status = rc == SQLITE_DONE || rc == SQLITE_ROW ? Status::Ok() : SqlError(db_, what);
    sqlite3_reset(s);
    return status;
  }
  Status Run(int sql, std::string_view what) { return Run(sql, Binder(stmts_[sql]), what); }

  sqlite3* db() const { return db_; }
  sqlite3_stmt* stmt(int sql) const { return stmts_[sql]; }
  uint64_t stats_generation = 0;  // of the planner statistics this connection has loaded

 private:
  Conn() = default;
  sqlite3* db_ = nullptr;
  std::array<sqlite3_stmt*, kNumSql> stmts_{};
};

}  // namespace temporalite::persistence
