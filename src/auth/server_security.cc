#include "auth/server_security.h"

#include "auth/auth_interceptor.h"

namespace temporalite::auth {

Result<ServerSecurity> SetUpSecurity(const SecurityFlags& flags) {
  ServerSecurity s;
  auto creds = ServerCredentials(flags.tls);
  if (!creds.ok()) return creds.status();
  s.credentials = std::move(creds).value();
  s.tls = flags.tls.enabled();
  if (!flags.api_key_file.empty()) {
    auto keys = ApiKeys::Load(flags.api_key_file);
    if (!keys.ok()) return keys.status();
    s.keys = std::make_unique<KeyRing>(flags.api_key_file, std::move(keys).value());
  }
  if (!flags.audit_log_file.empty()) {
    auto audit = AuditLog::Open(flags.audit_log_file);
    if (!audit.ok()) return audit.status();
    s.audit = std::move(audit).value();
  }
  return s;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> ServerSecurity::Interceptor() const {
  if (!keys && !audit) return nullptr;
  return NewAuthInterceptorFactory(keys.get(), audit.get());
}

Status ServerSecurity::ReloadKeys() const { return keys ? keys->Reload() : Status::Ok(); }

std::string ServerSecurity::ExposureWarning(const std::string& ip) const {
  bool loopback = ip == "localhost" || ip == "::1" || ip == "[::1]" || ip.rfind("127.", 0) == 0;
  if (loopback || (tls && keys)) return "";
  std::string missing = !tls && !keys ? "without TLS and without API keys" : !tls ? "without TLS (API keys travel in clear text)"
                                                                                    : "without API keys (anyone who reaches it may call every method)";
  return "serving " + ip + ", which is not a loopback address, " + missing +
         "; see --tls-cert-file/--tls-key-file and --api-key-file";
}

}  // namespace temporalite::auth
