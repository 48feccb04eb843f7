// A version-4 UUID's text from 128 random bits (the client's random ids and the workflow's
// deterministic ones share the layout).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace temporalite::sdk::internal {

inline std::string FormatUuidV4(uint64_t a, uint64_t b) {
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[37];
  snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
           static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
           static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

}  // namespace temporalite::sdk::internal
