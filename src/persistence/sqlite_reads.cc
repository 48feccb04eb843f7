// Reader connections: recovery loads, point reads, history pages and visibility queries.
#include "persistence/sqlite_store.h"

#include "persistence/sqlite_internal.h"

#include "common/log.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>
#include <string_view>
#include <utility>

namespace temporalite::persistence {

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

Result<std::vector<ExecutionRow>> SqliteStore::LoadOpenExecutions(bool idle_states) {
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  sqlite3_stmt* s = lease->conn->stmt(kLoadOpenExecutions);
  ResetOnExit reset{s};
  Binder b(s);
  if (b.Int(1, idle_states ? 1 : 0).rc() != SQLITE_OK) return SqlError(lease->conn->db(), "binding idle_states");
  std::vector<ExecutionRow> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out.push_back(ReadExecution(s));
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) out.back().idle_wake_unix_nanos = sqlite3_column_int64(s, 6);
    if (!idle_states && out.back().idle_wake_unix_nanos) continue;  // not selected (CASE in the SQL)
    Result<std::string> state = Decode(*lease->conn, out.back().state);
    if (!state.ok()) return state.status();
    out.back().state = std::move(state).value();
  }
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "loading open executions");
  return out;
}

Result<std::optional<ExecutionRow>> SqliteStore::GetExecution(const std::string& run_id) {
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  sqlite3_stmt* s = lease->conn->stmt(kGetExecution);
  ResetOnExit reset{s};
  Binder b(s);
  if (b.RunId(1, run_id).rc() != SQLITE_OK) return SqlError(lease->conn->db(), "binding run_id");
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    ExecutionRow row = ReadExecution(s);
    Result<std::string> state = Decode(*lease->conn, row.state);
    if (!state.ok()) return state.status();
    row.state = std::move(state).value();
    return std::optional<ExecutionRow>(std::move(row));
  }
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
  if (rc == SQLITE_ROW) return std::optional<std::string>(ColumnRunId(s, 0));
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
  if (b.RunId(1, run_id).Int(2, first_event_id).rc() != SQLITE_OK) {
    return SqlError(lease->conn->db(), "binding event range");
  }
  std::vector<EventRow> out;
  int rc = SQLITE_DONE;
  std::vector<std::string> events;
  while (static_cast<int64_t>(out.size()) < max_count && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    const int64_t last = sqlite3_column_int64(s, 0);
    Result<std::string> payload = Decode(*lease->conn, ColumnBytes(s, 1));
    if (!payload.ok()) return payload.status();
    events.clear();
    if (!SplitEvents(*payload, &events) || events.empty()) {
      return Status(Code::kDataLoss, "history row " + std::to_string(last) + " of run " + run_id + " is damaged");
    }
    int64_t id = last - static_cast<int64_t>(events.size()) + 1;
    for (std::string& e : events) {
      if (id >= first_event_id && static_cast<int64_t>(out.size()) < max_count) {
        out.push_back(EventRow{run_id, id, std::move(e)});
      }
      ++id;
    }
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqlError(lease->conn->db(), "reading history events");
  return out;
}

namespace {
constexpr const char* kCloseSort = "coalesce(close_time, 9223372036854775807)";

// The FROM/WHERE part shared by list and count; binds namespace and filter arguments.
std::string VisibilityFrom(const VisibilityQuery& q) {
  std::string sql = " FROM visibility WHERE namespace_id = (SELECT key FROM namespace_keys WHERE id = ?)";
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
    Result<std::string> info = Decode(*lease->conn, ColumnBytes(st.s, 0));
    if (!info.ok()) return info.status();
    page.infos.push_back(std::move(info).value());
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
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(ColumnRunId(s, 0));
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

Result<std::vector<std::pair<std::string, std::string>>> SqliteStore::ListServerState(const std::string& prefix) {
  if (prefix.empty() || static_cast<unsigned char>(prefix.back()) == 0xff) return Status(Code::kInvalidArgument, "bad server state prefix");
  std::string end = prefix;
  end.back() = static_cast<char>(end.back() + 1);  // keys compare as bytes: [prefix, end) starts with prefix
  Result<ReaderLease> lease = AcquireReader();
  if (!lease.ok()) return lease.status();
  sqlite3_stmt* s = lease->conn->stmt(kListServerState);
  ResetOnExit reset{s};
  Binder b(s);
  if (b.Text(1, prefix).Text(2, end).rc() != SQLITE_OK) return SqlError(lease->conn->db(), "binding server state list");
  std::vector<std::pair<std::string, std::string>> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.emplace_back(ColumnBytes(s, 0), ColumnBytes(s, 1));
  if (rc != SQLITE_DONE) return SqlError(lease->conn->db(), "listing server state");
  return out;
}

}  // namespace temporalite::persistence
