#include "server/storage_wait_http.h"

#include "http/ui_login.h"
#include "server/storage_wait_server.h"

namespace temporalite::server {
namespace {

http::Response Reply(const grpc::Status& s) {
  http::Response r = http::JsonError(static_cast<int>(s.error_code()), s.error_message(), 503);
  r.headers.emplace("Retry-After", "5");
  return r;
}

}  // namespace

// What the waiting gRPC port answers, for the HTTP API's calls. The normal server's HTTP API calls
// its gRPC server through an in-process channel, whose peer gRPC reports as "unknown": the audit
// lines name the same peer.
class StorageWaitHttp::Invoker final : public http::MethodInvoker {
 public:
  Invoker(const grpc::Status& answer, const auth::KeyRing* keys, auth::AuditLog* audit)
      : answer_(answer), keys_(keys), audit_(audit) {}
  http::CallResult Call(const google::protobuf::MethodDescriptor& method, const google::protobuf::Message& request,
                        google::protobuf::Message*, std::chrono::milliseconds, const http::CallMetadata& metadata,
                        const std::function<bool()>&) override {
    const std::string bytes = request.SerializeAsString();
    const std::string name = "/" + method.service()->full_name() + "/" + method.name();
    grpc::Status s = StorageWaitAnswerCall(answer_, keys_, audit_, name, &bytes, metadata.authorization, "unknown");
    return {static_cast<int>(s.error_code()), s.error_message(), {}};
  }

 private:
  const grpc::Status& answer_;
  const auth::KeyRing* const keys_;
  auth::AuditLog* const audit_;
};

StorageWaitHttp::StorageWaitHttp(grpc::Status answer, const auth::KeyRing* keys, auth::AuditLog* audit,
                                 http::HandlerOptions options)
    : answer_(std::move(answer)),
      keys_(keys),
      audit_(audit),
      with_cause_(Reply(answer_)),
      without_cause_(Reply(StorageWaitWithoutCause())),
      invoker_(std::make_unique<Invoker>(answer_, keys, audit)) {
  options.api_keys = keys != nullptr;
  handler_ = std::make_unique<http::Handler>(*invoker_, nullptr, std::move(options));
}

StorageWaitHttp::~StorageWaitHttp() = default;

http::Response StorageWaitHttp::Unreadable() const { return keys_ ? without_cause_ : with_cause_; }

http::Response StorageWaitHttp::Handle(const http::Request& req, bool ui_port) const {
  if (keys_ == nullptr && audit_ == nullptr) return with_cause_;
  const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  if (path.rfind("/api/", 0) == 0 && path != "/api/v1/settings") {
    // The normal API's answer, but a call it lets through gets the waiting answer as 503. Without
    // keys the handler runs only to write the audit lines: everything is told the cause, as it is
    // without an audit log.
    http::Response r = handler_->Handle(req, ui_port);
    if (keys_ == nullptr || r.body == with_cause_.body) return with_cause_;
    if (r.body == without_cause_.body) return without_cause_;
    return r;
  }
  if (keys_ == nullptr) return with_cause_;
  std::string authorization = req.header("authorization");
  if (authorization.empty() && ui_port) {
    std::string key = http::KeyFromCookie(req.header("cookie"));
    if (!key.empty()) authorization = "Bearer " + key;
  }
  return auth::Authenticate(*keys_->Current(), authorization).status.ok() ? with_cause_ : without_cause_;
}

}  // namespace temporalite::server
