// libFuzzer target: the HTTP API's request side (src/http): route matching with percent-decoded
// path variables, query strings, and the JSON body transcoded into the method's request message
// (enum short names, body rules), then printed back as proto3 JSON. The input is
// "METHOD\nPATH\nQUERY\nBODY". Errors must be statuses (INVALID_ARGUMENT), never crashes.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "http/routes.h"
#include "http/transcode.h"
#include "temporal/api/operatorservice/v1/service.pb.h"
#include "temporal/api/workflowservice/v1/service.pb.h"

namespace pb = google::protobuf;
namespace http = temporalite::http;

namespace {

const http::RouteTable& Routes() {
  static const http::RouteTable* table = [] {
    // A call, not an unused (volatile) local naming the tables: clang drops those, and then
    // service.pb.cc is not linked in and the services are missing from the generated pool.
    google::protobuf::internal::AssignDescriptors(&::descriptor_table_temporal_2fapi_2fworkflowservice_2fv1_2fservice_2eproto);
    google::protobuf::internal::AssignDescriptors(&::descriptor_table_temporal_2fapi_2foperatorservice_2fv1_2fservice_2eproto);
    const auto* pool = pb::DescriptorPool::generated_pool();
    return new http::RouteTable(http::RouteTable::Build(
        {pool->FindServiceByName("temporal.api.workflowservice.v1.WorkflowService"),
         pool->FindServiceByName("temporal.api.operatorservice.v1.OperatorService")},
        "/api/v1/"));
  }();
  return *table;
}

std::string_view NextLine(std::string_view* rest) {
  size_t nl = rest->find('\n');
  std::string_view line = rest->substr(0, nl);
  *rest = nl == std::string_view::npos ? std::string_view() : rest->substr(nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string method(NextLine(&rest));
  std::string_view path = NextLine(&rest);
  std::string_view query = NextLine(&rest);
  std::string_view body = rest;

  http::QueryParams params;
  temporalite::Status qs = http::ParseQueryString(query, &params);
  if (!qs.ok() && qs.code() != temporalite::Code::kInvalidArgument) std::abort();
  std::string decoded;
  (void)http::PercentDecode(path, false, &decoded);
  (void)http::SplitPath(path);

  http::PathBindings bindings;
  bool path_matched = false;
  const http::Route* route = Routes().Match(method, path, &bindings, &path_matched);
  if (!route) return 0;
  auto* factory = pb::MessageFactory::generated_factory();
  std::unique_ptr<pb::Message> in(factory->GetPrototype(route->method->input_type())->New());
  temporalite::Status s = http::BuildRequest(*route, bindings, params, body, in.get());
  if (!s.ok()) {
    if (s.code() != temporalite::Code::kInvalidArgument) std::abort();
    (void)http::StatusToJson(static_cast<int>(s.code()), s.message());
    return 0;
  }
  (void)http::MessageToJson(*in);
  return 0;
}
