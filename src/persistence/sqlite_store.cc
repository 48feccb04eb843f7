#include "persistence/sqlite_store.h"

#include "common/latency_trace.h"
#include "persistence/inline_commit.h"
#include "persistence/sqlite_internal.h"

#include "common/log.h"

#include <sqlite3.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <cctype>
#include <cstring>
#include <cstdlib>
#include <iterator>
#include <string_view>
#include <utility>

namespace temporalite::persistence {

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

std::string ColumnBytes(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

namespace {
// Hex digit values, -1 for anything else (upper case too: it would not round-trip).
constexpr std::array<signed char, 256> kHexValue = [] {
  std::array<signed char, 256> t{};
  for (int i = 0; i < 256; ++i) t[i] = -1;
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<signed char>(i);
  for (int i = 0; i < 6; ++i) t['a' + i] = static_cast<signed char>(10 + i);
  return t;
}();
int HexValue(char c) { return kHexValue[static_cast<unsigned char>(c)]; }
}  // namespace

bool UuidToBytes(std::string_view text, unsigned char out[16]) {
  if (text.size() != 36) return false;
  int n = 0;
  for (size_t i = 0; i < 36; i += 2) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      ++i;
    }
    int hi = HexValue(text[i]);
    int lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[n++] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return n == 16;
}

std::string BytesToUuid(const unsigned char bytes[16]) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

std::string ColumnRunId(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_BLOB && sqlite3_column_bytes(s, i) == 16) {
    return BytesToUuid(static_cast<const unsigned char*>(sqlite3_column_blob(s, i)));
  }
  return ColumnBytes(s, i);
}

ExecutionRow ReadExecution(sqlite3_stmt* s) {
  ExecutionRow row;
  row.run_id = ColumnRunId(s, 0);
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

namespace {
std::mutex policy_mu;
std::optional<DictionaryPolicy>& TestingPolicy() {
  static std::optional<DictionaryPolicy> policy;
  return policy;
}
DictionaryPolicy StorePolicy() {
  std::lock_guard<std::mutex> l(policy_mu);
  return TestingPolicy().value_or(DictionaryPolicy{});
}
}  // namespace

void SetDictionaryPolicyForTesting(std::optional<DictionaryPolicy> policy) {
  std::lock_guard<std::mutex> l(policy_mu);
  TestingPolicy() = policy;
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(store).value());
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options,
                                                       int64_t integrity_check_sync_max_bytes,
                                                       bool defer_background_check) {
  auto store = std::unique_ptr<SqliteStore>(
      new SqliteStore(options, integrity_check_sync_max_bytes, defer_background_check));
  TL_RETURN_IF_ERROR(store->Init());
  return store;
}

SqliteStore::SqliteStore(const SqliteOptions& options, int64_t integrity_check_sync_max_bytes,
                         bool defer_background_check)
    : options_(options),
      integrity_check_sync_max_bytes_(integrity_check_sync_max_bytes),
      defer_background_check_(defer_background_check),
      m_(options.metrics ? std::make_unique<CommitMetrics>(*options.metrics) : nullptr),
      in_memory_(options.path == ":memory:"),
      encoder_(StorePolicy()) {}

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
  // A small file is checked before anything is served; a large one (the check reads all of it,
  // about a second per GB) after Open, in the background (StartBackgroundCheck).
  bool check_later = false;
  if (!in_memory_ && options_.integrity_check) {
    std::error_code ec;
    auto size = [&ec](const std::string& p) {
      auto n = std::filesystem::file_size(p, ec);
      return ec ? int64_t{0} : static_cast<int64_t>(n);
    };
    if (size(options_.path) + size(options_.path + "-wal") <= integrity_check_sync_max_bytes_) {
      TL_RETURN_IF_ERROR(QuickCheck(db, options_.path));
    } else {
      check_later = true;
    }
  }
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
  TL_RETURN_IF_ERROR(LoadNewestDictionary());

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
  if (check_later && defer_background_check_) {
    check_pending_.store(true);
  } else if (check_later) {
    StartBackgroundCheck();
  }
  return Status::Ok();
}

void SqliteStore::RecoveryFinished() {
  if (!check_pending_.exchange(false)) return;
  MutexLock l(close_mu_);  // not after Close
  if (!closed_) StartBackgroundCheck();
}

void SqliteStore::StartBackgroundCheck() {
  Result<std::unique_ptr<Conn>> conn = Conn::Open(options_.path, SQLITE_OPEN_READONLY);
  if (!conn.ok()) {
    TL_LOG_WARN("integrity check of %s not run: %s", options_.path.c_str(), conn.status().message().c_str());
    return;
  }
  TL_LOG_INFO("integrity check of %s runs in the background (large file); damage found stops the server",
              options_.path.c_str());
  check_started_.store(true);
  check_thread_ = std::thread([this, c = std::shared_ptr<Conn>(std::move(conn).value())] {
    // Lowest priority: serving comes first (Linux: per-thread nice value).
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
    {
      std::lock_guard<std::mutex> l(check_mu_);
      if (check_stop_) return;
      check_db_ = c->db();
    }
    const auto start = std::chrono::steady_clock::now();
    Status s = QuickCheck(c->db(), options_.path);
    {
      std::lock_guard<std::mutex> l(check_mu_);
      check_db_ = nullptr;
      if (check_stop_) return;  // interrupted by Close: no verdict
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s.ok()) {
      TL_LOG_INFO("integrity check of %s: ok (%.1f s, in the background)", options_.path.c_str(), secs);
      return;
    }
    damaged_.store(true);
    RecordFatal(s);
  });
}

void SqliteStore::RecordFatal(const Status& status) {
  std::function<void(const Status&)> tell;
  Status first;
  {
    MutexLock l(fatal_mu_);
    if (fatal_error_.ok()) fatal_error_ = status;
    if (!listener_told_ && fatal_error_listener_) {
      listener_told_ = true;
      tell = fatal_error_listener_;
      first = fatal_error_;
    }
  }
  if (tell) tell(first);
}

namespace {

// InlineCommitScope's state on this thread: whether a scope is open, and the store that was left
// a commit to run when the outermost scope ends.
thread_local bool t_scope_open = false;
thread_local SqliteStore* t_deferred = nullptr;

}  // namespace

InlineCommitScope::InlineCommitScope() : outermost_(!t_scope_open) { t_scope_open = true; }

InlineCommitScope::~InlineCommitScope() {
  if (!outermost_) return;
  t_scope_open = false;  // commits made by the callbacks run below go to the writer thread
  SqliteStore* store = t_deferred;
  t_deferred = nullptr;
  if (store) store->CommitDeferred();
}

bool InlineCommitScope::open() { return t_scope_open; }
SqliteStore* InlineCommitScope::deferred() { return t_deferred; }
void InlineCommitScope::defer(SqliteStore* store) { t_deferred = store; }
InlineCommitScope::Pause::Pause() : was_open_(t_scope_open) { t_scope_open = false; }
InlineCommitScope::Pause::~Pause() { t_scope_open = was_open_; }

void SqliteStore::Commit(WriteBatch batch, DoneCallback done) {
  TL_LATENCY_TRACE("s.commit_enq");
  bool queued = false;
  bool wake = true;
  {
    MutexLock l(queue_mu_);
    if (accepting_) {
      // Idle (no transaction running or queued, the last one alone): inside an InlineCommitScope
      // this thread commits it itself when the scope ends, sparing the writer thread's wake-up.
      if (InlineCommitScope::open() && !committing_ && !contended_ && queue_.empty() && last_batches_ <= 1 &&
          (InlineCommitScope::deferred() == nullptr || InlineCommitScope::deferred() == this)) {
        InlineCommitScope::defer(this);
        wake = false;
      }
      queue_.push_back(Pending{std::move(batch), std::move(done),
                               m_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point()});
      queued = true;
    }
  }
  if (queued) {
    // Outside the lock so the writer does not wake only to block on queue_mu_. No I/O here.
    if (wake) queue_cv_.notify_one();
    return;
  }
  if (done) done(Unavailable("store is closed"));
}

bool SqliteStore::WriterIdle() {
  MutexLock l(queue_mu_);
  return !committing_ && queue_.empty();
}

void SqliteStore::TakeWork(std::vector<Pending>& work) {
  const size_t max = static_cast<size_t>(options_.max_batches_per_transaction);
  if (queue_.size() <= max) {
    work.swap(queue_);  // Both vectors keep their capacity: no allocation in steady state.
  } else {
    auto end = queue_.begin() + static_cast<std::ptrdiff_t>(max);
    work.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
    queue_.erase(queue_.begin(), end);
  }
  last_batches_ = work.size();
}

void SqliteStore::CommitDeferred() {
  std::vector<Pending> work;
  bool wake = false;
  {
    MutexLock l(queue_mu_);
    // Still alone: commit here. The writer thread may have taken the batch already (another
    // commit woke it), or holds the role now and takes the queue when its transaction ends
    // (CommitWork). Others queued meanwhile: load, so the writer thread groups them.
    if (!committing_ && queue_.size() == 1) {
      committing_ = true;
      TakeWork(work);
    } else {
      wake = !committing_ && !queue_.empty();
    }
  }
  if (wake) queue_cv_.notify_all();
  if (work.empty()) return;
  CommitWork(work);
}

void SqliteStore::WriterLoop() {
  std::vector<Pending> work;
  for (;;) {
    {
      MutexLock l(queue_mu_);
      queue_cv_.wait(queue_mu_, [this] {
        queue_mu_.AssertHeld();  // the condition variable holds it while testing
        return !committing_ && (!queue_.empty() || !accepting_);
      });
      if (queue_.empty()) return;  // Closing, and everything queued has been committed.
      committing_ = true;
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
      TakeWork(work);
    }
    TL_LATENCY_TRACE("s.writer_take");
    CommitWork(work);
  }
}

void SqliteStore::CommitWork(std::vector<Pending>& work) {
  Status status = RunTransaction(work);
  for (Pending& p : work) {
    if (p.done) p.done(status);
  }
  work.clear();
  // Visibility rows (new ones, or index keys changed) written since the start, at 1,000 then
  // each doubling: re-analyze the visibility table (sampled, a few milliseconds). A server that
  // started on an empty or small table would otherwise keep its first statistics (none) and
  // walk the default-order index for a selective search attribute filter: `PRAGMA optimize`
  // (below) of SQLite 3.40 leaves tables that had no statistics alone.
  if (status.ok() && visibility_rows_written_ >= next_visibility_analyze_) {
    next_visibility_analyze_ = 2 * visibility_rows_written_;
    std::unique_lock<std::mutex> shared;  // ":memory:": readers share the writer's connection
    if (in_memory_) shared = std::unique_lock<std::mutex>(shared_mu_);
    if (Exec(writer_->db(), "ANALYZE visibility", "analyzing visibility").ok()) {
      stats_generation_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // Now and then refresh planner statistics of tables that grew or shrank a lot since the last
  // analysis (sampled, so a few milliseconds), and let readers reload them.
  if (status.ok() && ++transactions_since_optimize_ >= 20000) {
    transactions_since_optimize_ = 0;
    if (Exec(writer_->db(), "PRAGMA optimize", "optimizing").ok()) stats_generation_.fetch_add(1, std::memory_order_relaxed);
  }
  bool queued;
  {
    MutexLock l(queue_mu_);
    committing_ = false;
    contended_ = !queue_.empty();
    queued = contended_ || !accepting_;
  }
  // The writer thread waits for the role while batches queue behind an inline transaction.
  if (queued) queue_cv_.notify_all();
}

Status SqliteStore::RunTransaction(std::vector<Pending>& work) {
  if (!failed_ && damaged_.load()) {
    failed_ = true;
    failed_status_ = Unavailable("the database refuses writes: " + fatal_error().message());
  }
  if (failed_) return failed_status_;
  if (std::all_of(work.begin(), work.end(), [](const Pending& p) { return p.batch.empty(); })) {
    return Status::Ok();  // Earlier batches are already durable; nothing to fsync.
  }
  // In-memory mode shares the connection with readers: hold it for the whole transaction so they
  // never observe uncommitted rows.
  std::unique_lock<std::mutex> shared;
  if (in_memory_) shared = std::unique_lock<std::mutex>(shared_mu_);

  const auto begin = m_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  TL_LATENCY_TRACE("s.txn_begin");
  Status status = writer_->Run(kBegin, "beginning a transaction");
  for (size_t i = 0; status.ok() && i < work.size(); ++i) status = ApplyBatch(work[i].batch);
  const auto commit = m_ ? std::chrono::steady_clock::now() : begin;
  TL_LATENCY_TRACE("s.commit_begin");
  if (status.ok()) status = writer_->Run(kCommit, "committing");  // The one fsync.
  TL_LATENCY_TRACE("s.commit_end");
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
  RecordFatal(status);
  return status;
}

Status SqliteStore::fatal_error() {
  MutexLock l(fatal_mu_);
  return fatal_error_;
}

void SqliteStore::set_fatal_error_listener(std::function<void(const Status&)> fn) {
  Status first;
  std::function<void(const Status&)> tell;
  {
    MutexLock l(fatal_mu_);
    fatal_error_listener_ = std::move(fn);
    // The background integrity check may have found damage before anyone listened.
    if (fatal_error_.ok() || listener_told_ || !fatal_error_listener_) return;
    listener_told_ = true;
    first = fatal_error_;
    tell = fatal_error_listener_;
  }
  tell(first);
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

namespace {

// Binds a visibility row's parameters as kPutVisibility numbers them; without `all_columns` only
// those kUpdateVisibilityInPlace uses (binding a parameter a statement lacks is an error).
// `info` is the row's encoded info blob (it must outlive the statement's run).
void BindVisibility(Binder& b, const VisibilityRow& r, const std::string& info, int64_t namespace_key,
                    bool all_columns) {
  b.Text(1, r.run_id).Int(6, r.status);
  if (r.close_time != 0) {
    b.Int(9, r.close_time).Int(10, r.execution_duration);
  } else {
    b.Null(9).Null(10);
  }
  b.Int(11, r.history_length).Int(12, r.history_size_bytes).Int(13, r.state_transition_count);
  b.TextOrNull(18, r.search_attributes_json).Blob(19, info);
  if (!all_columns) return;
  b.Int(2, namespace_key).Text(3, r.workflow_id).Text(4, r.workflow_type).Text(5, r.task_queue);
  b.Int(7, r.start_time).Int(8, r.execution_time);
  b.TextOrNull(14, r.parent_workflow_id).TextOrNull(15, r.parent_run_id);
  b.TextOrNull(16, r.root_workflow_id).TextOrNull(17, r.root_run_id);
}

// An execution row's `wake` column (schema 7): NULL unless the run was written idle.
void BindWake(Binder& b, int i, const ExecutionRow& r) {
  if (r.idle_wake_unix_nanos) {
    b.Int(i, *r.idle_wake_unix_nanos);
  } else {
    b.Null(i);
  }
}

}  // namespace

Status SqliteStore::ApplyBatch(const WriteBatch& batch) {
  Conn& c = *writer_;
  for (const NamespaceRow& r : batch.upsert_namespaces) {
    Binder b(c.stmt(kPutNamespace));
    b.Text(1, r.id).Text(2, r.name).Blob(3, r.data);
    TL_RETURN_IF_ERROR(c.Run(kPutNamespace, b, "writing namespace " + r.name));
  }
  for (const ExecutionRow& r : batch.upsert_executions) TL_RETURN_IF_ERROR(WriteExecution(r));
  for (const CurrentRow& r : batch.upsert_current) {
    Result<int64_t> ns = NamespaceKey(r.namespace_id);
    if (!ns.ok()) return ns.status();
    Binder b(c.stmt(kPutCurrent));
    b.Int(1, *ns).Text(2, r.workflow_id).RunId(3, r.run_id);
    TL_RETURN_IF_ERROR(c.Run(kPutCurrent, b, "writing current execution"));
  }
  TL_RETURN_IF_ERROR(AppendHistory(batch.append_events));
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
  for (const VisibilityRow& r : batch.upsert_visibility) TL_RETURN_IF_ERROR(WriteVisibility(r));
  // A closed run's rows are rarely written again (retention deletes them): out of the map.
  for (const ExecutionRow& r : batch.upsert_executions) {
    if (!r.open) ForgetRun(r.run_id);
  }
  // Deletes last, in dependency order (the current row is found through the execution row).
  for (const std::string& run_id : batch.delete_runs) {
    ForgetRun(run_id);
    for (int sql : {kDeleteCurrent, kDeleteEvents, kDeleteVisibility, kDeleteExecution}) {
      Binder b(c.stmt(sql));
      if (sql == kDeleteVisibility) {
        b.Text(1, run_id);  // visibility keeps text run ids (the query compiler's RunId filters)
      } else {
        b.RunId(1, run_id);
      }
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
  for (const std::string& key : batch.delete_server_state) {
    Binder b(c.stmt(kDeleteServerState));
    b.Text(1, key);
    TL_RETURN_IF_ERROR(c.Run(kDeleteServerState, b, "deleting server state " + key));
  }
  for (const std::string& id : batch.delete_namespaces) {
    Binder b(c.stmt(kDeleteNamespace));
    b.Text(1, id);
    TL_RETURN_IF_ERROR(c.Run(kDeleteNamespace, b, "deleting namespace " + id));
  }
  return Status::Ok();
}

size_t SqliteStore::HashRunKey(const std::array<unsigned char, 16>& k) {
  uint64_t a = 0, b = 0;
  std::memcpy(&a, k.data(), 8);
  std::memcpy(&b, k.data() + 8, 8);
  return static_cast<size_t>(b ^ (a * 0x9e3779b97f4a7c15ULL));
}

const std::array<unsigned char, 16>* SqliteStore::RunKey(const std::string& run_id) {
  // The same run's rows follow each other (execution, history, visibility; find, then update).
  if (run_id != last_run_id_) {
    last_run_id_ = run_id;
    last_run_key_ok_ = UuidToBytes(run_id, last_run_key_.data());
  }
  return last_run_key_ok_ ? &last_run_key_ : nullptr;
}

SqliteStore::KnownRun* SqliteStore::KnownRunFor(const std::string& run_id, bool create) {
  const std::array<unsigned char, 16>* key = RunKey(run_id);
  if (key == nullptr) return create ? nullptr : &unknown_run_;
  if (!create) {
    auto it = known_runs_.find(*key);
    return it == known_runs_.end() ? nullptr : &it->second;
  }
  if (known_runs_.size() >= kMaxKnownRuns && known_runs_.find(*key) == known_runs_.end()) known_runs_.clear();
  return &known_runs_[*key];
}

void SqliteStore::ForgetRun(const std::string& run_id) {
  if (const std::array<unsigned char, 16>* key = RunKey(run_id)) known_runs_.erase(*key);
}

Status SqliteStore::WriteExecution(const ExecutionRow& r) {
  Conn& c = *writer_;
  Result<std::string> state = EncodeBlob(r.state);
  if (!state.ok()) return state.status();
  KnownRun* known = KnownRunFor(r.run_id, /*create=*/false);
  // In place when this process wrote the row with the same open flag and close time. A run it
  // knows nothing of: an open row is most likely a new run (the upsert, which suits any row; an
  // open row from before a restart has its `open` index entry rewritten once), a closed one
  // most likely exists (the UPDATE first). A run id that is no canonical UUID is never cached.
  const bool unknown = known == &unknown_run_ || known == nullptr || !known->execution;
  if ((unknown && (!r.open || known == &unknown_run_)) ||
      (!unknown && known->execution_open == r.open && known->execution_close_time == r.close_time_unix_nanos)) {
    Binder u(c.stmt(kUpdateExecutionState));
    u.RunId(1, r.run_id).Blob(2, *state).Int(3, r.open ? 1 : 0).Int(4, r.close_time_unix_nanos);
    BindWake(u, 5, r);
    TL_RETURN_IF_ERROR(c.Run(kUpdateExecutionState, u, "writing execution"));
    if (sqlite3_changes(c.db()) > 0) return Status::Ok();
  }
  Result<int64_t> ns = NamespaceKey(r.namespace_id);
  if (!ns.ok()) return ns.status();
  Binder b(c.stmt(kPutExecution));
  b.RunId(1, r.run_id).Int(2, *ns).Text(3, r.workflow_id).Int(4, r.open ? 1 : 0);
  b.Int(5, r.close_time_unix_nanos).Blob(6, *state);
  BindWake(b, 7, r);
  TL_RETURN_IF_ERROR(c.Run(kPutExecution, b, "writing execution"));
  if (KnownRun* k = KnownRunFor(r.run_id, /*create=*/true)) {
    k->execution = true;
    k->execution_open = r.open;
    k->execution_close_time = r.close_time_unix_nanos;
  }
  return Status::Ok();
}

Status SqliteStore::WriteVisibility(const VisibilityRow& r) {
  Conn& c = *writer_;
  Result<std::string> info = EncodeBlob(r.info);
  if (!info.ok()) return info.status();
  KnownRun* known = KnownRunFor(r.run_id, /*create=*/false);
  // In place when this process wrote the row with the same status and close time (no index
  // changes), otherwise the upsert; both statements number their parameters alike. A row it
  // knows nothing of: the upsert for an open run (most likely new), the UPDATE first for a
  // closed one and for rows keyed by no UUID (schedules' visibility rows), as before.
  const bool unknown = known == &unknown_run_ || known == nullptr || !known->visibility;
  if ((unknown && (r.close_time != 0 || known == &unknown_run_)) ||
      (!unknown && known->visibility_status == r.status && known->visibility_close_time == r.close_time)) {
    Binder u(c.stmt(kUpdateVisibilityInPlace));
    BindVisibility(u, r, *info, 0, /*all_columns=*/false);
    TL_RETURN_IF_ERROR(c.Run(kUpdateVisibilityInPlace, u, "writing visibility"));
    if (sqlite3_changes(c.db()) > 0) return Status::Ok();
  }
  Result<int64_t> ns = NamespaceKey(r.namespace_id);
  if (!ns.ok()) return ns.status();
  Binder b(c.stmt(kPutVisibility));
  BindVisibility(b, r, *info, *ns, /*all_columns=*/true);
  TL_RETURN_IF_ERROR(c.Run(kPutVisibility, b, "writing visibility"));
  ++visibility_rows_written_;
  if (KnownRun* k = KnownRunFor(r.run_id, /*create=*/true)) {
    k->visibility = true;
    k->visibility_status = r.status;
    k->visibility_close_time = r.close_time;
  }
  return Status::Ok();
}

Result<std::string> SqliteStore::EncodeBlob(std::string_view raw) {
  if (std::optional<std::string> dict = encoder_.TakeTrained()) {
    // In this transaction, before any blob compressed with it: durable no later than they are.
    Binder b(writer_->stmt(kPutDictionary));
    b.Int(1, next_dictionary_id_).Blob(2, *dict);
    TL_RETURN_IF_ERROR(writer_->Run(kPutDictionary, b, "storing a compression dictionary"));
    encoder_.SetDictionary(next_dictionary_id_, *dict);
    dictionaries_.Add(next_dictionary_id_, *dict);
    TL_LOG_INFO("compression dictionary %lld (%zu bytes) stored; records from now on use it",
                static_cast<long long>(next_dictionary_id_), dict->size());
    ++next_dictionary_id_;
  }
  encoder_.Sample(raw);  // may start a training, in the background
  return encoder_.Encode(raw);
}

// Events of one run with consecutive ids become one row; a batch with gaps or another order gets
// one row per run of consecutive ids (the engine appends in order, so one per run and commit).
Status SqliteStore::AppendHistory(const std::vector<EventRow>& events) {
  Conn& c = *writer_;
  for (size_t i = 0; i < events.size();) {
    size_t j = i + 1;
    while (j < events.size() && events[j].run_id == events[i].run_id &&
           events[j].event_id == events[j - 1].event_id + 1) {
      ++j;
    }
    const std::string& run_id = events[i].run_id;
    KnownRun* known = KnownRunFor(run_id, /*create=*/false);
    int64_t last = known != nullptr ? known->last_event_id : -1;  // unknown_run_'s is -1
    if (last < 0) {
      sqlite3_stmt* s = c.stmt(kLastEventId);
      ResetOnExit reset{s};
      Binder b(s);
      b.RunId(1, run_id);
      int rc = b.rc() == SQLITE_OK ? sqlite3_step(s) : b.rc();
      if (rc != SQLITE_ROW) return SqlError(c.db(), "reading the last history event");
      last = sqlite3_column_type(s, 0) != SQLITE_NULL ? sqlite3_column_int64(s, 0) : 0;
    }
    if (last >= events[i].event_id) {
      return StorageError(SQLITE_CONSTRAINT, "appending history event",
                          "event " + std::to_string(events[i].event_id) + " of run " + run_id + " exists already");
    }
    std::string payload;
    for (size_t k = i; k < j; ++k) AppendEvent(&payload, events[k].data);
    Result<std::string> data = EncodeBlob(payload);
    if (!data.ok()) return data.status();
    Binder b(c.stmt(kInsertHistory));
    b.RunId(1, run_id).Int(2, events[j - 1].event_id).Blob(3, *data);
    TL_RETURN_IF_ERROR(c.Run(kInsertHistory, b, "appending history events"));
    if (KnownRun* k = KnownRunFor(run_id, /*create=*/true)) k->last_event_id = events[j - 1].event_id;
    i = j;
  }
  return Status::Ok();
}

Result<int64_t> SqliteStore::NamespaceKey(const std::string& namespace_id) {
  if (auto it = namespace_keys_.find(namespace_id); it != namespace_keys_.end()) return it->second;
  Conn& c = *writer_;
  Binder add(c.stmt(kAddNamespaceKey));
  add.Text(1, namespace_id);
  TL_RETURN_IF_ERROR(c.Run(kAddNamespaceKey, add, "adding a namespace key"));
  sqlite3_stmt* s = c.stmt(kGetNamespaceKey);
  ResetOnExit reset{s};
  Binder b(s);
  int rc = b.Text(1, namespace_id).rc() == SQLITE_OK ? sqlite3_step(s) : b.rc();
  if (rc != SQLITE_ROW) return SqlError(c.db(), "reading a namespace key");
  int64_t key = sqlite3_column_int64(s, 0);
  // Cached before its transaction commits: if that transaction fails, the store refuses every
  // later write (RunTransaction), so a key that did not reach the disk is never used.
  namespace_keys_.emplace(namespace_id, key);
  return key;
}

Status SqliteStore::LoadNewestDictionary() {
  sqlite3_stmt* s = nullptr;
  sqlite3* db = writer_->db();
  if (sqlite3_prepare_v2(db, "SELECT id, data FROM dictionaries ORDER BY id DESC LIMIT 1", -1, &s, nullptr) != SQLITE_OK) {
    return SqlError(db, "preparing the dictionary lookup");
  }
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(s, 0);
    std::string dict = ColumnBytes(s, 1);
    encoder_.SetDictionary(id, dict);
    dictionaries_.Add(id, dict);
    next_dictionary_id_ = id + 1;
  }
  Status status = rc == SQLITE_ROW || rc == SQLITE_DONE ? Status::Ok() : SqlError(db, "loading the dictionary");
  sqlite3_finalize(s);
  return status;
}

Result<std::string> SqliteStore::Decode(Conn& c, std::string_view stored) {
  return dictionaries_.Decode(stored, [&c](int64_t id) -> Result<std::optional<std::string>> {
    sqlite3_stmt* s = c.stmt(kGetDictionary);
    ResetOnExit reset{s};
    Binder b(s);
    if (b.Int(1, id).rc() != SQLITE_OK) return SqlError(c.db(), "binding dictionary id");
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return std::optional<std::string>(ColumnBytes(s, 0));
    if (rc != SQLITE_DONE) return SqlError(c.db(), "reading a compression dictionary");
    return std::optional<std::string>();
  });
}

void SqliteStore::Close() {
  // Held throughout so a concurrent second Close() returns only once the store is really closed.
  MutexLock close_lock(close_mu_);
  if (closed_) return;
  closed_ = true;
  {
    std::lock_guard<std::mutex> l(check_mu_);
    check_stop_ = true;
    if (check_db_ != nullptr) sqlite3_interrupt(check_db_);
  }
  if (check_thread_.joinable()) check_thread_.join();
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
