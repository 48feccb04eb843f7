// Commit latency around the compression dictionary's training, and bytes per workflow: writes N
// single-activity workflows' rows (the server's commits for one: start, workflow task started,
// activity scheduled, activity done + workflow task, workflow task started, completion; Temporal
// protos as the server stores them) into a fresh SQLite store from --concurrency threads, each
// commit waited for (CommitSync), and prints the commit latency distribution with its maximum,
// which on a fresh database includes whatever the dictionary's training costs the commits that
// wait for it, and the database bytes per workflow after close. The first dictionary is trained
// after 256 KB of records (about 800 commits here), so the slowest of the first 3,000 commits
// (`training_window`) holds a training's stall, if commits wait for it; the slowest of the others
// (`after_window`) is the machine's own noise to compare it with.
//
//   dictionary_bench [--workflows 3000] [--concurrency 8] [--dir /tmp] [--synchronous FULL]
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "persistence/store.h"
#include "temporal/api/history/v1/message.pb.h"
#include "temporal/api/workflow/v1/message.pb.h"

namespace {

using namespace temporalite;  // NOLINT(build/namespaces): a main file
namespace hv1 = ::temporal::api::history::v1;
namespace ev1 = ::temporal::api::enums::v1;
using Clock = std::chrono::steady_clock;

::temporal::api::common::v1::Payload Json(const std::string& data) {
  ::temporal::api::common::v1::Payload p;
  (*p.mutable_metadata())["encoding"] = "json/plain";
  p.set_data(data);
  return p;
}

std::string Event(int64_t id, ev1::EventType type, int64_t now, const std::string& wid, int n) {
  hv1::HistoryEvent e;
  e.set_event_id(id);
  e.set_event_type(type);
  e.mutable_event_time()->set_seconds(now / 1000000000);
  e.mutable_event_time()->set_nanos(static_cast<int>(now % 1000000000));
  e.set_task_id(1048576 + n * 16 + id);
  switch (type) {
    case ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
      auto* a = e.mutable_workflow_execution_started_event_attributes();
      a->mutable_workflow_type()->set_name("workflow_with_single_noop_activity");
      a->mutable_task_queue()->set_name("bench-task-queue");
      *a->mutable_input()->add_payloads() = Json("{\"order\":" + std::to_string(n) + ",\"customer\":\"c-" + std::to_string(n % 977) + "\"}");
      a->mutable_workflow_task_timeout()->set_seconds(10);
      a->set_original_execution_run_id(wid + "-run");
      a->set_first_execution_run_id(wid + "-run");
      a->set_identity("bench-starter@host-1");
      a->set_attempt(1);
      break;
    }
    case ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
      e.mutable_workflow_task_scheduled_event_attributes()->mutable_task_queue()->set_name("bench-task-queue");
      e.mutable_workflow_task_scheduled_event_attributes()->mutable_start_to_close_timeout()->set_seconds(10);
      e.mutable_workflow_task_scheduled_event_attributes()->set_attempt(1);
      break;
    case ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED:
      e.mutable_workflow_task_started_event_attributes()->set_scheduled_event_id(id - 1);
      e.mutable_workflow_task_started_event_attributes()->set_identity("bench-worker@host-1");
      e.mutable_workflow_task_started_event_attributes()->set_request_id("req-" + std::to_string(n * 100 + id));
      break;
    case ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      e.mutable_workflow_task_completed_event_attributes()->set_scheduled_event_id(id - 2);
      e.mutable_workflow_task_completed_event_attributes()->set_started_event_id(id - 1);
      e.mutable_workflow_task_completed_event_attributes()->set_identity("bench-worker@host-1");
      break;
    case ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
      auto* a = e.mutable_activity_task_scheduled_event_attributes();
      a->set_activity_id("1");
      a->mutable_activity_type()->set_name("noop");
      a->mutable_task_queue()->set_name("bench-task-queue");
      a->mutable_start_to_close_timeout()->set_seconds(30);
      a->set_workflow_task_completed_event_id(id - 1);
      break;
    }
    case ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED:
      e.mutable_activity_task_started_event_attributes()->set_scheduled_event_id(id - 1);
      e.mutable_activity_task_started_event_attributes()->set_identity("bench-worker@host-1");
      e.mutable_activity_task_started_event_attributes()->set_attempt(1);
      break;
    case ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      *e.mutable_activity_task_completed_event_attributes()->mutable_result()->add_payloads() = Json("\"ok\"");
      e.mutable_activity_task_completed_event_attributes()->set_scheduled_event_id(id - 2);
      e.mutable_activity_task_completed_event_attributes()->set_started_event_id(id - 1);
      break;
    default:
      *e.mutable_workflow_execution_completed_event_attributes()->mutable_result()->add_payloads() = Json("\"done\"");
      e.mutable_workflow_execution_completed_event_attributes()->set_workflow_task_completed_event_id(id - 1);
      break;
  }
  return e.SerializeAsString();
}

// The execution state and visibility info of workflow `n` after `events` events.
std::string Info(const std::string& wid, const std::string& run, int64_t start, int64_t events, bool closed) {
  ::temporal::api::workflow::v1::WorkflowExecutionInfo info;
  info.mutable_execution()->set_workflow_id(wid);
  info.mutable_execution()->set_run_id(run);
  info.mutable_type()->set_name("workflow_with_single_noop_activity");
  info.mutable_start_time()->set_seconds(start / 1000000000);
  info.set_status(closed ? ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED : ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  info.set_history_length(events);
  info.set_task_queue("bench-task-queue");
  info.set_state_transition_count(events);
  info.set_history_size_bytes(events * 120);
  if (closed) info.mutable_close_time()->set_seconds(start / 1000000000 + 1);
  return info.SerializeAsString();
}

std::vector<persistence::WriteBatch> WorkflowCommits(int n) {
  char run[48];
  std::snprintf(run, sizeof run, "%08x-0000-7000-8000-%012x", n, n * 2654435761u);
  const std::string wid = "bench-wf-" + std::to_string(n);
  const std::string ns = "00000000-0000-4000-8000-000000000001";
  const int64_t start = 1796000000LL * 1000000000 + static_cast<int64_t>(n) * 1000000;
  using ev1::EventType;
  const std::vector<std::vector<EventType>> steps = {
      {ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED},
      {ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED},
      {ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED, ev1::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED},
      {ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED, ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED},
      {ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED},
      {ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED}};
  std::vector<persistence::WriteBatch> out;
  int64_t id = 0;
  for (size_t s = 0; s < steps.size(); ++s) {
    persistence::WriteBatch b;
    for (EventType t : steps[s]) b.append_events.push_back({run, ++id, Event(id, t, start + id * 1000, wid, n)});
    const bool closed = s + 1 == steps.size();
    b.upsert_executions.push_back({ns, wid, run, !closed, closed ? start + 1000000000 : 0, Info(wid, run, start, id, closed)});
    if (s == 0) b.upsert_current.push_back({ns, wid, run});
    if (s == 0 || closed) {
      persistence::VisibilityRow v;
      v.namespace_id = ns;
      v.run_id = run;
      v.workflow_id = wid;
      v.workflow_type = "workflow_with_single_noop_activity";
      v.task_queue = "bench-task-queue";
      v.status = closed ? 2 : 1;
      v.start_time = start;
      v.execution_time = start;
      if (closed) {
        v.close_time = start + 1000000000;
        v.execution_duration = 1000000000;
      }
      v.history_length = id;
      v.state_transition_count = id;
      v.info = Info(wid, run, start, id, closed);
      b.upsert_visibility.push_back(std::move(v));
    }
    out.push_back(std::move(b));
  }
  return out;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  int workflows = 3000, concurrency = 8;
  std::string dir = std::filesystem::temp_directory_path().string(), synchronous = "FULL";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--workflows") workflows = std::atoi(v.c_str());
    else if (k == "--concurrency") concurrency = std::atoi(v.c_str());
    else if (k == "--dir") dir = v;
    else if (k == "--synchronous") synchronous = v;
    else {
      std::fprintf(stderr, "usage: dictionary_bench [--workflows N] [--concurrency N] [--dir DIR] [--synchronous FULL]\n");
      return 2;
    }
  }
  if (workflows < 1 || concurrency < 1) {
    std::fprintf(stderr, "error: want --workflows >= 1 and --concurrency >= 1\n");
    return 2;
  }
  std::string tmpl = (std::filesystem::path(dir) / "tl_dictbench_XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  persistence::SqliteOptions so;
  so.path = tmpl + "/temporalite.db";
  so.synchronous = synchronous;
  auto store = persistence::OpenSqliteStore(so);
  if (!store.ok()) {
    std::fprintf(stderr, "error: %s\n", store.status().ToString().c_str());
    return 1;
  }
  std::atomic<int> next{0}, errors{0};
  std::mutex mu;
  std::vector<double> latencies;  // ms, every commit
  double worst = 0, worst_at = 0;  // the slowest commit and when it ended (s since the start)
  constexpr int kWindow = 3000;
  int ended = 0;                      // commits finished so far
  double window_max = 0, rest_max = 0;  // the slowest of the first kWindow commits, of the others
  const auto begin = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      for (int n; (n = next++) < workflows;) {
        for (persistence::WriteBatch& b : WorkflowCommits(n)) {
          const auto a = Clock::now();
          if (!(*store)->CommitSync(std::move(b)).ok()) ++errors;
          const auto z = Clock::now();
          mine.push_back(Ms(z - a));
          std::lock_guard<std::mutex> l(mu);
          if (mine.back() > worst) worst = mine.back(), worst_at = Ms(z - begin) / 1000;
          double& m = ended++ < kWindow ? window_max : rest_max;
          m = std::max(m, mine.back());
        }
      }
      std::lock_guard<std::mutex> l(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (std::thread& t : threads) t.join();
  const double elapsed = Ms(Clock::now() - begin) / 1000;
  (*store)->Close();
  store->reset();
  std::error_code ec;
  auto bytes = std::filesystem::file_size(so.path, ec);
  std::filesystem::remove_all(tmpl, ec);
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) { return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * (latencies.size() - 1) + 0.5))]; };
  std::printf("workflows: %d  concurrency: %d  commits: %zu  elapsed_s: %.2f  synchronous: %s\n", workflows, concurrency,
              latencies.size(), elapsed, synchronous.c_str());
  std::printf("commit_ms: p50=%.2f p99=%.2f p999=%.2f max=%.1f (the slowest ended %.2f s after the start)\n", pct(0.5),
              pct(0.99), pct(0.999), worst, worst_at);
  std::printf("commit_ms_max: training_window=%.1f (the first %d commits) after_window=%.1f\n", window_max, kWindow,
              rest_max);
  std::printf("db_bytes_per_workflow: %.0f\n", static_cast<double>(bytes) / workflows);
  std::printf("errors: %d\n", errors.load());
  return errors.load() == 0 ? 0 : 1;
}
