#include "frontend/metrics_interceptor.h"

#include <chrono>

#include "temporal/api/operatorservice/v1/service.pb.h"
#include "temporal/api/workflowservice/v1/service.pb.h"

namespace temporalite::frontend {

namespace {

namespace wsv1 = ::temporal::api::workflowservice::v1;
using grpc::experimental::InterceptionHookPoints;

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(const MetricsInterceptorFactory::MethodMetrics& m, metrics::Registry& registry)
      : m_(m), registry_(registry), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (m_.poll_kind && methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      void* msg = methods->GetRecvMessage();
      if (msg && m_.poll_kind == 3) ns_ = static_cast<wsv1::RespondActivityTaskFailedRequest*>(msg)->namespace_();
      if (msg && m_.poll_kind == 4) ns_ = static_cast<wsv1::RespondActivityTaskFailedByIdRequest*>(msg)->namespace_();
      if (msg && m_.poll_kind == 1) {
        auto* r = static_cast<wsv1::PollWorkflowTaskQueueRequest*>(msg);
        ns_ = r->namespace_();
        queue_ = r->task_queue().name();
      } else if (msg && m_.poll_kind == 2) {
        auto* r = static_cast<wsv1::PollActivityTaskQueueRequest*>(msg);
        ns_ = r->namespace_();
        queue_ = r->task_queue().name();
      }
    }
    if (m_.poll_kind && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      const void* msg = methods->GetSendMessage();
      if (msg && m_.poll_kind == 1) got_task_ = !static_cast<const wsv1::PollWorkflowTaskQueueResponse*>(msg)->task_token().empty();
      if (msg && m_.poll_kind == 2) {
        const auto* r = static_cast<const wsv1::PollActivityTaskQueueResponse*>(msg);
        got_task_ = !r->task_token().empty();
        activity_type_ = r->activity_type().name();
        attempt_ = r->attempt();
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      m_.requests->Inc();
      grpc::Status s = methods->GetSendStatus();
      if (!s.ok()) m_.errors->Inc();
      m_.latency->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
      if (m_.poll_kind >= 3 && s.ok()) {
        registry_.counter("temporalite_activity_failures", "Activity attempts reported failed by workers",
                          {{"namespace", ns_}}).Inc();
      } else if (m_.poll_kind && s.ok()) {
        metrics::Labels l = {{"namespace", ns_}, {"operation", m_.operation}, {"taskqueue", queue_}};
        if (got_task_) {
          registry_.counter("poll_success", "Long polls that returned a task", l).Inc();
          if (m_.poll_kind == 2) {
            metrics::Labels a = {{"activity_type", activity_type_}, {"namespace", ns_}};
            registry_.counter("temporalite_activity_attempts", "Activity attempts handed to workers", a).Inc();
            if (attempt_ > 1) registry_.counter("temporalite_activity_retries", "Activity attempts after the first", a).Inc();
          }
        } else {
          registry_.counter("poll_timeouts", "Long polls that ended without a task", l).Inc();
        }
      }
    }
    methods->Proceed();
  }

 private:
  const MetricsInterceptorFactory::MethodMetrics& m_;
  metrics::Registry& registry_;
  std::chrono::steady_clock::time_point start_;
  std::string ns_, queue_, activity_type_;
  int attempt_ = 0;
  bool got_task_ = false;
};

}  // namespace

MetricsInterceptorFactory::MetricsInterceptorFactory(metrics::Registry& registry) : registry_(registry) {
  // Naming the descriptor tables links service.pb.cc in, which registers the services.
  const void* volatile kLinked[] = {&descriptor_table_temporal_2fapi_2fworkflowservice_2fv1_2fservice_2eproto,
                                        &descriptor_table_temporal_2fapi_2foperatorservice_2fv1_2fservice_2eproto};  // volatile: kept
  (void)kLinked;
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
      by_path_.emplace("/" + service->full_name() + "/" + m->name(), std::move(mm));
    }
  }
}

grpc::experimental::Interceptor* MetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  auto it = by_path_.find(info->method());
  if (it == by_path_.end()) return nullptr;
  return new MetricsInterceptor(it->second, registry_);
}

}  // namespace temporalite::frontend
