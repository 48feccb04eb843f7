// Request rate limits on the frontend, under Temporal's dynamic config names (set with
// `--dynamic-config-value KEY=VALUE`, as `temporal server start-dev` takes them):
//
//   frontend.rps                             requests/s on the whole server ("service rate limit exceeded")
//   frontend.namespaceRPS                    requests/s per namespace ("namespace rate limit exceeded")
//   frontend.namespaceBurstRatio             a namespace bucket holds namespaceRPS x this (default 2)
//   frontend.namespaceRPS.visibility         visibility requests/s per namespace (same message)
//   frontend.namespaceBurstRatio.visibility  its bucket holds that x this (default 1)
//   frontend.namespaceCount                  concurrent long polls per namespace
//                                            ("namespace concurrent poller limit exceeded")
//   frontend.namespaceRPS.namespaceReplicationInducingAPIs       namespace changes/s per namespace
//   frontend.namespaceBurstRatio.namespaceReplicationInducingAPIs  its bucket holds that x this (default 10)
//   frontend.rps.namespaceReplicationInducingAPIs                namespace changes/s on the whole server
//   system.operatorRPSRatio                  the operator priority's share of each rate (default 0.2)
//   frontend.namespaceCount                  (see above) counted per namespace and per method
//   frontend.globalRPS, frontend.globalNamespaceRPS, frontend.globalNamespaceRPS.visibility,
//   frontend.globalNamespaceRPS.namespaceReplicationInducingAPIs, frontend.globalNamespaceCount
//                                            the cluster-wide forms: Temporal divides them among its
//                                            frontends and, when positive, they replace the per-instance
//                                            key; this server is a cluster of one frontend, so a
//                                            positive global value is the limit (ClusterAwareQuotaCalculator)
//   system.pollWaitForNamespaceRateLimitToken  a task poll the namespace rate refuses waits for a token;
//                                            namespace-filtered as in Temporal: KEY@NAMESPACE=VALUE sets
//                                            it for one namespace (over KEY=VALUE, which sets the rest)
//
// As Temporal's frontend (service/frontend/configs/quotas.go): visibility calls (list, count and
// scan of workflows, ListSchedules, ListBatchOperations, DescribeTaskQueue, ...) are charged to
// the namespace's visibility bucket, not to its rate; the namespace-changing calls that Temporal
// replicates (RegisterNamespace, UpdateNamespace at priority 1; UpdateWorkerBuildIdCompatibility,
// UpdateWorkerVersioningRules at 2) to a bucket of their own, keyed by the namespace they change
// (limited only when its keys are set); every other call to the namespace rate,
// with the priority of its method in Temporal's current table (0 namespace and cluster reads,
// 1 starts/signals/updates and task completions/heartbeats, 2 state changes and history, 3 status
// reads and task failure reports, 4 task polls, 5 the history long poll; methods in none of its
// tables are not limited): a call is decided by its own priority's bucket and also takes a token
// (going into debt) from every lower priority's bucket, so polls are refused first when a
// namespace is busy and never crowd out starts or task completions. frontend.rps works the same
// way across namespaces. Long-running calls (Temporal's ExecutionAPICountLimitOverride: the task
// polls Poll{Workflow,Activity,Nexus}TaskQueue, PollWorkflowExecutionUpdate, QueryWorkflow,
// UpdateWorkflowExecution, ExecuteMultiOperation and GetWorkflowExecutionHistory with
// wait_new_event) are also limited by their number in flight, counted per namespace and per
// method as Temporal's ConcurrentRequestLimitInterceptor counts them (so workflow pollers never
// take the slots of activity pollers); a task poll the namespace rate refuses is answered at once, or with
// system.pollWaitForNamespaceRateLimitToken (off by default, as in Temporal) waits for its token
// unless that comes later than 10 s before its deadline; a waiting poll the caller cancels gives
// its reserved token back (Temporal's limiter cancels the reservation). Refused calls get RESOURCE_EXHAUSTED with a ResourceExhaustedFailure (cause
// RPS_LIMIT or CONCURRENT_LIMIT, scope NAMESPACE or SYSTEM), as Temporal answers; SDK clients
// retry those with a longer backoff. Health checks, GetSystemInfo (what SDKs call first) and the
// admin API are not limited. Unset or 0: no limit (Temporal's defaults are 2400 requests/s, 10
// visibility requests/s and 1200 polls; this single-node server leaves them off so that its own
// benchmarks are not capped). Operator priority: a call with the `caller-type: operator` header
// (Temporal's caller info, as its CLI and UI send it; so do this server's CLI and UI port) is decided at priority 0 of whichever
// bucket its method uses, whose refill rate is system.operatorRPSRatio x the rate (same burst), as
// Temporal's frontend does; calls of the execution bucket's priority 0 (namespace and cluster
// reads) share that bucket, as there. OperatorService calls are in none of Temporal's priority
// tables and, as there, not rate-limited (they need the admin role when API keys are on).
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <map>
#include <utility>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace temporalite::frontend {

struct RateLimitOptions {
  double service_rps = 0;
  double namespace_rps = 0;
  double namespace_burst_ratio = 2;
  double namespace_visibility_rps = 0;
  double namespace_visibility_burst_ratio = 1;
  int64_t namespace_pollers = 0;
  double namespace_replication_rps = 0;
  double namespace_replication_burst_ratio = 10;
  double service_replication_rps = 0;
  double operator_rps_ratio = 0.2;
  // The frontend.global* keys (0: unset); Effective() puts a positive one in place of its
  // per-instance counterpart.
  double global_service_rps = 0;
  double global_namespace_rps = 0;
  double global_namespace_visibility_rps = 0;
  double global_namespace_replication_rps = 0;
  int64_t global_namespace_pollers = 0;
  RateLimitOptions Effective() const {
    RateLimitOptions e = *this;
    if (global_service_rps > 0) e.service_rps = global_service_rps;
    if (global_namespace_rps > 0) e.namespace_rps = global_namespace_rps;
    if (global_namespace_visibility_rps > 0) e.namespace_visibility_rps = global_namespace_visibility_rps;
    if (global_namespace_replication_rps > 0) e.namespace_replication_rps = global_namespace_replication_rps;
    if (global_namespace_pollers > 0) e.namespace_pollers = global_namespace_pollers;
    return e;
  }
  bool poll_wait_for_token = false;  // system.pollWaitForNamespaceRateLimitToken, every namespace
  // system.pollWaitForNamespaceRateLimitToken@NAMESPACE (Temporal's namespace filter): over the above.
  std::map<std::string, bool, std::less<>> poll_wait_for_token_by_namespace;
  bool PollWaitForToken(std::string_view ns) const {
    auto it = poll_wait_for_token_by_namespace.find(ns);
    return it == poll_wait_for_token_by_namespace.end() ? poll_wait_for_token : it->second;
  }
  bool enabled() const {
    return global_service_rps > 0 || global_namespace_rps > 0 || global_namespace_visibility_rps > 0 ||
           global_namespace_replication_rps > 0 || global_namespace_pollers > 0 || service_rps > 0 || namespace_rps > 0 || namespace_visibility_rps > 0 || namespace_pollers > 0 ||
           namespace_replication_rps > 0 || service_replication_rps > 0;
  }
};

// Applies KEY=VALUE when KEY is one of the keys above (VALUE: a non-negative number; the poller
// count an integer). NOT_FOUND when KEY is not a rate-limit key; INVALID_ARGUMENT for a bad value.
Status ApplyRateLimitConfigValue(const std::string& key_value, RateLimitOptions* options);
// The keys ApplyRateLimitConfigValue takes (the server lists every known key in one message).
std::vector<std::string> RateLimitConfigKeys();

// A task poll by full gRPC method name (Temporal's PollTaskAPISet: the polls that may wait for
// a rate-limit token).
bool IsLongPoll(std::string_view full_method);
// A long-running call, counted against frontend.namespaceCount: `rate_method` is the name
// RateLimitMethod gives the call (so GetWorkflowExecutionHistory only with wait_new_event).
bool IsLongRunning(std::string_view rate_method);

// How Temporal's frontend charges a method (by full gRPC method name): to the visibility bucket,
// the namespace-replication-inducing bucket or the namespace rate, at a priority (0 highest).
// Unknown WorkflowService methods: the rate, lowest priority. `operator_caller`: the call has the
// `caller-type: operator` header (priority 0). `limited` is false for methods no bucket covers
// (OperatorService, GetSystemInfo, health, admin).
enum class RateBucket { kExecution, kVisibility, kNamespaceReplication };
struct RateClass {
  bool limited = true;
  RateBucket bucket = RateBucket::kExecution;
  int priority = 0;
  bool visibility() const { return bucket == RateBucket::kVisibility; }
};
inline constexpr int kRatePriorities = 6;  // execution priorities 0..5; visibility 0..1; replication 0..2
inline constexpr int kOperatorPriority = 0;
// A waiting poll must get its token this long before its deadline (Temporal's CriticalLongPollTimeout).
inline constexpr Duration kPollWaitMargin = std::chrono::seconds(10);
RateClass ClassifyForRate(std::string_view full_method, bool operator_caller = false);
// The method name a request is charged under: Temporal's PollWorkflowExecutionHistory for a
// GetWorkflowExecutionHistory with wait_new_event (a long poll, priority 5), else `full_method`.
std::string RateLimitMethod(std::string_view full_method, const google::protobuf::Message& request);
// True when gRPC metadata `caller-type` is `operator` (Temporal's headers.CallerTypeOperator).
bool IsOperatorCallerType(std::string_view caller_type);

// A poll admitted on a token taken ahead of time (system.pollWaitForNamespaceRateLimitToken).
struct PollReservation {
  Duration delay = Duration::zero();  // how long the poll waits for its token
  // Where the token was reserved, for RateLimiter::CancelReservation (set when delay > 0).
  bool reserved = false;
  std::string ns;
  RateBucket bucket = RateBucket::kExecution;
  int priority = 0;
  int priorities = 0;
  std::array<TimePoint, kRatePriorities> due{};  // when each charged bucket's token comes due
};

// Token buckets (refilled continuously from the injected clock) and poll counts. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(const Clock& clock, RateLimitOptions options);

  // A request that is not a long poll (`full_method` and `operator_caller` pick its bucket and
  // priority, see ClassifyForRate): OK (tokens taken) or RESOURCE_EXHAUSTED.
  Status Admit(const std::string& ns, std::string_view full_method, bool operator_caller = false);
  // A long-running call (IsLongRunning): counted per namespace and method, then charged to the
  // rate at its priority. OK (call EndPoll when it ends) or RESOURCE_EXHAUSTED. With
  // PollWaitForToken(ns) and `reservation`, a task poll that the namespace rate refuses reserves
  // the next token instead (the bucket goes into debt) and `reservation->delay` says how long it
  // waits for it; refused when that is past `deadline` - 10 s.
  Status BeginPoll(const std::string& ns, std::string_view full_method, bool operator_caller = false,
                   TimePoint deadline = TimePoint::max(), PollReservation* reservation = nullptr);
  void EndPoll(const std::string& ns, std::string_view full_method);
  // The caller gave up a reserved poll: gives back the tokens that are not due yet, less those
  // reserved after them (golang.org/x/time/rate's Reservation.CancelAt, which Temporal's uses).
  void CancelReservation(const PollReservation& reservation);

 private:
  struct Bucket {
    bool used = false;  // starts full
    double tokens = 0;  // below 0: debt from higher-priority calls
    TimePoint last{};
    TimePoint last_due{};  // when the latest token taken comes due (x/time/rate's lastEvent)
  };
  // One bucket per priority, all with the same rate and burst (Temporal's priority limiter).
  using Buckets = std::array<Bucket, kRatePriorities>;
  static void Refill(Bucket& b, double rate, double burst, TimePoint now);
  struct PollWait {
    TimePoint latest_start;        // the token must be due before this
    PollReservation* reservation;  // out: how long until it is, and where it was taken
  };
  // Takes one token (into debt if need be); returns when it comes due.
  static TimePoint Charge(Bucket& b, double rate, TimePoint now);
  static void GiveBack(Bucket& b, double rate, double burst, TimePoint due, TimePoint now);
  void CancelLocked(const PollReservation& r, TimePoint now);
  // Decides by buckets[priority]; on success also takes a token from every lower priority (up
  // to `priorities`). The operator priority's bucket refills at rate x operator_rps_ratio.
  bool TakeAt(Buckets& buckets, int priorities, int priority, double rate, double burst, TimePoint now) const;
  // As TakeAt when no token is left: takes the next one into debt if it is due before `latest`.
  bool ReserveAt(Buckets& buckets, int priorities, int priority, double rate, double burst, TimePoint now,
                 TimePoint latest, PollReservation* reservation) const;
  double RateAt(int priority, double rate) const;
  // The namespace bucket (rate, burst, priorities) of a call's class; nullptr when unlimited.
  Buckets* NamespaceBuckets(const std::string& ns, RateBucket bucket, double* rate, double* burst, int* priorities);
  // `wait`: the namespace bucket may reserve (a waiting poll); the server-wide one never waits.
  Status AdmitLocked(const std::string& ns, RateClass c, TimePoint now, const PollWait* wait);

  const Clock& clock_;
  const RateLimitOptions options_;
  std::mutex mu_;
  Buckets service_;
  Buckets service_visibility_;  // frontend.rps for visibility calls (a limiter of its own, as in Temporal)
  std::map<std::string, Buckets, std::less<>> namespaces_;
  std::map<std::string, Buckets, std::less<>> visibility_;
  Buckets service_replication_;  // frontend.rps.namespaceReplicationInducingAPIs
  std::map<std::string, Buckets, std::less<>> replication_;
  std::map<std::pair<std::string, std::string>, int64_t, std::less<>> polls_;  // by namespace and method
};

// The interceptor: reads the request's namespace and refuses over-limit calls through
// auth/call_gate.h (the services finish a refused call with its status, doing nothing else).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewRateLimitInterceptorFactory(RateLimiter* limiter);

// How long the poll of `ctx` waits for its reserved token before it reaches the engine (set by
// the interceptor, see RateLimiter::BeginPoll); zero for every other call.
Duration PollDelay(const grpc::ServerContextBase* ctx);

}  // namespace temporalite::frontend
