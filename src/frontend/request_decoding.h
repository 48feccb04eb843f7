// Requests that fail to decode. gRPC's callback API answers a request it cannot deserialize
// with UNIMPLEMENTED and no message, which SDKs and the CLI read as "the server does not
// implement this method"; protobuf also prints the reason (e.g. a string field with invalid
// UTF-8) to stderr. This interceptor turns that answer into INVALID_ARGUMENT naming the field,
// and the log handler routes protobuf's messages to the server log.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

namespace temporalite::frontend {

// The decode-error handling of one RPC. The metrics interceptor embeds it so that a server with
// metrics on still runs a single interceptor per RPC (each one costs an allocation and a call per
// hook point of every batch). Call Intercept(methods) before methods->Proceed().
class DecodeErrorHook {
 public:
  // `method` is gRPC's registered method name ("/pkg.Service/Method"), valid for the server's life.
  explicit DecodeErrorHook(const char* method) : method_(method) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods);

 private:
  const char* method_;
  bool failed_ = false;
  std::string reason_;
};

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewDecodeErrorInterceptorFactory();

// Installs protobuf's log handler (process-wide; call once from main before serving).
void InstallProtobufLogHandler();

}  // namespace temporalite::frontend
