#pragma once

#include <string>

namespace temporalite {

// A random RFC 4122 version-4 UUID in canonical lowercase form. Thread-safe.
std::string NewUuid();

}  // namespace temporalite
