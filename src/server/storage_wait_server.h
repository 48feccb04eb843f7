// What the gRPC port answers while the server waits for its data directory to take writes again
// (storage_resume.h): every call gets an error that says what is going on, instead of a closed
// port that clients read as a dead server. Nothing is acknowledged: this is a separate, minimal
// gRPC server with no write path (a generic service that answers every method with the error),
// and the standard health service answers NOT_SERVING. With API keys the port checks them as the
// server does (auth::Authorize): only a caller with a valid key is told the cause.
#ifndef TEMPORALITE_SERVER_STORAGE_WAIT_SERVER_H_
#define TEMPORALITE_SERVER_STORAGE_WAIT_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "auth/api_keys.h"
#include "auth/audit_log.h"
#include "common/status.h"

namespace temporalite::server {

// The answer while waiting: RESOURCE_EXHAUSTED when the database refused the write for lack of
// space (the cause's code), UNAVAILABLE (retryable) otherwise, with the message
// "the server's database refused a write (<cause>); it resumes once writes succeed in <dir>"
// ("... succeed again" with no `dir`).
grpc::Status StorageWaitStatus(const Status& cause, const std::string& dir);

// What a call gets while waiting. Without API keys (`keys` nullptr): `answer`. With keys: the
// denial the normal server gives the call (auth::Authorize for the method and the request's
// namespace `ns`: UNAUTHENTICATED, PERMISSION_DENIED), else `answer` to a caller with a valid key;
// a caller without one of a method open to all (GetSystemInfo) gets StorageWaitWithoutCause().
grpc::Status StorageWaitAnswerFor(const auth::KeyRing* keys, const grpc::Status& answer, std::string_view authorization,
                                  std::string_view full_method, const std::string& ns);
// StorageWaitAnswerFor for one call of `full_method` (its namespace read from `request`, the
// encoded request message; nullptr when it could not be read), written to `audit` (nullable) as
// the server's auth interceptor writes it (auth::WriteAudit): a call whose request decoded, when
// denied or of an audited method (auth::Audited), with the answer as its outcome.
grpc::Status StorageWaitAnswerCall(const grpc::Status& answer, const auth::KeyRing* keys, auth::AuditLog* audit,
                                   std::string_view full_method, const std::string* request, std::string_view authorization,
                                   const std::string& peer);
// UNAVAILABLE, naming no cause: for callers without a valid key when keys are required.
grpc::Status StorageWaitWithoutCause();

class StorageWaitServer {
 public:
  // Listens on `address` with `creds` and answers every call with `answer` (StorageWaitAnswerFor
  // with `keys`, which outlive the server; the keys in force are read per call), writing the audit
  // lines to `audit` (nullable, outlives the server) as StorageWaitAnswerCall does. The previous server
  // on that port may still be releasing it: binding is retried for up to `bind_for`. Null when
  // the port could not be bound (the caller waits with the port closed, as before).
  static std::unique_ptr<StorageWaitServer> Start(const std::string& address,
                                                  std::shared_ptr<grpc::ServerCredentials> creds, grpc::Status answer,
                                                  const auth::KeyRing* keys, std::chrono::milliseconds bind_for,
                                                  auth::AuditLog* audit = nullptr);
  ~StorageWaitServer();
  // Stops answering and releases the port (before the resumed server binds it).
  void Stop();
  // The bound port (`address` may ask for port 0).
  int port() const { return port_; }

 private:
  class AnswerEveryCall;
  StorageWaitServer();
  std::unique_ptr<AnswerEveryCall> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace temporalite::server

#endif  // TEMPORALITE_SERVER_STORAGE_WAIT_SERVER_H_
