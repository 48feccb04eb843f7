#include "auth/tls.h"

#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <sstream>

namespace temporalite::auth {
namespace {

Result<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(std::string(flag) + ": cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  std::string pem = s.str();
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return InvalidArgument(std::string(flag) + ": " + path + " is not a PEM file");
  }
  return pem;
}

}  // namespace

Result<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureServerCredentials();
  if (files.cert_file.empty() || files.key_file.empty()) {
    return InvalidArgument("--tls-cert-file and --tls-key-file go together (--tls-ca-file adds client certificates to them)");
  }
  grpc::SslServerCredentialsOptions opts;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  auto cert = ReadPem(files.cert_file, "--tls-cert-file");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(files.key_file, "--tls-key-file");
  if (!key.ok()) return key.status();
  pair.cert_chain = std::move(cert).value();
  pair.private_key = std::move(key).value();
  if (pair.private_key.find("PRIVATE KEY-----") == std::string::npos) {
    return InvalidArgument("--tls-key-file: " + files.key_file + " holds no private key");
  }
  opts.pem_key_cert_pairs.push_back(std::move(pair));
  if (!files.ca_file.empty()) {
    auto ca = ReadPem(files.ca_file, "--tls-ca-file");
    if (!ca.ok()) return ca.status();
    opts.pem_root_certs = std::move(ca).value();
    opts.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  } else {
    opts.client_certificate_request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  }
  return grpc::SslServerCredentials(opts);
}

}  // namespace temporalite::auth
