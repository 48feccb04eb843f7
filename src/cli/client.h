// The gRPC connection of a client command: channel (plain or TLS), per-call metadata (API key,
// --grpc-meta, temporal-namespace), deadlines (--command-timeout) and the translation of a
// failed call into a clear error message.
#pragma once

#include <grpcpp/grpcpp.h>
#include <temporal/api/operatorservice/v1/service.grpc.pb.h>
#include <temporal/api/workflowservice/v1/service.grpc.pb.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/command.h"

namespace temporalite::cli {

// A failed RPC. The message is ready to print; code() is the gRPC status code.
class RpcError : public CommandError {
 public:
  RpcError(const std::string& message, grpc::StatusCode code, std::string details, bool poll_timeout = false)
      : CommandError(message), code_(code), details_(std::move(details)), poll_timeout_(poll_timeout) {}
  grpc::StatusCode code() const { return code_; }
  // grpc::Status::error_details(): a serialized google.rpc.Status with Temporal's failure details.
  const std::string& details() const { return details_; }
  // A long poll reached its own per-call deadline (not the command's): the caller may retry.
  bool poll_timeout() const { return poll_timeout_; }

 private:
  grpc::StatusCode code_;
  std::string details_;
  bool poll_timeout_;
};

// Name of a gRPC status code as Temporal and grpc-go print it ("NOT_FOUND").
std::string StatusCodeName(grpc::StatusCode code);

// Unpacks the first detail of type T from a serialized google.rpc.Status. False if absent.
bool UnpackErrorDetail(const std::string& rpc_status, google::protobuf::Message* out);

class Connection {
 public:
  using WorkflowStub = temporal::api::workflowservice::v1::WorkflowService::Stub;
  using OperatorStub = temporal::api::operatorservice::v1::OperatorService::Stub;

  // Builds the channel (no I/O yet). Throws UsageError for unusable TLS flags.
  Connection(const GlobalFlags& flags, std::optional<std::chrono::system_clock::time_point> deadline);

  WorkflowStub& workflow() { return *workflow_; }
  OperatorStub& operator_service() { return *operator_; }

  // Calls `method` and returns the response; throws RpcError with a clear message on failure.
  // `rpc` names the method in messages; `what` (e.g. "failed describing workflow") prefixes them.
  // A long poll gets a bounded per-call deadline so that a silent server is retried, not waited
  // on forever; the caller retries when RpcError::poll_timeout() is true.
  template <class Stub, class Req, class Resp>
  Resp Call(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*), std::string_view rpc,
            const Req& req, std::string_view what = {}, bool long_poll = false) {
    Resp resp;
    auto ctx = NewContext(long_poll);
    grpc::Status s = (stub.*method)(ctx.get(), req, &resp);
    if (!s.ok()) Throw(s, rpc, what, long_poll);
    connected_ = true;
    return resp;
  }

  const std::string& address() const { return address_; }
  // The channel, for stubs of other services on the same server (temporalite.admin.v1).
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // Deadline and metadata of a call made on channel() directly.
  std::unique_ptr<grpc::ClientContext> NewCallContext() { return NewContext(false); }
  // Throws the RpcError Call() would throw for a failed call of `rpc`.
  [[noreturn]] void Fail(const grpc::Status& s, std::string_view rpc, std::string_view what) {
    Throw(s, rpc, what, false);
  }
  // Marks the connection as established (after a successful call made on channel()).
  void MarkConnected() { connected_ = true; }

 private:
  std::unique_ptr<grpc::ClientContext> NewContext(bool long_poll);
  [[noreturn]] void Throw(const grpc::Status& s, std::string_view rpc, std::string_view what, bool long_poll);

  std::string address_;
  std::string ns_;
  std::string api_key_;
  std::string command_timeout_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  std::optional<std::chrono::system_clock::time_point> deadline_;
  std::optional<std::chrono::nanoseconds> connect_timeout_;
  bool tls_ = false;
  bool connected_ = false;  // a call has succeeded: later UNAVAILABLE means the connection was lost
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<WorkflowStub> workflow_;
  std::unique_ptr<OperatorStub> operator_;
};

}  // namespace temporalite::cli
