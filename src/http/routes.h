// The HTTP API's route table, built from the compiled service descriptors: every method whose
// google.api.http option (or one of its additional_bindings) has a path under /api/v1 becomes a
// route. Nothing here is written per method.
#pragma once

#include <google/protobuf/descriptor.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace temporalite::http {

// "/a/b/c" -> {"a", "b", "c"} (a leading slash dropped; empty segments kept).
std::vector<std::string_view> SplitPath(std::string_view path);

struct PathSegment {
  enum class Kind { kLiteral, kVariable, kRest };  // "x", "{a.b}" or "{a.b=*}", "{a.b=**}"
  Kind kind = Kind::kLiteral;
  std::string text;  // literal text, or the variable's field path ("execution.workflow_id")
};

struct Route {
  std::string http_method;  // "GET", "POST", "DELETE", "PUT", "PATCH"
  std::string path;         // the template as annotated
  std::vector<PathSegment> segments;
  std::string body;  // "" (none), "*" or a top-level field name
  const google::protobuf::MethodDescriptor* method = nullptr;
};

// Variable bindings of one match: (field path, decoded value).
using PathBindings = std::vector<std::pair<std::string, std::string>>;

class RouteTable {
 public:
  // Routes of every method of `services` with a binding whose path starts with `prefix`.
  static RouteTable Build(const std::vector<const google::protobuf::ServiceDescriptor*>& services,
                          std::string_view prefix);

  // The route for `http_method` and the raw (still percent-encoded) `path`; literal segments win
  // over variables at the first place two templates differ. nullptr when none matches;
  // *path_matched tells whether some route matched the path with another method (405).
  const Route* Match(std::string_view http_method, std::string_view raw_path, PathBindings* bindings,
                     bool* path_matched) const;

  // A table of given routes (tests); their `segments` are parsed from `path` here.
  static RouteTable FromRoutes(std::vector<Route> routes);

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Percent-decoding of one path segment or query component ('+' as space when `plus_is_space`).
// false on a malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

}  // namespace temporalite::http
