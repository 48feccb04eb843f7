// sdk_bench: the workflow_with_single_noop_activity scenario (start -> workflow task -> no-op
// activity -> workflow task -> complete) run by the C++ SDK: one process holds a Worker (sticky
// cache on) and a Client keeping --concurrency workflows in flight (Start + Result each).
// Latency runs from Start to the Result's return. Flags match workflow_bench, so
// bench/run_workflow_bench.sh runs it too (WORKFLOW_BENCH=build/bench/sdk_bench).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "temporalite/sdk/sdk.h"

using namespace temporalite::sdk;
using Clock = std::chrono::steady_clock;

namespace {

Task<void> BenchWorkflow(WorkflowContext& ctx) {
  ActivityOptions o;
  o.start_to_close = std::chrono::seconds(10);
  auto a = ctx.ExecuteActivity<void>("noop", o);
  co_await a;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  ClientOptions co = ClientOptions::FromEnvironment();
  long concurrency = 64, workflows = 2000, warmup = 200;
  bool eager = true;  // eager workflow start (--eager 0 turns it off)
  bool inline_activity = true;  // --inline-activity 0: eager activities handed to the activity pool
  long activity_slots = 0;  // --activity-slots N; 0: concurrency + the activity pollers
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--address") co.address = v;
    else if (f == "--namespace") co.ns = v;
    else if (f == "--concurrency") concurrency = std::atol(v.c_str());
    else if (f == "--workflows") workflows = std::atol(v.c_str());
    else if (f == "--warmup") warmup = std::atol(v.c_str());
    else if (f == "--eager") eager = v != "0";
    else if (f == "--inline-activity") inline_activity = v != "0";
    else if (f == "--activity-slots") activity_slots = std::atol(v.c_str());
    else if (f == "--server-pid") continue;  // passed by bench/run_workflow_bench.sh (for its own report)
    else {
      std::fprintf(stderr, "usage: %s [--address HOST:PORT] [--namespace NS] [--concurrency N] [--workflows N] [--warmup N] [--eager 0|1] [--inline-activity 0|1] [--activity-slots N]\n", argv[0]);
      return 2;
    }
  }
  if (concurrency < 1 || workflows < 1 || warmup < 0) return 2;
  auto client = Client::Connect(co);
  const std::string tq = "sdk-bench-" + NewUuid();
  WorkerOptions wo;
  wo.task_queue = tq;
  wo.run_eager_activity_on_workflow_thread = inline_activity;
  // As many pollers as workflow_bench's defaults (16 workflow-task, 16 activity-task pollers).
  wo.max_concurrent_workflow_tasks = std::max<int>(2, static_cast<int>(std::min<long>(concurrency, 16)));
  wo.activity_pollers = wo.max_concurrent_workflow_tasks;
  // Each polling thread holds a slot: with only `concurrency` slots, none is ever free at
  // concurrency 1 and no activity can come eagerly (the official SDKs' defaults are hundreds).
  wo.max_concurrent_activities =
      static_cast<int>(activity_slots > 0 ? activity_slots : concurrency + wo.activity_pollers);
  Worker worker(client, wo);
  worker.RegisterWorkflow("SdkBench", BenchWorkflow);
  worker.RegisterActivity("noop", []() {});
  worker.Start();

  std::atomic<long> errors{0};
  std::mutex mu;
  std::vector<double> latencies;
  auto phase = [&](long count, bool record) {
    std::atomic<long> next{0};
    std::vector<std::thread> threads;
    for (long t = 0; t < std::min(concurrency, count); ++t) {
      threads.emplace_back([&] {
        std::vector<double> mine;
        for (long i = next++; i < count; i = next++) {
          StartWorkflowOptions so;
          so.id = tq + "-" + std::to_string(record) + "-" + std::to_string(i);
          so.task_queue = tq;
          so.eager_start = eager;
          auto t0 = Clock::now();
          try {
            client->Start("SdkBench", so).Result<void>(std::chrono::seconds(60));
            mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          } catch (const std::exception& e) {
            if (errors++ < 5) std::fprintf(stderr, "error: %s\n", e.what());
          }
        }
        std::lock_guard<std::mutex> l(mu);
        if (record) latencies.insert(latencies.end(), mine.begin(), mine.end());
      });
    }
    for (auto& t : threads) t.join();
  };
  phase(warmup, false);
  auto t0 = Clock::now();
  phase(workflows, true);
  double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  worker.Shutdown();
  auto s = worker.stats();
  std::printf("scenario: workflow_with_single_noop_activity (C++ SDK worker + client)\n");
  std::printf("address: %s  namespace: %s  task_queue: %s\n", co.address.c_str(), co.ns.c_str(), tq.c_str());
  std::printf("concurrency: %ld  workflows: %ld  warmup: %ld  elapsed_s: %.2f\n", concurrency, workflows, warmup,
              elapsed);
  std::printf("throughput_wf_per_s: %.1f\n", static_cast<double>(latencies.size()) / elapsed);
  std::printf("start_to_close_ms: p50=%.1f p90=%.1f p99=%.1f max=%.1f\n", Percentile(latencies, 0.5),
              Percentile(latencies, 0.9), Percentile(latencies, 0.99), Percentile(latencies, 1.0));
  std::printf("workflow_tasks: %lld  sticky_hits: %lld  full_replays: %lld  eager_starts: %lld  eager_activities: %lld\n",
              static_cast<long long>(s.workflow_tasks), static_cast<long long>(s.sticky_hits),
              static_cast<long long>(s.full_replays), static_cast<long long>(s.eager_tasks),
              static_cast<long long>(s.eager_activities));
  std::printf("errors: %ld\nstatus: %s\n", errors.load(), errors == 0 ? "ok" : "FAILED");
  return errors == 0 ? 0 : 1;
}
