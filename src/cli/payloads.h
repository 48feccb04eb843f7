// Payloads in and out: --input flags to Payloads (json/plain by default, like `temporal`), and
// Payloads/Failures to readable JSON and text.
#pragma once

#include <temporal/api/common/v1/message.pb.h>
#include <temporal/api/failure/v1/message.pb.h>

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "cli/output.h"

namespace temporalite::cli {

// The `temporal` "payload-input" option set (or its --signal-input / --update-input variants).
struct PayloadInput {
  std::vector<std::string> input;
  std::vector<std::string> input_file;
  std::vector<std::string> input_meta;
  bool input_base64 = false;
};

// Adds --<prefix>, --<prefix>-file, --<prefix>-meta, --<prefix>-base64 (and -i for "input").
void AddPayloadInputFlags(CLI::App* cmd, PayloadInput* in, const std::string& prefix = "input");

// One payload per --input (or per --input-file), metadata encoding "json/plain" unless
// --input-meta encoding=... says otherwise; JSON encodings are validated.
// Throws UsageError for invalid input, CommandError for unreadable files.
temporal::api::common::v1::Payloads BuildPayloads(const PayloadInput& in, const std::string& prefix = "input");

// A json/plain payload holding `value`.
temporal::api::common::v1::Payload JsonPayload(const Json& value);

// KEY=JSON pairs (--memo, --search-attribute, --headers) to json/plain payloads.
std::map<std::string, temporal::api::common::v1::Payload> KeyJsonPayloads(const std::vector<std::string>& pairs,
                                                                         const std::string& flag);
// KEY=VALUE pairs (--data, --grpc-meta) to strings.
std::map<std::string, std::string> KeyValues(const std::vector<std::string>& pairs, const std::string& flag);

// A payload as a JSON value: json/plain (and json/protobuf) data parsed as JSON, binary/null as
// null, anything else as the base64 of its bytes.
Json PayloadValue(const temporal::api::common::v1::Payload& p);
// Payloads as JSON: null when empty, the single value for one payload, else an array.
Json PayloadsValue(const temporal::api::common::v1::Payloads& p);
// The "encoding" metadata of the first payload, or "".
std::string PayloadsEncoding(const temporal::api::common::v1::Payloads& p);
// Compact one-line text of a JSON value (strings keep their quotes, as in JSON).
std::string CompactJson(const Json& value);

// Replaces, anywhere inside protobuf JSON, Payload objects ({"metadata":{"encoding":...},"data":...})
// by their decoded value. For human-readable views only; -o json stays the raw protobuf JSON.
void DecodePayloadsInJson(Json* value);

// A failure and its causes as indented "Message:/StackTrace:/Cause:" lines (starts with "\n").
std::string FailureText(const temporal::api::failure::v1::Failure& f, const std::string& indent);
// A failure on one line: "message (type)" followed by ": cause" for each cause.
std::string FailureSummary(const temporal::api::failure::v1::Failure& f);

}  // namespace temporalite::cli
