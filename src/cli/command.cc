#include "cli/command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "cli/client.h"
#include "cli/format.h"
#include "cli/output.h"

namespace temporalite::cli {
namespace {

// A global flag that can also come from an environment variable (flag > env > .env > default).
struct EnvBinding {
  CLI::Option* option;
  const char* env;
  std::string GlobalFlags::*text = nullptr;
  bool GlobalFlags::*flag = nullptr;
};

// Per-command storage: the flags CLI11 writes into and the env bindings of this command.
struct CommandState {
  GlobalFlags flags;
  std::vector<EnvBinding> env;
  CLI::Option* tls_option = nullptr;
};

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool ParseBool(const std::string& env, const std::string& value) {
  std::string v;
  for (char c : value) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off" || v.empty()) return false;
  throw UsageError(env + "=" + value + ": expected true or false");
}

void AddGlobalFlags(CLI::App* cmd, CommandState* st) {
  GlobalFlags& g = st->flags;
  CLI::Option_group* grp = cmd->add_option_group("Global Flags");
  auto text = [&](const std::string& names, std::string GlobalFlags::*member, const std::string& desc,
                  const char* env = nullptr) {
    std::string d = desc;
    if (env != nullptr) d += " [env: " + std::string(env) + "]";
    CLI::Option* o = grp->add_option(names, g.*member, d);
    if (!(g.*member).empty()) o->default_str(g.*member);
    if (env != nullptr) st->env.push_back({o, env, member, nullptr});
    return o;
  };
  auto flag = [&](const std::string& names, bool GlobalFlags::*member, const std::string& desc,
                  const char* env = nullptr) {
    std::string d = desc;
    if (env != nullptr) d += " [env: " + std::string(env) + "]";
    CLI::Option* o = grp->add_flag(names, g.*member, d);
    if (env != nullptr) st->env.push_back({o, env, nullptr, member});
    return o;
  };
  text("--address", &GlobalFlags::address, "Temporal Service gRPC endpoint (host:port)", "TEMPORAL_ADDRESS")
      ->type_name("HOST:PORT");
  text("-n,--namespace", &GlobalFlags::ns, "Temporal Service Namespace", "TEMPORAL_NAMESPACE")->type_name("NAME");
  text("--api-key", &GlobalFlags::api_key, "API key sent as a bearer token (implies --tls)", "TEMPORAL_API_KEY");
  grp->add_option("--grpc-meta", g.grpc_meta, "HTTP headers for requests (KEY=VALUE, can be passed multiple times)")
      ->type_name("KEY=VALUE");
  st->tls_option = flag("--tls", &GlobalFlags::tls,
                        "Enable TLS (implied by --api-key and the other TLS flags; --tls=false turns it off)",
                        "TEMPORAL_TLS");
  text("--tls-cert-path", &GlobalFlags::tls_cert_path, "Path to x509 client certificate",
       "TEMPORAL_TLS_CLIENT_CERT_PATH");
  text("--tls-cert-data", &GlobalFlags::tls_cert_data, "Inline x509 client certificate (PEM)",
       "TEMPORAL_TLS_CLIENT_CERT_DATA");
  text("--tls-key-path", &GlobalFlags::tls_key_path, "Path to x509 private key", "TEMPORAL_TLS_CLIENT_KEY_PATH");
  text("--tls-key-data", &GlobalFlags::tls_key_data, "Inline x509 private key (PEM)", "TEMPORAL_TLS_CLIENT_KEY_DATA");
  text("--tls-ca-path", &GlobalFlags::tls_ca_path, "Path to server CA certificate",
       "TEMPORAL_TLS_SERVER_CA_CERT_PATH");
  text("--tls-ca-data", &GlobalFlags::tls_ca_data, "Inline server CA certificate (PEM)",
       "TEMPORAL_TLS_SERVER_CA_CERT_DATA");
  flag("--tls-disable-host-verification", &GlobalFlags::tls_disable_host_verification,
       "Disable TLS host-name verification", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION");
  text("--tls-server-name", &GlobalFlags::tls_server_name, "Override target TLS server name",
       "TEMPORAL_TLS_SERVER_NAME");
  text("--client-authority", &GlobalFlags::client_authority, "Temporal gRPC client :authority pseudoheader");
  text("--identity", &GlobalFlags::identity, "Identity of the client submitting requests");
  text("-o,--output", &GlobalFlags::output, "Non-logging data output format")
      ->check(CLI::IsMember({"text", "json", "jsonl", "none"}));
  text("--time-format", &GlobalFlags::time_format, "Time format")
      ->check(CLI::IsMember({"relative", "iso", "raw"}));
  text("--color", &GlobalFlags::color, "Output coloring")
      ->check(CLI::IsMember({"always", "never", "auto"}));
  flag("--no-json-shorthand-payloads", &GlobalFlags::no_json_shorthand_payloads,
       "Raw payload output (JSON output is always the raw protobuf JSON here)");
  text("--command-timeout", &GlobalFlags::command_timeout, "Command execution timeout (e.g. 30s, 2m)")
      ->type_name("DURATION");
  text("--client-connect-timeout", &GlobalFlags::client_connect_timeout, "Client connection timeout")
      ->type_name("DURATION");
  text("--log-level", &GlobalFlags::log_level, "Log level (accepted for compatibility; the client does not log)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "never"}));
  text("--log-format", &GlobalFlags::log_format, "Log format (accepted for compatibility)")
      ->check(CLI::IsMember({"text", "json", "pretty"}));
}

GlobalFlags ResolveFlags(const CommandState& st) {
  GlobalFlags g = st.flags;
  Environment env = Environment::Load();
  for (const EnvBinding& b : st.env) {
    if (b.option->count() > 0) continue;
    std::optional<std::string> v = env.Get(b.env);
    if (!v || v->empty()) continue;
    if (b.text != nullptr) g.*(b.text) = *v;
    if (b.flag != nullptr) {
      g.*(b.flag) = ParseBool(b.env, *v);
      if (b.option == st.tls_option) g.tls_set = true;
    }
  }
  if (st.tls_option != nullptr && st.tls_option->count() > 0) g.tls_set = true;
  return g;
}

void PrintError(const char* what) {
  std::fflush(stdout);
  std::fprintf(stderr, "Error: %s\n", what);
  std::fflush(stderr);
}

}  // namespace

Environment Environment::Load() {
  Environment e;
  std::ifstream f(".env");
  std::string line;
  while (f && std::getline(f, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = Trim(line.substr(7));
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string key = Trim(line.substr(0, eq));
    std::string value = Trim(line.substr(eq + 1));
    size_t close = value.empty() ? std::string::npos : value.find(value.front(), 1);
    if ((value.front() == '"' || value.front() == '\'') && close != std::string::npos) {
      // A quoted value ends at its closing quote; anything after it is a comment ("x" # note).
      value = value.substr(1, close - 1);
    } else {
      size_t hash = value.find(" #");
      if (hash != std::string::npos) value = Trim(value.substr(0, hash));
    }
    e.dotenv_.emplace_back(key, value);
  }
  return e;
}

std::optional<std::string> Environment::Get(const std::string& name) const {
  if (const char* v = std::getenv(name.c_str())) return std::string(v);
  std::optional<std::string> found;
  for (const auto& [k, v] : dotenv_) {
    if (k == name) found = v;  // the last assignment wins, as in shells
  }
  return found;
}

Context::Context(GlobalFlags flags) : flags_(std::move(flags)) {
  OutputFormat format = OutputFormat::kText;
  if (flags_.output == "json") format = OutputFormat::kJson;
  else if (flags_.output == "jsonl") format = OutputFormat::kJsonl;
  else if (flags_.output == "none") format = OutputFormat::kNone;
  TimeFormat tf = TimeFormat::kRelative;
  if (flags_.time_format == "iso") tf = TimeFormat::kIso;
  else if (flags_.time_format == "raw") tf = TimeFormat::kRaw;
  bool color = flags_.color == "always";
  if (flags_.color == "auto") {
    const char* term = std::getenv("TERM");
    color = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr && !(term && std::string(term) == "dumb");
  }
  out_ = std::make_unique<Printer>(format, color, tf, stdout);
  if (!flags_.command_timeout.empty()) {
    auto d = ParseDuration(flags_.command_timeout, "--command-timeout");
    if (d.count() > 0) {
      deadline_ = std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    }
  }
  identity_ = flags_.identity;
  if (identity_.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    identity_ = std::to_string(getpid()) + "@" + host + "@temporalite-cli";
  }
  if (flags_.ns.empty()) throw UsageError("--namespace must not be empty");
}

Context::~Context() = default;

Connection& Context::conn() {
  if (!conn_) conn_ = std::make_unique<Connection>(flags_, deadline_);
  return *conn_;
}

bool Context::Confirm(const std::string& prompt, bool yes) {
  if (out_->json() && !yes) throw UsageError("must bypass prompts with --yes when using JSON output");
  std::fflush(stdout);
  std::fprintf(stderr, "%s ", prompt.c_str());
  if (yes) {
    std::fprintf(stderr, "yes\n");
    return true;
  }
  std::fflush(stderr);
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (!got || !isatty(STDIN_FILENO)) std::fprintf(stderr, "\n");  // a terminal echoes the Enter itself
  if (!got) return false;
  line = Trim(line);
  for (char& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return line == "y" || line == "yes";
}

bool Context::ConfirmTyped(const std::string& prompt, const std::string& expected, bool yes) {
  if (out_->json() && !yes) throw UsageError("must bypass prompts with --yes when using JSON output");
  std::fflush(stdout);
  std::fprintf(stderr, "%s ", prompt.c_str());
  if (yes) {
    std::fprintf(stderr, "%s\n", expected.c_str());
    return true;
  }
  std::fflush(stderr);
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (!got || !isatty(STDIN_FILENO)) std::fprintf(stderr, "\n");
  return got && Trim(line) == expected;
}

CLI::App* AddCommand(CLI::App* parent, const std::string& name, const std::string& summary, const std::string& help,
                     int* exit_code, RunFn run) {
  CLI::App* cmd = parent->add_subcommand(name, summary);
  if (!help.empty()) cmd->footer("\n" + help);
  auto st = std::make_shared<CommandState>();
  AddGlobalFlags(cmd, st.get());
  cmd->callback([st, exit_code, run = std::move(run)]() {
    try {
      Context ctx(ResolveFlags(*st));
      *exit_code = 0;  // a command may set its own (doctor: by the worst check)
      run(ctx);
      ctx.out().Flush();
    } catch (const UsageError& e) {
      PrintError(e.what());
      *exit_code = 2;
    } catch (const CommandError& e) {
      PrintError(e.what());
      *exit_code = 1;
    } catch (const std::exception& e) {
      PrintError((std::string("unexpected failure: ") + e.what()).c_str());
      *exit_code = 1;
    }
  });
  return cmd;
}

CLI::App* AddGroup(CLI::App* parent, const std::string& name, const std::string& summary, const std::string& help) {
  CLI::App* cmd = parent->add_subcommand(name, summary);
  cmd->require_subcommand(1);
  if (!help.empty()) cmd->footer("\n" + help);
  return cmd;
}

}  // namespace temporalite::cli
