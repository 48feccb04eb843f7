// A C++ client of pg-boss's tables (schema "pgboss"), interoperable with the pinned npm pg-boss:
// jobs sent here are fetched by Node's `boss.work()`, jobs sent by Node are fetched here. Only
// the schema version below is accepted (pg-boss 10.3.2 is schema 24): the SQL mirrors that
// version's job table and its state transitions, so any other version is refused at Open().
// Queues are created with pg-boss's own `pgboss.create_queue()`. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ingest/db.h"

namespace tillless::ingest {

// The pg-boss schema version this client speaks (npm pg-boss 10.3.2, version.json "schema").
inline constexpr int kPgBossSchemaVersion = 24;

struct SendOptions {
  std::string id;             // a UUID to make the send idempotent; empty: random
  std::string singleton_key;  // pg-boss singletonKey
  int singleton_seconds = 0;  // pg-boss singletonSeconds (throttle slot), 0: none
  std::optional<int> retry_limit;
  std::optional<int> retry_delay_seconds;
  std::optional<bool> retry_backoff;
  std::optional<int> expire_in_seconds;
  int start_after_seconds = 0;
  int priority = 0;
};

struct JobSpec {
  std::string data_json;
  SendOptions options;
};

struct Job {
  std::string id;
  std::string queue;
  std::string data_json;
  int retry_count = 0;
  int expire_in_seconds = 0;
};

struct QueueCounts {
  std::string queue;
  int64_t created = 0, retry = 0, active = 0, completed = 0, cancelled = 0, failed = 0;
};

class PgBossClient {
 public:
  explicit PgBossClient(ConnectionPool& pool) : pool_(pool) {}

  // Checks that pg-boss's schema is installed at kPgBossSchemaVersion; FAILED_PRECONDITION with
  // what to do otherwise.
  Status Open();

  // Creates a queue (no-op when it exists) with pg-boss's create_queue(); policy as pg-boss's.
  Status CreateQueue(const std::string& queue, const std::string& policy = "standard");

  // Sends one job. Returns its id, or "" when pg-boss's rules dropped it (a singleton or throttle
  // conflict, or the id already exists: an idempotent re-send).
  Result<std::string> Send(const std::string& queue, const std::string& data_json,
                           const SendOptions& options = {});
  // Sends many jobs in one statement; returns how many were inserted.
  Result<int> SendMany(const std::string& queue, const std::vector<JobSpec>& jobs);

  // Fetches up to `batch` jobs (state created/retry, start_after passed) with FOR UPDATE SKIP
  // LOCKED and marks them active, as pg-boss's fetch does.
  Result<std::vector<Job>> Fetch(const std::string& queue, int batch = 1);
  // active -> completed with `output_json`. Returns false if the job was not active.
  Result<bool> Complete(const std::string& queue, const std::string& id, const std::string& output_json);
  // Fails a job: retry (with pg-boss's delay/backoff) while retries remain, else failed.
  Result<bool> Fail(const std::string& queue, const std::string& id, const std::string& error_json);

  Result<std::vector<QueueCounts>> Dashboard();

 private:
  ConnectionPool& pool_;
};

}  // namespace tillless::ingest
