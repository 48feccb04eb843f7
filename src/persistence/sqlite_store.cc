#include "persistence/sqlite_store.h"

#include "common/log.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>
#include <string_view>
#include <utility>

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
};
constexpr int kLatestVersion = static_cast<int>(std::size(kMigrations)) - 1;

// Every statement the store runs, prepared once per connection. Writer statements first.
enum Sql : int {
  kBegin,
  kCommit,
  kRollback,
  kPutNamespace,
  kPutExecution,
  kPutCurrent,
  kInsertEvent,
  kDeleteCurrent,
  kDeleteEvents,
  kDeleteExecution,
  kPutVisibility,
  kDeleteVisibility,
  kPutSchedule,
  kDeleteSchedule,
  kDeleteNamespace,
  kPutServerState,
  kNumWriterSql,
  kLoadNamespaces = kNumWriterSql,
  kLoadOpenExecutions,
  kGetExecution,
  kGetCurrent,
  kReadEvents,
  kClosedRunsBefore,
  kLoadSchedules,
  kGetServerState,
  kNumSql,
};

#define TL_EXECUTION_COLUMNS "run_id, namespace_id, workflow_id, open, close_time, state"
constexpr const char* kSql[kNumSql] = {
    // IMMEDIATE takes the write lock up front so a transaction cannot fail half way on BUSY.
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "INSERT OR REPLACE INTO namespaces(id, name, data) VALUES(?1, ?2, ?3)",
    // Update in place: INSERT OR REPLACE would delete and re-insert the row, rewriting every index
    // on each of the ~5 transitions a workflow makes.
    "INSERT INTO executions(" TL_EXECUTION_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT(run_id) DO UPDATE SET open = excluded.open, close_time = excluded.close_time, "
    "state = excluded.state",
    "INSERT OR REPLACE INTO current_executions(namespace_id, workflow_id, run_id) "
    "VALUES(?1, ?2, ?3)",
    // Plain INSERT: rewriting an event that already exists means the engine lost track of
    // history, which must fail loudly rather than silently overwrite.
    "INSERT INTO history_events(run_id, event_id, data) VALUES(?1, ?2, ?3)",
    // Must run before the execution row is deleted: it finds the current row through it (there
    // is no index on current_executions.run_id).
    "DELETE FROM current_executions WHERE run_id = ?1 AND (namespace_id, workflow_id) IN "
    "(SELECT namespace_id, workflow_id FROM executions WHERE run_id = ?1)",
    "DELETE FROM history_events WHERE run_id = ?1",
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
    "SELECT id, name, data FROM namespaces ORDER BY name",
    "SELECT " TL_EXECUTION_COLUMNS " FROM executions WHERE open = 1",
    "SELECT " TL_EXECUTION_COLUMNS " FROM executions WHERE run_id = ?1",
    "SELECT run_id FROM current_executions WHERE namespace_id = ?1 AND workflow_id = ?2",
    "SELECT event_id, data FROM history_events WHERE run_id = ?1 AND event_id >= ?2 "
    "ORDER BY event_id LIMIT ?3",
    "SELECT run_id FROM executions WHERE namespace_id = ?1 AND open = 0 AND close_time < ?2 "
    "ORDER BY close_time LIMIT ?3",
    "SELECT namespace_id, schedule_id, data FROM schedules ORDER BY namespace_id, schedule_id",
    "SELECT value FROM server_state WHERE key = ?1",
};
#undef TL_EXECUTION_COLUMNS

constexpr const char* kRestoreHint =
    "stop the server and restore the database from a backup: temporalite backup restore --from <backup> "
    "--db-filename <path>";

// A storage failure as clients see it: the code says whether retrying can help, the message
// names the kind of failure (sqlite3_errstr: never SQL text or names from the schema). The full
// detail, with what was being done, goes to the server log.
Status StorageError(int rc, std::string_view what, const std::string& detail) {
  TL_LOG_ERROR("sqlite error while %.*s: %s", static_cast<int>(what.size()), what.data(), detail.c_str());
  std::string kind = sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return Status(Code::kResourceExhausted, "storage error: " + kind + " (free disk space on the server)");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable("storage busy: " + kind);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Internal("storage error: " + kind + "; " + kRestoreHint);
    default:
      return Internal("storage error: " + kind);
  }
}

Status SqlError(sqlite3* db, std::string_view what) {
  return StorageError(sqlite3_extended_errcode(db), what, sqlite3_errmsg(db));
}

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

std::string ColumnBytes(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

ExecutionRow ReadExecution(sqlite3_stmt* s) {
  ExecutionRow row;
  row.run_id = ColumnBytes(s, 0);
  row.namespace_id = ColumnBytes(s, 1);
  row.workflow_id = ColumnBytes(s, 2);
  row.open = sqlite3_column_int64(s, 3) != 0;
  row.close_time_unix_nanos = sqlite3_column_int64(s, 4);
  row.state = ColumnBytes(s, 5);
  return row;
}

Status Exec(sqlite3* db, const std::string& sql, std::string_view what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) return Status::Ok();
  std::string msg = err != nullptr ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  return StorageError(sqlite3_extended_errcode(db), what, msg);
}

// First column of the first row of `sql` as text ("" if no row).
Result<std::string> QueryText(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) return SqlError(db, sql);
  std::string out;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) out = ColumnBytes(s, 0);
  Status status = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? Status::Ok() : SqlError(db, sql);
  sqlite3_finalize(s);
  if (!status.ok()) return status;
  return out;
}

// SQLite's quick_check (page structure, no index-content comparison): a damaged database is
// refused at start instead of failing requests one by one later.
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
    }
    TL_RETURN_IF_ERROR(Exec(db, "PRAGMA user_version = " + std::to_string(kLatestVersion),
                            "setting schema version"));
    return Exec(db, "COMMIT", "committing schema migration");
  };
  Status status = migrate();
  if (!status.ok() && sqlite3_get_autocommit(db) == 0) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  return status;
}

}  // namespace

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

int LatestSchemaVersion() { return kLatestVersion; }

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(store).value());
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  auto store = std::unique_ptr<SqliteStore>(new SqliteStore(options));
  TL_RETURN_IF_ERROR(store->Init());
  return store;
}

SqliteStore::SqliteStore(const SqliteOptions& options)
    : options_(options),
      m_(options.metrics ? std::make_unique<CommitMetrics>(*options.metrics) : nullptr),
      in_memory_(options.path == ":memory:") {}

SqliteStore::~SqliteStore() { Close(); }

Status SqliteStore::Init() {
  if (options_.path.empty()) return InvalidArgument("sqlite database path is empty");
  if (options_.max_batches_per_transaction < 1) {
    return InvalidArgument("max_batches_per_transaction must be at least 1");
  }
  TL_RETURN_IF_ERROR(ValidateSynchronous(options_.synchronous));
  std::vector<std::string> names;  // Parallel to `extra`.
  std::vector<std::string> extra;  // "PRAGMA name=value" statements, validated.
  for (const std::string& p : options_.extra_pragmas) {
    std::string name, value;
    TL_RETURN_IF_ERROR(ParsePragma(p, &name, &value));
    extra.push_back("PRAGMA " + name + "=" + value);
    names.push_back(std::move(name));
  }

  Result<std::unique_ptr<Conn>> writer =
      Conn::Open(options_.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!writer.ok()) return writer.status();
  writer_ = std::move(writer).value();
  sqlite3* db = writer_->db();

  if (!in_memory_) {
    // WAL: one fsync per commit, and readers on other connections never block the writer.
    Result<std::string> mode = QueryText(db, "PRAGMA journal_mode=WAL");
    if (!mode.ok()) return mode.status();
    if (*mode != "wal") {
      return Unavailable("cannot enable WAL on " + options_.path + " (journal_mode is " + *mode +
                         ")");
    }
  }
  if (!in_memory_ && options_.integrity_check) TL_RETURN_IF_ERROR(QuickCheck(db, options_.path));
  TL_RETURN_IF_ERROR(
      Exec(db, "PRAGMA synchronous=" + options_.synchronous, "setting synchronous"));
  TL_RETURN_IF_ERROR(Exec(db, "PRAGMA foreign_keys=OFF", "disabling foreign keys"));
  // Execution rows are rewritten several times within seconds; checkpointing less often copies
  // each hot page to the database file once instead of once per 1000 WAL pages.
  TL_RETURN_IF_ERROR(Exec(db, "PRAGMA wal_autocheckpoint=8000", "setting wal_autocheckpoint"));
  TL_RETURN_IF_ERROR(Exec(db, "PRAGMA cache_size=-65536", "setting cache_size"));
  // Extra pragmas go before the migration so file-format settings (page_size, auto_vacuum)
  // still apply to a new database.
  for (size_t i = 0; i < extra.size(); ++i) {
    TL_RETURN_IF_ERROR(CheckPragmaExists(db, names[i]));
    TL_RETURN_IF_ERROR(Exec(db, extra[i], "applying \"" + options_.extra_pragmas[i] + "\""));
  }
  TL_RETURN_IF_ERROR(Migrate(db, options_.path));
  // Planner statistics, sampled (analysis_limit keeps this to milliseconds on millions of rows):
  // without them SQLite walks the default-order index for a selective search attribute filter
  // instead of using that attribute's index.
  TL_RETURN_IF_ERROR(Exec(db, "PRAGMA analysis_limit=1000", "setting analysis_limit"));
  TL_RETURN_IF_ERROR(Exec(db, "ANALYZE", "analyzing"));
  TL_RETURN_IF_ERROR(writer_->Prepare(0, kNumWriterSql));

  if (in_memory_) {
    TL_RETURN_IF_ERROR(writer_->Prepare(kNumWriterSql, kNumSql));
  } else {
    for (ReaderSlot& slot : readers_) {
      // Read-only: a reader can never write, and WAL lets it read while the writer commits.
      Result<std::unique_ptr<Conn>> reader = Conn::Open(options_.path, SQLITE_OPEN_READONLY);
      if (!reader.ok()) return reader.status();
      slot.conn = std::move(reader).value();
      // Per-connection settings (cache_size, mmap_size, ...) matter for readers too. Failures are
      // ignored: the writer already accepted every pragma, so one failing here is a database-level
      // setting that a read-only connection cannot write and that is already in effect.
      for (const std::string& sql : extra) sqlite3_exec(slot.conn->db(), sql.c_str(), 0, 0, 0);
      TL_RETURN_IF_ERROR(slot.conn->Prepare(kNumWriterSql, kNumSql));
    }
  }
  writer_thread_ = std::thread([this] { WriterLoop(); });
  return Status::Ok();
}

void SqliteStore::Commit(WriteBatch batch, DoneCallback done) {
  bool queued = false;
  {
    MutexLock l(queue_mu_);
    if (accepting_) {
      queue_.push_back(Pending{std::move(batch), std::move(done),
                               m_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point()});
      queued = true;
    }
  }
  if (queued) {
    // Outside the lock so the writer does not wake only to block on queue_mu_. No I/O here.
    queue_cv_.notify_one();
    return;
  }
  if (done) done(Unavailable("store is closed"));
}

void SqliteStore::WriterLoop() {
  std::vector<Pending> work;
  const size_t max = static_cast<size_t>(options_.max_batches_per_transaction);
  for (;;) {
    {
      MutexLock l(queue_mu_);
      queue_cv_.wait(queue_mu_, [this] {
        queue_mu_.AssertHeld();  // the condition variable holds it while testing
        return !queue_.empty() || !accepting_;
      });
      if (queue_.empty()) return;  // Closing, and everything queued has been committed.
      // Adaptive group commit: when the last transaction was already shared by several batches
      // (load), give concurrent transitions a moment to join this one, but only until as many
      // batches are queued as the last transaction held (at most commit_delay_batches): the
      // expected number of writers. Fewer fsyncs and fewer rewrites of the same hot pages; an
      // idle server (one batch at a time) never waits, and a lightly loaded one waits only for
      // the writers it has.
      const size_t target = std::min(last_batches_, static_cast<size_t>(options_.commit_delay_batches));
      if (options_.commit_delay.count() > 0 && last_batches_ > 1 && accepting_ && queue_.size() < target) {
        queue_cv_.wait_for(queue_mu_, options_.commit_delay, [this, target] {
          queue_mu_.AssertHeld();
          return queue_.size() >= target || !accepting_;
        });
      }
      if (queue_.size() <= max) {
        work.swap(queue_);  // Both vectors keep their capacity: no allocation in steady state.
      } else {
        auto end = queue_.begin() + static_cast<std::ptrdiff_t>(max);
        work.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
        queue_.erase(queue_.begin(), end);
      }
    }
    last_batches_ = work.size();
    Status status = RunTransaction(work);
    for (Pending& p : work) {
      if (p.done) p.done(status);
    }
    work.clear();
    // Now and then refresh planner statistics of tables that grew or shrank a lot since the last
    // analysis (sampled, so a few milliseconds), and let readers reload them.
    if (status.ok() && ++transactions_since_optimize_ >= 20000) {
      transactions_since_optimize_ = 0;
      if (Exec(writer_->db(), "PRAGMA optimize", "optimizing").ok()) stats_generation_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

Status SqliteStore::RunTransaction(std::vector<Pending>& work) {
  if (failed_) return failed_status_;
  if (std::all_of(work.begin(), work.end(), [](const Pending& p) { return p.batch.empty(); })) {
    return Status::Ok();  // Earlier batches are already durable; nothing to fsync.
  }
  // In-memory mode shares the connection with readers: hold it for the whole transaction so they
  // never observe uncommitted rows.
  std::unique_lock<std::mutex> shared;
  if (in_memory_) shared = std::unique_lock<std::mutex>(shared_mu_);

  const auto begin = m_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  Status status = writer_->Run(kBegin, "beginning a transaction");
  for (size_t i = 0; status.ok() && i < work.size(); ++i) status = ApplyBatch(work[i].batch);
  const auto commit = m_ ? std::chrono::steady_clock::now() : begin;
  if (status.ok()) status = writer_->Run(kCommit, "committing");  // The one fsync.
  if (m_) RecordCommitMetrics(work, begin, commit, status.ok());
  if (status.ok()) {
    transactions_committed_.fetch_add(1, std::memory_order_relaxed);
    batches_committed_.fetch_add(work.size(), std::memory_order_relaxed);
    return status;
  }
  if (sqlite3_get_autocommit(writer_->db()) == 0) writer_->Run(kRollback, "rolling back");
  // The engine applied these batches in memory already, so memory and disk now disagree: only a
  // restart (reloading from disk) can make them consistent again.
  failed_ = true;
  failed_status_ = Unavailable("the database refuses writes after a failed transaction (the server must restart): " +
                               status.message());
  {
    MutexLock l(fatal_mu_);
    fatal_error_ = status;
  }
  if (fatal_error_listener_) fatal_error_listener_(status);
  return status;
}

Status SqliteStore::fatal_error() {
  MutexLock l(fatal_mu_);
  return fatal_error_;
}

void SqliteStore::set_fatal_error_listener(std::function<void(const Status&)> fn) {
  fatal_error_listener_ = std::move(fn);
}

SqliteStore::CommitMetrics::CommitMetrics(metrics::Registry& r)
    : requests(r.counter("persistence_requests", "Store operations", {{"operation", "Commit"}})),
      errors(r.counter("persistence_errors", "Store operations that failed", {{"operation", "Commit"}})),
      latency(r.histogram("persistence_latency", "Store operation latency in seconds (a batch: queued to durable)",
                          {{"operation", "Commit"}})),
      group_size(r.histogram("temporalite_group_commit_batches", "Batches merged into one transaction", {},
                             metrics::SizeBuckets())),
      transaction_latency(r.histogram("temporalite_group_commit_latency_seconds",
                                      "Duration of one group-commit transaction (begin to durable)")),
      fsync_latency(r.histogram("temporalite_fsync_latency_seconds", "Duration of COMMIT (the fsync) of one transaction")) {}

void SqliteStore::RecordCommitMetrics(const std::vector<Pending>& work, std::chrono::steady_clock::time_point begin,
                                      std::chrono::steady_clock::time_point commit, bool ok) {
  using Seconds = std::chrono::duration<double>;
  const auto end = std::chrono::steady_clock::now();
  m_->group_size.Observe(static_cast<double>(work.size()));
  m_->transaction_latency.Observe(Seconds(end - begin).count());
  m_->fsync_latency.Observe(Seconds(end - commit).count());
  m_->requests.Inc(work.size());
  if (!ok) m_->errors.Inc(work.size());
  for (const Pending& p : work) m_->latency.Observe(Seconds(end - p.queued).count());
}

Status SqliteStore::ApplyBatch(const WriteBatch& batch) {
  Conn& c = *writer_;
  for (const NamespaceRow& r : batch.upsert_namespaces) {
    Binder b(c.stmt(kPutNamespace));
    b.Text(1, r.id).Text(2, r.name).Blob(3, r.data);
    TL_RETURN_IF_ERROR(c.Run(kPutNamespace, b, "writing namespace " + r.name));
  }
  for (const ExecutionRow& r : batch.upsert_executions) {
    Binder b(c.stmt(kPutExecution));
    b.Text(1, r.run_id).Text(2, r.namespace_id).Text(3, r.workflow_id).Int(4, r.open ? 1 : 0);
    b.Int(5, r.close_time_unix_nanos).Blob(6, r.state);
    TL_RETURN_IF_ERROR(c.Run(kPutExecution, b, "writing execution"));
  }
  for (const CurrentRow& r : batch.upsert_current) {
    Binder b(c.stmt(kPutCurrent));
    b.Text(1, r.namespace_id).Text(2, r.workflow_id).Text(3, r.run_id);
    TL_RETURN_IF_ERROR(c.Run(kPutCurrent, b, "writing current execution"));
  }
  for (const EventRow& r : batch.append_events) {
    Binder b(c.stmt(kInsertEvent));
    b.Text(1, r.run_id).Int(2, r.event_id).Blob(3, r.data);
    TL_RETURN_IF_ERROR(c.Run(kInsertEvent, b, "appending history event"));
  }
  for (const std::string& name : batch.index_search_attributes) {
    // Spliced into DDL (no bound parameters there): only a safe alphabet is accepted.
    bool safe = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_' || ch == '-' || ch == '.';
    });
    if (!safe) return InvalidArgument("invalid search attribute name for an index: " + name);
    TL_RETURN_IF_ERROR(Exec(c.db(),
                            "CREATE INDEX IF NOT EXISTS \"visibility_sa_" + name +
                                "\" ON visibility(namespace_id, json_extract(search_attributes, '$.\"" + name + "\"'))",
                            "indexing search attribute " + name));
    TL_RETURN_IF_ERROR(Exec(c.db(), "ANALYZE \"visibility_sa_" + name + "\"", "analyzing search attribute index " + name));
    stats_generation_.fetch_add(1, std::memory_order_relaxed);
  }
  for (const VisibilityRow& r : batch.upsert_visibility) {
    Binder b(c.stmt(kPutVisibility));
    b.Text(1, r.run_id).Text(2, r.namespace_id).Text(3, r.workflow_id).Text(4, r.workflow_type);
    b.Text(5, r.task_queue).Int(6, r.status).Int(7, r.start_time).Int(8, r.execution_time);
    if (r.close_time != 0) {
      b.Int(9, r.close_time).Int(10, r.execution_duration);
    } else {
      b.Null(9).Null(10);
    }
    b.Int(11, r.history_length).Int(12, r.history_size_bytes).Int(13, r.state_transition_count);
    b.TextOrNull(14, r.parent_workflow_id).TextOrNull(15, r.parent_run_id);
    b.TextOrNull(16, r.root_workflow_id).TextOrNull(17, r.root_run_id);
    b.TextOrNull(18, r.search_attributes_json).Blob(19, r.info);
    TL_RETURN_IF_ERROR(c.Run(kPutVisibility, b, "writing visibility"));
  }
  // Deletes last, in dependency order (the current row is found through the execution row).
  for (const std::string& run_id : batch.delete_runs) {
    for (int sql : {kDeleteCurrent, kDeleteEvents, kDeleteVisibility, kDeleteExecution}) {
      Binder b(c.stmt(sql));
      b.Text(1, run_id);
      TL_RETURN_IF_ERROR(c.Run(sql, b, "deleting run"));
    }
  }
  for (const ScheduleRow& r : batch.upsert_schedules) {
    Binder b(c.stmt(kPutSchedule));
    b.Text(1, r.namespace_id).Text(2, r.schedule_id).Blob(3, r.data);
    TL_RETURN_IF_ERROR(c.Run(kPutSchedule, b, "writing schedule " + r.schedule_id));
  }
  for (const ScheduleRow& r : batch.delete_schedules) {
    Binder b(c.stmt(kDeleteSchedule));
    b.Text(1, r.namespace_id).Text(2, r.schedule_id);
    TL_RETURN_IF_ERROR(c.Run(kDeleteSchedule, b, "deleting schedule " + r.schedule_id));
  }
  for (const auto& [key, value] : batch.put_server_state) {
    Binder b(c.stmt(kPutServerState));
    b.Text(1, key).Blob(2, value);
    TL_RETURN_IF_ERROR(c.Run(kPutServerState, b, "writing server state " + key));
  }
  for (const std::string& id : batch.delete_namespaces) {
    Binder b(c.stmt(kDeleteNamespace));
    b.Text(1, id);
    TL_RETURN_IF_ERROR(c.Run(kDeleteNamespace, b, "deleting namespace " + id));
  }
  return Status::Ok();
}

Result<SqliteStore::ReaderLease> SqliteStore::AcquireReader() {
  auto closed = [] { return Unavailable("store is closed"); };
  if (in_memory_) {
    std::unique_lock<std::mutex> l(shared_mu_);
    if (writer_ == nullptr) return closed();
    return ReaderLease{std::move(l), writer_.get()};
  }
  // Prefer an idle connection; if all are busy, queue on one (round robin).
  unsigned start = next_reader_.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = 0; i < kReaderConnections; ++i) {
    ReaderSlot& slot = readers_[(start + i) % kReaderConnections];
    std::unique_lock<std::mutex> l(slot.mu, std::try_to_lock);
    if (!l.owns_lock()) continue;
    if (slot.conn == nullptr) return closed();
    return ReaderLease{std::move(l), slot.conn.get()};
  }
  ReaderSlot& slot = readers_[start % kReaderConnections];
  std::unique_lock<std::mutex> l(slot.mu);
  if (slot.conn == nullptr) return closed();
  return ReaderLease{std::move(l), slot.conn.get()};
}

Result<std::vector<NamespaceRow>> SqliteStore::LoadNamespaces() {
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  sqlite3_stmt* s = lease->conn->stmt(kLoadNamespaces);
  ResetOnExit reset{s};
  std::vector<NamespaceRow> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out.push_back(NamespaceRow{ColumnBytes(s, 0), ColumnBytes(s, 1), ColumnBytes(s, 2)});
  }
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "loading namespaces");
  return out;
}

Result<std::vector<ExecutionRow>> SqliteStore::LoadOpenExecutions() {
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  sqlite3_stmt* s = lease->conn->stmt(kLoadOpenExecutions);
  ResetOnExit reset{s};
  std::vector<ExecutionRow> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(ReadExecution(s));
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "loading open executions");
  return out;
}

Result<std::optional<ExecutionRow>> SqliteStore::GetExecution(const std::string& run_id) {
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  sqlite3_stmt* s = lease->conn->stmt(kGetExecution);
  ResetOnExit reset{s};
  Binder b(s);
  if (b.Text(1, run_id).rc() != SQLITE_OK) return SqlError(lease->conn->db(), "binding run_id");
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return std::optional<ExecutionRow>(ReadExecution(s));
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "reading execution");
  return std::optional<ExecutionRow>();
}

Result<std::optional<std::string>> SqliteStore::GetCurrentRunId(const std::string& namespace_id,
                                                                const std::string& workflow_id) {
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  sqlite3_stmt* s = lease->conn->stmt(kGetCurrent);
  ResetOnExit reset{s};
  Binder b(s);
  if (b.Text(1, namespace_id).Text(2, workflow_id).rc() != SQLITE_OK) {
    return SqlError(lease->conn->db(), "binding workflow key");
  }
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return std::optional<std::string>(ColumnBytes(s, 0));
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "reading current execution");
  return std::optional<std::string>();
}

Result<std::vector<EventRow>> SqliteStore::ReadEvents(const std::string& run_id,
                                                      int64_t first_event_id, int64_t max_count) {
  // SQLite reads a negative LIMIT as "no limit"; make the caller say what it means instead.
  if (max_count <= 0) return InvalidArgument("ReadEvents: max_count must be positive");
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  sqlite3_stmt* s = lease->conn->stmt(kReadEvents);
  ResetOnExit reset{s};
  Binder b(s);
  if (b.Text(1, run_id).Int(2, first_event_id).Int(3, max_count).rc() != SQLITE_OK) {
    return SqlError(lease->conn->db(), "binding event range");
  }
  std::vector<EventRow> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out.push_back(EventRow{run_id, sqlite3_column_int64(s, 0), ColumnBytes(s, 1)});
  }
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "reading history events");
  return out;
}

namespace {
constexpr const char* kCloseSort = "coalesce(close_time, 9223372036854775807)";

// The FROM/WHERE part shared by list and count; binds namespace and filter arguments.
std::string VisibilityFrom(const VisibilityQuery& q) {
  std::string sql = " FROM visibility WHERE namespace_id = ?";
  if (!q.where.empty()) sql += " AND (" + q.where + ")";
  return sql;
}

// A statement prepared for one call (visibility filters vary per request).
struct OneShot {
  sqlite3_stmt* s = nullptr;
  ~OneShot() { sqlite3_finalize(s); }
};

Status PrepareVisibility(sqlite3* db, const std::string& sql, const VisibilityQuery& q,
                         const std::vector<SqlValue>& extra, OneShot* out) {
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &out->s, nullptr) != SQLITE_OK) {
    return SqlError(db, "preparing visibility query");
  }
  Binder b(out->s);
  int i = 1;
  b.Text(i++, q.namespace_id);
  for (const SqlValue& v : q.args) b.Value(i++, v);
  for (const SqlValue& v : extra) b.Value(i++, v);
  if (b.rc() != SQLITE_OK) return SqlError(db, "binding visibility query");
  return Status::Ok();
}
}  // namespace

void SqliteStore::ReloadStatsIfStale(ReaderLease& lease) {
  uint64_t gen = stats_generation_.load(std::memory_order_relaxed);
  if (lease.conn->stats_generation == gen) return;
  // Statistics are read with the schema; this makes a reader pick up ones written since it opened.
  sqlite3_exec(lease.conn->db(), "ANALYZE sqlite_schema", nullptr, nullptr, nullptr);
  lease.conn->stats_generation = gen;
}

Result<VisibilityPage> SqliteStore::ListVisibility(const VisibilityQuery& q) {
  if (q.limit <= 0) return InvalidArgument("ListVisibility: limit must be positive");
  std::string sql = std::string("SELECT info, ") + kCloseSort + ", start_time, run_id" + VisibilityFrom(q);
  std::vector<SqlValue> extra;
  if (q.order_by.empty()) {
    if (q.after) {
      sql += std::string(" AND (") + kCloseSort + ", start_time, run_id) < (?, ?, ?)";
      extra = {q.after->close_sort, q.after->start_time, q.after->run_id};
    }
    sql += std::string(" ORDER BY ") + kCloseSort + " DESC, start_time DESC, run_id DESC LIMIT ?";
    extra.emplace_back(q.limit);
  } else {
    sql += " ORDER BY " + q.order_by + ", run_id DESC LIMIT ? OFFSET ?";
    extra.emplace_back(q.limit);
    extra.emplace_back(q.offset);
  }
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  ReloadStatsIfStale(*lease);
  OneShot st;
  TL_RETURN_IF_ERROR(PrepareVisibility(lease->conn->db(), sql, q, extra, &st));
  VisibilityPage page;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    page.infos.push_back(ColumnBytes(st.s, 0));
    page.cursors.push_back({sqlite3_column_int64(st.s, 1), sqlite3_column_int64(st.s, 2), ColumnBytes(st.s, 3)});
  }
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "listing visibility");
  return page;
}

Result<int64_t> SqliteStore::CountVisibility(const VisibilityQuery& q) {
  std::string sql = "SELECT count(*)" + VisibilityFrom(q);
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  ReloadStatsIfStale(*lease);
  OneShot st;
  TL_RETURN_IF_ERROR(PrepareVisibility(lease->conn->db(), sql, q, {}, &st));
  if (sqlite3_step(st.s) != SQLITE_ROW) return SqlError(lease->conn->db(), "counting visibility");
  return static_cast<int64_t>(sqlite3_column_int64(st.s, 0));
}

Result<std::vector<std::pair<int64_t, int64_t>>> SqliteStore::CountVisibilityByStatus(const VisibilityQuery& q) {
  std::string sql = "SELECT status, count(*)" + VisibilityFrom(q) + " GROUP BY status ORDER BY status";
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  ReloadStatsIfStale(*lease);
  OneShot st;
  TL_RETURN_IF_ERROR(PrepareVisibility(lease->conn->db(), sql, q, {}, &st));
  std::vector<std::pair<int64_t, int64_t>> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    out.emplace_back(sqlite3_column_int64(st.s, 0), sqlite3_column_int64(st.s, 1));
  }
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "counting visibility by status");
  return out;
}

Result<std::vector<std::string>> SqliteStore::ClosedRunsBefore(const std::string& namespace_id,
                                                              int64_t close_before, int64_t limit) {
  if (limit <= 0) return InvalidArgument("ClosedRunsBefore: limit must be positive");
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  sqlite3_stmt* s = lease->conn->stmt(kClosedRunsBefore);
  ResetOnExit reset{s};
  Binder b(s);
  if (b.Text(1, namespace_id).Int(2, close_before).Int(3, limit).rc() != SQLITE_OK) {
    return SqlError(lease->conn->db(), "binding retention query");
  }
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(ColumnBytes(s, 0));
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "finding expired runs");
  return out;
}

Result<std::vector<ScheduleRow>> SqliteStore::LoadSchedules() {
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  sqlite3_stmt* s = lease->conn->stmt(kLoadSchedules);
  ResetOnExit reset{s};
  std::vector<ScheduleRow> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out.push_back(ScheduleRow{ColumnBytes(s, 0), ColumnBytes(s, 1), ColumnBytes(s, 2)});
  }
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "loading schedules");
  return out;
}

Result<std::optional<std::string>> SqliteStore::GetServerState(const std::string& key) {
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  sqlite3_stmt* s = lease->conn->stmt(kGetServerState);
  ResetOnExit reset{s};
  Binder b(s);
  if (b.Text(1, key).rc() != SQLITE_OK) return SqlError(lease->conn->db(), "binding server state query");
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return std::optional<std::string>(ColumnBytes(s, 0));
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "reading server state");
  return std::optional<std::string>();
}

void SqliteStore::Close() {
  // Held throughout so a concurrent second Close() returns only once the store is really closed.
  MutexLock close_lock(close_mu_);
  if (closed_) return;
  closed_ = true;
  {
    MutexLock l(queue_mu_);
    accepting_ = false;
    queue_cv_.notify_all();
  }
  if (writer_thread_.joinable()) writer_thread_.join();  // Drains the queue first.
  TL_LOG_INFO("store closed: %llu batches committed in %llu transactions",
              static_cast<unsigned long long>(batches_committed_.load()),
              static_cast<unsigned long long>(transactions_committed_.load()));
  for (ReaderSlot& slot : readers_) {
    std::lock_guard<std::mutex> l(slot.mu);  // Waits for an in-flight read.
    slot.conn.reset();
  }
  std::lock_guard<std::mutex> l(shared_mu_);
  writer_.reset();
}

}  // namespace temporalite::persistence
