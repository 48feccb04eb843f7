// The framework every client command is built on: global (connection and output) flags, their
// environment variables and `.env` file, the per-run Context, and the wrapper that turns a
// thrown CommandError into "Error: ..." on stderr and an exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace temporalite::cli {

class Connection;
class Printer;

// A failure that ends the command: printed as "Error: <message>" on stderr, exit code 1.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An invalid combination of flags: printed like CommandError, exit code 2 (CLI11's usage code).
class UsageError : public CommandError {
 public:
  using CommandError::CommandError;
};

// The `temporal` CLI's "client" and "common" option sets. Defaults are those of `temporal`
// except the address, which is 127.0.0.1:7233 (our server binds IPv4 loopback by default).
struct GlobalFlags {
  std::string address = "127.0.0.1:7233";
  std::string ns = "default";
  std::string api_key;
  std::vector<std::string> grpc_meta;
  bool tls = false;
  bool tls_set = false;  // --tls (or TEMPORAL_TLS) was given explicitly, possibly as false
  std::string tls_cert_path;
  std::string tls_cert_data;
  std::string tls_key_path;
  std::string tls_key_data;
  std::string tls_ca_path;
  std::string tls_ca_data;
  bool tls_disable_host_verification = false;
  std::string tls_server_name;
  std::string client_authority;
  std::string identity;
  std::string output = "text";
  std::string time_format = "relative";
  std::string color = "auto";
  bool no_json_shorthand_payloads = false;  // accepted for compatibility; JSON is always raw
  std::string command_timeout;
  std::string client_connect_timeout;
  std::string log_level = "never";  // accepted for compatibility; the client does not log
  std::string log_format = "text";
};

// Everything a running command needs. Made after flags are parsed and environment defaults
// applied; the connection is opened on first use.
class Context {
 public:
  explicit Context(GlobalFlags flags);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const GlobalFlags& flags() const { return flags_; }
  const std::string& ns() const { return flags_.ns; }
  Printer& out() { return *out_; }
  Connection& conn();
  // The identity sent with mutating requests (--identity, or "temporalite-cli@<host>").
  const std::string& identity() const { return identity_; }
  // When --command-timeout is set, the deadline of the whole command.
  std::optional<std::chrono::system_clock::time_point> deadline() const { return deadline_; }

  // Asks `prompt` on stderr and reads y/yes from stdin. With `yes`, answers itself.
  // Throws CommandError when JSON output is requested without `yes` (prompts would mix with data).
  bool Confirm(const std::string& prompt, bool yes);
  // Like Confirm, but the answer must equal `expected` exactly.
  bool ConfirmTyped(const std::string& prompt, const std::string& expected, bool yes);

 private:
  GlobalFlags flags_;
  std::string identity_;
  std::optional<std::chrono::system_clock::time_point> deadline_;
  std::unique_ptr<Printer> out_;
  std::unique_ptr<Connection> conn_;
};

using RunFn = std::function<void(Context&)>;

// Adds a client command `name` under `parent` with the global flags (group "Global Flags").
// `summary` is the one-line description, `help` the long description with examples shown at
// the end of --help. After parsing, `run` is called with a fresh Context; a CommandError it
// throws is printed and sets the exit code. Callers bind their own flags on the returned App,
// to storage captured by `run` (so it lives as long as the App).
CLI::App* AddCommand(CLI::App* parent, const std::string& name, const std::string& summary,
                     const std::string& help, int* exit_code, RunFn run);

// Adds a command group (a command that only has subcommands) with a long description.
CLI::App* AddGroup(CLI::App* parent, const std::string& name, const std::string& summary,
                   const std::string& help);

// The environment as client commands see it: the real environment first, then a `.env` file in
// the working directory (KEY=VALUE lines, '#' comments, optional `export ` prefix and quotes).
class Environment {
 public:
  // Reads ./.env if present (a missing or unreadable file is the same as an empty one).
  static Environment Load();
  std::optional<std::string> Get(const std::string& name) const;

 private:
  std::vector<std::pair<std::string, std::string>> dotenv_;
};

}  // namespace temporalite::cli
