// Requests that fail to decode. gRPC's callback API answers a request it cannot deserialize
// with UNIMPLEMENTED and no message, which SDKs and the CLI read as "the server does not
// implement this method"; protobuf also prints the reason (e.g. a string field with invalid
// UTF-8) to stderr. This interceptor turns that answer into INVALID_ARGUMENT naming the field,
// and the log handler routes protobuf's messages to the server log.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace temporalite::frontend {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewDecodeErrorInterceptorFactory();

// Installs protobuf's log handler (process-wide; call once from main before serving).
void InstallProtobufLogHandler();

}  // namespace temporalite::frontend
