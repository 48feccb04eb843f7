#include "ingest/pgboss_client.h"

namespace tillless::ingest {
namespace {

std::string OptInt(const std::optional<int>& v) { return v ? std::to_string(*v) : "NULL"; }

// One row of pg-boss 10's insertJob: explicit values win, then the queue's settings, then
// pg-boss's defaults (retry limit 2, expire 15 minutes, keep 14 days).
std::string JobSelect(pqxx::work& w, const std::string& queue, const JobSpec& j) {
  const SendOptions& o = j.options;
  std::string id = o.id.empty() ? "gen_random_uuid()" : w.quote(o.id) + "::uuid";
  std::string singleton_on =
      o.singleton_seconds > 0
          ? "'epoch'::timestamp + '1 second'::interval * (" + std::to_string(o.singleton_seconds) +
                " * floor(date_part('epoch', now()) / " + std::to_string(o.singleton_seconds) + "))"
          : "NULL::timestamp";
  std::string backoff = o.retry_backoff ? (*o.retry_backoff ? "true" : "false") : "NULL";
  return "SELECT " + id + ", " + w.quote(queue) + ", " + w.quote(j.data_json) + "::jsonb, " +
         std::to_string(o.priority) + ", now() + interval '" + std::to_string(o.start_after_seconds) +
         " seconds', " + (o.singleton_key.empty() ? "NULL" : w.quote(o.singleton_key)) + ", " +
         singleton_on + ", q.dead_letter, " +
         (o.expire_in_seconds ? std::to_string(*o.expire_in_seconds) + " * interval '1s'"
                              : "COALESCE(q.expire_seconds * interval '1s', interval '15 minutes')") +
         ", now() + interval '" + std::to_string(o.start_after_seconds) + " seconds' + " +
         "COALESCE(q.retention_minutes * interval '1 minute', interval '14 days'), " +
         "COALESCE(" + OptInt(o.retry_limit) + ", q.retry_limit, 2), " +
         "CASE WHEN COALESCE(" + backoff + ", q.retry_backoff, false) THEN GREATEST(COALESCE(" +
         OptInt(o.retry_delay_seconds) + ", q.retry_delay), 1) ELSE COALESCE(" +
         OptInt(o.retry_delay_seconds) + ", q.retry_delay, 0) END, " +
         "COALESCE(" + backoff + ", q.retry_backoff, false), q.policy FROM pgboss.queue q WHERE q.name = " +
         w.quote(queue);
}

constexpr const char* kInsertColumns =
    "INSERT INTO pgboss.job (id, name, data, priority, start_after, singleton_key, singleton_on,"
    " dead_letter, expire_in, keep_until, retry_limit, retry_delay, retry_backoff, policy) ";

}  // namespace

Status PgBossClient::Open() {
  return pool_.With([&](pqxx::connection& c) -> Status {
    pqxx::read_transaction r(c);
    auto exists = r.exec1("SELECT to_regclass('pgboss.version') IS NOT NULL")[0].as<bool>();
    if (!exists) {
      return FailedPrecondition(
          "pg-boss is not installed in this database (no pgboss.version table); start pg-boss once "
          "(npm pg-boss 10.3.2: `node infra/orchestration/scripts/pgboss-install.mjs`) before the C++ client");
    }
    auto res = r.exec("SELECT version FROM pgboss.version");
    int version = res.empty() ? 0 : res[0][0].as<int>();
    if (version != kPgBossSchemaVersion) {
      return FailedPrecondition("pg-boss schema version " + std::to_string(version) +
                                " found, but this client speaks only version " +
                                std::to_string(kPgBossSchemaVersion) +
                                " (npm pg-boss 10.3.2); align the pinned pg-boss with the worker");
    }
    return Status::Ok();
  });
}

Status PgBossClient::CreateQueue(const std::string& queue, const std::string& policy) {
  return pool_.With([&](pqxx::connection& c) {
    pqxx::work w(c);
    w.exec("SELECT pg_advisory_xact_lock(('x' || substr(md5(current_database() || '.pgboss'), 1, 16))::bit(64)::bigint)");
    w.exec_params("SELECT pgboss.create_queue($1, json_build_object('policy', $2::text))", queue, policy);
    w.commit();
    return Status::Ok();
  });
}

Result<std::string> PgBossClient::Send(const std::string& queue, const std::string& data_json,
                                       const SendOptions& options) {
  std::string id;
  bool queue_exists = true;
  Status s = pool_.With([&](pqxx::connection& c) {
    pqxx::work w(c);
    queue_exists = !w.exec_params("SELECT 1 FROM pgboss.queue WHERE name = $1", queue).empty();
    if (!queue_exists) return Status::Ok();
    auto res = w.exec(std::string(kInsertColumns) + JobSelect(w, queue, {data_json, options}) +
                      " ON CONFLICT DO NOTHING RETURNING id");
    if (!res.empty()) id = res[0][0].c_str();
    w.commit();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!queue_exists) return NotFound("pg-boss queue " + queue + " does not exist; create it first");
  return id;
}

Result<int> PgBossClient::SendMany(const std::string& queue, const std::vector<JobSpec>& jobs) {
  int inserted = 0;
  Status s = pool_.With([&](pqxx::connection& c) {
    if (jobs.empty()) return Status::Ok();
    pqxx::work w(c);
    std::string sql = kInsertColumns;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (i > 0) sql += " UNION ALL ";
      sql += JobSelect(w, queue, jobs[i]);
    }
    sql += " ON CONFLICT DO NOTHING";
    inserted = static_cast<int>(w.exec0(sql).affected_rows());
    w.commit();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return inserted;
}

Result<std::vector<Job>> PgBossClient::Fetch(const std::string& queue, int batch) {
  std::vector<Job> jobs;
  Status s = pool_.With([&](pqxx::connection& c) {
    pqxx::work w(c);
    auto res = w.exec_params(
        "WITH next AS (SELECT id FROM pgboss.job WHERE name = $1 AND state < 'active'"
        " AND start_after < now() ORDER BY priority DESC, created_on, id LIMIT $2"
        " FOR UPDATE SKIP LOCKED)"
        " UPDATE pgboss.job j SET state = 'active', started_on = now(),"
        " retry_count = CASE WHEN started_on IS NOT NULL THEN retry_count + 1 ELSE retry_count END"
        " FROM next WHERE name = $1 AND j.id = next.id"
        " RETURNING j.id, j.name, j.data::text, j.retry_count, EXTRACT(epoch FROM j.expire_in)::int",
        queue, batch);
    w.commit();
    for (const auto& row : res) {
      jobs.push_back({row[0].c_str(), row[1].c_str(), row[2].is_null() ? "null" : row[2].c_str(),
                      row[3].as<int>(), row[4].as<int>()});
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return jobs;
}

Result<bool> PgBossClient::Complete(const std::string& queue, const std::string& id,
                                    const std::string& output_json) {
  bool done = false;
  Status s = pool_.With([&](pqxx::connection& c) {
    pqxx::work w(c);
    auto res = w.exec_params(
        "UPDATE pgboss.job SET completed_on = now(), state = 'completed', output = $3::jsonb"
        " WHERE name = $1 AND id = $2::uuid AND state = 'active'",
        queue, id, output_json);
    done = res.affected_rows() == 1;
    w.commit();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return done;
}

Result<bool> PgBossClient::Fail(const std::string& queue, const std::string& id,
                                const std::string& error_json) {
  bool done = false;
  Status s = pool_.With([&](pqxx::connection& c) {
    pqxx::work w(c);
    // pg-boss 10 moves a failed job by delete + re-insert (state decides the partition-local
    // indexes); an UPDATE in place gives the same row for a non-dead-letter queue.
    auto res = w.exec_params(
        "UPDATE pgboss.job SET"
        " state = CASE WHEN retry_count < retry_limit THEN 'retry'::pgboss.job_state ELSE 'failed'::pgboss.job_state END,"
        " start_after = CASE WHEN retry_count >= retry_limit THEN start_after"
        "   WHEN NOT retry_backoff THEN now() + retry_delay * interval '1'"
        "   ELSE now() + (retry_delay * 2 ^ LEAST(16, retry_count + 1) / 2 +"
        "     retry_delay * 2 ^ LEAST(16, retry_count + 1) / 2 * random()) * interval '1' END,"
        " completed_on = CASE WHEN retry_count < retry_limit THEN NULL ELSE now() END,"
        " output = $3::jsonb"
        " WHERE name = $1 AND id = $2::uuid AND state < 'completed'",
        queue, id, error_json);
    done = res.affected_rows() == 1;
    w.commit();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return done;
}

Result<std::vector<QueueCounts>> PgBossClient::Dashboard() {
  std::vector<QueueCounts> out;
  Status s = pool_.With([&](pqxx::connection& c) {
    pqxx::read_transaction r(c);
    for (const auto& row : r.exec("SELECT queue, created, retry, active, completed, cancelled, failed"
                                  " FROM pgboss.dashboard()")) {
      out.push_back({row[0].c_str(), row[1].as<int64_t>(), row[2].as<int64_t>(), row[3].as<int64_t>(),
                     row[4].as<int64_t>(), row[5].as<int64_t>(), row[6].as<int64_t>()});
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace tillless::ingest
