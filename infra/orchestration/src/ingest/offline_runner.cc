#include "ingest/offline_runner.h"

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace tillless::ingest {
namespace {

// In-memory activity context: heartbeat details survive across attempts of one activity.
class LocalContext : public ActivityContext {
 public:
  int Attempt() const override { return attempt_; }
  std::string LastHeartbeatDetails() const override { return details_; }
  Status Heartbeat(const std::string& details_json) override {
    details_ = details_json;
    return Status::Ok();
  }
  void NextAttempt() { ++attempt_; }

 private:
  int attempt_ = 1;
  std::string details_;
};

}  // namespace

bool IsRetryable(const Status& s) {
  switch (s.code()) {
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
    case Code::kResourceExhausted:
    case Code::kAborted:
    case Code::kInternal:
    case Code::kUnknown:
    case Code::kDataLoss:
      return true;
    default:
      return false;
  }
}

std::string RunSummary::ToJson() const {
  nlohmann::json j = {{"runId", run_id}, {"storeId", store_id}, {"forceRefresh", force_refresh},
                      {"categories", categories}, {"pages", pages},
                      {"pagesNotModified", pages_not_modified}, {"itemsSeen", items_seen},
                      {"itemsWritten", items_written}, {"itemsChanged", items_changed},
                      {"itemsNew", items_new}, {"malformed", malformed},
                      {"malformedSamples", malformed_samples},
                      {"priceChangeJobs", price_change_jobs}, {"activityRetries", activity_retries},
                      {"durationMs", duration_ms}};
  return j.dump();
}

Result<RunSummary> OfflineRunner::Run(const RunOptions& o) {
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + o.deadline;
  RunKey run = activities_.KeyFor(o.store_id, o.run_id);
  RunSummary summary;
  summary.run_id = o.run_id;
  summary.store_id = o.store_id;
  summary.force_refresh = o.force_refresh;
  std::mutex mu;

  // Runs one activity with retries, as the workflow's activity retry policy would.
  auto with_retries = [&](const std::string& name, auto&& fn) -> Status {
    LocalContext ctx;
    std::chrono::milliseconds backoff = o.initial_backoff;
    for (;;) {
      Status s = fn(ctx);
      if (s.ok()) return s;
      if (!IsRetryable(s) || ctx.Attempt() >= o.max_attempts ||
          std::chrono::steady_clock::now() + backoff > deadline) {
        return Status(s.code(), name + " failed after " + std::to_string(ctx.Attempt()) +
                                    " attempt(s): " + s.message());
      }
      log_(name + " attempt " + std::to_string(ctx.Attempt()) + " failed (" + s.ToString() +
           "); retrying in " + std::to_string(backoff.count()) + " ms");
      {
        std::lock_guard lock(mu);
        ++summary.activity_retries;
      }
      sleep_(backoff);
      backoff = std::min(backoff * 2, o.max_backoff);
      ctx.NextAttempt();
    }
  };

  auto finish = [&](const Status& outcome) -> Result<RunSummary> {
    auto counts = store_.Counts(run);
    if (counts.ok()) {
      summary.items_written = counts->rows;
      summary.items_changed = counts->changed;
      summary.items_new = counts->added;
    }
    summary.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start).count();
    // Best effort: the run's outcome must not be masked by a failure to record it.
    (void)store_.FinishRun(run, outcome.ok() ? "completed" : "failed", summary.ToJson());
    if (!outcome.ok()) return outcome;
    return summary;
  };

  Status s = with_retries("BeginRun", [&](LocalContext&) { return store_.BeginRun(run, o.force_refresh); });
  if (!s.ok()) return s;
  std::vector<Category> categories;
  s = with_retries("ListCategories", [&](LocalContext& ctx) {
    auto r = activities_.ListCategories(ctx, o.store_id);
    if (r.ok()) categories = std::move(r.value());
    return r.status();
  });
  if (!s.ok()) return finish(s);
  summary.categories = static_cast<int>(categories.size());

  std::atomic<size_t> next{0};
  Status first_error;
  auto worker = [&] {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= categories.size()) return;
      {
        std::lock_guard lock(mu);
        if (!first_error.ok()) return;
      }
      const std::string& cat = categories[i].id;
      CategoryResult result;
      Status st = with_retries("IngestCategory(" + cat + ")", [&](LocalContext& ctx) {
        auto r = activities_.IngestCategory(ctx, run, cat, o.force_refresh);
        if (r.ok()) result = std::move(r.value());
        return r.status();
      });
      std::lock_guard lock(mu);
      if (!st.ok()) {
        if (first_error.ok()) first_error = st;
        continue;
      }
      summary.pages += result.pages;
      summary.pages_not_modified += result.pages_not_modified;
      summary.items_seen += result.items_seen;
      summary.malformed += result.malformed;
      for (auto& m : result.malformed_samples) {
        if (summary.malformed_samples.size() < 10) summary.malformed_samples.push_back(m);
      }
    }
  };
  std::vector<std::thread> threads;
  int n = std::max(1, std::min<int>(o.concurrency, static_cast<int>(categories.size())));
  for (int i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (!first_error.ok()) return finish(first_error);

  s = with_retries("PublishPriceChanges", [&](LocalContext& ctx) {
    auto r = activities_.PublishPriceChanges(ctx, run);
    if (r.ok()) summary.price_change_jobs += r.value();
    return r.status();
  });
  return finish(s);
}

}  // namespace tillless::ingest
