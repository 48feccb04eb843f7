#include <cctype>

#include "history/commands/handlers.h"

namespace temporalite::history::commands {

bool ValidDuration(const google::protobuf::Duration& d) { return d.seconds() >= 0 && d.nanos() >= 0; }

bool IsUuid(const std::string& s) {
  if (s.size() == 32) {
    for (char ch : s) {
      if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
    }
    return true;
  }
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace temporalite::history::commands
