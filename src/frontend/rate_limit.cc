#include "frontend/rate_limit.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/server_context.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>
#include <unordered_map>

#include "auth/call_gate.h"
#include "frontend/grpc_status.h"
#include "history/errors.h"
#include "temporal/api/enums/v1/failed_cause.pb.h"

namespace temporalite::frontend {
namespace {

namespace enums = ::temporal::api::enums::v1;
namespace pb = google::protobuf;
using grpc::experimental::InterceptionHookPoints;

constexpr std::string_view kWorkflowService = "/temporal.api.workflowservice.v1.WorkflowService/";
// Temporal's name for GetWorkflowExecutionHistory with wait_new_event (a long poll).
constexpr std::string_view kPollWorkflowHistory = "PollWorkflowExecutionHistory";

// Temporal's frontend priorities (service/frontend/configs/quotas.go, APIToPriority), by
// WorkflowService method; -1: in none of its tables (not limited there either).
int ExecutionPriority(std::string_view m) {
  static const std::map<std::string_view, int> kPriorities = {
      // P0: namespace and cluster reads
      {"GetClusterInfo", 0}, {"GetSystemInfo", 0}, {"GetSearchAttributes", 0}, {"DescribeNamespace", 0},
      {"ListNamespaces", 0}, {"DeprecateNamespace", 0},
      // P1: external events, and progress (heartbeats and task completions: refusing them only
      // makes the tasks run again)
      {"SignalWorkflowExecution", 1}, {"SignalWithStartWorkflowExecution", 1}, {"StartWorkflowExecution", 1},
      {"UpdateWorkflowExecution", 1}, {"ExecuteMultiOperation", 1}, {"CreateSchedule", 1}, {"StartBatchOperation", 1},
      {"StartActivityExecution", 1}, {"RecordActivityTaskHeartbeat", 1}, {"RecordActivityTaskHeartbeatById", 1},
      {"RespondActivityTaskCompleted", 1}, {"RespondActivityTaskCompletedById", 1}, {"RespondWorkflowTaskCompleted", 1},
      {"RespondQueryTaskCompleted", 1}, {"RespondNexusTaskCompleted", 1},
      // P2: state changes (and history, which replay needs)
      {"RequestCancelWorkflowExecution", 2}, {"TerminateWorkflowExecution", 2}, {"ResetWorkflowExecution", 2},
      {"DeleteWorkflowExecution", 2}, {"GetWorkflowExecutionHistory", 2}, {"UpdateSchedule", 2}, {"PatchSchedule", 2},
      {"DeleteSchedule", 2}, {"StopBatchOperation", 2}, {"UpdateActivityOptions", 2}, {"PauseActivity", 2},
      {"UnpauseActivity", 2}, {"ResetActivity", 2}, {"UpdateWorkflowExecutionOptions", 2},
      {"SetCurrentDeployment", 2}, {"SetCurrentDeploymentVersion", 2}, {"CreateWorkerDeployment", 2},
      {"CreateWorkerDeploymentVersion", 2}, {"SetWorkerDeploymentManager", 2}, {"DeleteWorkerDeployment", 2},
      {"UpdateWorkerDeploymentVersionMetadata", 2}, {"CreateWorkflowRule", 2}, {"DescribeWorkflowRule", 2},
      {"DeleteWorkflowRule", 2}, {"ListWorkflowRules", 2}, {"TriggerWorkflowRule", 2},
      {"PauseWorkflowExecution", 2}, {"UnpauseWorkflowExecution", 2},
      // P3: status queries, and progress reports of cancellations and failures (those tasks run again anyway)
      {"DescribeWorkflowExecution", 3}, {"DescribeTaskQueue", 3}, {"GetWorkerBuildIdCompatibility", 3},
      {"GetWorkerVersioningRules", 3}, {"ListTaskQueuePartitions", 3}, {"QueryWorkflow", 3}, {"DescribeSchedule", 3},
      {"ListScheduleMatchingTimes", 3}, {"DescribeBatchOperation", 3}, {"DescribeDeployment", 3},
      {"GetCurrentDeployment", 3}, {"DescribeWorkerDeploymentVersion", 3}, {"DescribeWorkerDeployment", 3},
      {"ListWorkers", 3}, {"DescribeWorker", 3}, {"CountWorkers", 3},
      {"RespondActivityTaskCanceled", 3}, {"RespondActivityTaskCanceledById", 3}, {"RespondActivityTaskFailed", 3},
      {"RespondActivityTaskFailedById", 3}, {"RespondWorkflowTaskFailed", 3}, {"RespondNexusTaskFailed", 3},
      // P4: polls and other low-priority calls
      {"PollWorkflowTaskQueue", 4}, {"PollActivityTaskQueue", 4}, {"PollWorkflowExecutionUpdate", 4},
      {"PollNexusTaskQueue", 4}, {"ResetStickyTaskQueue", 4}, {"ShutdownWorker", 4},
      {"GetWorkflowExecutionHistoryReverse", 4}, {"RecordWorkerHeartbeat", 4}, {"FetchWorkerConfig", 4},
      {"UpdateWorkerConfig", 4},
      // P5: the history long poll (GetWorkflowExecutionHistory with wait_new_event, under
      // Temporal's name for it), below the task polls so that its spikes never hold them back
      {kPollWorkflowHistory, 5},
  };
  auto it = kPriorities.find(m);
  return it == kPriorities.end() ? -1 : it->second;
}

// Temporal's visibility APIs (VisibilityAPIToPriority): charged to frontend.namespaceRPS.visibility, priority 1.
bool IsVisibility(std::string_view m) {
  static const std::set<std::string_view> kVisibility = {
      "CountWorkflowExecutions", "ScanWorkflowExecutions", "ListOpenWorkflowExecutions",
      "ListClosedWorkflowExecutions", "ListWorkflowExecutions", "ListArchivedWorkflowExecutions",
      "CountActivityExecutions", "ListActivityExecutions", "GetWorkerTaskReachability", "ListSchedules",
      "CountSchedules", "ListBatchOperations", "ListDeployments", "GetDeploymentReachability",
      "ListWorkerDeployments"};
  return kVisibility.count(m) > 0;
}

// Temporal's namespace-replication-inducing APIs and their priorities (a bucket of their own).
int NamespaceReplicationPriority(std::string_view m) {
  if (m == "RegisterNamespace" || m == "UpdateNamespace") return 1;
  if (m == "UpdateWorkerBuildIdCompatibility" || m == "UpdateWorkerVersioningRules" ||
      m == "SetWorkerDeploymentCurrentVersion" || m == "SetWorkerDeploymentRampingVersion" ||
      m == "DeleteWorkerDeploymentVersion" || m == "UpdateTaskQueueConfig") {
    return 2;
  }
  return -1;
}
constexpr int kReplicationPriorities = 3;
constexpr int kVisibilityPriorities = 2;

// GetSystemInfo (what SDKs call first, answered from memory) stays open, as for API keys;
// OperatorService calls are in none of Temporal's priority tables, which do not limit them.
bool Limited(std::string_view full_method) {
  if (full_method == "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo") return false;
  return full_method.rfind("/temporal.api.workflowservice.v1.WorkflowService/", 0) == 0;
}

std::string Namespace(const pb::Message& m) {
  const pb::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName("namespace");
  if (f == nullptr || f->is_repeated() || f->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING) return "";
  return m.GetReflection()->GetString(m, f);
}

// Polls waiting for their reserved token (PollDelay), by call; the interceptor forgets its call
// when the call ends.
std::mutex poll_delays_mu;
std::unordered_map<const grpc::ServerContextBase*, Duration> poll_delays;

TimePoint DeadlineOf(const grpc::ServerContextBase* ctx) {
  const auto d = ctx->deadline();
  if (d == std::chrono::system_clock::time_point::max()) return TimePoint::max();
  return std::chrono::time_point_cast<Duration>(d);
}

class RateLimitInterceptor final : public grpc::experimental::Interceptor {
 public:
  RateLimitInterceptor(grpc::experimental::ServerRpcInfo* info, RateLimiter* limiter)
      : info_(info), limiter_(limiter) {}
  ~RateLimitInterceptor() override {
    if (counted_) limiter_->EndPoll(ns_, method_);
    // A waiting poll that ends before its token comes due (the caller cancelled) gives it back.
    if (reservation_.reserved) limiter_->CancelReservation(reservation_);
    // The gate is keyed by the call's context, which gRPC reuses for later calls.
    if (denied_) auth::ForgetCall(info_->server_context());
    if (delayed_) {
      std::lock_guard<std::mutex> l(poll_delays_mu);
      poll_delays.erase(info_->server_context());
    }
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      if (auto* md = methods->GetRecvInitialMetadata()) {
        auto it = md->find("caller-type");
        operator_ = it != md->end() && IsOperatorCallerType(std::string_view(it->second.data(), it->second.size()));
      }
    }
    // The count ends before the answer leaves (as Temporal's interceptor's deferred release), so
    // a caller's next poll, sent on the answer, never finds its own ended poll still counted.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) && counted_) {
      counted_ = false;
      limiter_->EndPoll(ns_, method_);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // nullptr when decoding failed (request_decoding.h answers those); a call the auth
      // interceptor already refused keeps its answer.
      void* raw = methods->GetRecvMessage();
      if (raw != nullptr && !auth::CallDenial(info_->server_context())) Admit(*static_cast<const pb::Message*>(raw));
    }
    methods->Proceed();
  }

 private:
  void Admit(const pb::Message& request) {
    ns_ = Namespace(request);
    method_ = RateLimitMethod(info_->method(), request);
    const bool long_running = IsLongRunning(method_);
    Status s = long_running ? limiter_->BeginPoll(ns_, method_, operator_, DeadlineOf(info_->server_context()), &reservation_)
                            : limiter_->Admit(ns_, method_, operator_);
    if (!s.ok()) {
      denied_ = true;
      auth::DenyCall(info_->server_context(), ToGrpc(s));
      return;
    }
    counted_ = long_running;
    if (reservation_.delay > Duration::zero()) {
      delayed_ = true;
      std::lock_guard<std::mutex> l(poll_delays_mu);
      poll_delays[info_->server_context()] = reservation_.delay;
    }
  }

  grpc::experimental::ServerRpcInfo* info_;
  RateLimiter* limiter_;
  std::string method_;  // as charged (RateLimitMethod) and counted
  PollReservation reservation_;
  bool counted_ = false;
  bool denied_ = false;
  bool delayed_ = false;
  bool operator_ = false;
  std::string ns_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(RateLimiter* limiter) : limiter_(limiter) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    if (!Limited(info->method())) return nullptr;
    return new RateLimitInterceptor(info, limiter_);
  }

 private:
  RateLimiter* limiter_;
};

}  // namespace

std::vector<std::string> RateLimitConfigKeys() {
  return {"frontend.rps",
          "frontend.namespaceRPS",
          "frontend.namespaceBurstRatio",
          "frontend.namespaceRPS.visibility",
          "frontend.namespaceBurstRatio.visibility",
          "frontend.namespaceRPS.namespaceReplicationInducingAPIs",
          "frontend.namespaceBurstRatio.namespaceReplicationInducingAPIs",
          "frontend.rps.namespaceReplicationInducingAPIs",
          "system.operatorRPSRatio",
          "system.pollWaitForNamespaceRateLimitToken",
          "frontend.namespaceCount",
          "frontend.globalRPS",
          "frontend.globalNamespaceRPS",
          "frontend.globalNamespaceRPS.visibility",
          "frontend.globalNamespaceRPS.namespaceReplicationInducingAPIs",
          "frontend.globalNamespaceCount"};
}

namespace {
constexpr std::string_view kPollWaitKey = "system.pollWaitForNamespaceRateLimitToken";

// system.pollWaitForNamespaceRateLimitToken[@NAMESPACE]=true|false (Temporal's namespace-filtered
// setting: with @NAMESPACE it applies to that namespace only, over the plain key).
Status ApplyPollWait(const std::string& key, const std::string& value, RateLimitOptions* options) {
  if (value != "true" && value != "false") {
    return Status(Code::kInvalidArgument, "dynamic config " + key + ": \"" + value + "\" is not true or false");
  }
  if (key.size() == kPollWaitKey.size()) {
    options->poll_wait_for_token = value == "true";
    return Status::Ok();
  }
  const std::string ns = key.substr(kPollWaitKey.size() + 1);
  if (ns.empty()) return Status(Code::kInvalidArgument, "dynamic config " + key + ": no namespace after @");
  options->poll_wait_for_token_by_namespace[ns] = value == "true";
  return Status::Ok();
}
}  // namespace

Status ApplyRateLimitConfigValue(const std::string& key_value, RateLimitOptions* options) {
  const size_t eq = key_value.find('=');
  const std::string key = key_value.substr(0, eq);
  double* target = nullptr;
  if (key == "frontend.rps") target = &options->service_rps;
  if (key == "frontend.namespaceRPS") target = &options->namespace_rps;
  if (key == "frontend.namespaceBurstRatio") target = &options->namespace_burst_ratio;
  if (key == "frontend.namespaceRPS.visibility") target = &options->namespace_visibility_rps;
  if (key == "frontend.namespaceBurstRatio.visibility") target = &options->namespace_visibility_burst_ratio;
  if (key == "frontend.namespaceRPS.namespaceReplicationInducingAPIs") target = &options->namespace_replication_rps;
  if (key == "frontend.namespaceBurstRatio.namespaceReplicationInducingAPIs") {
    target = &options->namespace_replication_burst_ratio;
  }
  if (key == "frontend.rps.namespaceReplicationInducingAPIs") target = &options->service_replication_rps;
  if (key == "system.operatorRPSRatio") target = &options->operator_rps_ratio;
  if (key == "frontend.globalRPS") target = &options->global_service_rps;
  if (key == "frontend.globalNamespaceRPS") target = &options->global_namespace_rps;
  if (key == "frontend.globalNamespaceRPS.visibility") target = &options->global_namespace_visibility_rps;
  if (key == "frontend.globalNamespaceRPS.namespaceReplicationInducingAPIs") {
    target = &options->global_namespace_replication_rps;
  }
  const bool global_count = key == "frontend.globalNamespaceCount";
  const bool count = key == "frontend.namespaceCount" || global_count;
  const std::string value = eq == std::string::npos ? "" : key_value.substr(eq + 1);
  if (key.rfind(kPollWaitKey, 0) == 0 && (key.size() == kPollWaitKey.size() || key[kPollWaitKey.size()] == '@')) {
    return ApplyPollWait(key, value, options);
  }
  if (target == nullptr && !count) return Status(Code::kNotFound, "not a rate-limit key: " + key);
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || errno == ERANGE || !(v >= 0) || (count && v != static_cast<double>(static_cast<int64_t>(v)))) {
    return Status(Code::kInvalidArgument, "dynamic config " + key + ": \"" + value + "\" is not a non-negative " +
                                              (count ? "integer" : "number"));
  }
  if (target == &options->operator_rps_ratio && !(v > 0 && v <= 1)) {
    return Status(Code::kInvalidArgument, "dynamic config " + key + ": \"" + value + "\" is not a ratio in (0, 1]");
  }
  if (count) {
    (global_count ? options->global_namespace_pollers : options->namespace_pollers) = static_cast<int64_t>(v);
  } else {
    *target = v;
  }
  return Status::Ok();
}

bool IsLongPoll(std::string_view full_method) {
  constexpr std::string_view kPrefix = "/temporal.api.workflowservice.v1.WorkflowService/";
  if (full_method.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view m = full_method.substr(kPrefix.size());
  return m == "PollWorkflowTaskQueue" || m == "PollActivityTaskQueue" || m == "PollNexusTaskQueue";
}

bool IsLongRunning(std::string_view rate_method) {
  if (rate_method.substr(0, kWorkflowService.size()) != kWorkflowService) return false;
  // Temporal's ExecutionAPICountLimitOverride (service/frontend/configs/quotas.go), for the
  // methods this server serves; the history long poll under its rate-limit name.
  static const std::set<std::string_view> kLongRunning = {
      "PollWorkflowTaskQueue", "PollActivityTaskQueue", "PollNexusTaskQueue", "PollWorkflowExecutionUpdate",
      "QueryWorkflow",         "UpdateWorkflowExecution", "ExecuteMultiOperation", kPollWorkflowHistory,
  };
  return kLongRunning.count(rate_method.substr(kWorkflowService.size())) > 0;
}

bool IsOperatorCallerType(std::string_view caller_type) { return caller_type == "operator"; }

std::string RateLimitMethod(std::string_view full_method, const pb::Message& request) {
  if (full_method == std::string(kWorkflowService) + "GetWorkflowExecutionHistory") {
    const pb::FieldDescriptor* f = request.GetDescriptor()->FindFieldByName("wait_new_event");
    if (f != nullptr && f->cpp_type() == pb::FieldDescriptor::CPPTYPE_BOOL && request.GetReflection()->GetBool(request, f)) {
      return std::string(kWorkflowService) + std::string(kPollWorkflowHistory);
    }
  }
  return std::string(full_method);
}

Duration PollDelay(const grpc::ServerContextBase* ctx) {
  std::lock_guard<std::mutex> l(poll_delays_mu);
  if (poll_delays.empty()) return Duration::zero();
  auto it = poll_delays.find(ctx);
  return it == poll_delays.end() ? Duration::zero() : it->second;
}

RateClass ClassifyForRate(std::string_view full_method, bool operator_caller) {
  if (!Limited(full_method)) return {false, RateBucket::kExecution, 0};
  std::string_view m = full_method.substr(kWorkflowService.size());
  RateClass c;
  if (IsVisibility(m)) {
    c = {true, RateBucket::kVisibility, 1};
  } else if (int p = NamespaceReplicationPriority(m); p >= 0) {
    c = {true, RateBucket::kNamespaceReplication, p};
  } else if (int p = ExecutionPriority(m); p >= 0) {
    c = {true, RateBucket::kExecution, p};
  } else {
    return {false, RateBucket::kExecution, 0};  // in none of Temporal's tables: not limited there
  }
  if (operator_caller) c.priority = kOperatorPriority;
  return c;
}

RateLimiter::RateLimiter(const Clock& clock, RateLimitOptions options) : clock_(clock), options_(options.Effective()) {}

void RateLimiter::Refill(Bucket& b, double rate, double burst, TimePoint now) {
  if (!b.used) {
    b.used = true;
    b.tokens = burst;
  } else if (now > b.last) {
    b.tokens = std::min(burst, b.tokens + std::chrono::duration<double>(now - b.last).count() * rate);
  }
  b.last = std::max(b.last, now);
}

double RateLimiter::RateAt(int priority, double rate) const {
  // Temporal's operator priority: the same burst, refilled at a share of the rate.
  return priority == kOperatorPriority ? rate * options_.operator_rps_ratio : rate;
}

TimePoint RateLimiter::Charge(Bucket& b, double rate, TimePoint now) {
  TimePoint due = now;
  if (b.tokens < 1 && rate > 0) {
    due = now + std::chrono::duration_cast<Duration>(std::chrono::duration<double>((1 - b.tokens) / rate));
  }
  b.tokens -= 1;
  b.last_due = std::max(b.last_due, due);
  return due;
}

bool RateLimiter::TakeAt(Buckets& buckets, int priorities, int priority, double rate, double burst, TimePoint now) const {
  burst = std::max(1.0, burst);
  Bucket& deciding = buckets[priority];
  Refill(deciding, RateAt(priority, rate), burst, now);
  if (deciding.tokens < 1) return false;
  Charge(deciding, RateAt(priority, rate), now);
  // Lower priorities pay for it too (Temporal reserves a token there, into debt if need be).
  for (int p = priority + 1; p < priorities; ++p) {
    Refill(buckets[p], RateAt(p, rate), burst, now);
    Charge(buckets[p], RateAt(p, rate), now);
  }
  return true;
}

bool RateLimiter::ReserveAt(Buckets& buckets, int priorities, int priority, double rate, double burst, TimePoint now,
                            TimePoint latest, PollReservation* reservation) const {
  burst = std::max(1.0, burst);
  Bucket& deciding = buckets[priority];
  Refill(deciding, RateAt(priority, rate), burst, now);
  const double r = RateAt(priority, rate);
  if (r <= 0 || latest <= now) return false;
  // When the token this call takes is refilled (later calls queue behind it: the bucket is in debt).
  const double seconds = std::max(0.0, (1 - deciding.tokens) / r);
  if (seconds >= std::chrono::duration<double>(latest - now).count()) return false;
  reservation->due = {};
  reservation->due[priority] = Charge(deciding, r, now);
  for (int p = priority + 1; p < priorities; ++p) {
    Refill(buckets[p], RateAt(p, rate), burst, now);
    reservation->due[p] = Charge(buckets[p], RateAt(p, rate), now);
  }
  reservation->reserved = true;
  reservation->priority = priority;
  reservation->priorities = priorities;
  reservation->delay = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
  return true;
}

void RateLimiter::GiveBack(Bucket& b, double rate, double burst, TimePoint due, TimePoint now) {
  if (due < now || rate <= 0) return;  // already acted on
  // Tokens reserved after this one keep their places: give back only what they leave.
  const double later = std::chrono::duration<double>(b.last_due - due).count() * rate;
  const double restore = 1 - later;
  if (restore <= 0) return;
  Refill(b, rate, burst, now);
  b.tokens = std::min(burst, b.tokens + restore);
  if (b.last_due == due) {
    const TimePoint previous = due - std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1 / rate));
    if (previous >= now) b.last_due = previous;
  }
}

RateLimiter::Buckets* RateLimiter::NamespaceBuckets(const std::string& ns, RateBucket bucket, double* rate, double* burst,
                                                    int* priorities) {
  double ratio = options_.namespace_burst_ratio;
  *rate = options_.namespace_rps;
  *priorities = kRatePriorities;
  auto* buckets = &namespaces_;
  if (bucket == RateBucket::kVisibility) {
    *rate = options_.namespace_visibility_rps;
    ratio = std::max(1.0, options_.namespace_visibility_burst_ratio);
    *priorities = kVisibilityPriorities;
    buckets = &visibility_;
  } else if (bucket == RateBucket::kNamespaceReplication) {
    *rate = options_.namespace_replication_rps;
    ratio = options_.namespace_replication_burst_ratio;
    *priorities = kReplicationPriorities;
    buckets = &replication_;
  }
  if (!(*rate > 0) || ns.empty()) return nullptr;
  // Temporal rounds a namespace burst up to a whole number of tokens.
  *burst = std::max(1.0, std::ceil(*rate * ratio));
  return &(*buckets)[ns];
}

Status RateLimiter::AdmitLocked(const std::string& ns, RateClass c, TimePoint now, const PollWait* wait) {
  if (!c.limited) return Status::Ok();
  double service_rps = options_.service_rps;
  int priorities = kRatePriorities;  // NamespaceBuckets sets it for the call's bucket
  Buckets* service = &service_;
  if (c.bucket == RateBucket::kVisibility) {
    service = &service_visibility_;
  } else if (c.bucket == RateBucket::kNamespaceReplication) {
    service_rps = options_.service_replication_rps;
    service = &service_replication_;
  }
  double ns_rps = 0;
  double burst = 0;
  if (Buckets* b = NamespaceBuckets(ns, c.bucket, &ns_rps, &burst, &priorities)) {
    if (!TakeAt(*b, priorities, c.priority, ns_rps, burst, now) &&
        (wait == nullptr || !ReserveAt(*b, priorities, c.priority, ns_rps, burst, now, wait->latest_start, wait->reservation))) {
      return history::ResourceExhausted("namespace rate limit exceeded", enums::RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT,
                                        enums::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
    }
  }
  if (service_rps > 0 && !TakeAt(*service, priorities, c.priority, service_rps, service_rps, now)) {
    if (wait != nullptr && wait->reservation->reserved) {
      wait->reservation->ns = ns;
      wait->reservation->bucket = c.bucket;
      CancelLocked(*wait->reservation, now);
      *wait->reservation = PollReservation{};
    }
    return history::ResourceExhausted("service rate limit exceeded", enums::RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT,
                                      enums::RESOURCE_EXHAUSTED_SCOPE_SYSTEM);
  }
  return Status::Ok();
}

Status RateLimiter::Admit(const std::string& ns, std::string_view full_method, bool operator_caller) {
  const TimePoint now = clock_.Now();
  std::lock_guard<std::mutex> l(mu_);
  return AdmitLocked(ns, ClassifyForRate(full_method, operator_caller), now, nullptr);
}

Status RateLimiter::BeginPoll(const std::string& ns, std::string_view full_method, bool operator_caller,
                              TimePoint deadline, PollReservation* reservation) {
  const TimePoint now = clock_.Now();
  std::lock_guard<std::mutex> l(mu_);
  // Temporal's ConcurrentRequestLimitInterceptor: "frontend.namespaceCount is applied per poller
  // type", a count per namespace and method.
  auto key = std::make_pair(ns, std::string(full_method));
  int64_t& n = polls_[key];
  if (options_.namespace_pollers > 0 && n >= options_.namespace_pollers) {
    return history::ResourceExhausted("namespace concurrent poller limit exceeded", enums::RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT,
                                      enums::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  }
  // Temporal's system.pollWaitForNamespaceRateLimitToken (per namespace): a task poll the
  // namespace rate refuses waits for a token instead, until 10 s (its CriticalLongPollTimeout)
  // before its deadline.
  std::optional<PollWait> wait;
  if (reservation != nullptr) *reservation = PollReservation{};
  if (reservation != nullptr && IsLongPoll(full_method) && options_.PollWaitForToken(ns)) {
    wait = PollWait{deadline == TimePoint::max() ? deadline : deadline - kPollWaitMargin, reservation};
  }
  const RateClass c = ClassifyForRate(full_method, operator_caller);
  if (Status s = AdmitLocked(ns, c, now, wait ? &*wait : nullptr); !s.ok()) {
    if (n == 0) polls_.erase(key);
    return s;
  }
  if (reservation != nullptr && reservation->reserved) {
    reservation->ns = ns;
    reservation->bucket = c.bucket;
  }
  ++n;
  return Status::Ok();
}

void RateLimiter::EndPoll(const std::string& ns, std::string_view full_method) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = polls_.find(std::make_pair(ns, std::string(full_method)));
  if (it == polls_.end()) return;
  if (--it->second <= 0) polls_.erase(it);
}

void RateLimiter::CancelLocked(const PollReservation& r, TimePoint now) {
  if (!r.reserved) return;
  double rate = 0;
  double burst = 0;
  int priorities = 0;
  Buckets* b = NamespaceBuckets(r.ns, r.bucket, &rate, &burst, &priorities);
  if (b == nullptr) return;
  for (int p = r.priority; p < std::min(r.priorities, priorities); ++p) {
    GiveBack((*b)[p], RateAt(p, rate), burst, r.due[p], now);
  }
}

void RateLimiter::CancelReservation(const PollReservation& reservation) {
  const TimePoint now = clock_.Now();
  std::lock_guard<std::mutex> l(mu_);
  CancelLocked(reservation, now);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewRateLimitInterceptorFactory(RateLimiter* limiter) {
  return std::make_unique<Factory>(limiter);
}

}  // namespace temporalite::frontend
