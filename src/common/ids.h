#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace temporalite {

// A random RFC 4122 version-4 UUID in canonical lowercase form. Thread-safe.
std::string NewUuid();

// A version-7 UUID (RFC 9562): 48-bit Unix milliseconds of `unix_ms`, then random bits. Ids made
// later sort later, so rows keyed by them are appended at the end of B-trees instead of
// dirtying random pages (used for run ids). Thread-safe.
std::string NewTimeOrderedUuid(int64_t unix_ms);

// A UUID-formatted id that is a pure function of `name` (version 8, RFC 9562 "custom": two
// 64-bit FNV-1a hashes). For request ids that must repeat when an operation is retried.
std::string NameBasedUuid(const std::string& name);

// What Go's uuid.Validate accepts (Temporal checks run ids with it): the canonical 8-4-4-4-12 hex
// form, the same in braces or after "urn:uuid:" (any case), or the 32 hex digits alone.
bool IsUuid(std::string_view s);

}  // namespace temporalite
