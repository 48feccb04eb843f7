// What the gRPC port answers while the server waits for its data directory to take writes again
// (storage_resume.h): every call gets an error that says what is going on, instead of a closed
// port that clients read as a dead server. Nothing is acknowledged: this is a separate, minimal
// gRPC server with no write path (a generic service that answers every method with the error),
// and the standard health service answers NOT_SERVING.
#ifndef TEMPORALITE_SERVER_STORAGE_WAIT_SERVER_H_
#define TEMPORALITE_SERVER_STORAGE_WAIT_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"

namespace temporalite::server {

// The answer while waiting: RESOURCE_EXHAUSTED when the database refused the write for lack of
// space (the cause's code), UNAVAILABLE (retryable) otherwise, with the message
// "the server's database refused a write (<cause>); it resumes once writes succeed in <dir>"
// ("... succeed again" with no `dir`: the waiting port checks no API key, so a server that
// requires keys names no path to whoever reaches it).
grpc::Status StorageWaitStatus(const Status& cause, const std::string& dir);

class StorageWaitServer {
 public:
  // Listens on `address` with `creds` and answers every call with `answer`. The previous server
  // on that port may still be releasing it: binding is retried for up to `bind_for`. Null when
  // the port could not be bound (the caller waits with the port closed, as before).
  static std::unique_ptr<StorageWaitServer> Start(const std::string& address,
                                                  std::shared_ptr<grpc::ServerCredentials> creds, grpc::Status answer,
                                                  std::chrono::milliseconds bind_for);
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
