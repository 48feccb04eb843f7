#include "frontend/grpc_status.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace temporalite::frontend {

namespace {
// google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
// encoded by hand: three fields do not justify generating googleapis' rpc protos.
std::string EncodeRpcStatus(int code, const std::string& message, const std::string& any_detail) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream os(&raw);
    os.WriteTag((1 << 3) | 0);
    os.WriteVarint32(static_cast<uint32_t>(code));
    os.WriteTag((2 << 3) | 2);
    os.WriteVarint32(static_cast<uint32_t>(message.size()));
    os.WriteString(message);
    if (!any_detail.empty()) {
      os.WriteTag((3 << 3) | 2);
      os.WriteVarint32(static_cast<uint32_t>(any_detail.size()));
      os.WriteString(any_detail);
    }
  }
  return out;
}
}  // namespace

grpc::Status ToGrpc(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  auto code = static_cast<grpc::StatusCode>(static_cast<int>(s.code()));
  if (s.details().empty()) return grpc::Status(code, s.message());
  return grpc::Status(code, s.message(), EncodeRpcStatus(static_cast<int>(s.code()), s.message(), s.details()));
}

}  // namespace temporalite::frontend
