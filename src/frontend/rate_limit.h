// Request rate limits on the frontend, under Temporal's dynamic config names (set with
// `--dynamic-config-value KEY=VALUE`, as `temporal server start-dev` takes them):
//
//   frontend.rps                  requests/s on the whole server ("service rate limit exceeded")
//   frontend.namespaceRPS         requests/s per namespace ("namespace rate limit exceeded")
//   frontend.namespaceBurstRatio  a namespace bucket holds namespaceRPS x this (default 2)
//   frontend.namespaceCount       concurrent long polls per namespace
//                                 ("namespace concurrent poller limit exceeded")
//
// Refused calls get RESOURCE_EXHAUSTED with a ResourceExhaustedFailure (cause RPS_LIMIT or
// CONCURRENT_LIMIT, scope NAMESPACE or SYSTEM), as Temporal answers; SDK clients retry those
// with a longer backoff. Long polls (Poll{Workflow,Activity,Nexus}TaskQueue) are limited by
// their number in flight, not by the request rate (Temporal charges them to the namespace rate
// at the lowest priority and can make them wait for a token; here they are exempt). Health
// checks, GetSystemInfo (what SDKs call first) and the admin API are not limited. Unset or
// 0: no limit (Temporal's defaults are 2400 requests/s and 1200 polls; this single-node server
// leaves them off so that its own benchmarks are not capped).
#pragma once

#include <grpcpp/support/server_interceptor.h>

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
  int64_t namespace_pollers = 0;
  bool enabled() const { return service_rps > 0 || namespace_rps > 0 || namespace_pollers > 0; }
};

// Applies KEY=VALUE when KEY is one of the keys above (VALUE: a non-negative number; the poller
// count an integer). NOT_FOUND when KEY is not a rate-limit key; INVALID_ARGUMENT for a bad value.
Status ApplyRateLimitConfigValue(const std::string& key_value, RateLimitOptions* options);
// The keys ApplyRateLimitConfigValue takes (the server lists every known key in one message).
std::vector<std::string> RateLimitConfigKeys();

// A long poll by full gRPC method name.
bool IsLongPoll(std::string_view full_method);

// Token buckets (refilled continuously from the injected clock) and poll counts. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(const Clock& clock, RateLimitOptions options);

  // A request that is not a long poll: OK (a token taken) or RESOURCE_EXHAUSTED.
  Status Admit(const std::string& ns);
  // A long poll: OK (call EndPoll when it ends) or RESOURCE_EXHAUSTED.
  Status BeginPoll(const std::string& ns);
  void EndPoll(const std::string& ns);

 private:
  struct Bucket {
    double tokens = -1;  // < 0: not yet used (starts full)
    TimePoint last{};
  };
  bool Take(Bucket& b, double rate, double burst, TimePoint now);

  const Clock& clock_;
  const RateLimitOptions options_;
  std::mutex mu_;
  Bucket service_;
  std::map<std::string, Bucket, std::less<>> namespaces_;
  std::map<std::string, int64_t, std::less<>> polls_;
};

// The interceptor: reads the request's namespace and refuses over-limit calls through
// auth/call_gate.h (the services finish a refused call with its status, doing nothing else).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewRateLimitInterceptorFactory(RateLimiter* limiter);

}  // namespace temporalite::frontend
