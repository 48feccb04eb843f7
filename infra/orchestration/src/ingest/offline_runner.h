// The runbook's nightly fallback "if Temporalite offline": the CheckersIngestionWorkflow steps
// run in this process, without the server. Same activities and idempotency key (the run id) as
// the workflow: list categories; ingest categories with bounded concurrency, each activity
// retried with backoff on retryable errors (resuming from its last heartbeat); publish price
// changes; write the run summary to ingest_run.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "ingest/activities.h"

namespace tillless::ingest {

struct RunOptions {
  std::string store_id;
  bool force_refresh = false;
  std::string run_id;  // the idempotency key; re-running the same id adds nothing twice
  int concurrency = 4;
  int max_attempts = 8;  // per activity
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{8000};
  std::chrono::seconds deadline{3600};  // the SLA: the run fails after this long
};

struct RunSummary {
  std::string run_id;
  std::string store_id;
  bool force_refresh = false;
  int categories = 0;
  int pages = 0;
  int pages_not_modified = 0;
  int64_t items_seen = 0;
  int64_t items_written = 0;
  int64_t items_changed = 0;
  int64_t items_new = 0;
  int malformed = 0;
  std::vector<std::string> malformed_samples;
  int price_change_jobs = 0;
  int activity_retries = 0;
  int64_t duration_ms = 0;
  std::string ToJson() const;
};

class OfflineRunner {
 public:
  using Sleeper = std::function<void(std::chrono::milliseconds)>;
  OfflineRunner(IngestionActivities& activities, PriceStore& store, Sleeper sleep,
                std::function<void(const std::string&)> log)
      : activities_(activities), store_(store), sleep_(std::move(sleep)), log_(std::move(log)) {}

  // Runs the ingestion. A non-OK result means the run failed (the summary is still recorded).
  Result<RunSummary> Run(const RunOptions& options);

 private:
  IngestionActivities& activities_;
  PriceStore& store_;
  Sleeper sleep_;
  std::function<void(const std::string&)> log_;
};

// Retryable activity errors (the rest fail the run at once).
bool IsRetryable(const Status& s);

}  // namespace tillless::ingest
