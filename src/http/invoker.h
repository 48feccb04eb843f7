// How the HTTP layer reaches the services: one generic unary call by method descriptor. The
// server's implementation goes through an in-process gRPC channel to the same gRPC server, so an
// HTTP request runs exactly the handlers (and interceptors, deadlines, long-poll rules) a gRPC
// client gets; the HTTP layer holds no engine logic.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace temporalite::http {

struct CallResult {
  int code = 0;                // gRPC status code
  std::string message;         // error message
  std::string details_status;  // serialized google.rpc.Status (grpc-status-details-bin), or empty
};

// The metadata a call carries: `authorization` (API keys) and `caller_type` (Temporal's
// `caller-type` header: `operator` for the UI's calls, which Temporal's frontend rate-limits at
// the operator priority). Empty values are not sent.
struct CallMetadata {
  CallMetadata() = default;
  CallMetadata(std::string authorization_value) : authorization(std::move(authorization_value)) {}  // NOLINT: implicit
  CallMetadata(const char* authorization_value) : authorization(authorization_value) {}             // NOLINT: implicit
  std::string authorization;
  std::string caller_type;
};

class MethodInvoker {
 public:
  virtual ~MethodInvoker() = default;
  // Calls `method` with `request`, fills `response` on success. Blocks the calling (HTTP) thread
  // until the RPC finishes or `timeout` passes. `metadata`: the call's `authorization` (the HTTP
  // request's Authorization header, API keys) and `caller-type`, when not empty. `client_gone`
  // (may be empty): asked every kClientCheck while the call waits; once true the RPC is cancelled,
  // as a gRPC client's cancel is (a waiting poll ends in the engine, CANCELLED). Thread-safe.
  virtual CallResult Call(const google::protobuf::MethodDescriptor& method, const google::protobuf::Message& request,
                          google::protobuf::Message* response, std::chrono::milliseconds timeout,
                          const CallMetadata& metadata, const std::function<bool()>& client_gone) = 0;
  static constexpr std::chrono::milliseconds kClientCheck{250};
};

// Calls over a gRPC channel (the server's InProcessChannel) with a generic stub: request and
// response travel as serialized bytes, so one code path serves every method.
class ChannelInvoker final : public MethodInvoker {
 public:
  explicit ChannelInvoker(std::shared_ptr<grpc::Channel> channel);
  CallResult Call(const google::protobuf::MethodDescriptor& method, const google::protobuf::Message& request,
                  google::protobuf::Message* response, std::chrono::milliseconds timeout,
                  const CallMetadata& metadata, const std::function<bool()>& client_gone) override;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
};

}  // namespace temporalite::http
