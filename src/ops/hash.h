// SHA-256 and HMAC-SHA256 (OpenSSL), hex-encoded where printed.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace temporalite::ops {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  void Update(std::string_view data);
  // Lowercase hex digest; the object cannot be updated afterwards.
  std::string HexDigest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string Sha256Hex(std::string_view data);
// Lowercase hex SHA-256 of a file's contents; empty on read error.
std::string Sha256File(const std::string& path);
// Raw (binary) HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Hex(std::string_view bytes);

}  // namespace temporalite::ops
