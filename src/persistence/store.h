// Persistence seam. The store knows rows and opaque blobs, never engine or API types: the engine
// serializes its own records (history/state.proto, temporal.api.history.v1.HistoryEvent) into the
// `data`/`state` blobs.
//
// Durability contract: a batch is durable (fsync'd with synchronous=FULL, the default) before its
// `done` callback runs. Batches commit in submission order; many batches may share one transaction
// and one fsync (group commit). A failed transaction fails every batch in it, and the store then
// refuses further writes (the engine's in-memory state can no longer be trusted to match disk).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

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
};

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
  std::vector<std::string> delete_runs;  // execution row + its events + a current row naming it
  std::vector<ScheduleRow> upsert_schedules;
  std::vector<ScheduleRow> delete_schedules;  // by (namespace_id, schedule_id); `data` unused

  bool empty() const {
    return upsert_namespaces.empty() && upsert_executions.empty() && upsert_current.empty() &&
           append_events.empty() && delete_runs.empty() && upsert_schedules.empty() &&
           delete_schedules.empty();
  }
  // Moves `other`'s rows to the end of this batch.
  void Append(WriteBatch&& other);
};

class Store {
 public:
  using DoneCallback = std::function<void(const Status&)>;
  virtual ~Store() = default;

  // Queues `batch` for a durable commit and returns at once. `done` runs exactly once, on the
  // store's writer thread, after the transaction holding the batch is durable (OK) or failed.
  // `done` must be quick and must not wait for another commit.
  virtual void Commit(WriteBatch batch, DoneCallback done) = 0;

  // Commit and wait for durability. Must not be called from a `done` callback.
  Status CommitSync(WriteBatch batch);

  // Reads see committed data only. Safe to call from any thread, concurrently with commits.
  virtual Result<std::vector<NamespaceRow>> LoadNamespaces() = 0;
  virtual Result<std::vector<ExecutionRow>> LoadOpenExecutions() = 0;
  virtual Result<std::optional<ExecutionRow>> GetExecution(const std::string& run_id) = 0;
  virtual Result<std::optional<std::string>> GetCurrentRunId(const std::string& namespace_id,
                                                             const std::string& workflow_id) = 0;
  // Events of `run_id` with first_event_id <= event_id, ascending, at most `max_count` rows.
  virtual Result<std::vector<EventRow>> ReadEvents(const std::string& run_id, int64_t first_event_id,
                                                   int64_t max_count) = 0;

  // Every schedule row (all namespaces), ordered by (namespace_id, schedule_id).
  virtual Result<std::vector<ScheduleRow>> LoadSchedules() = 0;

  // Commits everything queued so far, stops the writer and closes the database. Idempotent.
  virtual void Close() = 0;
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

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace temporalite::persistence
