// retention_bench: the retention sweep's cost on a database the server wrote.
//
//   build/bench/retention_bench --db PATH [--batch 100] [--after-hours 48]
//
// Opens PATH (stop the server first) with the real store and engine, moves the engine's clock
// --after-hours past now (so every closed run is past a 24 h retention), and runs the sweep the
// server runs (Engine::RetentionSweep: one transaction of up to --batch runs per step) until
// nothing is left. Prints runs deleted, wall time, per-step latency (each step is one write
// transaction, which the server's other writes queue behind), runs per second, and the file size
// before and after. bench/run_retention_bench.sh seeds a database through the server first.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/timer_service.h"
#include "history/engine.h"
#include "persistence/store.h"

namespace {

using Steady = std::chrono::steady_clock;

int64_t FileBytes(const std::string& path) {
  int64_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    struct stat st {};
    if (stat((path + suffix).c_str(), &st) == 0) total += st.st_size;
  }
  return total;
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size()));
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  int64_t batch = 100;
  int64_t after_hours = 48;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--db") {
      db = argv[i + 1];
    } else if (flag == "--batch") {
      batch = std::atoll(argv[i + 1]);
    } else if (flag == "--after-hours") {
      after_hours = std::atoll(argv[i + 1]);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (db.empty() || batch <= 0 || after_hours <= 0) {
    std::fprintf(stderr, "usage: %s --db PATH [--batch N] [--after-hours H]\n", argv[0]);
    return 2;
  }
  const int64_t bytes_before = FileBytes(db);
  auto store = temporalite::persistence::OpenSqliteStore({.path = db});
  if (!store.ok()) {
    std::fprintf(stderr, "open %s: %s\n", db.c_str(), store.status().ToString().c_str());
    return 1;
  }
  temporalite::SimClock clock(temporalite::SystemClock().Now() + std::chrono::hours(after_hours));
  temporalite::TimerService timers(clock);
  temporalite::history::EngineOptions options;
  options.retention_batch = batch;
  temporalite::history::Engine engine(**store, clock, timers, options);
  if (auto s = engine.Recover(); !s.ok()) {
    std::fprintf(stderr, "recover: %s\n", s.ToString().c_str());
    return 1;
  }
  std::vector<double> step_ms;
  int64_t deleted = 0;
  const auto start = Steady::now();
  for (;;) {
    std::promise<int64_t> p;
    auto f = p.get_future();
    const auto t0 = Steady::now();
    engine.RetentionSweep([&p](int64_t n) { p.set_value(n); });
    const int64_t n = f.get();
    if (n == 0) break;
    step_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
    deleted += n;
  }
  const double total_s = std::chrono::duration<double>(Steady::now() - start).count();
  (*store)->Close();
  const int64_t bytes_after = FileBytes(db);
  std::printf("retention_sweep: deleted=%lld runs in %.2f s (%.0f runs/s), %zu steps of up to %lld\n",
              static_cast<long long>(deleted), total_s, total_s > 0 ? deleted / total_s : 0.0, step_ms.size(),
              static_cast<long long>(batch));
  std::printf("retention_step_ms: p50=%.2f p99=%.2f max=%.2f (one write transaction each)\n", Pct(step_ms, 50),
              Pct(step_ms, 99), step_ms.empty() ? 0.0 : *std::max_element(step_ms.begin(), step_ms.end()));
  std::printf("retention_wall_us_per_run: %.1f\n",
              deleted > 0 ? total_s * 1e6 / static_cast<double>(deleted) : 0.0);
  std::printf("database_bytes: before=%lld after=%lld (SQLite keeps freed pages for reuse)\n",
              static_cast<long long>(bytes_before), static_cast<long long>(bytes_after));
  return 0;
}
