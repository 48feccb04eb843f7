// The gRPC server interceptor for API keys and the audit log. For every call it reads the
// `authorization` metadata and the decoded request's namespace (and workflow/schedule id), asks
// Authorize() (api_keys.h) when keys are configured, hands a denial to the service through
// call_gate.h, and writes an audit line for client writes, admin calls and denied calls.
// Worker traffic (polls, task responses, heartbeats) is authorized but not audited.
#pragma once

#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>
#include <string_view>

#include "auth/api_keys.h"
#include "auth/audit_log.h"

namespace temporalite::auth {

// `keys` nullptr: no authorization (audit only); `audit` nullptr: no audit log. Both outlive the
// server. The keys in force are read per call, so a reload applies to the next call.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewAuthInterceptorFactory(const KeyRing* keys,
                                                                                                  AuditLog* audit);

// The request's fields of an audit record (namespace, workflow id, schedule id), as the
// interceptor reads them from the decoded request, from an encoded request of `full_method` (a
// method of a service in this binary's protobuf descriptor pool), for a server that gets the bytes
// (a generic service). false for an unknown method or bytes that do not parse.
bool RecordEncodedRequest(std::string_view full_method, const std::string& bytes, AuditRecord* record);

// Writes the interceptor's audit line for a call of `full_method` from `peer` that ended with
// `status`: `record` holds the principal and the request's fields; method, peer, outcome and
// message are filled here.
void WriteAudit(AuditLog& audit, AuditRecord record, std::string_view full_method, const std::string& peer,
                const grpc::Status& status);

// The `namespace` field of an encoded request of `full_method` (a method of a service in this
// binary's protobuf descriptor pool): what the interceptor reads from the decoded request, for a
// server that gets the bytes (a generic service). "" for an unknown method or bytes that do not parse.
std::string EncodedRequestNamespace(std::string_view full_method, const std::string& bytes);

// Whether a successful call of this method goes to the audit log.
bool Audited(std::string_view full_method);

}  // namespace temporalite::auth
