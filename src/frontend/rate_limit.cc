#include "frontend/rate_limit.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/server_context.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "auth/call_gate.h"
#include "frontend/grpc_status.h"
#include "history/errors.h"
#include "temporal/api/enums/v1/failed_cause.pb.h"

namespace temporalite::frontend {
namespace {

namespace enums = ::temporal::api::enums::v1;
namespace pb = google::protobuf;
using grpc::experimental::InterceptionHookPoints;

// GetSystemInfo (what SDKs call first, answered from memory) stays open, as for API keys.
bool Limited(std::string_view full_method) {
  if (full_method == "/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo") return false;
  return full_method.rfind("/temporal.api.workflowservice.v1.WorkflowService/", 0) == 0 ||
         full_method.rfind("/temporal.api.operatorservice.v1.OperatorService/", 0) == 0;
}

std::string Namespace(const pb::Message& m) {
  const pb::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName("namespace");
  if (f == nullptr || f->is_repeated() || f->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING) return "";
  return m.GetReflection()->GetString(m, f);
}

class RateLimitInterceptor final : public grpc::experimental::Interceptor {
 public:
  RateLimitInterceptor(grpc::experimental::ServerRpcInfo* info, RateLimiter* limiter)
      : info_(info), limiter_(limiter), poll_(IsLongPoll(info->method())) {}
  ~RateLimitInterceptor() override {
    if (counted_) limiter_->EndPoll(ns_);
    // The gate is keyed by the call's context, which gRPC reuses for later calls.
    if (denied_) auth::ForgetCall(info_->server_context());
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // nullptr when decoding failed (request_decoding.h answers those); a call the auth
      // interceptor already refused keeps its answer.
      void* raw = methods->GetRecvMessage();
      if (raw != nullptr && !auth::CallDenial(info_->server_context())) {
        ns_ = Namespace(*static_cast<const pb::Message*>(raw));
        Status s = poll_ ? limiter_->BeginPoll(ns_) : limiter_->Admit(ns_);
        if (s.ok()) {
          counted_ = poll_;
        } else {
          denied_ = true;
          auth::DenyCall(info_->server_context(), ToGrpc(s));
        }
      }
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  RateLimiter* limiter_;
  const bool poll_;
  bool counted_ = false;
  bool denied_ = false;
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
  return {"frontend.rps", "frontend.namespaceRPS", "frontend.namespaceBurstRatio", "frontend.namespaceCount"};
}

Status ApplyRateLimitConfigValue(const std::string& key_value, RateLimitOptions* options) {
  const size_t eq = key_value.find('=');
  const std::string key = key_value.substr(0, eq);
  double* target = nullptr;
  if (key == "frontend.rps") target = &options->service_rps;
  if (key == "frontend.namespaceRPS") target = &options->namespace_rps;
  if (key == "frontend.namespaceBurstRatio") target = &options->namespace_burst_ratio;
  const bool count = key == "frontend.namespaceCount";
  if (target == nullptr && !count) return Status(Code::kNotFound, "not a rate-limit key: " + key);
  const std::string value = eq == std::string::npos ? "" : key_value.substr(eq + 1);
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || errno == ERANGE || !(v >= 0) || (count && v != static_cast<double>(static_cast<int64_t>(v)))) {
    return Status(Code::kInvalidArgument, "dynamic config " + key + ": \"" + value + "\" is not a non-negative " +
                                              (count ? "integer" : "number"));
  }
  if (count) {
    options->namespace_pollers = static_cast<int64_t>(v);
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

RateLimiter::RateLimiter(const Clock& clock, RateLimitOptions options) : clock_(clock), options_(options) {}

bool RateLimiter::Take(Bucket& b, double rate, double burst, TimePoint now) {
  burst = std::max(1.0, burst);
  if (b.tokens < 0) {
    b.tokens = burst;
  } else if (now > b.last) {
    b.tokens = std::min(burst, b.tokens + std::chrono::duration<double>(now - b.last).count() * rate);
  }
  b.last = std::max(b.last, now);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

Status RateLimiter::Admit(const std::string& ns) {
  const TimePoint now = clock_.Now();
  std::lock_guard<std::mutex> l(mu_);
  if (options_.namespace_rps > 0 && !ns.empty()) {
    Bucket& b = namespaces_[ns];
    if (!Take(b, options_.namespace_rps, options_.namespace_rps * options_.namespace_burst_ratio, now)) {
      return history::ResourceExhausted("namespace rate limit exceeded", enums::RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT,
                                        enums::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
    }
  }
  if (options_.service_rps > 0 && !Take(service_, options_.service_rps, options_.service_rps, now)) {
    return history::ResourceExhausted("service rate limit exceeded", enums::RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT,
                                      enums::RESOURCE_EXHAUSTED_SCOPE_SYSTEM);
  }
  return Status::Ok();
}

Status RateLimiter::BeginPoll(const std::string& ns) {
  std::lock_guard<std::mutex> l(mu_);
  int64_t& n = polls_[ns];
  if (options_.namespace_pollers > 0 && n >= options_.namespace_pollers) {
    return history::ResourceExhausted("namespace concurrent poller limit exceeded", enums::RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT,
                                      enums::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  }
  ++n;
  return Status::Ok();
}

void RateLimiter::EndPoll(const std::string& ns) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = polls_.find(ns);
  if (it == polls_.end()) return;
  if (--it->second <= 0) polls_.erase(it);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewRateLimitInterceptorFactory(RateLimiter* limiter) {
  return std::make_unique<Factory>(limiter);
}

}  // namespace temporalite::frontend
