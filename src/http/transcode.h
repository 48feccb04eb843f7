// JSON <-> protobuf for the HTTP API, as grpc-gateway does it for Temporal's frontend: requests
// from path variables, query parameters and the JSON body by the route's body rule; responses as
// proto3 JSON (lowerCamelCase, int64 as strings, enums by name, payloads not shortened); errors
// as google.rpc.Status JSON with grpc-gateway's HTTP status for the code.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/routes.h"

namespace temporalite::http {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Splits and percent-decodes a raw query string ("a=1&b.c=x%20y"). InvalidArgument on a bad escape.
Status ParseQueryString(std::string_view raw, QueryParams* out);

// Fills `out` (an empty message of the route's input type) from the request. Body rule "*": the
// body is the message and query parameters are ignored; "<field>": the body is that field and
// query parameters fill the others; none: query parameters only. Query names may be camelCase or
// snake_case with dotted paths; unknown ones are ignored (as grpc-gateway). Enums are accepted by
// full name, by short name ("BufferOne", "buffer_one") or by number. Path variables win.
// InvalidArgument (nothing else done) on bad JSON, unknown body fields, wrong types or unknown
// enum values.
Status BuildRequest(const Route& route, const PathBindings& bindings, const QueryParams& query,
                    std::string_view body, google::protobuf::Message* out);

// Rewrites enum values given by short name or as numeric strings to what the proto3 JSON parser
// takes, recursively along `type`. Unknown names are left for the parser to reject.
void NormalizeEnums(const google::protobuf::Descriptor* type, void* json_object);

// proto3 JSON of a message (no whitespace, defaults omitted).
std::string MessageToJson(const google::protobuf::Message& m);

// grpc-gateway's HTTP status for a gRPC code.
int HttpStatusForCode(int grpc_code);

// {"code":..,"message":..,"details":[..]} with each detail (a serialized google.protobuf.Any in
// `details_status`, a serialized google.rpc.Status) printed as JSON with its "@type".
std::string StatusToJson(int grpc_code, const std::string& message, const std::string& details_status = {});

}  // namespace temporalite::http
