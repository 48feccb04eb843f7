#include "ops/sigv4.h"

#include "common/percent_encode.h"
#include "ops/hash.h"

namespace temporalite::ops {

std::string UriEncode(const std::string& s, bool keep_slash) { return PercentEncode(s, keep_slash); }

std::string CanonicalQuery(const std::map<std::string, std::string>& query) {
  std::map<std::string, std::string> encoded;  // sorted by encoded name
  for (const auto& [k, v] : query) encoded[UriEncode(k, false)] = UriEncode(v, false);
  std::string out;
  for (const auto& [k, v] : encoded) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

std::string SignV4(const SigV4Request& r) {
  std::string canonical_headers, signed_headers;
  for (const auto& [k, v] : r.headers) {  // std::map: sorted lowercase names
    canonical_headers += k + ":" + v + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + k;
  }
  const std::string canonical_request = r.method + "\n" + UriEncode(r.path, true) + "\n" + CanonicalQuery(r.query) + "\n" +
                                        canonical_headers + "\n" + signed_headers + "\n" + r.payload_sha256;
  const std::string date = r.amz_date.substr(0, 8);
  const std::string scope = date + "/" + r.region + "/" + r.service + "/aws4_request";
  const std::string to_sign = "AWS4-HMAC-SHA256\n" + r.amz_date + "\n" + scope + "\n" + Sha256Hex(canonical_request);
  std::string key = HmacSha256("AWS4" + r.secret_access_key, date);
  key = HmacSha256(key, r.region);
  key = HmacSha256(key, r.service);
  key = HmacSha256(key, "aws4_request");
  return "AWS4-HMAC-SHA256 Credential=" + r.access_key_id + "/" + scope + ", SignedHeaders=" + signed_headers +
         ", Signature=" + Hex(HmacSha256(key, to_sign));
}

}  // namespace temporalite::ops
