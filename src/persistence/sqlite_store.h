// The SQLite implementation of Store. Exposed (rather than hidden behind OpenSqliteStore) only so
// tests and metrics can see how well group commit merges batches; the engine uses `Store`.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/thread_annotations.h"
#include "persistence/blob_codec.h"
#include "persistence/store.h"

struct sqlite3;

namespace temporalite::persistence {

class SqliteStore final : public Store {
 public:
  // The start-up integrity check (options.integrity_check) reads the whole file, about a second
  // per GB, so only a file of at most `integrity_check_sync_max_bytes` (database + WAL) is checked
  // before Open returns; a larger one is checked in the background at low priority while the
  // server serves, and damage found there becomes the store's fatal error (writes refused, the
  // fatal-error listener told, so the server stops with the message).
  static constexpr int64_t kIntegrityCheckSyncMaxBytes = int64_t{256} << 20;

  // Same as OpenSqliteStore, with the concrete type.
  // With `defer_background_check` (the server's setting) that background check of a large file
  // starts only at RecoveryFinished(): it reads the whole file and would slow recovery's reads
  // down on a small machine.
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options,
                                                   int64_t integrity_check_sync_max_bytes = kIntegrityCheckSyncMaxBytes,
                                                   bool defer_background_check = false);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // After Close() `done` runs inline (there is no writer thread left) with UNAVAILABLE.
  void Commit(WriteBatch batch, DoneCallback done) override;

  Result<std::vector<NamespaceRow>> LoadNamespaces() override;
  Result<std::vector<ExecutionRow>> LoadOpenExecutions(bool idle_states = true) override;
  Result<std::optional<ExecutionRow>> GetExecution(const std::string& run_id) override;
  Result<std::optional<std::string>> GetCurrentRunId(const std::string& namespace_id,
                                                     const std::string& workflow_id) override;
  Result<std::vector<EventRow>> ReadEvents(const std::string& run_id, int64_t first_event_id,
                                           int64_t max_count) override;

  Result<VisibilityPage> ListVisibility(const VisibilityQuery& q) override;
  Result<int64_t> CountVisibility(const VisibilityQuery& q) override;
  Result<std::vector<std::pair<int64_t, int64_t>>> CountVisibilityByStatus(const VisibilityQuery& q) override;
  Result<std::vector<std::string>> ClosedRunsBefore(const std::string& namespace_id, int64_t close_before,
                                                   int64_t limit) override;

  Result<std::vector<ScheduleRow>> LoadSchedules() override;
  Result<std::optional<std::string>> GetServerState(const std::string& key) override;
  Result<std::vector<std::pair<std::string, std::string>>> ListServerState(const std::string& prefix) override;
  // Must not be called from a `done` callback (it joins the writer thread, which waits for the
  // writer role that callback's thread holds).
  void Close() override;
  // InlineCommitScope's end (inline_commit.h): runs the transaction here if nobody holds the
  // writer role (else the holder takes the queue when its transaction ends).
  void CommitDeferred() EXCLUDES(queue_mu_);
  Status fatal_error() override;
  void set_fatal_error_listener(std::function<void(const Status&)> fn) override;
  // Recovery (the engine's and the scheduler's loads) has finished: a deferred background check
  // starts. Idempotent.
  void RecoveryFinished();
  // Whether the background integrity check has been started (tests).
  bool background_check_started() const { return check_started_.load(); }

  // Transactions that committed successfully, and the batches they carried.
  uint64_t transactions_committed() const { return transactions_committed_.load(); }
  uint64_t batches_committed() const { return batches_committed_.load(); }
  // No transaction runs or waits (tests): CommitSync returns once its batch is durable, which can
  // be before the writer has finished that transaction's follow-up work and left the role.
  bool WriterIdle() EXCLUDES(queue_mu_);

 private:
  class Conn;  // A connection plus its cached prepared statements (defined in the .cc).
  struct Pending {
    WriteBatch batch;
    DoneCallback done;
    std::chrono::steady_clock::time_point queued;  // set only when metrics are on
  };
  // A read connection, locked for the duration of one read call.
  struct ReaderLease {
    std::unique_lock<std::mutex> lock;
    Conn* conn;
  };
  struct ReaderSlot {
    std::mutex mu;
    std::unique_ptr<Conn> conn;
  };
  static constexpr size_t kReaderConnections = 4;

  SqliteStore(const SqliteOptions& options, int64_t integrity_check_sync_max_bytes, bool defer_background_check);
  Status Init();
  void WriterLoop();
  // Takes up to max_batches_per_transaction queued batches (queue_mu_ held, the role taken).
  void TakeWork(std::vector<Pending>& work) REQUIRES(queue_mu_);
  // Runs the transaction over `work`, then its callbacks and upkeep; then gives the role back.
  void CommitWork(std::vector<Pending>& work) EXCLUDES(queue_mu_);
  // Runs one transaction over `work`; on failure marks the store failed.
  Status RunTransaction(std::vector<Pending>& work);
  void RecordCommitMetrics(const std::vector<Pending>& work, std::chrono::steady_clock::time_point begin,
                           std::chrono::steady_clock::time_point commit, bool ok);
  Status ApplyBatch(const WriteBatch& batch);
  // Records the store's fatal error (the first one wins) and tells the listener once.
  void RecordFatal(const Status& status);
  // The start-up integrity check of a large file, on its own connection (BackgroundCheck).
  void StartBackgroundCheck();
  std::atomic<bool> check_pending_{false};  // deferred until RecoveryFinished
  std::atomic<bool> check_started_{false};
  // Writer: the stored form of a blob (compressed once the database has a dictionary; the first
  // blobs train it in the background, and a trained dictionary's row joins the transaction of
  // the first blob compressed with it).
  Result<std::string> EncodeBlob(std::string_view raw);
  Status AppendHistory(const std::vector<EventRow>& events);
  Status WriteExecution(const ExecutionRow& r);
  Status WriteVisibility(const VisibilityRow& r);
  Status LoadNewestDictionary();
  // The small integer that stands for `namespace_id` in rows (schema 6), assigned on first use.
  Result<int64_t> NamespaceKey(const std::string& namespace_id);
  // Readers: the plain bytes of a stored blob (`c`'s connection loads unknown dictionaries).
  Result<std::string> Decode(Conn& c, std::string_view stored);
  Result<ReaderLease> AcquireReader();
  // Makes a reader load planner statistics written since it last did (new attribute indexes).
  void ReloadStatsIfStale(ReaderLease& lease);

  const SqliteOptions options_;
  const int64_t integrity_check_sync_max_bytes_;
  const bool defer_background_check_;
  // Looked up once at open; nullptr when metrics are off.
  struct CommitMetrics {
    explicit CommitMetrics(metrics::Registry& r);
    metrics::Counter& requests;
    metrics::Counter& errors;
    metrics::Histogram& latency;
    metrics::Histogram& group_size;
    metrics::Histogram& transaction_latency;
    metrics::Histogram& fsync_latency;
  };
  std::unique_ptr<CommitMetrics> m_;
  // ":memory:" has a single connection: the writer's, shared with readers under shared_mu_.
  const bool in_memory_;

  std::unique_ptr<Conn> writer_;
  std::mutex shared_mu_;  // in_memory_ only: held by the writer for a whole transaction
  std::array<ReaderSlot, kReaderConnections> readers_;
  std::atomic<unsigned> next_reader_{0};
  std::atomic<uint64_t> stats_generation_{0};  // bumped when an index gets new statistics

  Mutex queue_mu_;
  std::condition_variable_any queue_cv_;
  std::vector<Pending> queue_ GUARDED_BY(queue_mu_);
  bool accepting_ GUARDED_BY(queue_mu_) = true;
  // A transaction is being prepared or run (by the writer thread, or by a thread ending an
  // InlineCommitScope): the one holder of the writer connection and the writer-only fields below.
  bool committing_ GUARDED_BY(queue_mu_) = false;
  size_t last_batches_ GUARDED_BY(queue_mu_) = 0;  // batches in the previous transaction
  // Batches were queued when the previous transaction ended (load): no inline commits.
  bool contended_ GUARDED_BY(queue_mu_) = false;

  // Committer only (see committing_): once a transaction fails nothing more is written.
  bool failed_ = false;
  Status failed_status_;  // what later writes are refused with (UNAVAILABLE)
  Mutex fatal_mu_;
  std::function<void(const Status&)> fatal_error_listener_ GUARDED_BY(fatal_mu_);
  Status fatal_error_ GUARDED_BY(fatal_mu_);  // the failed transaction's (or check's) error
  bool listener_told_ GUARDED_BY(fatal_mu_) = false;
  std::atomic<bool> damaged_{false};  // the background integrity check found damage

  std::thread check_thread_;
  std::mutex check_mu_;
  sqlite3* check_db_ = nullptr;  // guarded by check_mu_ (interrupted by Close)
  bool check_stop_ = false;      // guarded by check_mu_

  std::thread writer_thread_;
  Mutex close_mu_;
  bool closed_ GUARDED_BY(close_mu_) = false;

  DictionaryCache dictionaries_;  // all connections
  BlobEncoder encoder_;           // committer only (its training runs on a thread of its own)
  int64_t next_dictionary_id_ = 1;  // committer only
  std::unordered_map<std::string, int64_t> namespace_keys_;  // committer only

  // Committer only: what this process last wrote for a run's rows (docs/persistence.md, "Rows
  // written in place"), so each write goes straight to the statement that applies: the in-place
  // UPDATE when the indexed columns stay, the upsert for a new row or changed indexed columns,
  // and no read of the last stored event id before a history append. Only an optimisation: a run
  // not in it takes the upsert (correct for any row) and reads its last event id, and an
  // in-place UPDATE that matches no row still falls back to the upsert. Entries leave with the
  // run's close or delete; the whole map is dropped at kMaxKnownRuns (memory bound).
  struct KnownRun {
    bool execution = false;  // execution_open / execution_close_time are what the row holds
    bool execution_open = false;
    int64_t execution_close_time = 0;
    bool visibility = false;  // visibility_status / visibility_close_time are what the row holds
    int32_t visibility_status = 0;
    int64_t visibility_close_time = 0;
    int64_t last_event_id = -1;  // of the run's stored history; -1: unknown
  };
  // The map's hash of a 16-byte run key (UUIDv7: time first, random last; both halves mixed).
  static size_t HashRunKey(const std::array<unsigned char, 16>& k);
  static constexpr size_t kMaxKnownRuns = 1 << 18;
  // The entry of a canonical UUID run id: without `create` nullptr when not known, with it a
  // new or the existing one. Any other run id is never cached: &unknown_run_ without `create`
  // (nothing known: try in place first, read the last event id), nullptr with it.
  KnownRun* KnownRunFor(const std::string& run_id, bool create);
  void ForgetRun(const std::string& run_id);
  // `run_id` as 16 bytes (nullptr: no canonical UUID), the last conversion remembered.
  const std::array<unsigned char, 16>* RunKey(const std::string& run_id);
  std::string last_run_id_;
  std::array<unsigned char, 16> last_run_key_{};
  bool last_run_key_ok_ = false;
  std::unordered_map<std::array<unsigned char, 16>, KnownRun, size_t (*)(const std::array<unsigned char, 16>&)>
      known_runs_{0, &SqliteStore::HashRunKey};
  KnownRun unknown_run_;  // never written

  uint64_t transactions_since_optimize_ = 0;  // committer only
  uint64_t visibility_rows_written_ = 0;      // committer only: kPutVisibility rows since open
  uint64_t next_visibility_analyze_ = 1000;   // committer only
  std::atomic<uint64_t> transactions_committed_{0};
  std::atomic<uint64_t> batches_committed_{0};
};

// Tests: brings the (possibly new) file at `path` to schema `version` (< LatestSchemaVersion()
// makes a file as an older temporalite left it), and a hook called inside the migration
// transaction after each version's step (the argument: that version), e.g. to crash there.
Status MigrateFileTo(const std::string& path, int version);
using MigrationHook = std::function<void(int version)>;
void SetMigrationHookForTesting(MigrationHook hook);
// Tests: the dictionary policy of stores opened from now on (nullopt: the defaults).
void SetDictionaryPolicyForTesting(std::optional<DictionaryPolicy> policy);

}  // namespace temporalite::persistence
