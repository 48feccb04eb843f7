#include "frontend/request_decoding.h"

#include <google/protobuf/stubs/logging.h>

#include <string>

#include "common/log.h"

namespace temporalite::frontend {
namespace {

// The last protobuf error logged on this thread. Requests are decoded on the thread that then
// runs the interceptor's POST_RECV_MESSAGE hook, so the reason is read back there.
thread_local std::string last_protobuf_error;

void ProtobufLog(google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
  if (level >= google::protobuf::LOGLEVEL_ERROR) last_protobuf_error = message;
  // Decoding errors are the client's; they are answered with INVALID_ARGUMENT and logged at debug.
  TL_LOG_DEBUG("protobuf %s:%d: %s", file, line, message.c_str());
}

// "String field 'pkg.Message.field' contains invalid UTF-8 data ..." -> the client-facing reason.
std::string Reason(const std::string& method, const std::string& protobuf_error) {
  const std::string kUtf8 = "contains invalid UTF-8";
  size_t open = protobuf_error.find('\'');
  size_t close = open == std::string::npos ? open : protobuf_error.find('\'', open + 1);
  if (protobuf_error.find(kUtf8) != std::string::npos && close != std::string::npos) {
    std::string field = protobuf_error.substr(open + 1, close - open - 1);
    return "invalid UTF-8 in request field " + field + " (string fields must be valid UTF-8)";
  }
  return "cannot decode the " + method + " request (malformed protobuf)";
}

class DecodeErrorInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit DecodeErrorInterceptor(grpc::experimental::ServerRpcInfo* info) : hook_(info->method()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    hook_.Intercept(methods);
    methods->Proceed();
  }

 private:
  DecodeErrorHook hook_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new DecodeErrorInterceptor(info);
  }
};

}  // namespace

void DecodeErrorHook::Intercept(grpc::experimental::InterceptorBatchMethods* methods) {
  using grpc::experimental::InterceptionHookPoints;
  if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_RECV_MESSAGE)) {
    last_protobuf_error.clear();
  }
  if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
      methods->GetRecvMessage() == nullptr) {
    failed_ = true;
    reason_ = Reason(method_ ? method_ : "", last_protobuf_error);
    last_protobuf_error.clear();
  }
  if (failed_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
      methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    methods->ModifySendStatus(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, reason_));
  }
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewDecodeErrorInterceptorFactory() {
  return std::make_unique<Factory>();
}

void InstallProtobufLogHandler() { google::protobuf::SetLogHandler(&ProtobufLog); }

}  // namespace temporalite::frontend
