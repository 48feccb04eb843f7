// workflow_bench: end-to-end benchmark driver for a Temporal-compatible server.
//
// Speaks Temporal's gRPC WorkflowService API directly and plays both roles:
//   * client: starts workflows, keeping --concurrency of them in flight;
//   * worker: workflow-task and activity-task pollers (threads on the synchronous stub,
//     70 s long-poll deadline, like a real SDK worker).
//
// Scenario workflow_with_single_noop_activity:
//   StartWorkflowExecution -> WFT #1: ScheduleActivityTask("noop") -> activity completes
//   with an empty result -> WFT #2: CompleteWorkflowExecution.
// Start-to-close latency runs from the StartWorkflowExecution call to the OK return of the
// RespondWorkflowTaskCompleted that carries CompleteWorkflowExecution.
// --eager-activities 1 sets request_eager_execution on the ScheduleActivityTask (as the SDKs do
// by default) and runs the activity tasks the completion reply carries; --eager-start 1 asks for
// eager workflow start and handles the first workflow task from the start reply.
//
// Growth scenarios (README "Performance"):
//   --activities N   N sequential no-op activities per workflow (one workflow task each); with
//                    --sticky 1 the worker keeps a sticky queue, as SDK workers do, so each task
//                    carries only the new events. Prints per-step figures.
//   --open-workflows N  before the measured run, opens N workflows that each start a 24 h timer
//                    and then sit idle (own task queue), and reports the time to open them and,
//                    with --server-pid, the server's RSS growth per open workflow.

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/latency_trace.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"

namespace {

namespace wfs = temporal::api::workflowservice::v1;
namespace enums = temporal::api::enums::v1;
using Clock = std::chrono::steady_clock;
using Stub = wfs::WorkflowService::Stub;

constexpr char kScenario[] = "workflow_with_single_noop_activity";
constexpr char kWorkflowType[] = "workflow_bench_single_noop_activity";
constexpr char kActivityType[] = "noop";
constexpr auto kPollDeadline = std::chrono::seconds(70);
// Deadline of a non-poll RPC; --rpc-timeout (under valgrind a commit that trains the store's
// compression dictionary can take longer than the default).
std::chrono::seconds rpc_deadline{10};
constexpr std::size_t kMaxErrorsKept = 10;
constexpr int64_t kAbortAfterErrors = 100;  // Stop early instead of spinning on a dead server.

struct Options {
  std::string address = "127.0.0.1:7233";
  std::string ns = "default";
  std::string task_queue;  // Empty: unique per run.
  int64_t concurrency = 64;
  int64_t workflows = 5000;  // Measured workflows (warmup ones come on top).
  double duration_s = 0;     // > 0: start workflows for this long instead of a fixed count.
  int64_t warmup = 0;
  int64_t wft_pollers = 16;
  int64_t activity_pollers = 16;
  int64_t channels = 4;
  int64_t starters = 0;  // 0: min(concurrency, 8).
  double timeout_s = 300;
  int64_t eager_activities = 0;  // 1: request_eager_execution on ScheduleActivityTask
  int64_t eager_start = 0;       // 1: request_eager_execution on StartWorkflowExecution
  int64_t activities = 1;      // Sequential activities per workflow.
  int64_t sticky = 0;          // 1: sticky workflow-task queue (partial histories).
  int64_t open_workflows = 0;  // Idle timer workflows opened before the measured run.
  int64_t server_pid = 0;      // > 0: report this process's RSS.
  int64_t wft_timeout_s = 10;  // Workflow task timeout of the started workflows.
};

void PrintUsage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--address HOST:PORT] [--namespace NS] [--concurrency N]\n"
               "          [--workflows N | --duration SECONDS] [--warmup N] [--task-queue NAME]\n"
               "          [--wft-pollers N] [--activity-pollers N] [--channels N]\n"
               "          [--starters N] [--timeout SECONDS] [--eager-activities 0|1]\n"
               "          [--eager-start 0|1] [--rpc-timeout SECONDS]\n"
               "          [--starters N] [--timeout SECONDS] [--activities N] [--sticky 0|1]\n"
               "          [--open-workflows N] [--server-pid PID] [--wft-timeout SECONDS]\n"
               "Scenario: %s. Defaults: address 127.0.0.1:7233, namespace default,\n"
               "concurrency 64, workflows 5000, warmup 0 (extra, excluded from stats),\n"
               "task queue unique per run, 16 workflow + 16 activity pollers, 4 channels,\n"
               "starters min(concurrency, 8), timeout 300 s.\n",
               argv0, kScenario);
}

bool ParseInt(std::string_view text, int64_t min, int64_t* out) {
  std::string s(text);
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < min) return false;
  *out = v;
  return true;
}

bool ParseDouble(std::string_view text, double* out) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0)) return false;
  *out = v;
  return true;
}

// Accepts "--flag value" and "--flag=value". Returns false (after printing why) on bad input.
bool ParseOptions(int argc, char** argv, Options* opts) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return false;
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    }
    if (!value) {
      std::fprintf(stderr, "missing value for %s\n", argv[i]);
      return false;
    }
    bool ok = true;
    if (name == "--address") {
      opts->address = *value;
    } else if (name == "--namespace") {
      opts->ns = *value;
    } else if (name == "--task-queue") {
      opts->task_queue = *value;
    } else if (name == "--concurrency") {
      ok = ParseInt(*value, 1, &opts->concurrency);
    } else if (name == "--workflows") {
      ok = ParseInt(*value, 1, &opts->workflows);
    } else if (name == "--duration") {
      ok = ParseDouble(*value, &opts->duration_s);
    } else if (name == "--warmup") {
      ok = ParseInt(*value, 0, &opts->warmup);
    } else if (name == "--wft-pollers") {
      ok = ParseInt(*value, 1, &opts->wft_pollers);
    } else if (name == "--activity-pollers") {
      ok = ParseInt(*value, 1, &opts->activity_pollers);
    } else if (name == "--channels") {
      ok = ParseInt(*value, 1, &opts->channels);
    } else if (name == "--starters") {
      ok = ParseInt(*value, 1, &opts->starters);
    } else if (name == "--eager-activities") {
      ok = ParseInt(*value, 0, &opts->eager_activities) && opts->eager_activities <= 1;
    } else if (name == "--eager-start") {
      ok = ParseInt(*value, 0, &opts->eager_start) && opts->eager_start <= 1;
    } else if (name == "--timeout") {
      ok = ParseDouble(*value, &opts->timeout_s);
    } else if (name == "--wft-timeout") {
      ok = ParseInt(*value, 1, &opts->wft_timeout_s);
    } else if (name == "--rpc-timeout") {
      int64_t secs = 0;
      ok = ParseInt(*value, 1, &secs);
      if (ok) rpc_deadline = std::chrono::seconds(secs);
    } else if (name == "--activities") {
      ok = ParseInt(*value, 1, &opts->activities);
    } else if (name == "--sticky") {
      ok = ParseInt(*value, 0, &opts->sticky) && opts->sticky <= 1;
    } else if (name == "--open-workflows") {
      ok = ParseInt(*value, 0, &opts->open_workflows);
    } else if (name == "--server-pid") {
      ok = ParseInt(*value, 1, &opts->server_pid);
    } else {
      std::fprintf(stderr, "unknown flag: %.*s\n", static_cast<int>(name.size()), name.data());
      return false;
    }
    if (!ok || opts->address.empty() || opts->ns.empty()) {
      std::fprintf(stderr, "bad value for %.*s: '%.*s'\n", static_cast<int>(name.size()),
                   name.data(), static_cast<int>(value->size()), value->data());
      return false;
    }
  }
  if (opts->starters == 0) opts->starters = std::min<int64_t>(opts->concurrency, 8);
  return true;
}

std::string Identity() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::to_string(getpid()) + "@" + host + "@workflow_bench";
}

const char* StatusCodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED"};
  const auto i = static_cast<std::size_t>(code);
  return i < std::size(kNames) ? kNames[i] : "?";
}

// Counts every unexpected failure and keeps the first few messages for the report.
class ErrorLog {
 public:
  // Returns the number of errors so far, this one included.
  int64_t Record(std::string message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (first_.size() < kMaxErrorsKept) first_.push_back(std::move(message));
    return ++count_;
  }
  int64_t Record(std::string_view rpc, const grpc::Status& status) {
    return Record(std::string(rpc) + ": " + StatusCodeName(status.error_code()) + " (" +
           std::to_string(static_cast<int>(status.error_code())) +
           "): " + status.error_message());
  }
  int64_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }
  std::vector<std::string> first() const {
    std::lock_guard<std::mutex> lock(mu_);
    return first_;
  }

 private:
  mutable std::mutex mu_;
  int64_t count_ = 0;
  std::vector<std::string> first_;
};

// Nearest-rank percentile of a sorted sample.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Resident set size of a process in bytes (0 if unreadable).
int64_t RssBytes(int64_t pid) {
  if (pid <= 0) return 0;
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!f) return 0;
  char line[256];
  long long kb = 0;
  while (std::fgets(line, sizeof(line), f)) {
    if (std::sscanf(line, "VmRSS: %lld kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb * 1024;
}

// gRPC deadlines take system_clock time points only.
std::chrono::system_clock::time_point Deadline(std::chrono::seconds timeout) {
  return std::chrono::system_clock::now() + timeout;
}

class Bench {
 public:
  explicit Bench(Options opts)
      : opts_(std::move(opts)), identity_(Identity()), slots_(opts_.concurrency) {}

  int Run();

 private:
  // What a run measured besides the latencies, for its report.
  struct RunOutcome {
    int64_t rss_start = 0;
    int64_t rss_open = 0;
    double open_s = 0;
    bool aborted = false;
    bool timed_out = false;
    double run_s = 0;
  };
  bool Connect();
  int Report(const RunOutcome& run);  // with mu_ held

  struct InFlight {
    Clock::time_point start;
    bool measured;
  };

  Stub* StubFor(int64_t thread_index) { return stubs_[thread_index % stubs_.size()].get(); }
  void SetTaskQueue(temporal::api::taskqueue::v1::TaskQueue* tq) const {
    tq->set_name(opts_.task_queue);
    tq->set_kind(enums::TASK_QUEUE_KIND_NORMAL);
  }
  std::string StickyQueue() const { return opts_.task_queue + "-sticky-" + identity_; }
  void SetStickyQueue(temporal::api::taskqueue::v1::TaskQueue* tq) const {
    tq->set_name(StickyQueue());
    tq->set_kind(enums::TASK_QUEUE_KIND_STICKY);
    tq->set_normal_name(opts_.task_queue);
  }
  // Opens opts_.open_workflows idle workflows (each waits on a 24 h timer). Returns false on errors.
  bool OpenIdleWorkflows();

  void StarterLoop(Stub* stub);
  void WorkflowPollerLoop(Stub* stub, bool sticky);
  void ActivityPollerLoop(Stub* stub);
  void HandleWorkflowTask(Stub* stub, const wfs::PollWorkflowTaskQueueResponse& task);
  void CompleteActivityTask(Stub* stub, const wfs::PollActivityTaskQueueResponse& task);
  void OnWorkflowFinished(const std::string& workflow_id, bool completed);

  // Long polls register their context so Shutdown() can cancel them. Returns false once stopping.
  bool RegisterPoll(grpc::ClientContext* ctx);
  void UnregisterPoll(grpc::ClientContext* ctx);
  void Shutdown();
  bool stopping() const { return stop_.load(std::memory_order_acquire); }
  template <typename... Args>
  void Error(Args&&... args) {
    if (errors_.Record(std::forward<Args>(args)...) == kAbortAfterErrors) {
      std::lock_guard<std::mutex> lock(mu_);  // Wakes Run(), which then aborts.
      done_cv_.notify_all();
    }
  }

  const Options opts_;
  const std::string identity_;
  std::vector<std::unique_ptr<Stub>> stubs_;
  std::counting_semaphore<> slots_;  // Free workflow slots (concurrency limit).
  ErrorLog errors_;
  std::atomic<bool> stop_{false};

  std::mutex polls_mu_;
  std::unordered_set<grpc::ClientContext*> polls_;

  std::atomic<int64_t> workflow_tasks_{0};
  std::atomic<int64_t> activity_tasks_{0};
  std::atomic<int64_t> empty_polls_{0};

  // Guarded by mu_.
  std::mutex mu_;
  std::condition_variable done_cv_;
  Clock::time_point start_deadline_;  // Duration mode only.
  int64_t next_index_ = 0;            // Workflows claimed by starters.
  int64_t finished_ = 0;              // Completed, or failed to start.
  bool starting_done_ = false;
  std::unordered_map<std::string, InFlight> in_flight_;
  std::vector<double> latencies_ms_;  // Measured workflows only.
  std::optional<Clock::time_point> measure_begin_;
  Clock::time_point measure_end_;
};

bool Bench::RegisterPoll(grpc::ClientContext* ctx) {
  std::lock_guard<std::mutex> lock(polls_mu_);
  if (stopping()) return false;
  polls_.insert(ctx);
  return true;
}

void Bench::UnregisterPoll(grpc::ClientContext* ctx) {
  std::lock_guard<std::mutex> lock(polls_mu_);
  polls_.erase(ctx);
}

void Bench::Shutdown() {
  std::lock_guard<std::mutex> lock(polls_mu_);
  stop_.store(true, std::memory_order_release);
  for (grpc::ClientContext* ctx : polls_) ctx->TryCancel();
}

void Bench::StarterLoop(Stub* stub) {
  const bool by_duration = opts_.duration_s > 0;
  const int64_t total = opts_.warmup + opts_.workflows;
  while (!stopping()) {
    if (!slots_.try_acquire_for(std::chrono::milliseconds(100))) {
      std::lock_guard<std::mutex> lock(mu_);
      if (starting_done_) return;
      if (by_duration && Clock::now() >= start_deadline_) {
        starting_done_ = true;
        done_cv_.notify_all();
        return;
      }
      continue;
    }
    int64_t index;
    bool measured;
    std::string workflow_id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const auto now = Clock::now();
      if (!starting_done_ && by_duration && now >= start_deadline_) starting_done_ = true;
      if (starting_done_) {
        slots_.release();
        done_cv_.notify_all();
        return;
      }
      index = next_index_++;
      if (!by_duration && next_index_ == total) starting_done_ = true;
      measured = index >= opts_.warmup;
      if (measured && !measure_begin_) measure_begin_ = now;
      workflow_id = opts_.task_queue + "-wf-" + std::to_string(index);
      in_flight_[workflow_id] = InFlight{now, measured};
    }

    wfs::StartWorkflowExecutionRequest req;
    req.set_namespace_(opts_.ns);
    req.set_workflow_id(workflow_id);
    req.mutable_workflow_type()->set_name(kWorkflowType);
    SetTaskQueue(req.mutable_task_queue());
    req.mutable_workflow_task_timeout()->set_seconds(opts_.wft_timeout_s);
    req.set_identity(identity_);
    req.set_request_id(workflow_id + "-start");
    req.set_request_eager_execution(opts_.eager_start == 1);
    wfs::StartWorkflowExecutionResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(rpc_deadline));
    TL_LATENCY_TRACE("c.start_send");
    grpc::Status status = stub->StartWorkflowExecution(&ctx, req, &resp);
    TL_LATENCY_TRACE("c.start_ret");
    if (!status.ok()) {
      Error("StartWorkflowExecution " + workflow_id, status);
      OnWorkflowFinished(workflow_id, /*completed=*/false);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } else if (!resp.eager_workflow_task().task_token().empty()) {
      workflow_tasks_.fetch_add(1, std::memory_order_relaxed);
      HandleWorkflowTask(stub, resp.eager_workflow_task());
    }
  }
}

void Bench::OnWorkflowFinished(const std::string& workflow_id, bool completed) {
  const auto now = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = in_flight_.find(workflow_id);
    if (it == in_flight_.end()) return;  // Duplicate delivery, or not ours.
    if (completed && it->second.measured) {
      latencies_ms_.push_back(Ms(now - it->second.start));
      measure_end_ = now;
    }
    in_flight_.erase(it);
    ++finished_;
  }
  done_cv_.notify_all();
  slots_.release();
}

void Bench::WorkflowPollerLoop(Stub* stub, bool sticky) {
  wfs::PollWorkflowTaskQueueRequest req;
  req.set_namespace_(opts_.ns);
  if (sticky) {
    SetStickyQueue(req.mutable_task_queue());
  } else {
    SetTaskQueue(req.mutable_task_queue());
  }
  req.set_identity(identity_);
  while (!stopping()) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(kPollDeadline));
    if (!RegisterPoll(&ctx)) break;
    wfs::PollWorkflowTaskQueueResponse resp;
    TL_LATENCY_TRACE("c.wftpoll_send");
    grpc::Status status = stub->PollWorkflowTaskQueue(&ctx, req, &resp);
    TL_LATENCY_TRACE("c.wftpoll_ret");
    UnregisterPoll(&ctx);
    if (!status.ok()) {
      if (stopping()) break;
      if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) continue;
      Error("PollWorkflowTaskQueue", status);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (resp.task_token().empty()) {
      empty_polls_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    workflow_tasks_.fetch_add(1, std::memory_order_relaxed);
    HandleWorkflowTask(stub, resp);
  }
}

// Decides from the events delivered (the full history, or on the sticky queue the new ones, which
// include the last ActivityTaskScheduled): activity k is the highest activity id scheduled. None
// -> schedule activity 1; activity k completed -> schedule k+1, or complete the workflow after
// the last one; otherwise (activity still running) no commands.
void Bench::HandleWorkflowTask(Stub* stub, const wfs::PollWorkflowTaskQueueResponse& task) {
  const std::string& workflow_id = task.workflow_execution().workflow_id();
  int64_t last_k = 0;
  int64_t last_scheduled_id = 0;
  std::unordered_set<int64_t> completed_ids;
  bool activity_failed = false;
  auto scan = [&](const temporal::api::history::v1::History& history) {
    for (const auto& event : history.events()) {
      switch (event.event_type()) {
        case enums::EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
          int64_t k = std::atoll(event.activity_task_scheduled_event_attributes().activity_id().c_str());
          if (k > last_k) last_k = k, last_scheduled_id = event.event_id();
          break;
        }
        case enums::EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
          completed_ids.insert(event.activity_task_completed_event_attributes().scheduled_event_id());
          break;
        case enums::EVENT_TYPE_ACTIVITY_TASK_FAILED:
        case enums::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        case enums::EVENT_TYPE_ACTIVITY_TASK_CANCELED: activity_failed = true; break;
        default: break;
      }
    }
  };
  scan(task.history());
  std::string page_token = task.next_page_token();
  while (!page_token.empty()) {  // Large histories come paged; never expected here.
    wfs::GetWorkflowExecutionHistoryRequest hreq;
    hreq.set_namespace_(opts_.ns);
    *hreq.mutable_execution() = task.workflow_execution();
    hreq.set_next_page_token(page_token);
    wfs::GetWorkflowExecutionHistoryResponse hresp;
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(rpc_deadline));
    grpc::Status status = stub->GetWorkflowExecutionHistory(&ctx, hreq, &hresp);
    if (!status.ok()) {
      Error("GetWorkflowExecutionHistory " + workflow_id, status);
      return;  // The workflow task times out and is retried by the server.
    }
    scan(hresp.history());
    page_token = hresp.next_page_token();
  }

  wfs::RespondWorkflowTaskCompletedRequest req;
  req.set_task_token(task.task_token());
  req.set_identity(identity_);
  req.set_namespace_(opts_.ns);
  bool closes = false;
  const bool completed = last_k > 0 && completed_ids.count(last_scheduled_id) > 0;
  const bool scheduled = last_k > 0;
  if ((completed && last_k >= opts_.activities) || activity_failed) {
    if (activity_failed) Error("activity of " + workflow_id + " failed or timed out");
    auto* cmd = req.add_commands();
    cmd->set_command_type(enums::COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION);
    cmd->mutable_complete_workflow_execution_command_attributes();
    closes = true;
  } else if (!scheduled || completed) {
    auto* cmd = req.add_commands();
    cmd->set_command_type(enums::COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK);
    auto* attrs = cmd->mutable_schedule_activity_task_command_attributes();
    attrs->set_activity_id(std::to_string(last_k + 1));
    attrs->mutable_activity_type()->set_name(kActivityType);
    SetTaskQueue(attrs->mutable_task_queue());
    attrs->mutable_start_to_close_timeout()->set_seconds(10);
    attrs->set_request_eager_execution(opts_.eager_activities == 1);
  }
  if (opts_.sticky && !closes) {
    SetStickyQueue(req.mutable_sticky_attributes()->mutable_worker_task_queue());
    req.mutable_sticky_attributes()->mutable_schedule_to_start_timeout()->set_seconds(10);
  }
  wfs::RespondWorkflowTaskCompletedResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(rpc_deadline));
  TL_LATENCY_TRACE("c.rwft_send");
  grpc::Status status = stub->RespondWorkflowTaskCompleted(&ctx, req, &resp);
  TL_LATENCY_TRACE("c.rwft_ret");
  if (!status.ok()) {
    Error("RespondWorkflowTaskCompleted " + workflow_id, status);
    return;
  }
  if (closes) OnWorkflowFinished(workflow_id, /*completed=*/true);
  for (const auto& activity : resp.activity_tasks()) {  // eager activities
    activity_tasks_.fetch_add(1, std::memory_order_relaxed);
    CompleteActivityTask(stub, activity);
  }
}

void Bench::CompleteActivityTask(Stub* stub, const wfs::PollActivityTaskQueueResponse& task) {
  wfs::RespondActivityTaskCompletedRequest done;
  done.set_task_token(task.task_token());
  done.set_identity(identity_);
  done.set_namespace_(opts_.ns);
  wfs::RespondActivityTaskCompletedResponse done_resp;
  grpc::ClientContext done_ctx;
  done_ctx.set_deadline(Deadline(rpc_deadline));
  TL_LATENCY_TRACE("c.ract_send");
  grpc::Status status = stub->RespondActivityTaskCompleted(&done_ctx, done, &done_resp);
  TL_LATENCY_TRACE("c.ract_ret");
  if (!status.ok()) {
    Error("RespondActivityTaskCompleted " + task.workflow_execution().workflow_id(), status);
  }
}

void Bench::ActivityPollerLoop(Stub* stub) {
  wfs::PollActivityTaskQueueRequest req;
  req.set_namespace_(opts_.ns);
  SetTaskQueue(req.mutable_task_queue());
  req.set_identity(identity_);
  while (!stopping()) {
    grpc::ClientContext ctx;
    ctx.set_deadline(Deadline(kPollDeadline));
    if (!RegisterPoll(&ctx)) break;
    wfs::PollActivityTaskQueueResponse resp;
    TL_LATENCY_TRACE("c.actpoll_send");
    grpc::Status status = stub->PollActivityTaskQueue(&ctx, req, &resp);
    TL_LATENCY_TRACE("c.actpoll_ret");
    UnregisterPoll(&ctx);
    if (!status.ok()) {
      if (stopping()) break;
      if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) continue;
      Error("PollActivityTaskQueue", status);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (resp.task_token().empty()) {
      empty_polls_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    activity_tasks_.fetch_add(1, std::memory_order_relaxed);
    CompleteActivityTask(stub, resp);
  }
}

bool Bench::OpenIdleWorkflows() {
  const std::string queue = opts_.task_queue + "-idle";
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> timers_started{0};
  std::atomic<bool> done{false};
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(opts_.timeout_s));
  auto starter = [&](Stub* stub) {
    for (int64_t i = next++; i < opts_.open_workflows && errors_.count() < kAbortAfterErrors; i = next++) {
      wfs::StartWorkflowExecutionRequest req;
      req.set_namespace_(opts_.ns);
      req.set_workflow_id(queue + "-wf-" + std::to_string(i));
      req.mutable_workflow_type()->set_name("workflow_bench_idle_timer");
      req.mutable_task_queue()->set_name(queue);
      req.mutable_workflow_task_timeout()->set_seconds(opts_.wft_timeout_s);
      req.set_identity(identity_);
      req.set_request_id(req.workflow_id() + "-start");
      wfs::StartWorkflowExecutionResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(Deadline(rpc_deadline));
      grpc::Status status = stub->StartWorkflowExecution(&ctx, req, &resp);
      if (!status.ok()) Error("StartWorkflowExecution " + req.workflow_id(), status);
    }
  };
  auto poller = [&](Stub* stub) {
    wfs::PollWorkflowTaskQueueRequest req;
    req.set_namespace_(opts_.ns);
    req.mutable_task_queue()->set_name(queue);
    req.set_identity(identity_);
    while (!done.load() && errors_.count() < kAbortAfterErrors && Clock::now() < deadline) {
      grpc::ClientContext ctx;
      ctx.set_deadline(Deadline(std::chrono::seconds(2)));
      wfs::PollWorkflowTaskQueueResponse task;
      grpc::Status status = stub->PollWorkflowTaskQueue(&ctx, req, &task);
      if (!status.ok() && status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
        Error("PollWorkflowTaskQueue " + queue, status);
      }
      if (!status.ok() || task.task_token().empty()) continue;
      wfs::RespondWorkflowTaskCompletedRequest done_req;
      done_req.set_task_token(task.task_token());
      done_req.set_identity(identity_);
      done_req.set_namespace_(opts_.ns);
      auto* cmd = done_req.add_commands();
      cmd->set_command_type(enums::COMMAND_TYPE_START_TIMER);
      cmd->mutable_start_timer_command_attributes()->set_timer_id("idle");
      cmd->mutable_start_timer_command_attributes()->mutable_start_to_fire_timeout()->set_seconds(24 * 3600);
      wfs::RespondWorkflowTaskCompletedResponse resp;
      grpc::ClientContext rctx;
      rctx.set_deadline(Deadline(rpc_deadline));
      status = stub->RespondWorkflowTaskCompleted(&rctx, done_req, &resp);
      if (!status.ok()) {
        Error("RespondWorkflowTaskCompleted " + task.workflow_execution().workflow_id(), status);
      } else if (++timers_started == opts_.open_workflows) {
        done.store(true);
      }
    }
  };
  std::vector<std::thread> threads;
  int64_t thread_index = 0;
  for (int64_t i = 0; i < opts_.wft_pollers; ++i) threads.emplace_back(poller, StubFor(thread_index++));
  for (int64_t i = 0; i < opts_.starters; ++i) threads.emplace_back(starter, StubFor(thread_index++));
  for (auto& t : threads) t.join();
  return timers_started.load() == opts_.open_workflows && errors_.count() == 0;
}

// One channel (its own TCP connection) per `channels`, each connected before the run.
bool Bench::Connect() {
  for (int64_t i = 0; i < opts_.channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 15'000);
    // Separate subchannel pool + a distinguishing arg: each channel gets its own TCP connection
    // instead of gRPC's global pool collapsing identical channels onto one.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("temporalite.workflow_bench.channel", static_cast<int>(i));
    args.SetMaxReceiveMessageSize(128 << 20);
    auto channel =
        grpc::CreateCustomChannel(opts_.address, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(Deadline(std::chrono::seconds(10)))) {
      std::fprintf(stderr, "error: cannot connect to %s\n", opts_.address.c_str());
      return false;
    }
    stubs_.push_back(wfs::WorkflowService::NewStub(channel));
  }
  return true;
}

int Bench::Run() {
  if (!Connect()) return 1;
  RunOutcome run;
  run.rss_start = RssBytes(opts_.server_pid);
  if (opts_.open_workflows > 0) {
    const auto open_start = Clock::now();
    if (!OpenIdleWorkflows()) {
      std::printf("status: FAILED opening idle workflows\n");
      for (const std::string& e : errors_.first()) std::printf("  error: %s\n", e.c_str());
      return 1;
    }
    run.open_s = Ms(Clock::now() - open_start) / 1000.0;
    run.rss_open = RssBytes(opts_.server_pid);
  }

  const auto run_start = Clock::now();
  const auto run_deadline =
      run_start + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(opts_.timeout_s));
  if (opts_.duration_s > 0) {
    start_deadline_ = run_start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(opts_.duration_s));
  }

  std::vector<std::thread> threads;
  int64_t thread_index = 0;
  for (int64_t i = 0; i < opts_.wft_pollers; ++i) {
    threads.emplace_back(&Bench::WorkflowPollerLoop, this, StubFor(thread_index++), false);
    if (opts_.sticky) threads.emplace_back(&Bench::WorkflowPollerLoop, this, StubFor(thread_index++), true);
  }
  for (int64_t i = 0; i < opts_.activity_pollers; ++i) {
    threads.emplace_back(&Bench::ActivityPollerLoop, this, StubFor(thread_index++));
  }
  for (int64_t i = 0; i < opts_.starters; ++i) {
    threads.emplace_back(&Bench::StarterLoop, this, StubFor(thread_index++));
  }

  {
    std::unique_lock<std::mutex> lock(mu_);
    run.timed_out = !done_cv_.wait_until(lock, run_deadline, [&] {
      return (starting_done_ && finished_ == next_index_) ||
             errors_.count() >= kAbortAfterErrors;
    });
  }
  run.aborted = errors_.count() >= kAbortAfterErrors;
  run.run_s = Ms(Clock::now() - run_start) / 1000.0;
  Shutdown();
  for (auto& t : threads) t.join();

  std::lock_guard<std::mutex> lock(mu_);
  return Report(run);
}

// Prints the figures (one "name: value" line each, read by the bench scripts); 0 when every
// workflow finished without an error.
int Bench::Report(const RunOutcome& run) {
  std::vector<double> sorted = latencies_ms_;
  std::sort(sorted.begin(), sorted.end());
  const int64_t measured_done = static_cast<int64_t>(sorted.size());
  const double elapsed_s =
      measure_begin_ && measured_done > 0 ? Ms(measure_end_ - *measure_begin_) / 1000.0 : 0.0;
  double mean = 0;
  for (double v : sorted) mean += v;
  if (!sorted.empty()) mean /= static_cast<double>(sorted.size());

  std::printf("scenario: %s\n", kScenario);
  std::printf("address: %s  namespace: %s  task_queue: %s\n", opts_.address.c_str(),
              opts_.ns.c_str(), opts_.task_queue.c_str());
  std::printf("workers: wft_pollers=%lld activity_pollers=%lld starters=%lld channels=%lld\n",
              static_cast<long long>(opts_.wft_pollers),
              static_cast<long long>(opts_.activity_pollers),
              static_cast<long long>(opts_.starters), static_cast<long long>(opts_.channels));
  std::printf("eager: activities=%lld start=%lld\n", static_cast<long long>(opts_.eager_activities),
              static_cast<long long>(opts_.eager_start));
  std::printf("concurrency: %lld  workflows: %lld  warmup: %lld  elapsed_s: %.2f\n",
              static_cast<long long>(opts_.concurrency), static_cast<long long>(measured_done),
              static_cast<long long>(std::min(opts_.warmup, next_index_)), elapsed_s);
  std::printf("throughput_wf_per_s: %.1f\n",
              elapsed_s > 0 ? static_cast<double>(measured_done) / elapsed_s : 0.0);
  std::printf("start_to_close_ms: p50=%.1f p90=%.1f p99=%.1f max=%.1f mean=%.1f\n",
              Percentile(sorted, 50), Percentile(sorted, 90), Percentile(sorted, 99),
              sorted.empty() ? 0.0 : sorted.back(), mean);
  std::printf("tasks: workflow=%lld activity=%lld empty_polls=%lld\n",
              static_cast<long long>(workflow_tasks_.load()),
              static_cast<long long>(activity_tasks_.load()),
              static_cast<long long>(empty_polls_.load()));
  if (opts_.activities > 1 || opts_.sticky) {
    std::printf("steps: activities_per_workflow=%lld sticky=%lld step_ms_mean=%.3f\n",
                static_cast<long long>(opts_.activities), static_cast<long long>(opts_.sticky),
                mean / static_cast<double>(opts_.activities));
  }
  if (opts_.open_workflows > 0) {
    std::printf("open_workflows: %lld opened_in_s=%.2f (%.0f/s)\n", static_cast<long long>(opts_.open_workflows),
                run.open_s, run.open_s > 0 ? static_cast<double>(opts_.open_workflows) / run.open_s : 0.0);
  }
  if (opts_.server_pid > 0) {
    const int64_t rss_end = RssBytes(opts_.server_pid);
    std::printf("server_rss_mb: start=%.1f after_open=%.1f end=%.1f\n", run.rss_start / 1048576.0,
                run.rss_open / 1048576.0, rss_end / 1048576.0);
    if (opts_.open_workflows > 0) {
      std::printf("server_rss_bytes_per_open_workflow: %.0f\n",
                  static_cast<double>(run.rss_open - run.rss_start) / static_cast<double>(opts_.open_workflows));
    }
  }
  std::printf("errors: %lld\n", static_cast<long long>(errors_.count()));
  for (const std::string& e : errors_.first()) std::printf("  error: %s\n", e.c_str());
  bool ok = errors_.count() == 0;
  if (run.aborted) {
    std::printf("status: ABORTED after %lld errors (%lld of %lld started workflows finished)\n",
                static_cast<long long>(errors_.count()), static_cast<long long>(finished_),
                static_cast<long long>(next_index_));
    ok = false;
  } else if (run.timed_out) {
    std::printf("status: TIMEOUT after %.1f s (%lld of %lld started workflows finished)\n",
                run.run_s, static_cast<long long>(finished_),
                static_cast<long long>(next_index_));
    ok = false;
  } else {
    std::printf("status: %s\n", ok ? "ok" : "FAILED");
  }
  std::fflush(stdout);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opts;
  if (!ParseOptions(argc, argv, &opts)) {
    PrintUsage(argv[0]);
    return 2;
  }
  if (opts.task_queue.empty()) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    opts.task_queue = "workflow-bench-" + std::to_string(getpid()) + "-" +
                      std::to_string(
                          std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  }
  Bench bench(std::move(opts));
  return bench.Run();
}
