// AWS Signature Version 4 for S3 requests (header-based, as in AWS's "Authenticating Requests:
// Using the Authorization Header" documentation).
#pragma once

#include <map>
#include <string>

namespace temporalite::ops {

struct SigV4Request {
  std::string method;
  std::string path;  // un-encoded absolute path ("/bucket/key"); each segment is URI-encoded
  std::map<std::string, std::string> query;    // un-encoded names and values
  std::map<std::string, std::string> headers;  // lowercase names -> values; all are signed
  std::string payload_sha256;                  // hex, also sent as x-amz-content-sha256
  std::string amz_date;                        // "20130524T000000Z"
  std::string region;
  std::string service = "s3";
  std::string access_key_id;
  std::string secret_access_key;
};

// RFC 3986 encoding as SigV4 wants it ('/' kept when `keep_slash`).
std::string UriEncode(const std::string& s, bool keep_slash);
// The canonical query string ("a=1&b=2", sorted by name).
std::string CanonicalQuery(const std::map<std::string, std::string>& query);
// The value of the Authorization header.
std::string SignV4(const SigV4Request& r);

}  // namespace temporalite::ops
