// Persistence seam. The store knows rows and opaque blobs, never engine or API types: the engine
// serializes its own records (history/state.proto, temporal.api.history.v1.HistoryEvent) into the
// `data`/`state` blobs.
//
// Durability contract: a batch is durable (fsync'd with synchronous=FULL, the default) before its
// `done` callback runs. Batches commit in submission order; many batches may share one transaction
// and one fsync (group commit). A failed transaction fails every batch in it, and the store then
// records a fatal error and refuses further writes (the engine's in-memory state can no longer be
// trusted to match disk; see fatal_error()).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "metrics/metrics.h"

namespace temporalite::persistence {

struct NamespaceRow {
  std::string id;    // uuid
  std::string name;  // unique
  std::string data;  // engine-owned serialized record
};

struct ExecutionRow {
  std::string namespace_id;
  std::string workflow_id;
  std::string run_id;  // primary key
  bool open = true;
  int64_t close_time_unix_nanos = 0;  // 0 while open
  std::string state;                  // engine-owned serialized mutable state
  // Set when the run was idle as written (open, no workflow task, activity, buffered event,
  // child or parent): the earliest time one of its timers is due, in unix nanoseconds
  // (kNoIdleTimer: none). Recovery then arms one wake-up at it instead of reading the state
  // (LoadOpenExecutions leaves `state` empty for such a row). Unset: recovery reads the state.
  std::optional<int64_t> idle_wake_unix_nanos;
};
inline constexpr int64_t kNoIdleTimer = INT64_MAX;

// The "current run" pointer for (namespace_id, workflow_id).
struct CurrentRow {
  std::string namespace_id;
  std::string workflow_id;
  std::string run_id;
};

struct EventRow {
  std::string run_id;
  int64_t event_id = 0;  // 1-based, contiguous per run
  std::string data;      // serialized temporal.api.history.v1.HistoryEvent
};

// One row of the `visibility` table: the indexed columns of a run plus an engine-owned blob
// (what List returns). Written in the same transaction as the state change it reflects.
// Column contract (used by the query compiler in src/visibility): run_id, namespace_id,
// workflow_id, workflow_type, task_queue, status (enum int), start_time, execution_time,
// close_time (NULL while open), execution_duration (NULL while open), history_length,
// history_size_bytes, state_transition_count, parent_workflow_id, parent_run_id,
// root_workflow_id, root_run_id (NULL when empty), search_attributes (JSON object text or NULL:
// name -> string | number | 0/1 | nanoseconds since epoch | array of strings). Times are Unix ns.
struct VisibilityRow {
  std::string namespace_id;
  std::string run_id;
  std::string workflow_id;
  std::string workflow_type;
  std::string task_queue;
  int64_t status = 0;
  int64_t start_time = 0;
  int64_t execution_time = 0;
  int64_t close_time = 0;  // 0 = open (stored as NULL)
  int64_t execution_duration = 0;  // stored only when closed
  int64_t history_length = 0;
  int64_t history_size_bytes = 0;
  int64_t state_transition_count = 0;
  std::string parent_workflow_id;
  std::string parent_run_id;
  std::string root_workflow_id;
  std::string root_run_id;
  std::string search_attributes_json;  // empty = NULL
  std::string info;                    // engine-owned blob
};

// A bound SQL value of a compiled visibility filter.
using SqlValue = std::variant<int64_t, double, std::string>;

// Position after the last row of a page in the default order
// (coalesce(close_time, INT64_MAX) DESC, start_time DESC, run_id DESC).
struct VisibilityCursor {
  int64_t close_sort = 0;
  int64_t start_time = 0;
  std::string run_id;
};

struct VisibilityQuery {
  std::string namespace_id;
  // SQL boolean expression over the visibility columns with `?` placeholders bound to `args`
  // in order; empty = all rows. Produced by src/visibility, never from raw user text.
  std::string where;
  std::vector<SqlValue> args;
  // "ORDER BY" terms (without the keywords); empty = the default order, paged by `after`.
  std::string order_by;
  std::optional<VisibilityCursor> after;  // default order only
  int64_t offset = 0;                     // custom order only
  int64_t limit = 1000;
};

struct VisibilityPage {
  std::vector<std::string> infos;
  std::vector<VisibilityCursor> cursors;  // parallel to `infos` (position in the default order)
};

// A schedule (Temporal Schedules), owned by the scheduler: `data` is its serialized record.
struct ScheduleRow {
  std::string namespace_id;
  std::string schedule_id;
  std::string data;
};

// Everything one or more state transitions write; applied atomically.
struct WriteBatch {
  std::vector<NamespaceRow> upsert_namespaces;
  std::vector<ExecutionRow> upsert_executions;
  std::vector<CurrentRow> upsert_current;
  std::vector<EventRow> append_events;  // (run_id, event_id) must not exist yet
  std::vector<VisibilityRow> upsert_visibility;
  // Search attribute names whose JSON value gets an index (namespace_id, json_extract(
  // search_attributes, '$."name"')) if it has none yet; names are [A-Za-z0-9_.-]+.
  std::vector<std::string> index_search_attributes;
  // execution row + its events + its visibility row + a current row naming it
  std::vector<std::string> delete_runs;
  std::vector<ScheduleRow> upsert_schedules;
  std::vector<ScheduleRow> delete_schedules;  // by (namespace_id, schedule_id); `data` unused
  std::vector<std::pair<std::string, std::string>> put_server_state;  // server_state rows: key, value
  std::vector<std::string> delete_server_state;  // server_state rows by key (after the puts)
  std::vector<std::string> delete_namespaces;  // namespace rows by id (applied last)

  bool empty() const {
    return upsert_namespaces.empty() && upsert_executions.empty() && upsert_current.empty() &&
           append_events.empty() && upsert_visibility.empty() && index_search_attributes.empty() &&
           delete_runs.empty() && upsert_schedules.empty() && delete_schedules.empty() &&
           put_server_state.empty() && delete_server_state.empty() && delete_namespaces.empty();
  }
  // Moves `other`'s rows to the end of this batch.
  void Append(WriteBatch&& other);
};

class Store {
 public:
  using DoneCallback = std::function<void(const Status&)>;
  virtual ~Store() = default;

  // Queues `batch` for a durable commit and returns at once. `done` runs exactly once, on the
  // store's writer thread (SqliteStore: or at the end of an InlineCommitScope on this thread,
  // inline_commit.h), after the transaction holding the batch is durable (OK) or failed.
  // `done` must be quick and must not wait for another commit.
  virtual void Commit(WriteBatch batch, DoneCallback done) = 0;

  // Commit and wait for durability. Must not be called from a `done` callback.
  Status CommitSync(WriteBatch batch);

  // Reads see committed data only. Safe to call from any thread, concurrently with commits.
  virtual Result<std::vector<NamespaceRow>> LoadNamespaces() = 0;
  // Every open run. With idle_states false a row written idle (idle_wake_unix_nanos set) comes
  // without its state: recovery needs only its ids and wake-up time.
  virtual Result<std::vector<ExecutionRow>> LoadOpenExecutions(bool idle_states = true) = 0;
  virtual Result<std::optional<ExecutionRow>> GetExecution(const std::string& run_id) = 0;
  virtual Result<std::optional<std::string>> GetCurrentRunId(const std::string& namespace_id,
                                                             const std::string& workflow_id) = 0;
  // Events of `run_id` with first_event_id <= event_id, ascending, at most `max_count` rows.
  virtual Result<std::vector<EventRow>> ReadEvents(const std::string& run_id, int64_t first_event_id,
                                                   int64_t max_count) = 0;

  // Visibility (committed rows only). `where` is trusted SQL from src/visibility.
  virtual Result<VisibilityPage> ListVisibility(const VisibilityQuery& q) = 0;
  virtual Result<int64_t> CountVisibility(const VisibilityQuery& q) = 0;
  // (status, count) pairs of the rows matching `q`, by status ascending.
  virtual Result<std::vector<std::pair<int64_t, int64_t>>> CountVisibilityByStatus(const VisibilityQuery& q) = 0;
  // Run ids of closed runs of `namespace_id` with close time before `close_before` (Unix ns),
  // oldest first, at most `limit` (retention).
  virtual Result<std::vector<std::string>> ClosedRunsBefore(const std::string& namespace_id,
                                                           int64_t close_before, int64_t limit) = 0;
  // Every schedule row (all namespaces), ordered by (namespace_id, schedule_id).
  virtual Result<std::vector<ScheduleRow>> LoadSchedules() = 0;
  // A server component's record in the server_state table (nullopt: none yet).
  virtual Result<std::optional<std::string>> GetServerState(const std::string& key) = 0;
  // Every server_state row whose key starts with `prefix` (key, value), by key.
  virtual Result<std::vector<std::pair<std::string, std::string>>> ListServerState(const std::string& prefix) = 0;

  // Commits everything queued so far, stops the writer and closes the database. Idempotent.
  virtual void Close() = 0;

  // Fatal write errors (the leveldb RecordBackgroundError habit). A failed transaction leaves the
  // engine's memory ahead of the disk, so the store records the error, fails that transaction's
  // batches with it and refuses every later write (UNAVAILABLE) without touching the database:
  // nothing is acknowledged after a failed write or fsync. Only a restart (recovery from disk)
  // clears it; the composition root decides to exit.
  // The recorded error (OK while writes work). Safe from any thread.
  virtual Status fatal_error() = 0;
  // Called once, on the committing thread (the writer thread, or an RPC thread running an inline
  // commit: inline_commit.h), when the error is recorded (before the failed batches'
  // callbacks run). Must be quick. Set before the first Commit.
  virtual void set_fatal_error_listener(std::function<void(const Status&)> fn) = 0;
};

struct SqliteOptions {
  // Database file path, or ":memory:" for a private in-memory database (tests only).
  std::string path;
  // PRAGMA synchronous value. FULL by default: an acknowledged write survives power loss.
  std::string synchronous = "FULL";
  // Extra "name=value" pragmas applied after the defaults (server flag --sqlite-pragma).
  std::vector<std::string> extra_pragmas;
  // Upper bound on batches merged into one transaction.
  int max_batches_per_transaction = 4096;
  // Under load (the previous transaction held more than one batch) the writer waits up to
  // `commit_delay` for `commit_delay_batches` batches before starting a transaction. Zero disables.
  std::chrono::microseconds commit_delay{500};
  int commit_delay_batches = 16;
  // Commit metrics (group size, transaction and fsync latency, per-batch latency); nullptr: off.
  metrics::Registry* metrics = nullptr;
  // PRAGMA quick_check at open: a damaged file fails Open (INTERNAL) naming the restore
  // command. It reads the whole file (about a second per GB).
  bool integrity_check = true;
};

// Opens (creating if needed) and migrates the database, then starts the writer thread.
// Fails with FAILED_PRECONDITION if the file was written by a newer schema version.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

// The schema version this binary writes.
int LatestSchemaVersion();

// An exclusive lock on a data directory, held for the process lifetime (flock on <dir>/LOCK).
class DirLock {
 public:
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  // Creates `dir` if missing. FAILED_PRECONDITION naming the holder's pid if already locked.
  static Result<std::unique_ptr<DirLock>> Acquire(const std::string& dir);
  // The lock for a database file: resolves symlinks, locks the real file's directory as Acquire
  // does, and also holds an flock on the database file itself (creating it empty if missing), so
  // a second server reaching the same file through a symlink or a hard link is refused too.
  static Result<std::unique_ptr<DirLock>> AcquireForDatabase(const std::string& db_path);

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
  int db_fd_ = -1;  // flock on the database file; closed only after the store (see ~DirLock)
};

}  // namespace temporalite::persistence
