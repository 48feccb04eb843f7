// The HTTP endpoints, independent of the socket library: Temporal's HTTP API under /api/v1
// (routes from the descriptors, transcode.h), the UI server's /api/v1/settings and history.json
// download, /healthz and /readyz, and on the UI port the web UI's files with a single-page-app
// fallback. Thread-safe; every request runs on an HTTP thread, never on an engine thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "http/invoker.h"
#include "http/login_throttle.h"
#include "http/routes.h"
#include "http/static_files.h"

namespace temporalite::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target: path and query, still percent-encoded
  std::function<std::string(std::string_view)> header;  // "" when absent; name case-insensitive
  std::string body;
  std::string peer;  // the client's address (the UI sign-in's attempt limit is per address)
  // True once the client has closed its connection (empty: the transport cannot tell). Calls
  // that wait (long polls, updates, queries) are cancelled when it turns true.
  std::function<bool()> client_gone;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
};

struct HandlerOptions {
  std::string bind_ip = "127.0.0.1";
  size_t max_body_bytes = 8 << 20;
  std::string default_namespace = "default";
  std::string ui_version = "2.38.0";  // the @temporalio/ui version reported in /api/v1/settings
  // The server requires API keys: the UI port serves a login page (ui_login.h) and sends the
  // browser's key from its cookie as the Authorization of its API calls.
  bool api_keys = false;
  // The UI port serves HTTPS: the sign-in cookie is marked Secure.
  bool secure_cookie = false;
  // Long polls (Poll* methods, history with waitNewEvent) waiting at once; one more answers
  // RESOURCE_EXHAUSTED (429). Each holds a listener thread while it waits: keep this below the
  // listener's max_threads so ordinary requests always find one.
  int max_long_polls = 512;
  // Told the number of long polls waiting whenever it changes (a metrics gauge); may be empty.
  std::function<void(int)> long_polls_changed;
  // Readiness: database writable and recovery done. Returns an empty string when ready, else why not.
  std::function<std::string()> ready;
  // Time for the sign-in attempt limit (login_throttle.h); the system clock when null.
  const Clock* clock = nullptr;
};

class Handler {
 public:
  // `invoker` and `static_files` (nullable: the UI was not built) must outlive the handler.
  Handler(MethodInvoker& invoker, const StaticFiles* static_files, HandlerOptions options);

  // `ui_port`: the request came to the UI port (static files there, JSON 404s on the API port).
  Response Handle(const Request& req, bool ui_port) const;

  const RouteTable& routes() const { return routes_; }
  size_t max_body_bytes() const { return options_.max_body_bytes; }

  // A 400 google.rpc.Status response for a request body over the limit.
  Response BodyTooLarge() const;

 private:
  Response Api(const Request& req, std::string_view path, std::string_view query, const CallMetadata& metadata) const;
  // /login and /logout on the UI port (api_keys only).
  Response Login(const Request& req, std::string_view path, std::string_view query) const;
  Response HistoryJson(std::string_view ns, std::string_view wid, std::string_view rid,
                       const CallMetadata& metadata) const;
  Response Settings() const;
  Response Static(const Request& req, std::string_view path) const;
  // Empty when the request may proceed, else why it is refused (a state-changing request from
  // another origin or to an unexpected Host).
  std::string CrossOriginRefusal(const Request& req) const;
  void ReportLongPolls() const;

  MethodInvoker& invoker_;
  const StaticFiles* static_files_;
  HandlerOptions options_;
  RouteTable routes_;
  mutable std::atomic<int> long_polls_{0};
  SystemClock system_clock_;
  std::unique_ptr<LoginThrottle> login_throttle_;  // failed /login attempts per client address
  mutable std::mutex report_mu_;  // orders the long_polls_changed reports
};

Response JsonError(int grpc_code, const std::string& message, int http_status = 0);

}  // namespace temporalite::http
