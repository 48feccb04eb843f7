#include "ingest/activities.h"

#include <nlohmann/json.hpp>

namespace tillless::ingest {

std::string CategoryProgress::ToJson() const {
  nlohmann::json j = {{"category", totals.category_id}, {"cursor", cursor}, {"done", done},
                      {"pages", totals.pages}, {"pagesNotModified", totals.pages_not_modified},
                      {"itemsSeen", totals.items_seen}, {"malformed", totals.malformed},
                      {"malformedSamples", totals.malformed_samples}};
  return j.dump();
}

CategoryProgress CategoryProgress::FromJson(const std::string& json, const std::string& category_id) {
  CategoryProgress p;
  p.totals.category_id = category_id;
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("category", "") != category_id) return p;
  p.cursor = j.value("cursor", "");
  p.done = j.value("done", false);
  p.totals.pages = j.value("pages", 0);
  p.totals.pages_not_modified = j.value("pagesNotModified", 0);
  p.totals.items_seen = j.value("itemsSeen", 0);
  p.totals.malformed = j.value("malformed", 0);
  p.totals.malformed_samples = j.value("malformedSamples", std::vector<std::string>{});
  return p;
}

Result<std::vector<Category>> IngestionActivities::ListCategories(ActivityContext& /*ctx*/,
                                                                  const std::string& store_id) {
  return retailer_.ListCategories(store_id);
}

Result<CategoryResult> IngestionActivities::IngestCategory(ActivityContext& ctx, const RunKey& run,
                                                           const std::string& category_id,
                                                           bool force_refresh) {
  CategoryProgress progress = CategoryProgress::FromJson(ctx.LastHeartbeatDetails(), category_id);
  std::vector<PriceRecord> records;
  while (!progress.done) {
    PageKey key{category_id, progress.cursor};
    std::optional<SavedPage> saved;
    if (!force_refresh) {
      auto s = store_.LookupPage(run, key);
      if (!s.ok()) return s.status();
      saved = s.value();
    }
    auto page = retailer_.FetchPage({run.store_id, category_id, progress.cursor,
                                     saved ? saved->etag : std::string()});
    if (!page.ok()) return page.status();
    CategoryResult& t = progress.totals;
    ++t.pages;
    std::string next;
    if (page->not_modified && saved) {
      ++t.pages_not_modified;
      next = saved->next_cursor;
    } else {
      records.clear();
      for (const std::string& bad : page->malformed) {
        ++t.malformed;
        if (t.malformed_samples.size() < 5) t.malformed_samples.push_back("not an item: " + bad);
      }
      for (const RawItem& raw : page->items) {
        ++t.items_seen;
        auto rec = Normalize(raw);
        if (!rec.ok()) {
          ++t.malformed;
          if (t.malformed_samples.size() < 5) t.malformed_samples.push_back(rec.status().message());
          continue;
        }
        records.push_back(std::move(rec.value()));
      }
      next = page->next_cursor;
      auto w = store_.WritePage(run, records, force_refresh, key, SavedPage{page->etag, next});
      if (!w.ok()) return w.status();
    }
    progress.cursor = next;
    progress.done = next.empty();
    if (Status hb = ctx.Heartbeat(progress.ToJson()); !hb.ok()) return hb;
  }
  return progress.totals;
}

Result<int> IngestionActivities::PublishPriceChanges(ActivityContext& ctx, const RunKey& run) {
  if (pgboss_ == nullptr) return 0;
  auto changes = store_.PriceChanges(run);
  if (!changes.ok()) return changes.status();
  int inserted = 0;
  std::vector<JobSpec> batch;
  auto flush = [&]() -> Status {
    auto n = pgboss_->SendMany(price_queue_, batch);
    if (!n.ok()) return n.status();
    inserted += n.value();
    batch.clear();
    return ctx.Heartbeat("{}");
  };
  for (const PriceChange& c : changes.value()) {
    nlohmann::json data = {{"retailer", run.retailer}, {"storeId", run.store_id}, {"runId", run.run_id},
                           {"itemId", c.item_id}, {"title", c.title},
                           {"previousPriceCents", c.previous_price_cents}, {"priceCents", c.price_cents}};
    if (c.promo_price_cents) data["promoPriceCents"] = *c.promo_price_cents;
    JobSpec job{data.dump(), {}};
    job.options.id = c.job_id;
    job.options.singleton_key = run.store_id + "/" + c.item_id;
    batch.push_back(std::move(job));
    if (batch.size() == 500) {
      if (Status s = flush(); !s.ok()) return s;
    }
  }
  if (!batch.empty()) {
    if (Status s = flush(); !s.ok()) return s;
  }
  return inserted;
}

}  // namespace tillless::ingest
