// Hands an authorization decision from the auth interceptor (which sees the decoded request)
// to the service method that would run next: gRPC's C++ server interceptors cannot answer a
// call themselves, so the services ask here first (frontend: one check where each reactor is
// made) and finish a denied call with its status, without doing anything else.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <optional>

namespace temporalite::auth {

// Marks the call of `ctx` denied with `status` (called by the interceptor before the method runs).
void DenyCall(const grpc::ServerContextBase* ctx, grpc::Status status);
// Forgets the call (the interceptor, when the call ends).
void ForgetCall(const grpc::ServerContextBase* ctx);
// The denial of this call, if any. Cheap when authorization is off.
std::optional<grpc::Status> CallDenial(const grpc::ServerContextBase* ctx);

}  // namespace temporalite::auth
