#include "common/ids.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <random>

namespace temporalite {

namespace {

// The 8-4-4-4-12 hex text of the 128 bits hi:lo.
std::string FormatUuid(uint64_t hi, uint64_t lo) {
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<uint32_t>(hi >> 32),
                static_cast<uint32_t>((hi >> 16) & 0xffff), static_cast<uint32_t>(hi & 0xffff),
                static_cast<uint32_t>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

}  // namespace

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return FormatUuid(a, b);
}

std::string NewTimeOrderedUuid(int64_t unix_ms) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t r1 = rng(), r2 = rng();
  uint64_t ms = static_cast<uint64_t>(unix_ms) & 0xffffffffffffULL;
  uint64_t hi = (ms << 16) | 0x7000ULL | (r1 & 0x0fffULL);              // time, version 7, rand_a
  uint64_t lo = (r2 & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10, rand_b
  return FormatUuid(hi, lo);
}

std::string NameBasedUuid(const std::string& name) {
  auto fnv = [&](uint64_t h) {
    for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ULL;
    return h;
  };
  uint64_t hi = fnv(0xcbf29ce484222325ULL), lo = fnv(0x84222325cbf29ce4ULL);
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000008000ULL;  // version 8
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return FormatUuid(hi, lo);
}

bool IsUuid(std::string_view s) {
  auto hex = [](std::string_view digits) {
    for (char ch : digits) {
      if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
    }
    return true;
  };
  if (s.size() == 32) return hex(s);
  if (s.size() == 38) {
    if (s.front() != '{' || s.back() != '}') return false;
    s = s.substr(1, 36);
  } else if (s.size() == 45) {
    constexpr std::string_view kUrn = "urn:uuid:";
    for (size_t i = 0; i < kUrn.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(s[i])) != kUrn[i]) return false;
    }
    s = s.substr(kUrn.size());
  }
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !hex(s.substr(i, 1))) return false;
  }
  return true;
}

}  // namespace temporalite
