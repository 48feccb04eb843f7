#include "common/namespace_name.h"

#include <cstdio>

namespace temporalite {

Status ValidateNamespaceName(std::string_view name, size_t max_length) {
  if (name.empty()) return Status(Code::kInvalidArgument, "Namespace is not set on request.");
  if (name.size() > max_length) return Status(Code::kInvalidArgument, "Namespace length exceeds limit.");
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    unsigned code = 0x110000;
    if (c < 0x20 || c == 0x7f) code = c;
    // C1 controls, U+0080..U+009F: 0xC2 0x80..0x9F in UTF-8.
    if (c == 0xc2 && i + 1 < name.size() && static_cast<unsigned char>(name[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(name[i + 1]) <= 0x9f) {
      code = static_cast<unsigned char>(name[i + 1]);
    }
    if (code != 0x110000) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "Namespace name contains control character U+%04X at byte %zu.", code, i);
      return Status(Code::kInvalidArgument, buf);
    }
  }
  return Status::Ok();
}

std::string EscapeControlCharacters(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7f) {
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace temporalite
