// Proto enum value names as Temporal prints them: the type's SCREAMING_CASE prefix dropped and
// the rest in PascalCase (WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW -> ContinuedAsNew).
#pragma once

#include <cctype>
#include <string>

namespace temporalite {

inline std::string PascalEnumName(std::string name, const std::string& prefix) {
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    upper = false;
  }
  return out;
}

}  // namespace temporalite
