#include "cli/client.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cli/format.h"
#include "common/namespace_name.h"

namespace temporalite::cli {
namespace {

using std::chrono::system_clock;

// Per-call deadlines when --command-timeout is not set: a unary call that takes this long means
// the server is stuck; a long poll is re-issued after its deadline (servers answer within ~60 s).
constexpr std::chrono::seconds kUnaryTimeout(60);
constexpr std::chrono::seconds kLongPollTimeout(75);

std::string ReadPem(const std::string& path, const std::string& flag) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw UsageError("cannot read " + flag + " " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool Contains(const std::string& haystack, const char* needle) {
  return Lower(haystack).find(needle) != std::string::npos;
}

}  // namespace

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "CODE_" + std::to_string(static_cast<int>(code));
  }
}

bool UnpackErrorDetail(const std::string& rpc_status, google::protobuf::Message* out) {
  // google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(rpc_status.data()),
                                            static_cast<int>(rpc_status.size()));
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == 3 &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::string bytes;
      uint32_t len = 0;
      if (!in.ReadVarint32(&len) || !in.ReadString(&bytes, static_cast<int>(len))) return false;
      google::protobuf::Any any;
      if (any.ParseFromString(bytes) &&
          any.type_url().substr(any.type_url().rfind('/') + 1) == out->GetDescriptor()->full_name()) {
        return out->ParseFromString(any.value());
      }
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return false;
}

Connection::Connection(const GlobalFlags& f, std::optional<system_clock::time_point> deadline)
    : address_(f.address), ns_(f.ns), api_key_(f.api_key), command_timeout_(f.command_timeout), deadline_(deadline) {
  if (!f.client_connect_timeout.empty()) {
    connect_timeout_ = ParseDuration(f.client_connect_timeout, "--client-connect-timeout");
  }
  std::string ca = f.tls_ca_data;
  std::string cert = f.tls_cert_data;
  std::string key = f.tls_key_data;
  if (!f.tls_ca_path.empty()) {
    if (!ca.empty()) throw UsageError("cannot combine --tls-ca-path and --tls-ca-data");
    ca = ReadPem(f.tls_ca_path, "--tls-ca-path");
  }
  if (!f.tls_cert_path.empty()) {
    if (!cert.empty()) throw UsageError("cannot combine --tls-cert-path and --tls-cert-data");
    cert = ReadPem(f.tls_cert_path, "--tls-cert-path");
  }
  if (!f.tls_key_path.empty()) {
    if (!key.empty()) throw UsageError("cannot combine --tls-key-path and --tls-key-data");
    key = ReadPem(f.tls_key_path, "--tls-key-path");
  }
  if (cert.empty() != key.empty()) {
    throw UsageError("a client certificate (--tls-cert-path/--tls-cert-data) needs its key "
                     "(--tls-key-path/--tls-key-data), and the other way round");
  }
  // Like `temporal`: TLS is on when asked for, or implied by an API key or any TLS setting,
  // unless --tls=false was given explicitly.
  bool implied = !f.api_key.empty() || !ca.empty() || !cert.empty() || !f.tls_server_name.empty() ||
                 f.tls_disable_host_verification;
  tls_ = f.tls_set ? f.tls : (f.tls || implied);

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(128 * 1024 * 1024);
  args.SetMaxSendMessageSize(128 * 1024 * 1024);
  if (!f.client_authority.empty()) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, f.client_authority);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!tls_) {
    creds = grpc::InsecureChannelCredentials();
  } else if (f.tls_disable_host_verification) {
    grpc::experimental::TlsChannelCredentialsOptions opts;
    std::vector<grpc::experimental::IdentityKeyCertPair> pairs;
    if (!cert.empty()) pairs.push_back({key, cert});
    if (!ca.empty() || !pairs.empty()) {
      opts.set_certificate_provider(std::make_shared<grpc::experimental::StaticDataCertificateProvider>(ca, pairs));
      if (!ca.empty()) opts.watch_root_certs();
      if (!pairs.empty()) opts.watch_identity_key_cert_pairs();
    }
    // As Temporal's CLI (Go's tls.Config.InsecureSkipVerify) and the SDKs: neither the chain nor
    // the host name is verified.
    opts.set_verify_server_certs(false);
    opts.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    opts.set_check_call_host(false);
    creds = grpc::experimental::TlsCredentials(opts);
  } else {
    grpc::SslCredentialsOptions opts;
    opts.pem_root_certs = ca;
    opts.pem_private_key = key;
    opts.pem_cert_chain = cert;
    creds = grpc::SslCredentials(opts);
  }
  if (tls_ && !f.tls_server_name.empty()) args.SetSslTargetNameOverride(f.tls_server_name);

  if (!f.api_key.empty()) metadata_.emplace_back("authorization", "Bearer " + f.api_key);
  // gRPC header values are printable ASCII (grpc aborts the process on others): a name with a
  // control character is refused here with the server's message; another non-ASCII name goes
  // without the header (the request carries it).
  if (Status valid = ValidateNamespaceName(f.ns, std::string::npos); !valid.ok() && !f.ns.empty()) {
    throw UsageError("namespace \"" + EscapeControlCharacters(f.ns) + "\": " + valid.message());
  }
  if (std::all_of(f.ns.begin(), f.ns.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    metadata_.emplace_back("temporal-namespace", f.ns);
  }
  for (const std::string& kv : f.grpc_meta) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--grpc-meta " + kv + ": expected KEY=VALUE");
    metadata_.emplace_back(Lower(kv.substr(0, eq)), kv.substr(eq + 1));
  }
  // As Temporal's CLI (it sets this on every call, over any --grpc-meta value): the server's rate
  // limits put an operator's calls at the operator priority, ahead of the workers' traffic.
  std::erase_if(metadata_, [](const auto& kv) { return kv.first == "caller-type"; });
  metadata_.emplace_back("caller-type", "operator");
  channel_ = grpc::CreateCustomChannel(address_, creds, args);
  workflow_ = temporal::api::workflowservice::v1::WorkflowService::NewStub(channel_);
  operator_ = temporal::api::operatorservice::v1::OperatorService::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> Connection::NewContext(bool long_poll) {
  auto now = system_clock::now();
  if (connect_timeout_ && !connected_) {
    auto until = now + std::chrono::duration_cast<system_clock::duration>(*connect_timeout_);
    if (deadline_ && *deadline_ < until) until = *deadline_;
    if (!channel_->WaitForConnected(until)) {
      throw RpcError("cannot reach " + address_ + " within " + FormatDuration(*connect_timeout_) +
                         ": is the server running?",
                     grpc::StatusCode::UNAVAILABLE, "");
    }
    now = system_clock::now();
  }
  auto ctx = std::make_unique<grpc::ClientContext>();
  for (const auto& [k, v] : metadata_) ctx->AddMetadata(k, v);
  auto per_call = now + (long_poll ? system_clock::duration(kLongPollTimeout) : system_clock::duration(kUnaryTimeout));
  ctx->set_deadline(deadline_ && *deadline_ < per_call ? *deadline_ : per_call);
  return ctx;
}

void Connection::Throw(const grpc::Status& s, std::string_view rpc, std::string_view what, bool long_poll) {
  const std::string msg = s.error_message();
  const std::string code = StatusCodeName(s.error_code());
  const std::string prefix = what.empty() ? std::string() : std::string(what) + ": ";
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE: {
      auto state = channel_->GetState(false);
      // Over a connection that is up, UNAVAILABLE is the server's own answer (one waiting after a
      // storage failure says why), whatever words its message has ("refused", "tls").
      bool transport = state != GRPC_CHANNEL_READY &&
                       (!connected_ || state == GRPC_CHANNEL_TRANSIENT_FAILURE || Contains(msg, "connect") ||
                        Contains(msg, "socket") || Contains(msg, "dns") || Contains(msg, "handshake"));
      if (!transport) break;
      if (Contains(msg, "ssl") || Contains(msg, "tls") || Contains(msg, "handshake") || Contains(msg, "certificate")) {
        throw RpcError("cannot reach " + address_ + (tls_ ? " over TLS" : "") + ": " + msg +
                           (tls_ ? "" : " (does the server expect TLS? try --tls)"),
                       s.error_code(), s.error_details());
      }
      if (connected_) {
        throw RpcError("lost connection to " + address_ + " during " + std::string(rpc) + ": " + msg,
                       s.error_code(), s.error_details());
      }
      // Nothing listening is "connection refused"; a listener that hangs up on our first bytes
      // usually speaks the other protocol (TLS vs plain text).
      const bool refused = Contains(msg, "refused") || Contains(msg, "no route") || Contains(msg, "unreachable");
      if (!refused && !tls_ && !msg.empty()) {
        throw RpcError("cannot reach " + address_ + ": " + msg +
                           " (the server closed the connection: does it expect TLS? try --tls)",
                       s.error_code(), s.error_details());
      }
      std::string hint = tls_ ? " (connecting with TLS; does the server expect plain text? try --tls=false)" : "";
      throw RpcError("cannot reach " + address_ + ": is the server running?" + hint, s.error_code(), s.error_details());
    }
    case grpc::StatusCode::UNIMPLEMENTED:
      // Without the command's prefix: what is missing is the server feature, not a detail of it.
      throw RpcError("the server does not implement " + std::string(rpc) + " (UNIMPLEMENTED)", s.error_code(),
                     s.error_details());
    case grpc::StatusCode::DEADLINE_EXCEEDED: {
      auto now = system_clock::now();
      if (deadline_ && now + std::chrono::milliseconds(50) >= *deadline_) {
        throw RpcError("command timed out after " + command_timeout_ + " (--command-timeout) during " + std::string(rpc),
                       s.error_code(), s.error_details());
      }
      if (long_poll) {
        throw RpcError(prefix + std::string(rpc) + " long poll timed out", s.error_code(), s.error_details(), true);
      }
      auto secs = std::chrono::duration_cast<std::chrono::seconds>(kUnaryTimeout).count();
      throw RpcError(prefix + std::string(rpc) + " got no answer from " + address_ + " within " + std::to_string(secs) +
                         "s (DEADLINE_EXCEEDED)",
                     s.error_code(), s.error_details());
    }
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      throw RpcError(prefix + msg + " (" + code + "): check --api-key and the TLS flags", s.error_code(),
                     s.error_details());
    default:
      break;
  }
  throw RpcError(prefix + (msg.empty() ? std::string(rpc) + " failed" : msg) + " (" + code + ")", s.error_code(),
                 s.error_details());
}

}  // namespace temporalite::cli
