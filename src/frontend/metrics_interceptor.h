// Temporal's frontend metrics for every WorkflowService / OperatorService RPC, counted in one
// place (a gRPC server interceptor), so gRPC and the in-process HTTP API are counted alike:
// service_requests / service_errors / service_latency by operation, and poll_success /
// poll_timeouts by namespace and task queue for the two long polls. It also does the
// request-decoding interceptor's work (request_decoding.h), so that a server with metrics on runs
// one interceptor per RPC like a server without: install either this factory or that one.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/metrics.h"

namespace temporalite::frontend {

class MetricsInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  struct MethodMetrics {
    std::string operation;
    metrics::Counter* requests;
    metrics::Counter* errors;
    metrics::Histogram* latency;
    // 0: other, 1: workflow task poll, 2: activity task poll, 3/4: RespondActivityTaskFailed[ById]
    int poll_kind;
  };

  // Looks up the metrics of every method of both services once; the table is read-only after.
  explicit MetricsInterceptorFactory(metrics::Registry& registry);
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override;

 private:
  metrics::Registry& registry_;
  // "/pkg.Service/Method" -> metrics; keys view `paths_` (looked up without building a string).
  std::vector<std::unique_ptr<std::string>> paths_;
  std::unordered_map<std::string_view, MethodMetrics> by_path_;
};

}  // namespace temporalite::frontend
