// The server's security settings in one place for the composition root: TLS credentials for
// the gRPC port, API keys, the audit log, and the interceptor that enforces and records them.
#pragma once

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <optional>
#include <string>

#include "auth/api_keys.h"
#include "auth/audit_log.h"
#include "auth/tls.h"
#include "common/status.h"

namespace temporalite::auth {

struct SecurityFlags {
  TlsFiles tls;
  std::string api_key_file;
  std::string audit_log_file;
};

struct ServerSecurity {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  bool tls = false;
  std::unique_ptr<KeyRing> keys;  // nullptr without --api-key-file
  std::unique_ptr<AuditLog> audit;

  // The interceptor to install, or nullptr when neither keys nor an audit log are configured.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> Interceptor() const;
  // SIGHUP: re-reads the API key file (OK without one); the old keys stay on error.
  Status ReloadKeys() const;
  // A warning for a non-loopback address served without TLS or without keys ("" if none).
  std::string ExposureWarning(const std::string& ip) const;
};

// INVALID_ARGUMENT naming the flag for unreadable or malformed files.
Result<ServerSecurity> SetUpSecurity(const SecurityFlags& flags);

}  // namespace temporalite::auth
