// Checkers-ingestion benchmark (issue 11). Needs a PostgreSQL and the fixture retailer; use
// bench/run_ingest_bench.sh, which starts both. Prints:
//   write path: pre-normalised records of a 50,000-item store -> committed retailer_item_price
//               rows (PriceStore::WritePage, pages of --page-size, --concurrency writers)
//   end to end: the offline run of the 50,000-item store, fixture pages over HTTP -> rows
//   10k run:    wall time of a full 10,000-item run (forceRefresh=true), and of the unchanged
//               re-run (forceRefresh=false: conditional requests, nothing written)
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "fixture/catalogue.h"
#include "ingest/migrations.h"
#include "ingest/offline_runner.h"
#include "ingest/sixty60_source.h"

using namespace tillless::ingest;  // NOLINT(build/namespaces): a main file
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db, fixture_url, big = "bench-50k", small = "bench-10k";
  int big_items = 50000, page_size = 500, concurrency = 4;
  std::string phase = "all";  // "write": only the write path; "runs": only the offline runs
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--database-url") db = v;
    else if (k == "--fixture-url") fixture_url = v;
    else if (k == "--big-store") big = v;
    else if (k == "--big-items") big_items = std::stoi(v);
    else if (k == "--small-store") small = v;
    else if (k == "--page-size") page_size = std::stoi(v);
    else if (k == "--concurrency") concurrency = std::stoi(v);
    else if (k == "--phase") phase = v;
  }
  if (db.empty() || fixture_url.empty()) {
    std::cerr << "usage: ingest_bench --database-url URL --fixture-url URL (see bench/run_ingest_bench.sh)\n";
    return 2;
  }
  ConnectionPool pool(db);
  if (Status s = pool.With([](pqxx::connection& c) { return Migrate(c).status(); }); !s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  PriceStore store(pool);

  // 1. Write path: the big store's records, normalised up front (not timed).
  if (phase != "runs") {
  tillless::fixture::Catalogue catalogue({{"write-path", big_items}});
  std::vector<std::vector<PriceRecord>> pages;
  for (const auto& c : tillless::fixture::Categories()) {
    for (int off = 0; off < catalogue.CategorySize("write-path", c.id); off += page_size) {
      auto page = ParseProductsPage(catalogue.Page("write-path", c.id, off, page_size, 0).dump(), c.id);
      std::vector<PriceRecord> recs;
      for (const auto& raw : page->items) {
        if (auto r = Normalize(raw); r.ok()) recs.push_back(std::move(r.value()));
      }
      pages.push_back(std::move(recs));
    }
  }
  size_t records = 0;
  for (const auto& p : pages) records += p.size();
  RunKey wkey{"checkers-sixty60", "write-path", "bench-write-" + std::to_string(std::time(nullptr))};
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto t0 = Clock::now();
  double cpu0 = CpuSeconds();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < pages.size();) {
        auto w = store.WritePage(wkey, pages[i], true, {"p", std::to_string(i)}, std::nullopt);
        if (!w.ok()) {
          std::cerr << w.status().ToString() << "\n";
          failed = true;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto t1 = Clock::now();
  double cpu1 = CpuSeconds();
  if (failed) return 1;
  auto wcounts = store.Counts(wkey);
  printf("write_path_items=%zu rows=%lld seconds=%.3f items_per_second=%.0f client_cpu_us_per_item=%.1f "
         "(page %d, %d writers)\n", records, static_cast<long long>(wcounts.ok() ? wcounts->rows : -1),
         Seconds(t0, t1), records / Seconds(t0, t1), (cpu1 - cpu0) * 1e6 / records, page_size, concurrency);
  }

  if (phase == "write") return 0;

  // 2./3. Offline runs against the fixture retailer over HTTP.
  Sixty60Options so;
  so.base_url = fixture_url;
  so.client_id = "tillless";
  so.client_secret = "fixture-secret";
  so.page_size = page_size;
  auto sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  Sixty60Source source(so, sleep);
  IngestionActivities activities(source, store, nullptr, "price-changes");
  OfflineRunner runner(activities, store, sleep, [](const std::string& m) { std::cerr << m << "\n"; });
  auto run = [&](const std::string& store_id, bool force, const std::string& label) -> int {
    RunOptions o;
    o.store_id = store_id;
    o.force_refresh = force;
    o.concurrency = concurrency;
    o.run_id = label + "-" + std::to_string(std::time(nullptr));
    auto a = Clock::now();
    auto s = runner.Run(o);
    auto b = Clock::now();
    if (!s.ok()) {
      std::cerr << s.status().ToString() << "\n";
      return 1;
    }
    printf("%s store=%s force_refresh=%d items_seen=%lld rows=%lld pages=%d not_modified=%d seconds=%.3f "
           "items_per_second=%.0f\n",
           label.c_str(), store_id.c_str(), force, static_cast<long long>(s->items_seen),
           static_cast<long long>(s->items_written), s->pages, s->pages_not_modified, Seconds(a, b),
           s->items_seen / Seconds(a, b));
    return 0;
  };
  if (run(big, true, "end_to_end_50k") != 0) return 1;
  if (run(small, true, "full_run_10k") != 0) return 1;
  if (run(small, false, "unchanged_rerun_10k") != 0) return 1;
  return 0;
}
