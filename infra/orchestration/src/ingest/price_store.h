// retailer_item_price writes. Rows are keyed by (retailer, store, item, run): writing the same
// page twice in one run adds nothing (a retried activity is harmless). Without force_refresh an
// item whose price, promotion and stock equal its latest row is not written at all. The page's
// ETag is saved in the same transaction as its rows, so a page is skipped by a conditional
// request next run only if its rows are committed. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ingest/db.h"
#include "ingest/normalize.h"

namespace tillless::ingest {

struct RunKey {
  std::string retailer;
  std::string store_id;
  std::string run_id;
};

struct PageKey {
  std::string category_id;
  std::string cursor;  // the cursor the page was requested with ("" for the first)
};

struct SavedPage {
  std::string etag;
  std::string next_cursor;
};

struct PriceChange {
  std::string item_id;
  std::string title;
  int64_t previous_price_cents = 0;
  int64_t price_cents = 0;
  std::optional<int64_t> promo_price_cents;
  std::string job_id;  // a UUID derived from (retailer, store, run, item): the pg-boss job id
};

struct RunCounts {
  int64_t rows = 0;     // rows this run wrote
  int64_t changed = 0;  // of which price/promo/stock changed
  int64_t added = 0;    // of which items seen for the first time
};

struct WriteResult {
  int written = 0;  // rows inserted
  int changed = 0;  // of which price/promo/stock differs from the previous row
};

class PriceStore {
 public:
  explicit PriceStore(ConnectionPool& pool) : pool_(pool) {}

  Status BeginRun(const RunKey& run, bool force_refresh);
  Status FinishRun(const RunKey& run, const std::string& status, const std::string& summary_json);

  // Writes one page of records (and its ETag, when given) in one transaction.
  Result<WriteResult> WritePage(const RunKey& run, const std::vector<PriceRecord>& records,
                                bool force_refresh, const PageKey& page,
                                const std::optional<SavedPage>& etag);

  // Items of the run whose price, promotion or stock changed from the previous row.
  Result<std::vector<PriceChange>> PriceChanges(const RunKey& run);
  // What the run has written so far (the summary's figures, exact however often pages were
  // retried).
  Result<RunCounts> Counts(const RunKey& run);

  // The ETag and next cursor saved for a page, if any.
  Result<std::optional<SavedPage>> LookupPage(const RunKey& run, const PageKey& page);

 private:
  ConnectionPool& pool_;
};

}  // namespace tillless::ingest
