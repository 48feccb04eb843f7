#include "server/storage_wait_server.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>

#include <thread>
#include <vector>

#include "auth/auth_interceptor.h"
#include "common/log.h"

namespace temporalite::server {

grpc::Status StorageWaitStatus(const Status& cause, const std::string& dir) {
  const grpc::StatusCode code =
      cause.code() == Code::kResourceExhausted ? grpc::StatusCode::RESOURCE_EXHAUSTED : grpc::StatusCode::UNAVAILABLE;
  return grpc::Status(code, "the server's database refused a write (" + cause.message() + "); it resumes once writes " +
                                (dir.empty() ? std::string("succeed again") : "succeed in " + dir));
}

grpc::Status StorageWaitWithoutCause() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is not serving at the moment (a call with a valid API key is told why)");
}

grpc::Status StorageWaitAnswerFor(const auth::KeyRing* keys, const grpc::Status& answer, std::string_view authorization,
                                  std::string_view full_method, const std::string& ns) {
  if (keys == nullptr) return answer;
  std::shared_ptr<const auth::ApiKeys> current = keys->Current();
  auth::Decision d = auth::Authorize(*current, authorization, full_method, ns);
  if (!d.status.ok()) return grpc::Status(static_cast<grpc::StatusCode>(d.status.code()), d.status.message());
  // An open method is authorized without looking at the key: the cause still needs one.
  if (d.principal.empty() && !auth::Authenticate(*current, authorization).status.ok()) return StorageWaitWithoutCause();
  return answer;
}

grpc::Status StorageWaitAnswerCall(const grpc::Status& answer, const auth::KeyRing* keys, auth::AuditLog* audit,
                                   std::string_view full_method, const std::string* request, std::string_view authorization,
                                   const std::string& peer) {
  auth::AuditRecord record;
  const bool parsed = request != nullptr && auth::RecordEncodedRequest(full_method, *request, &record);
  const grpc::Status s = StorageWaitAnswerFor(keys, answer, authorization, full_method, record.ns);
  // As the server's auth interceptor: a call whose request decoded, if denied or of an audited method.
  if (audit != nullptr && parsed) {
    const bool denied = s.error_code() == grpc::StatusCode::UNAUTHENTICATED || s.error_code() == grpc::StatusCode::PERMISSION_DENIED;
    if (denied || auth::Audited(full_method)) {
      if (keys != nullptr) record.principal = auth::Authenticate(*keys->Current(), authorization).principal;
      auth::WriteAudit(*audit, record, full_method, peer, s);
    }
  }
  return s;
}

class StorageWaitServer::AnswerEveryCall : public grpc::CallbackGenericService {
 public:
  AnswerEveryCall(grpc::Status answer, const auth::KeyRing* keys, auth::AuditLog* audit)
      : answer_(std::move(answer)), keys_(keys), audit_(audit) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor(const AnswerEveryCall& service, grpc::GenericCallbackServerContext* ctx) : service_(service) {
        // Without keys or an audit log: finished at once, before reading the request (nothing of it is looked at).
        if (service_.keys_ == nullptr && service_.audit_ == nullptr) {
          Finish(service_.answer_);
          return;
        }
        method_ = ctx->method();
        peer_ = ctx->peer();
        const auto& md = ctx->client_metadata();
        if (auto it = md.find("authorization"); it != md.end()) authorization_.assign(it->second.data(), it->second.size());
        StartRead(&request_);  // its namespace decides, as in the server's auth interceptor
      }
      void OnReadDone(bool ok) override {
        std::string bytes;
        std::vector<grpc::Slice> slices;
        if (ok && !request_.Dump(&slices).ok()) ok = false;
        for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
        Finish(StorageWaitAnswerCall(service_.answer_, service_.keys_, service_.audit_, method_, ok ? &bytes : nullptr,
                                     authorization_, peer_));
      }
      void OnDone() override { delete this; }

     private:
      const AnswerEveryCall& service_;
      std::string method_;
      std::string peer_;
      std::string authorization_;
      grpc::ByteBuffer request_;
    };
    return new Reactor(*this, ctx);
  }

 private:
  const grpc::Status answer_;
  const auth::KeyRing* const keys_;
  auth::AuditLog* const audit_;
};

StorageWaitServer::StorageWaitServer() = default;
StorageWaitServer::~StorageWaitServer() { Stop(); }

std::unique_ptr<StorageWaitServer> StorageWaitServer::Start(const std::string& address,
                                                            std::shared_ptr<grpc::ServerCredentials> creds,
                                                            grpc::Status answer, const auth::KeyRing* keys,
                                                            std::chrono::milliseconds bind_for, auth::AuditLog* audit) {
  std::unique_ptr<StorageWaitServer> w(new StorageWaitServer());
  w->service_ = std::make_unique<AnswerEveryCall>(std::move(answer), keys, audit);
  const auto deadline = std::chrono::steady_clock::now() + bind_for;
  for (;;) {
    grpc::ServerBuilder builder;
    int bound = 0;
    builder.AddListeningPort(address, creds, &bound);
    builder.RegisterCallbackGenericService(w->service_.get());
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // as the server: one listener per port
    w->server_ = builder.BuildAndStart();
    if (w->server_ && bound > 0) {
      w->port_ = bound;
      break;
    }
    if (w->server_) w->server_->Shutdown();
    w->server_.reset();
    if (std::chrono::steady_clock::now() >= deadline) {
      TL_LOG_ERROR("storage failure: cannot listen on %s to answer while waiting; the port stays closed", address.c_str());
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The standard health service (enabled process-wide by the server) answers NOT_SERVING for the
  // empty name and the services' names.
  if (grpc::HealthCheckServiceInterface* health = w->server_->GetHealthCheckService()) {
    health->SetServingStatus("temporal.api.workflowservice.v1.WorkflowService", false);
    health->SetServingStatus("temporal.api.operatorservice.v1.OperatorService", false);
    health->SetServingStatus(false);
  }
  return w;
}

void StorageWaitServer::Stop() {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  server_->Wait();
  server_.reset();
}

}  // namespace temporalite::server
