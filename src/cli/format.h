// Value formatting and parsing shared by the commands: durations, times, enum names.
#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/generated_enum_reflection.h>
#include <google/protobuf/timestamp.pb.h>

#include <chrono>
#include <string>

#include "common/proto_time.h"  // ToProtoDuration, FromProto (durations and timestamps)

namespace temporalite::cli {

// Parses a duration as `temporal` accepts it: Go syntax ("10s", "1m30s", "1.5h", "250ms") plus
// days ("5d"). Throws UsageError mentioning `flag` when invalid.
std::chrono::nanoseconds ParseDuration(const std::string& text, const std::string& flag);

// Go's time.Duration.String(): "1.5s", "2m3s", "72h0m0s", "0s".
std::string FormatDuration(std::chrono::nanoseconds d);

bool IsSet(const google::protobuf::Timestamp& ts);
// RFC 3339 in UTC, seconds precision: "2024-05-01T10:11:12Z".
std::string Rfc3339(const google::protobuf::Timestamp& ts);
// Like go-humanize: "now", "3 seconds ago", "2 hours from now", "1 month ago".
std::string RelativeTime(std::chrono::system_clock::time_point t, std::chrono::system_clock::time_point now);

// The short name of an enum value as `temporal` prints it: the type-name prefix stripped and the
// rest in CamelCase (WORKFLOW_EXECUTION_STATUS_TIMED_OUT -> "TimedOut").
std::string EnumName(const google::protobuf::EnumDescriptor* type, int value);
template <class E>
std::string EnumName(E value) {
  return EnumName(google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}
// Parses a short ("TimedOut", case-insensitive) or full (WORKFLOW_EXECUTION_STATUS_TIMED_OUT)
// enum name. Returns false when unknown.
bool ParseEnumName(const google::protobuf::EnumDescriptor* type, const std::string& text, int* value);

// Base64 (standard alphabet, padded).
std::string Base64Encode(const std::string& bytes);
// Returns false when `text` is not valid standard base64.
bool Base64Decode(const std::string& text, std::string* out);

}  // namespace temporalite::cli
