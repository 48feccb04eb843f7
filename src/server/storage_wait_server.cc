#include "server/storage_wait_server.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>

#include <thread>

#include "common/log.h"

namespace temporalite::server {

grpc::Status StorageWaitStatus(const Status& cause, const std::string& dir) {
  const grpc::StatusCode code =
      cause.code() == Code::kResourceExhausted ? grpc::StatusCode::RESOURCE_EXHAUSTED : grpc::StatusCode::UNAVAILABLE;
  return grpc::Status(code, "the server's database refused a write (" + cause.message() + "); it resumes once writes " +
                                (dir.empty() ? std::string("succeed again") : "succeed in " + dir));
}

class StorageWaitServer::AnswerEveryCall : public grpc::CallbackGenericService {
 public:
  explicit AnswerEveryCall(grpc::Status answer) : answer_(std::move(answer)) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    // Finished at once, before reading the request: nothing of it is looked at.
    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      explicit Reactor(const grpc::Status& s) { Finish(s); }
      void OnDone() override { delete this; }
    };
    return new Reactor(answer_);
  }

 private:
  const grpc::Status answer_;
};

StorageWaitServer::StorageWaitServer() = default;
StorageWaitServer::~StorageWaitServer() { Stop(); }

std::unique_ptr<StorageWaitServer> StorageWaitServer::Start(const std::string& address,
                                                            std::shared_ptr<grpc::ServerCredentials> creds,
                                                            grpc::Status answer, std::chrono::milliseconds bind_for) {
  std::unique_ptr<StorageWaitServer> w(new StorageWaitServer());
  w->service_ = std::make_unique<AnswerEveryCall>(std::move(answer));
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
