// The pg-boss consumer of ingestion requests (PG_BOSS_QUEUE): each job {"storeId", "forceRefresh"}
// becomes one ingestion run whose id derives from the job ("pgboss-<job id>"), so a redelivered
// job resumes the same run instead of starting another; the job is completed with the run
// summary or failed with the error. How a run is executed is the RunStarter seam: the offline
// runner today, starting CheckersIngestionWorkflow (workflow id = run id) on the SDK worker.
#pragma once

#include <string>

#include "ingest/pgboss_client.h"

namespace tillless::ingest {

struct IngestRequest {
  std::string store_id;
  bool force_refresh = false;
  std::string run_id;
};

class RunStarter {
 public:
  virtual ~RunStarter() = default;
  // Runs (or starts and awaits) the ingestion; returns the summary JSON.
  virtual Result<std::string> Run(const IngestRequest& request) = 0;
};

// Parses a job's data; INVALID_ARGUMENT names what is wrong.
Result<IngestRequest> ParseIngestRequest(const std::string& job_id, const std::string& data_json);

class RequestConsumer {
 public:
  RequestConsumer(PgBossClient& boss, std::string queue, RunStarter& starter)
      : boss_(boss), queue_(std::move(queue)), starter_(starter) {}

  // Fetches up to `batch` jobs and handles each to completion. Returns how many were handled.
  Result<int> PollOnce(int batch);

 private:
  PgBossClient& boss_;
  std::string queue_;
  RunStarter& starter_;
};

}  // namespace tillless::ingest
