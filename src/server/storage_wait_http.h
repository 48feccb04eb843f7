// The HTTP API and UI ports while the server waits for its storage (storage_resume.h): every
// request gets 503 with the waiting answer (storage_wait_server.h). With API keys, requests are
// checked as the normal HTTP API checks them: an API route goes through http::Handler (its routes,
// request building and cookie) to an invoker that answers as the waiting gRPC port does
// (StorageWaitAnswerCall: the role on the request's namespace, the audit log), so a caller without
// a valid key or without access to the namespace gets the normal 401/403, and one of a method
// open to all (GetSystemInfo) 503 without the cause; anything else (UI files, settings, health)
// gets the cause only with a valid key. With an audit log (keys or not) API routes go that way too,
// so their calls are audited as the normal HTTP API's are.
#ifndef TEMPORALITE_SERVER_STORAGE_WAIT_HTTP_H_
#define TEMPORALITE_SERVER_STORAGE_WAIT_HTTP_H_

#include <grpcpp/support/status.h>

#include <memory>
#include <string>

#include "auth/api_keys.h"
#include "auth/audit_log.h"
#include "http/handler.h"
#include "http/invoker.h"

namespace temporalite::server {

class StorageWaitHttp {
 public:
  // `keys` and `audit` (both nullable) outlive this. `options`: the normal handler's (bind address,
  // api_keys, secure cookie).
  StorageWaitHttp(grpc::Status answer, const auth::KeyRing* keys, auth::AuditLog* audit, http::HandlerOptions options);
  ~StorageWaitHttp();
  http::Response Handle(const http::Request& req, bool ui_port) const;
  // The answer to a request that cannot be read (too large, malformed): 503, with the cause only
  // without API keys.
  http::Response Unreadable() const;

 private:
  class Invoker;
  const grpc::Status answer_;
  const auth::KeyRing* const keys_;
  auth::AuditLog* const audit_;
  const http::Response with_cause_;
  const http::Response without_cause_;
  std::unique_ptr<Invoker> invoker_;
  std::unique_ptr<http::Handler> handler_;
};

}  // namespace temporalite::server

#endif  // TEMPORALITE_SERVER_STORAGE_WAIT_HTTP_H_
