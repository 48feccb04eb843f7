#include "auth/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

namespace temporalite::auth {
namespace {

std::string Digest(std::string_view key) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), d);
  return std::string(reinterpret_cast<const char*>(d), sizeof d);
}

std::string Digest(std::string_view salt, std::string_view key) {
  std::string in(salt);
  in.append(key);
  return Digest(in);
}

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (char c : hex.substr(i, 2)) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    out.push_back(static_cast<char>(v));
  }
  return out;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) std::abort();
  return out;
}

std::optional<Role> ParseRole(std::string_view s) {
  if (s == "reader") return Role::kReader;
  if (s == "writer") return Role::kWriter;
  if (s == "admin") return Role::kAdmin;
  return std::nullopt;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kReader: return "reader";
    case Role::kWriter: return "writer";
    case Role::kAdmin: return "admin";
    default: return "none";
  }
}

const char* AccessName(Access a) {
  switch (a) {
    case Access::kOpen: return "nothing";
    case Access::kAuthenticated: return "a valid API key";
    case Access::kRead: return "reader";
    case Access::kWrite: return "writer";
    case Access::kAdmin: return "admin";
    case Access::kClusterAdmin: return "admin on every namespace";
  }
  return "?";
}

Role Principal::On(const std::string& ns) const {
  Role r = global;
  auto it = per_namespace.find(ns);
  if (it != per_namespace.end() && it->second > r) r = it->second;
  return r;
}

Access RequiredAccess(std::string_view full_method) {
  std::string_view m = full_method;
  if (!m.empty() && m[0] == '/') m.remove_prefix(1);
  size_t slash = m.find('/');
  std::string_view service = m.substr(0, slash);
  std::string_view method = slash == std::string_view::npos ? std::string_view() : m.substr(slash + 1);
  if (service == "grpc.health.v1.Health") return Access::kOpen;
  if (service == "temporal.api.workflowservice.v1.WorkflowService") {
    if (method == "GetSystemInfo") return Access::kOpen;
    if (method == "GetClusterInfo" || method == "ListNamespaces") return Access::kAuthenticated;
    if (method == "RegisterNamespace") return Access::kClusterAdmin;
    if (method == "UpdateNamespace" || method == "DeprecateNamespace") return Access::kAdmin;
    static const std::set<std::string_view> kReadOnly = {"QueryWorkflow", "PollWorkflowExecutionUpdate"};
    if (kReadOnly.count(method) || StartsWith(method, "Describe") || StartsWith(method, "List") ||
        StartsWith(method, "Get") || StartsWith(method, "Count") || StartsWith(method, "Scan")) {
      return Access::kRead;
    }
    return Access::kWrite;  // starts, signals, worker polls and responses, schedules, batches, resets, deletes
  }
  if (service == "temporal.api.operatorservice.v1.OperatorService") {
    if (method == "ListSearchAttributes") return Access::kRead;
    if (method == "AddSearchAttributes" || method == "RemoveSearchAttributes") return Access::kAdmin;
    return Access::kClusterAdmin;  // DeleteNamespace, clusters, Nexus endpoints
  }
  if (service == "temporalite.admin.v1.AdminService" && method == "GetServerInfo") return Access::kAuthenticated;
  return Access::kClusterAdmin;  // the admin API (snapshots), reflection, anything else
}

Result<ApiKeys> ApiKeys::Parse(std::string_view text) {
  ApiKeys keys;
  std::istringstream in{std::string(text)};
  std::string line;
  std::set<std::string> names;
  for (int n = 1; std::getline(in, line); ++n) {
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string s; words >> s;) w.push_back(s);
    if (w.empty()) continue;
    auto bad = [&](const std::string& why) {
      return InvalidArgument("API key file line " + std::to_string(n) + ": " + why +
                             " (want: <name> <key> <role>[@<namespace>]..., role reader, writer or admin)");
    };
    if (w.size() < 3) return bad("too few fields");
    Principal p;
    p.name = w[0];
    if (!names.insert(p.name).second) return bad("the name " + p.name + " is used twice");
    std::optional<Salted> salted;
    if (StartsWith(w[1], "sha256:")) {
      size_t colon = w[1].find(':', 7);
      auto salt = Unhex(std::string_view(w[1]).substr(7, colon == std::string::npos ? 0 : colon - 7));
      auto digest = colon == std::string::npos ? std::nullopt : Unhex(std::string_view(w[1]).substr(colon + 1));
      if (!salt || salt->empty() || !digest || digest->size() != SHA256_DIGEST_LENGTH) {
        return bad("the hashed key of " + p.name + " is not sha256:<salt hex>:<64 hex digits> (temporalite server hash-api-key)");
      }
      salted = Salted{std::move(*salt), std::move(*digest), {}};
    } else if (w[1].size() < 16) {
      return bad("the key of " + p.name + " is shorter than 16 characters");
    }
    for (size_t i = 2; i < w.size(); ++i) {
      size_t at = w[i].find('@');
      auto role = ParseRole(std::string_view(w[i]).substr(0, at));
      if (!role) return bad("unknown role \"" + w[i].substr(0, at) + "\"");
      if (at == std::string::npos) {
        if (*role > p.global) p.global = *role;
      } else {
        std::string ns = w[i].substr(at + 1);
        if (ns.empty()) return bad("empty namespace in \"" + w[i] + "\"");
        Role& r = p.per_namespace[ns];
        if (*role > r) r = *role;
      }
    }
    if (salted) {
      for (const Salted& other : keys.salted_) {
        if (other.salt == salted->salt && other.digest == salted->digest) return bad("this key is listed twice");
      }
      salted->principal = std::move(p);
      keys.salted_.push_back(std::move(*salted));
    } else if (!keys.by_digest_.emplace(Digest(w[1]), std::move(p)).second) {
      return bad("this key is listed twice");
    }
  }
  if (keys.size() == 0) return InvalidArgument("the API key file lists no keys");
  return keys;
}

Result<ApiKeys> ApiKeys::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("--api-key-file: cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  auto keys = Parse(s.str());
  if (!keys.ok()) return InvalidArgument("--api-key-file " + path + ": " + keys.status().message());
  return keys;
}

const Principal* ApiKeys::Find(std::string_view key) const {
  auto it = by_digest_.find(Digest(key));
  if (it != by_digest_.end()) return &it->second;
  for (const Salted& s : salted_) {
    std::string d = Digest(s.salt, key);
    if (CRYPTO_memcmp(d.data(), s.digest.data(), d.size()) == 0) return &s.principal;
  }
  return nullptr;
}

std::string HashApiKey(std::string_view key) {
  std::string salt = RandomBytes(16);
  return "sha256:" + Hex(salt) + ":" + Hex(Digest(salt, key));
}

std::string NewApiKey() { return Hex(RandomBytes(32)); }

KeyRing::KeyRing(std::string path, ApiKeys keys)
    : path_(std::move(path)), keys_(std::make_shared<const ApiKeys>(std::move(keys))) {}

std::shared_ptr<const ApiKeys> KeyRing::Current() const {
  std::lock_guard<std::mutex> l(mu_);
  return keys_;
}

Status KeyRing::Reload() {
  auto keys = ApiKeys::Load(path_);
  if (!keys.ok()) return keys.status();
  auto fresh = std::make_shared<const ApiKeys>(std::move(keys).value());
  std::lock_guard<std::mutex> l(mu_);
  keys_ = std::move(fresh);
  return Status::Ok();
}

namespace {

// The principal of the key in `authorization`, or nullptr with UNAUTHENTICATED in *status.
const Principal* BearerPrincipal(const ApiKeys& keys, std::string_view authorization, Status* status) {
  std::string_view h = authorization;
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  std::string scheme(h.substr(0, 7));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (h.empty()) {
    *status = Status(Code::kUnauthenticated, "Request unauthenticated: no API key (send authorization: Bearer <key>)");
    return nullptr;
  }
  if (scheme != "bearer ") {
    *status = Status(Code::kUnauthenticated, "Request unauthenticated: the authorization header is not \"Bearer <key>\"");
    return nullptr;
  }
  std::string_view key = h.substr(7);
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  const Principal* p = keys.Find(key);
  if (p == nullptr) *status = Status(Code::kUnauthenticated, "Request unauthenticated: unknown API key");
  return p;
}

}  // namespace

Decision Authenticate(const ApiKeys& keys, std::string_view authorization) {
  Decision d;
  if (const Principal* p = BearerPrincipal(keys, authorization, &d.status)) d.principal = p->name;
  return d;
}

Decision Authorize(const ApiKeys& keys, std::string_view authorization, std::string_view full_method,
                   const std::string& ns) {
  Access need = RequiredAccess(full_method);
  if (need == Access::kOpen) return {};
  Status unauthenticated;
  const Principal* p = BearerPrincipal(keys, authorization, &unauthenticated);
  if (p == nullptr) return {unauthenticated, ""};
  Decision d;
  d.principal = p->name;
  Role have = Role::kNone;
  Role want = Role::kNone;
  switch (need) {
    case Access::kAuthenticated: return d;
    case Access::kRead: want = Role::kReader; have = p->On(ns); break;
    case Access::kWrite: want = Role::kWriter; have = p->On(ns); break;
    case Access::kAdmin: want = Role::kAdmin; have = p->On(ns); break;
    case Access::kClusterAdmin: want = Role::kAdmin; have = p->global; break;
    case Access::kOpen: return d;
  }
  if (have >= want) return d;
  std::string method(full_method.substr(full_method.rfind('/') + 1));
  std::string where = need == Access::kClusterAdmin ? "every namespace" : "namespace \"" + ns + "\"";
  d.status = Status(Code::kPermissionDenied, "Request unauthorized. (" + method + " needs " + AccessName(need) +
                                                 (need == Access::kClusterAdmin ? "" : " on " + where) + "; key \"" +
                                                 p->name + "\" has " + RoleName(have) +
                                                 (need == Access::kClusterAdmin ? " on every namespace" : "") + ")");
  return d;
}

}  // namespace temporalite::auth
