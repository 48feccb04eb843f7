// Server-side TLS for the gRPC port: --tls-cert-file/--tls-key-file serve TLS; with
// --tls-ca-file every client must present a certificate signed by that CA (mutual TLS).
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace temporalite::auth {

struct TlsFiles {
  std::string cert_file;  // PEM server certificate (chain)
  std::string key_file;   // PEM private key of cert_file
  std::string ca_file;    // PEM CA bundle for client certificates; empty: no client certificates
  bool enabled() const { return !cert_file.empty() || !key_file.empty() || !ca_file.empty(); }
};

// Credentials for grpc::ServerBuilder::AddListeningPort: insecure when no file is given, TLS
// otherwise. INVALID_ARGUMENT naming the flag when a file is missing, unreadable, not PEM, or a
// certificate comes without its key (or the CA without a server certificate).
Result<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsFiles& files);

}  // namespace temporalite::auth
