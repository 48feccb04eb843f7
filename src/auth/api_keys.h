// API keys with roles, as Temporal's authorizer sees callers: a key (sent as
// `authorization: Bearer <key>`, what Temporal Cloud, the SDKs' apiKey option and the CLI's
// --api-key send) names a principal with a role, for every namespace or per namespace.
//
// Key file (--api-key-file), one key per line, '#' starts a comment:
//
//   <name> <key> <grant> [<grant>...]
//   grant = reader | writer | admin          (every namespace and the cluster)
//         | reader@<ns> | writer@<ns> | admin@<ns>   (that namespace only)
//
//   ci-bot    3b8f0c...e1   writer@default
//   grafana   77aa01...9c   reader
//   ops       f00dcafe...   admin
//
// Roles are ordered reader < writer < admin (Temporal's reader, writer/worker and admin).
// What each call needs is RequiredAccess() below.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace temporalite::auth {

enum class Role { kNone = 0, kReader = 1, kWriter = 2, kAdmin = 3 };
const char* RoleName(Role r);

struct Principal {
  std::string name;
  Role global = Role::kNone;              // on every namespace and cluster-level calls
  std::map<std::string, Role> per_namespace;
  Role On(const std::string& ns) const;    // the higher of global and the namespace's grant
};

// What a method needs. kOpen: nothing (health, GetSystemInfo, which SDKs call before anything
// else); kAuthenticated: any valid key; kRead/kWrite/kAdmin: that role on the request's
// namespace; kClusterAdmin: an admin grant for every namespace.
enum class Access { kOpen, kAuthenticated, kRead, kWrite, kAdmin, kClusterAdmin };
const char* AccessName(Access a);

// By the full gRPC method name ("/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution").
Access RequiredAccess(std::string_view full_method);

class ApiKeys {
 public:
  // INVALID_ARGUMENT naming the line for a malformed file; a key listed twice is an error.
  static Result<ApiKeys> Parse(std::string_view text);
  static Result<ApiKeys> Load(const std::string& path);

  // The key's principal, or nullptr.
  const Principal* Find(std::string_view key) const;
  size_t size() const { return by_digest_.size(); }

 private:
  std::map<std::string, Principal> by_digest_;  // SHA-256 of the key -> principal
};

struct Decision {
  Status status;               // OK, UNAUTHENTICATED or PERMISSION_DENIED (Temporal's wording first)
  std::string principal;       // the key's name, "" without a valid key
};

// `authorization`: the header's value ("Bearer <key>", scheme case-insensitive) or "".
// `ns`: the request's namespace ("" when it has none).
Decision Authorize(const ApiKeys& keys, std::string_view authorization, std::string_view full_method,
                   const std::string& ns);

}  // namespace temporalite::auth
