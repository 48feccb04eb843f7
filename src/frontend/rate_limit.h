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
//
// As Temporal's frontend (service/frontend/configs/quotas.go): visibility calls (list, count and
// scan of workflows, ListSchedules, ListBatchOperations, DescribeTaskQueue, ...) are charged to
// the namespace's visibility bucket, not to its rate; every other call to the namespace rate,
// with a priority by method (0 namespace and cluster reads, 1 starts/signals/updates, 2 state
// changes and history, 3 status reads, 4 task responses and heartbeats, 5 long polls): a call is
// decided by its own priority's bucket and also takes a token (going into debt) from every lower
// priority's bucket, so polls are refused first when a namespace is busy and never crowd out
// starts or task completions. frontend.rps works the same way across namespaces. Long polls
// (Poll{Workflow,Activity,Nexus}TaskQueue) are also limited by their number in flight; a refused
// poll is answered at once (Temporal's frontend.pollWaitForNamespaceRateLimitToken is off by
// default). Refused calls get RESOURCE_EXHAUSTED with a ResourceExhaustedFailure (cause
// RPS_LIMIT or CONCURRENT_LIMIT, scope NAMESPACE or SYSTEM), as Temporal answers; SDK clients
// retry those with a longer backoff. Health checks, GetSystemInfo (what SDKs call first) and the
// admin API are not limited. Unset or 0: no limit (Temporal's defaults are 2400 requests/s, 10
// visibility requests/s and 1200 polls; this single-node server leaves them off so that its own
// benchmarks are not capped). No operator priority (Temporal's caller-type header).
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <array>
#include <map>
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
  bool enabled() const {
    return service_rps > 0 || namespace_rps > 0 || namespace_visibility_rps > 0 || namespace_pollers > 0;
  }
};

// Applies KEY=VALUE when KEY is one of the keys above (VALUE: a non-negative number; the poller
// count an integer). NOT_FOUND when KEY is not a rate-limit key; INVALID_ARGUMENT for a bad value.
Status ApplyRateLimitConfigValue(const std::string& key_value, RateLimitOptions* options);
// The keys ApplyRateLimitConfigValue takes (the server lists every known key in one message).
std::vector<std::string> RateLimitConfigKeys();

// A long poll by full gRPC method name.
bool IsLongPoll(std::string_view full_method);

// How Temporal's frontend charges a method (by full gRPC method name): to the visibility bucket
// or the namespace rate, at a priority (0 highest). Unknown methods: the rate, lowest priority.
struct RateClass {
  bool visibility = false;
  int priority = 0;
};
inline constexpr int kRatePriorities = 6;  // execution priorities 0..5; visibility uses 0..1
RateClass ClassifyForRate(std::string_view full_method);

// Token buckets (refilled continuously from the injected clock) and poll counts. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(const Clock& clock, RateLimitOptions options);

  // A request that is not a long poll (`full_method` picks its bucket and priority, see
  // ClassifyForRate): OK (tokens taken) or RESOURCE_EXHAUSTED.
  Status Admit(const std::string& ns, std::string_view full_method);
  // A long poll: charged to the rate at its (lowest) priority, then counted. OK (call EndPoll
  // when it ends) or RESOURCE_EXHAUSTED.
  Status BeginPoll(const std::string& ns, std::string_view full_method);
  void EndPoll(const std::string& ns);

 private:
  struct Bucket {
    bool used = false;  // starts full
    double tokens = 0;  // below 0: debt from higher-priority calls
    TimePoint last{};
  };
  // One bucket per priority, all with the same rate and burst (Temporal's priority limiter).
  using Buckets = std::array<Bucket, kRatePriorities>;
  static void Refill(Bucket& b, double rate, double burst, TimePoint now);
  // Decides by buckets[priority]; on success also takes a token from every lower priority.
  static bool TakeAt(Buckets& buckets, int priority, double rate, double burst, TimePoint now);
  Status AdmitLocked(const std::string& ns, RateClass c, TimePoint now);

  const Clock& clock_;
  const RateLimitOptions options_;
  std::mutex mu_;
  Buckets service_;
  Buckets service_visibility_;  // frontend.rps for visibility calls (a limiter of its own, as in Temporal)
  std::map<std::string, Buckets, std::less<>> namespaces_;
  std::map<std::string, Buckets, std::less<>> visibility_;
  std::map<std::string, int64_t, std::less<>> polls_;
};

// The interceptor: reads the request's namespace and refuses over-limit calls through
// auth/call_gate.h (the services finish a refused call with its status, doing nothing else).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewRateLimitInterceptorFactory(RateLimiter* limiter);

}  // namespace temporalite::frontend
