#include "frontend/metrics_interceptor.h"

#include <chrono>
#include <string_view>

#include "frontend/request_decoding.h"

#include "temporal/api/operatorservice/v1/service.pb.h"
#include "temporal/api/workflowservice/v1/service.pb.h"

namespace temporalite::frontend {

namespace {

namespace wsv1 = ::temporal::api::workflowservice::v1;
using grpc::experimental::InterceptionHookPoints;

// A labelled counter per thread and call site, remembered for the last label values seen: a
// worker polls the same few queues over and over, so the usual case compares two short strings
// and takes no lock and no allocation. A miss looks the counter up in the registry (its mutex).
struct LastCounter {
  const metrics::Registry* registry = nullptr;  // A test may run several servers, one after another.
  std::string a, b;
  metrics::Counter* counter = nullptr;

  template <typename Make>
  metrics::Counter* Get(const metrics::Registry& r, const std::string& x, const std::string& y, Make make) {
    if (counter == nullptr || registry != &r || x != a || y != b) {
      counter = make();
      registry = &r;
      a = x;
      b = y;
    }
    return counter;
  }
};

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(const char* method, const MetricsInterceptorFactory::MethodMetrics& m, metrics::Registry& registry)
      : decode_(method), m_(m), registry_(registry), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    decode_.Intercept(methods);
    // The request stays alive until the RPC is done; read its fields only when counting.
    if (m_.poll_kind && methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      request_ = methods->GetRecvMessage();
    }
    if (m_.poll_kind && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      const void* msg = methods->GetSendMessage();
      if (msg && m_.poll_kind == 1) got_task_ = !static_cast<const wsv1::PollWorkflowTaskQueueResponse*>(msg)->task_token().empty();
      if (msg && m_.poll_kind == 2) {
        const auto* r = static_cast<const wsv1::PollActivityTaskQueueResponse*>(msg);
        got_task_ = !r->task_token().empty();
        if (got_task_) CountActivityAttempt(*r);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      m_.requests->Inc();
      grpc::Status s = methods->GetSendStatus();
      if (!s.ok()) m_.errors->Inc();
      m_.latency->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
      if (m_.poll_kind && request_ && s.ok()) CountPoll();
    }
    methods->Proceed();
  }

 private:
  const std::string& Namespace() const {
    switch (m_.poll_kind) {
      case 1: return static_cast<const wsv1::PollWorkflowTaskQueueRequest*>(request_)->namespace_();
      case 2: return static_cast<const wsv1::PollActivityTaskQueueRequest*>(request_)->namespace_();
      case 3: return static_cast<const wsv1::RespondActivityTaskFailedRequest*>(request_)->namespace_();
      default: return static_cast<const wsv1::RespondActivityTaskFailedByIdRequest*>(request_)->namespace_();
    }
  }

  void CountPoll() {
    const std::string& ns = Namespace();
    if (m_.poll_kind >= 3) {
      thread_local LastCounter failures;
      failures.Get(registry_, ns, "", [&] {
        return &registry_.counter("temporalite_activity_failures", "Activity attempts reported failed by workers",
                                  {{"namespace", ns}});
      })->Inc();
      return;
    }
    const std::string& queue = m_.poll_kind == 1
                                   ? static_cast<const wsv1::PollWorkflowTaskQueueRequest*>(request_)->task_queue().name()
                                   : static_cast<const wsv1::PollActivityTaskQueueRequest*>(request_)->task_queue().name();
    thread_local LastCounter polls[2][2];  // [activity poll][got a task]
    polls[m_.poll_kind == 2][got_task_].Get(registry_, ns, queue, [&] {
      metrics::Labels l = {{"namespace", ns}, {"operation", m_.operation}, {"taskqueue", queue}};
      return got_task_ ? &registry_.counter("poll_success", "Long polls that returned a task", l)
                       : &registry_.counter("poll_timeouts", "Long polls that ended without a task", l);
    })->Inc();
  }

  void CountActivityAttempt(const wsv1::PollActivityTaskQueueResponse& r) {
    if (request_ == nullptr) return;
    const std::string& ns = static_cast<const wsv1::PollActivityTaskQueueRequest*>(request_)->namespace_();
    const std::string& type = r.activity_type().name();
    auto labels = [&] { return metrics::Labels{{"activity_type", type}, {"namespace", ns}}; };
    thread_local LastCounter attempts, retries;
    attempts.Get(registry_, ns, type, [&] {
      return &registry_.counter("temporalite_activity_attempts", "Activity attempts handed to workers", labels());
    })->Inc();
    if (r.attempt() > 1) {
      retries.Get(registry_, ns, type, [&] {
        return &registry_.counter("temporalite_activity_retries", "Activity attempts after the first", labels());
      })->Inc();
    }
  }

  DecodeErrorHook decode_;
  const MetricsInterceptorFactory::MethodMetrics& m_;
  metrics::Registry& registry_;
  std::chrono::steady_clock::time_point start_;
  const void* request_ = nullptr;
  bool got_task_ = false;
};

// Methods this server does not register (e.g. unknown paths) still need the decode handling.
class DecodeOnlyInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit DecodeOnlyInterceptor(const char* method) : decode_(method) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    decode_.Intercept(methods);
    methods->Proceed();
  }

 private:
  DecodeErrorHook decode_;
};

}  // namespace

MetricsInterceptorFactory::MetricsInterceptorFactory(metrics::Registry& registry) : registry_(registry) {
  // Naming the descriptor tables links service.pb.cc in, which registers the services.
  // A call, not an unused (volatile) local naming the tables: clang drops those, and then
  // service.pb.cc is not linked in and the services are missing from the generated pool.
  google::protobuf::internal::AssignDescriptors(&descriptor_table_temporal_2fapi_2fworkflowservice_2fv1_2fservice_2eproto);
  google::protobuf::internal::AssignDescriptors(&descriptor_table_temporal_2fapi_2foperatorservice_2fv1_2fservice_2eproto);
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto* service : {pool->FindServiceByName("temporal.api.workflowservice.v1.WorkflowService"),
                              pool->FindServiceByName("temporal.api.operatorservice.v1.OperatorService")}) {
    if (!service) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* m = service->method(i);
      metrics::Labels l = {{"operation", m->name()}};
      MethodMetrics mm{m->name(),
                       &registry.counter("service_requests", "Requests by operation", l),
                       &registry.counter("service_errors", "Requests answered with an error, by operation", l),
                       &registry.histogram("service_latency", "Request latency in seconds, by operation", l),
                       m->name() == "PollWorkflowTaskQueue"           ? 1
                       : m->name() == "PollActivityTaskQueue"         ? 2
                       : m->name() == "RespondActivityTaskFailed"     ? 3
                       : m->name() == "RespondActivityTaskFailedById" ? 4
                                                                      : 0};
      paths_.push_back(std::make_unique<std::string>("/" + service->full_name() + "/" + m->name()));
      by_path_.emplace(*paths_.back(), std::move(mm));
    }
  }
}

grpc::experimental::Interceptor* MetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  auto it = by_path_.find(std::string_view(info->method() ? info->method() : ""));
  if (it == by_path_.end()) return new DecodeOnlyInterceptor(info->method());
  return new MetricsInterceptor(info->method(), it->second, registry_);
}

}  // namespace temporalite::frontend
