// ClientOptions from Temporal's environment configuration: a profile of the TOML config file,
// then the TEMPORAL_* environment over it (the official SDKs' envconfig: Go's contrib/envconfig,
// sdk-core's envconfig). TOML is read with cpptoml (Debian's libcpptoml-dev, header-only), kept
// inside this file so the public headers do not need it.
#include <cpptoml.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "temporalite/sdk/client.h"

namespace temporalite::sdk {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// envconfig's booleans: true/false, 1/0.
bool ParseBool(const std::string& name, const std::string& v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  throw std::invalid_argument(name + "=" + v + ": not a boolean (true/false, 1/0)");
}

// gRPC metadata keys as envconfig normalises them: lower case, '_' as '-'.
std::string MetaKey(std::string k) {
  for (char& c : k) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return k;
}

// Where a PEM comes from: a file or the text, and the names of the settings that gave them
// (for errors). A later source (the environment over the file) replaces an earlier one.
struct PemSource {
  std::string path, data, path_name, data_name;
  void Set(const std::string& p, const std::string& d, const std::string& pn, const std::string& dn) {
    if (!p.empty() && !d.empty()) throw std::invalid_argument(pn + " and " + dn + " are both set: give one");
    if (p.empty() && d.empty()) return;
    path = p;
    data = d;
    path_name = pn;
    data_name = dn;
  }
  std::string Pem() const {
    if (path.empty()) return data;
    try {
      return ReadFile(path);
    } catch (const std::exception& e) {
      throw std::invalid_argument(path_name + ": " + e.what());
    }
  }
};

struct Pems {
  PemSource cert, key, ca;
};

// os.UserConfigDir()/temporalio/temporal.toml, as Go's envconfig; "" when there is no home.
std::string DefaultConfigFile() {
  std::string dir;
#ifdef __APPLE__
  if (!Env("HOME").empty()) dir = Env("HOME") + "/Library/Application Support";
#else
  std::string xdg = Env("XDG_CONFIG_HOME");
  if (!xdg.empty() && xdg[0] == '/') dir = xdg;
  else if (!Env("HOME").empty()) dir = Env("HOME") + "/.config";
#endif
  return dir.empty() ? "" : dir + "/temporalio/temporal.toml";
}

// Typed reads of a profile's keys: absent is nullopt, another type is an error naming the key.
class TableReader {
 public:
  TableReader(std::shared_ptr<cpptoml::table> t, std::string where) : t_(std::move(t)), where_(std::move(where)) {}
  std::optional<std::string> Str(const std::string& key) const { return Get<std::string>(key, "a string"); }
  std::optional<bool> Bool(const std::string& key) const { return Get<bool>(key, "a boolean"); }
  std::string Name(const std::string& key) const { return where_ + "." + key; }

 private:
  template <class T>
  std::optional<T> Get(const std::string& key, const char* what) const {
    if (!t_->contains(key)) return std::nullopt;
    auto v = t_->get_as<T>(key);
    if (!v) throw std::invalid_argument(Name(key) + ": not " + what);
    return *v;
  }
  std::shared_ptr<cpptoml::table> t_;
  std::string where_;
};

void ApplyTlsTable(const TableReader& r, ClientOptions& o, Pems& pems) {
  o.tls = true;  // a [tls] table turns TLS on, as in envconfig
  if (r.Bool("disabled").value_or(false)) {
    o.tls = false;
    o.tls_disabled = true;
  }
  const std::pair<const char*, PemSource*> pem_keys[] = {
      {"client_cert", &pems.cert}, {"client_key", &pems.key}, {"server_ca_cert", &pems.ca}};
  for (const auto& [base, src] : pem_keys) {
    std::string p = std::string(base) + "_path", d = std::string(base) + "_data";
    src->Set(r.Str(p).value_or(""), r.Str(d).value_or(""), r.Name(p), r.Name(d));
  }
  if (auto v = r.Str("server_name")) o.tls_server_name = *v;
  if (auto v = r.Bool("disable_host_verification")) o.tls_disable_host_verification = *v;
}

// Applies [profile.NAME] of `file` (when it exists). Returns false if the file has no such profile.
bool ApplyFile(const std::string& file, const std::string& profile, ClientOptions& o, Pems& pems) {
  std::error_code ec;
  if (file.empty() || !std::filesystem::exists(file, ec)) return false;
  std::shared_ptr<cpptoml::table> root;
  try {
    root = cpptoml::parse_file(file);
  } catch (const cpptoml::parse_exception& e) {
    throw std::invalid_argument("config file " + file + ": " + e.what());
  }
  auto profiles = root->get_table("profile");
  auto p = profiles ? profiles->get_table(profile) : nullptr;
  if (!p) return false;
  TableReader r(p, file + ": profile." + profile);
  if (auto v = r.Str("address")) o.address = *v;
  if (auto v = r.Str("namespace")) o.ns = *v;
  if (auto v = r.Str("api_key")) o.api_key = *v;
  if (p->contains("tls")) {
    auto tls = p->get_table("tls");
    if (!tls) throw std::invalid_argument(r.Name("tls") + ": not a table");
    ApplyTlsTable(TableReader(tls, r.Name("tls")), o, pems);
  }
  if (auto v = r.Str("authority")) o.authority = *v;
  if (p->contains("codec")) {
    auto codec = p->get_table("codec");
    if (!codec) throw std::invalid_argument(r.Name("codec") + ": not a table");
    TableReader cr(codec, r.Name("codec"));
    if (auto v = cr.Str("endpoint")) o.codec_endpoint = *v;
    if (auto v = cr.Str("auth")) o.codec_auth = *v;
  }
  if (p->contains("grpc_meta")) {
    auto meta = p->get_table("grpc_meta");
    if (!meta) throw std::invalid_argument(r.Name("grpc_meta") + ": not a table");
    TableReader mr(meta, r.Name("grpc_meta"));
    for (const auto& [k, unused] : *meta) o.grpc_metadata[MetaKey(k)] = *mr.Str(k);
  }
  return true;
}

void ApplyEnvironment(ClientOptions& o, Pems& pems) {
  if (!Env("TEMPORAL_ADDRESS").empty()) o.address = Env("TEMPORAL_ADDRESS");
  if (!Env("TEMPORAL_NAMESPACE").empty()) o.ns = Env("TEMPORAL_NAMESPACE");
  if (!Env("TEMPORAL_API_KEY").empty()) o.api_key = Env("TEMPORAL_API_KEY");
  if (!Env("TEMPORAL_CLIENT_AUTHORITY").empty()) o.authority = Env("TEMPORAL_CLIENT_AUTHORITY");
  if (!Env("TEMPORAL_CODEC_ENDPOINT").empty()) o.codec_endpoint = Env("TEMPORAL_CODEC_ENDPOINT");
  if (!Env("TEMPORAL_CODEC_AUTH").empty()) o.codec_auth = Env("TEMPORAL_CODEC_AUTH");
  if (!Env("TEMPORAL_TLS").empty()) {
    o.tls = ParseBool("TEMPORAL_TLS", Env("TEMPORAL_TLS"));
    o.tls_disabled = !o.tls;
  }
  // The envconfig names, then the CLI's older ones (which win).
  const std::tuple<const char*, const char*, PemSource*> pem_vars[] = {
      {"TEMPORAL_TLS_CLIENT_CERT", "TEMPORAL_TLS_CERT", &pems.cert},
      {"TEMPORAL_TLS_CLIENT_KEY", "TEMPORAL_TLS_KEY", &pems.key},
      {"TEMPORAL_TLS_SERVER_CA_CERT", "TEMPORAL_TLS_CA", &pems.ca}};
  for (const auto& [base, legacy, src] : pem_vars) {
    std::string p = std::string(base) + "_PATH", d = std::string(base) + "_DATA";
    src->Set(Env(p.c_str()), Env(d.c_str()), p, d);
    std::string ld = std::string(legacy) + "_DATA";
    src->Set(Env(legacy), Env(ld.c_str()), legacy, ld);
  }
  if (!Env("TEMPORAL_TLS_SERVER_NAME").empty()) o.tls_server_name = Env("TEMPORAL_TLS_SERVER_NAME");
  std::string no_verify = Env("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION");
  if (!no_verify.empty()) {
    o.tls_disable_host_verification = ParseBool("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", no_verify);
  }
  const std::string prefix = "TEMPORAL_GRPC_META_";
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (kv.rfind(prefix, 0) != 0 || eq == std::string::npos || eq == prefix.size()) continue;
    std::string name = MetaKey(kv.substr(prefix.size(), eq - prefix.size()));
    if (eq + 1 < kv.size()) o.grpc_metadata[name] = kv.substr(eq + 1);
    else o.grpc_metadata.erase(name);  // set but empty: removes the file's header (envconfig)
  }
}

}  // namespace

ClientOptions ClientOptions::FromProfile(const std::string& profile_name, const std::string& config_file) {
  std::string file = config_file.empty() ? Env("TEMPORAL_CONFIG_FILE") : config_file;
  if (file.empty()) file = DefaultConfigFile();
  std::string profile = profile_name.empty() ? Env("TEMPORAL_PROFILE") : profile_name;
  const bool asked = !profile.empty();
  if (!asked) profile = "default";
  ClientOptions o;
  Pems pems;
  // As envconfig: a missing file or a missing "default" profile is no error; a profile asked
  // for by name must be there.
  if (!ApplyFile(file, profile, o, pems) && asked) {
    throw std::invalid_argument("unable to find profile " + profile + " in config file " +
                                (file.empty() ? std::string("(none)") : file));
  }
  ApplyEnvironment(o, pems);
  o.tls_cert_pem = pems.cert.Pem();
  o.tls_key_pem = pems.key.Pem();
  o.tls_ca_pem = pems.ca.Pem();
  return o;
}

ClientOptions ClientOptions::FromEnvironment() { return FromProfile(""); }

}  // namespace temporalite::sdk
