#include "http/invoker.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/byte_buffer.h>

#include <future>

namespace temporalite::http {

ChannelInvoker::ChannelInvoker(std::shared_ptr<grpc::Channel> channel) : channel_(channel), stub_(channel) {}

CallResult ChannelInvoker::Call(const google::protobuf::MethodDescriptor& method,
                                const google::protobuf::Message& request, google::protobuf::Message* response,
                                std::chrono::milliseconds timeout, const CallMetadata& metadata,
                                const std::function<bool()>& client_gone) {
  std::string bytes = request.SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer req(&slice, 1);
  grpc::ByteBuffer resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  if (!metadata.authorization.empty()) ctx.AddMetadata("authorization", metadata.authorization);
  if (!metadata.caller_type.empty()) ctx.AddMetadata("caller-type", metadata.caller_type);
  std::promise<grpc::Status> done;
  std::string name = "/" + method.service()->full_name() + "/" + method.name();
  stub_.UnaryCall(&ctx, name, grpc::StubOptions(), &req, &resp, [&done](grpc::Status s) { done.set_value(s); });
  std::future<grpc::Status> finished = done.get_future();
  // The HTTP client may leave while the call waits (a long poll): cancel the RPC then, which
  // frees this thread and ends the poll in the engine, rather than waiting up to a minute.
  while (client_gone && finished.wait_for(kClientCheck) != std::future_status::ready) {
    if (client_gone()) {
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status s = finished.get();
  CallResult r;
  if (!s.ok()) {
    r.code = static_cast<int>(s.error_code());
    r.message = s.error_message();
    r.details_status = s.error_details();
    return r;
  }
  std::vector<grpc::Slice> slices;
  if (!resp.Dump(&slices).ok()) return {13, "cannot read the response", {}};
  std::string out;
  for (const auto& sl : slices) out.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  if (!response->ParseFromString(out)) return {13, "cannot parse the response", {}};
  return r;
}

}  // namespace temporalite::http
