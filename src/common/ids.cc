#include "common/ids.h"

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

}  // namespace temporalite
