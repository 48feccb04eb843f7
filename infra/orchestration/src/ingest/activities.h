// The checkers-ingestion activities as plain functions over the retailer, the price store and
// pg-boss: CheckersIngestionWorkflow (on the SDK) and the offline runner call the same code with
// the same idempotency keys (the run id). Thread-safe: categories run concurrently.
#pragma once

#include <string>
#include <vector>

#include "ingest/activity_context.h"
#include "ingest/pgboss_client.h"
#include "ingest/price_store.h"
#include "ingest/retailer.h"

namespace tillless::ingest {

struct CategoryResult {
  std::string category_id;
  int pages = 0;
  int pages_not_modified = 0;
  int items_seen = 0;
  int malformed = 0;
  std::vector<std::string> malformed_samples;  // at most 5 reasons
};

// Heartbeat details of IngestCategory: the next page's cursor and the counters so far.
struct CategoryProgress {
  std::string cursor;
  bool done = false;
  CategoryResult totals;
  std::string ToJson() const;
  static CategoryProgress FromJson(const std::string& json, const std::string& category_id);
};

class IngestionActivities {
 public:
  // `pgboss` may be null (no publishing).
  IngestionActivities(Retailer& retailer, PriceStore& store, PgBossClient* pgboss,
                      std::string price_queue)
      : retailer_(retailer), store_(store), pgboss_(pgboss), price_queue_(std::move(price_queue)) {}

  // Publishing on (a client) or off (null). REQUIRES: no activity running.
  void set_publisher(PgBossClient* pgboss) { pgboss_ = pgboss; }

  RunKey KeyFor(const std::string& store_id, const std::string& run_id) const {
    return {retailer_.Name(), store_id, run_id};
  }

  Result<std::vector<Category>> ListCategories(ActivityContext& ctx, const std::string& store_id);

  // Fetches, normalises and writes every page of one category, heartbeating the cursor after
  // each committed page; resumes from the last heartbeat.
  Result<CategoryResult> IngestCategory(ActivityContext& ctx, const RunKey& run,
                                        const std::string& category_id, bool force_refresh);

  // Sends one pg-boss job per price change of the run (job id derived from run and item, so a
  // retry sends nothing twice). Returns the number of jobs inserted by this call.
  Result<int> PublishPriceChanges(ActivityContext& ctx, const RunKey& run);

 private:
  Retailer& retailer_;
  PriceStore& store_;
  PgBossClient* pgboss_;
  std::string price_queue_;
};

}  // namespace tillless::ingest
