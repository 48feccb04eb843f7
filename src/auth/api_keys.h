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
//   ops       sha256:9f1c...:5be0...   admin
//
// <key> is the key itself (16 characters or more) or, better, its salted hash
// `sha256:<salt hex>:<hex of SHA-256(salt bytes + key)>` as `temporalite server hash-api-key`
// prints it: the file then holds nothing a caller could send. The server re-reads the file on
// SIGHUP (KeyRing below); a file that no longer parses leaves the keys in force unchanged.
//
// Roles are ordered reader < writer < admin (Temporal's reader, writer/worker and admin).
// What each call needs is RequiredAccess() below.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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
  size_t size() const { return by_digest_.size() + salted_.size(); }

 private:
  struct Salted {
    std::string salt;    // raw bytes
    std::string digest;  // SHA-256(salt + key), raw bytes
    Principal principal;
  };
  std::map<std::string, Principal> by_digest_;  // SHA-256 of a key given in clear -> principal
  std::vector<Salted> salted_;                  // keys given as salted hashes (checked one by one)
};

// `sha256:<salt hex>:<digest hex>` for `key` with a fresh random 16-byte salt.
std::string HashApiKey(std::string_view key);
// A new random key: 32 bytes as 64 hex digits.
std::string NewApiKey();

// The keys in force, replaceable while the server runs (SIGHUP). Thread-safe.
class KeyRing {
 public:
  KeyRing(std::string path, ApiKeys keys);
  std::shared_ptr<const ApiKeys> Current() const;
  // Re-reads the file: on success the new keys are in force for every later call; on error
  // (the message names the line) the old keys stay.
  Status Reload();
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const ApiKeys> keys_;
};

struct Decision {
  Status status;               // OK, UNAUTHENTICATED or PERMISSION_DENIED (Temporal's wording first)
  std::string principal;       // the key's name, "" without a valid key
};

// `authorization`: the header's value ("Bearer <key>", scheme case-insensitive) or "".
// `ns`: the request's namespace ("" when it has none).
Decision Authorize(const ApiKeys& keys, std::string_view authorization, std::string_view full_method,
                   const std::string& ns);
// Only the key: OK with the principal for a valid key (whatever its grants), else the
// UNAUTHENTICATED answer Authorize gives a method that needs a key.
Decision Authenticate(const ApiKeys& keys, std::string_view authorization);

}  // namespace temporalite::auth
