#include "worker/checkers_workflow.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "ingest/offline_runner.h"

namespace tillless::worker {
namespace {

namespace sdk = temporalite::sdk;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- Activities: thin adapters from the SDK to IngestionActivities / PriceStore. ----

// An ingest::Status error as the activity's failure: the type is the gRPC code's name, and only
// the codes the offline runner retries are retryable here too.
[[noreturn]] void ThrowStatus(const ingest::Status& s) {
  throw sdk::ApplicationFailure(s.message(), ingest::CodeName(s.code()), !ingest::IsRetryable(s));
}

// The SDK's activity context seen through the seam the activities are written against.
class SdkActivityContext : public ingest::ActivityContext {
 public:
  explicit SdkActivityContext(sdk::ActivityContext& ctx) : ctx_(ctx) {}
  int Attempt() const override { return ctx_.info().attempt; }
  std::string LastHeartbeatDetails() const override {
    if (ctx_.info().heartbeat_details.payloads_size() == 0) return "";
    try {
      return ctx_.LastHeartbeatDetails<json>().dump();
    } catch (const std::exception&) {
      return "";  // details from another version of the activity: start over (writes are idempotent)
    }
  }
  ingest::Status Heartbeat(const std::string& details_json) override {
    ctx_.Heartbeat(json::parse(details_json, nullptr, false));
    if (ctx_.IsCancelled()) return {ingest::Code::kCancelled, "activity cancelled (or timed out)"};
    return ingest::Status::Ok();
  }

 private:
  sdk::ActivityContext& ctx_;
};

std::string Str(const json& args, const char* key) {
  auto it = args.find(key);
  if (it == args.end() || !it->is_string()) {
    throw sdk::ApplicationFailure(std::string("activity argument \"") + key + "\" missing", "INVALID_ARGUMENT", true);
  }
  return it->get<std::string>();
}

json CategoryJson(const ingest::CategoryResult& r) {
  return {{"category", r.category_id}, {"pages", r.pages}, {"pagesNotModified", r.pages_not_modified},
          {"itemsSeen", r.items_seen}, {"malformed", r.malformed}, {"malformedSamples", r.malformed_samples}};
}

// ---- The workflow. ----

struct Params {
  std::string store_id;
  bool force_refresh = false;
  int concurrency = 4;
  int heartbeat_seconds = 30;
};

int IntField(const json& in, const char* key, int lo, int hi, int def) {
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return def;
  if (!it->is_number_integer() || it->get<int64_t>() < lo || it->get<int64_t>() > hi) {
    throw sdk::ApplicationFailure(std::string("input \"") + key + "\" must be an integer in " + std::to_string(lo) +
                                      ".." + std::to_string(hi),
                                  "INVALID_ARGUMENT", true);
  }
  return it->get<int>();
}

Params ParseInput(const json& in) {
  if (!in.is_object() || !in.contains("storeId") || !in["storeId"].is_string() ||
      in["storeId"].get<std::string>().empty()) {
    throw sdk::ApplicationFailure("input must be {\"storeId\": non-empty string, \"forceRefresh\": bool}",
                                  "INVALID_ARGUMENT", true);
  }
  if (in.contains("forceRefresh") && !in["forceRefresh"].is_boolean()) {
    throw sdk::ApplicationFailure("input \"forceRefresh\" must be true or false", "INVALID_ARGUMENT", true);
  }
  Params p;
  p.store_id = in["storeId"].get<std::string>();
  p.force_refresh = in.value("forceRefresh", false);
  p.concurrency = IntField(in, "concurrency", 1, 32, 4);
  p.heartbeat_seconds = IntField(in, "heartbeatTimeoutSeconds", 1, 600, 30);
  return p;
}

sdk::RetryPolicy Backoff(int max_attempts) {
  sdk::RetryPolicy r;
  r.initial_interval = seconds(1);
  r.backoff_coefficient = 2.0;
  r.maximum_interval = seconds(30);
  r.maximum_attempts = max_attempts;
  return r;
}

// Shared by the category lanes (all on the workflow's single thread).
struct FanOut {
  std::vector<std::string> categories;
  size_t next = 0;
  int lanes_done = 0;
  std::exception_ptr error;  // the first category that failed for good
  int pages = 0, pages_not_modified = 0, malformed = 0;
  int64_t items_seen = 0;
  std::vector<std::string> samples;
};

// One lane of the fan-out: takes the next category until none is left (or one failed).
sdk::Task<void> CategoryLane(sdk::WorkflowContext* ctx, std::shared_ptr<FanOut> f, json base,
                             sdk::ActivityOptions options) {
  while (!f->error && f->next < f->categories.size()) {
    json args = base;
    args["categoryId"] = f->categories[f->next++];
    try {
      json r = co_await ctx->ExecuteActivity<json>("IngestCategory", options, args);
      f->pages += r.value("pages", 0);
      f->pages_not_modified += r.value("pagesNotModified", 0);
      f->items_seen += r.value("itemsSeen", int64_t{0});
      f->malformed += r.value("malformed", 0);
      for (const auto& m : r.value("malformedSamples", std::vector<std::string>{})) {
        if (f->samples.size() < 10) f->samples.push_back(m);
      }
    } catch (const sdk::TemporalFailure&) {
      if (!f->error) f->error = std::current_exception();
    }
  }
  ++f->lanes_done;
}

// The failure that ends the run, from what an activity threw.
sdk::ApplicationFailure RunFailure(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const sdk::ActivityFailure& f) {
    std::string type = "ACTIVITY_FAILED";
    if (auto* app = dynamic_cast<const sdk::ApplicationFailure*>(f.cause().get())) {
      if (!app->type.empty()) type = app->type;
    } else if (dynamic_cast<const sdk::TimeoutFailure*>(f.cause().get())) {
      type = "DEADLINE_EXCEEDED";
    }
    std::string what = f.cause() ? f.cause()->message() : f.message();
    return sdk::ApplicationFailure(f.activity_type + " failed: " + what, type, true);
  } catch (const sdk::TemporalFailure& f) {
    return sdk::ApplicationFailure(f.message(), "ABORTED", true);
  }
}

}  // namespace

sdk::Task<json> CheckersIngestionWorkflow(sdk::WorkflowContext& ctx, json input) {
  const Params p = ParseInput(input);
  const auto started = ctx.Now();
  const std::string run_id = ctx.info().workflow_id;
  const json key = {{"runId", run_id}, {"storeId", p.store_id}};

  sdk::ActivityOptions quick;
  quick.start_to_close = seconds(60);
  quick.retry_policy = Backoff(8);
  sdk::ActivityOptions category;
  category.start_to_close = std::chrono::minutes(30);
  category.heartbeat = seconds(p.heartbeat_seconds);
  category.retry_policy = Backoff(10);
  sdk::ActivityOptions cleanup = quick;
  cleanup.cancellable = false;

  json summary = {{"runId", run_id}, {"storeId", p.store_id}, {"forceRefresh", p.force_refresh}};
  std::exception_ptr error;
  try {
    json begin = key;
    begin["forceRefresh"] = p.force_refresh;
    co_await ctx.ExecuteActivity<bool>("BeginRun", quick, begin);
    json categories = co_await ctx.ExecuteActivity<json>("ListCategories", quick, key);

    auto fan = std::make_shared<FanOut>();
    for (const auto& c : categories) fan->categories.push_back(c.value("id", ""));
    summary["categories"] = fan->categories.size();
    int lanes = std::max(1, std::min<int>(p.concurrency, static_cast<int>(fan->categories.size())));
    json base = key;
    base["forceRefresh"] = p.force_refresh;
    for (int i = 0; i < lanes; ++i) ctx.Spawn(CategoryLane(&ctx, fan, base, category));
    auto all_done = ctx.Condition([fan, lanes] { return fan->lanes_done == lanes; });
    co_await all_done;
    summary["pages"] = fan->pages;
    summary["pagesNotModified"] = fan->pages_not_modified;
    summary["itemsSeen"] = fan->items_seen;
    summary["malformed"] = fan->malformed;
    summary["malformedSamples"] = fan->samples;
    if (fan->error) std::rethrow_exception(fan->error);

    summary["priceChangeJobs"] = co_await ctx.ExecuteActivity<int>("PublishPriceChanges", quick, key);
  } catch (const sdk::TemporalFailure&) {
    error = std::current_exception();
  }
  summary["durationMs"] = std::chrono::duration_cast<milliseconds>(ctx.Now() - started).count();
  json finish = key;
  finish["status"] = error ? "failed" : "completed";
  finish["summary"] = summary;
  if (error) {
    // Record the failure (best effort: the run's own failure is what the caller must see).
    try {
      co_await ctx.ExecuteActivity<json>("FinishRun", cleanup, finish);
    } catch (const sdk::TemporalFailure&) {
    }
    if (ctx.IsCancelRequested()) throw sdk::CanceledFailure("CheckersIngestionWorkflow cancelled");
    throw RunFailure(error);
  }
  co_return co_await ctx.ExecuteActivity<json>("FinishRun", cleanup, finish);
}

void RegisterCheckersIngestion(sdk::Worker& worker, ingest::IngestionActivities& activities,
                               ingest::PriceStore& store) {
  worker.RegisterWorkflow(kWorkflowType, CheckersIngestionWorkflow);
  worker.RegisterActivity("BeginRun", [&](sdk::ActivityContext&, json args) {
    auto key = activities.KeyFor(Str(args, "storeId"), Str(args, "runId"));
    if (auto s = store.BeginRun(key, args.value("forceRefresh", false)); !s.ok()) ThrowStatus(s);
    return true;
  });
  worker.RegisterActivity("ListCategories", [&](sdk::ActivityContext& sctx, json args) {
    SdkActivityContext ctx(sctx);
    auto r = activities.ListCategories(ctx, Str(args, "storeId"));
    if (!r.ok()) ThrowStatus(r.status());
    json out = json::array();
    for (const auto& c : r.value()) out.push_back({{"id", c.id}, {"name", c.name}});
    return out;
  });
  worker.RegisterActivity("IngestCategory", [&](sdk::ActivityContext& sctx, json args) {
    SdkActivityContext ctx(sctx);
    auto key = activities.KeyFor(Str(args, "storeId"), Str(args, "runId"));
    auto r = activities.IngestCategory(ctx, key, Str(args, "categoryId"), args.value("forceRefresh", false));
    if (!r.ok()) {
      if (sctx.IsCancelled()) throw sdk::CanceledFailure("IngestCategory cancelled");
      ThrowStatus(r.status());
    }
    return CategoryJson(r.value());
  });
  worker.RegisterActivity("PublishPriceChanges", [&](sdk::ActivityContext& sctx, json args) {
    SdkActivityContext ctx(sctx);
    auto r = activities.PublishPriceChanges(ctx, activities.KeyFor(Str(args, "storeId"), Str(args, "runId")));
    if (!r.ok()) ThrowStatus(r.status());
    return r.value();
  });
  // Completes the summary with what the run wrote (exact however often pages were retried) and
  // records it in ingest_run.
  worker.RegisterActivity("FinishRun", [&](sdk::ActivityContext&, json args) {
    auto key = activities.KeyFor(Str(args, "storeId"), Str(args, "runId"));
    json summary = args.value("summary", json::object());
    auto counts = store.Counts(key);
    if (!counts.ok()) ThrowStatus(counts.status());
    summary["itemsWritten"] = counts->rows;
    summary["itemsChanged"] = counts->changed;
    summary["itemsNew"] = counts->added;
    if (auto s = store.FinishRun(key, Str(args, "status"), summary.dump()); !s.ok()) ThrowStatus(s);
    return summary;
  });
}

}  // namespace tillless::worker
