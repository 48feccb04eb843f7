// RFC 3986 percent-encoding: every byte but the unreserved characters (ALPHA DIGIT - . _ ~), and
// '/' when asked, becomes %XX with upper-case hex (as AWS SigV4 requires; also safe in a cookie
// value).
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace temporalite {

inline std::string PercentEncode(std::string_view s, bool keep_slash = false) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace temporalite
