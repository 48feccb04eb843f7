#include "http/handler.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "http/routes.h"
#include "http/transcode.h"
#include "http/ui_login.h"
#include "temporal/api/operatorservice/v1/service.pb.h"
#include "temporal/api/workflowservice/v1/service.pb.h"

namespace temporalite::http {

namespace pb = google::protobuf;
namespace wsv1 = temporal::api::workflowservice::v1;

namespace {

// Long polls answer within 60 s (the frontend's PollWait); leave them room.
constexpr std::chrono::milliseconds kCallTimeout{70'000};

std::string HostName(std::string_view hostport) {
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    return std::string(hostport.substr(0, close == std::string_view::npos ? hostport.size() : close + 1));
  }
  return std::string(hostport.substr(0, hostport.find(':')));
}

bool IsLoopbackIp(std::string_view ip) { return ip.rfind("127.", 0) == 0 || ip == "::1" || ip == "[::1]"; }

Response Text(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

// The service descriptors are defined in service.pb.cc, which no other code references: naming
// its descriptor table links it in, so the services are registered in the generated pool.
const pb::ServiceDescriptor* FindService(const char* name) {
  // A call, not an unused (volatile) local naming the tables: clang drops those, and then
  // service.pb.cc is not linked in and the services are missing from the generated pool.
  google::protobuf::internal::AssignDescriptors(&descriptor_table_temporal_2fapi_2fworkflowservice_2fv1_2fservice_2eproto);
  google::protobuf::internal::AssignDescriptors(&descriptor_table_temporal_2fapi_2foperatorservice_2fv1_2fservice_2eproto);
  return pb::DescriptorPool::generated_pool()->FindServiceByName(name);
}

// A call that may wait for something to happen (up to the frontend's poll wait): the Poll*
// methods and a history read with wait_new_event.
bool IsLongPoll(const pb::MethodDescriptor& method, const pb::Message& request) {
  if (method.name().rfind("Poll", 0) == 0) return true;
  const pb::FieldDescriptor* f = request.GetDescriptor()->FindFieldByName("wait_new_event");
  return f && f->cpp_type() == pb::FieldDescriptor::CPPTYPE_BOOL && request.GetReflection()->GetBool(request, f);
}

}  // namespace

Response JsonError(int grpc_code, const std::string& message, int http_status) {
  Response r;
  r.status = http_status ? http_status : HttpStatusForCode(grpc_code);
  r.body = StatusToJson(grpc_code, message);
  return r;
}

Handler::Handler(MethodInvoker& invoker, const StaticFiles* static_files, HandlerOptions options)
    : invoker_(invoker),
      static_files_(static_files),
      options_(std::move(options)),
      login_throttle_(std::make_unique<LoginThrottle>(options_.clock ? *options_.clock : system_clock_)) {
  routes_ = RouteTable::Build({FindService("temporal.api.workflowservice.v1.WorkflowService"),
                               FindService("temporal.api.operatorservice.v1.OperatorService")},
                              "/api/v1/");
}

Response Handler::BodyTooLarge() const {
  return JsonError(3, "request body larger than " + std::to_string(options_.max_body_bytes) + " bytes", 400);
}

std::string Handler::CrossOriginRefusal(const Request& req) const {
  if (req.method == "GET" || req.method == "HEAD") return "";
  const std::string host = req.header("Host");
  const std::string site = req.header("Sec-Fetch-Site");
  if (site == "cross-site" || site == "same-site") return "cross-site request refused";
  const std::string origin = req.header("Origin");
  if (!origin.empty()) {
    size_t scheme = origin.find("://");
    std::string origin_host = scheme == std::string::npos ? "" : origin.substr(scheme + 3);
    if (origin_host.empty() || origin_host != host) return "request from origin " + origin + " refused";
  }
  // Bound to loopback: a page that rebinds its own DNS name to 127.0.0.1 still sends its name.
  if (IsLoopbackIp(options_.bind_ip) && !host.empty()) {
    std::string name = HostName(host);
    if (name != "localhost" && !IsLoopbackIp(name) && name != options_.bind_ip)
      return "request for host " + host + " refused";
  }
  return "";
}

Response Handler::Handle(const Request& req, bool ui_port) const {
  std::string_view target = req.target;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (path == "/healthz") return Text(200, "ok\n");
  if (path == "/readyz") {
    std::string why = options_.ready ? options_.ready() : "";
    return why.empty() ? Text(200, "ready\n") : Text(503, "not ready: " + why + "\n");
  }
  if (path.rfind("/api/", 0) == 0) {
    std::string refusal = CrossOriginRefusal(req);
    if (!refusal.empty()) return JsonError(7, refusal);
    std::string authorization = req.header("authorization");
    if (authorization.empty() && ui_port && options_.api_keys) {
      std::string key = KeyFromCookie(req.header("cookie"));
      if (!key.empty()) authorization = "Bearer " + key;
    }
    CallMetadata metadata(authorization);
    // Temporal's caller type: its UI sends `Caller-Type: operator` with every API request and its
    // UI server passes it on; grpc-gateway passes `Grpc-Metadata-Caller-Type` on either port.
    metadata.caller_type = req.header("grpc-metadata-caller-type");
    if (metadata.caller_type.empty() && ui_port) metadata.caller_type = req.header("caller-type");
    return Api(req, path, query, metadata);
  }
  if (ui_port && options_.api_keys && (path == "/login" || path == "/logout")) {
    std::string refusal = CrossOriginRefusal(req);
    if (!refusal.empty()) return Text(403, refusal + "\n");
    return Login(req, path, query);
  }
  if (!ui_port) return JsonError(5, "not found: " + std::string(path));
  return Static(req, path);
}

Response Handler::Settings() const {
  nlohmann::json s = {
      {"Auth", {{"Enabled", false}, {"Options", nullptr}}},
      {"BannerText", ""},
      {"DefaultNamespace", options_.default_namespace},
      {"ShowTemporalSystemNamespace", false},
      {"FeedbackURL", ""},
      {"NotifyOnNewVersion", false},
      {"Codec",
       {{"Endpoint", ""},
        {"PassAccessToken", false},
        {"IncludeCredentials", false},
        {"DefaultErrorMessage", ""},
        {"DefaultErrorLink", ""}}},
      {"Version", options_.ui_version},
      {"DisableWriteActions", false},
      {"WorkflowTerminateDisabled", false},
      {"WorkflowCancelDisabled", false},
      {"WorkflowSignalDisabled", false},
      {"WorkflowUpdateDisabled", false},
      {"WorkflowResetDisabled", false},
      {"BatchActionsDisabled", false},
      {"StartWorkflowDisabled", false},
      {"HideWorkflowQueryErrors", false},
      {"RefreshWorkflowCountsDisabled", false},
  };
  Response r;
  r.body = s.dump();
  return r;
}

Response Handler::Login(const Request& req, std::string_view path, std::string_view query) const {
  if (path == "/logout") return LoginRedirect("", "/login", options_.secure_cookie);
  QueryParams params;
  if (req.method == "GET" || req.method == "HEAD") {
    (void)ParseQueryString(query, &params);
    std::string error, return_url;
    for (const auto& [k, v] : params) {
      if (k == "error") error = v;
      if (k == "returnUrl") return_url = v;
    }
    return LoginPage(error, return_url);
  }
  if (req.method != "POST") return Text(405, "method not allowed\n");
  // The form's fields (application/x-www-form-urlencoded).
  if (!ParseQueryString(req.body, &params).ok()) return Text(400, "malformed form\n");
  std::string key, return_url;
  for (const auto& [k, v] : params) {
    if (k == "key") key = v;
    if (k == "returnUrl") return_url = v;
  }
  // Too many failed keys from this address: 429 until its wait is over, the key not even tried.
  if (Duration wait = login_throttle_->WaitBeforeAttempt(req.peer); wait > Duration::zero()) {
    const auto secs = std::chrono::ceil<std::chrono::seconds>(wait).count();
    Response page = LoginPage("Too many failed sign-in attempts from this address: try again in " + std::to_string(secs) + " s",
                              return_url);
    page.status = 429;
    page.headers["Retry-After"] = std::to_string(secs);
    return page;
  }
  // Checked by the server itself: GetClusterInfo needs any valid key.
  const auto* method = pb::DescriptorPool::generated_pool()->FindMethodByName(
      "temporal.api.workflowservice.v1.WorkflowService.GetClusterInfo");
  wsv1::GetClusterInfoRequest in;
  wsv1::GetClusterInfoResponse out;
  CallResult r = key.empty() ? CallResult{16, "no API key given", {}}
                             : invoker_.Call(*method, in, &out, std::chrono::seconds(10), "Bearer " + key, {});
  if (r.code == 16 || r.code == 7) login_throttle_->RecordFailure(req.peer);  // UNAUTHENTICATED, PERMISSION_DENIED
  if (r.code == 0) login_throttle_->RecordSuccess(req.peer);
  if (r.code != 0) {
    Response page = LoginPage("Sign-in failed: " + r.message, return_url);
    page.status = HttpStatusForCode(r.code);
    return page;
  }
  return LoginRedirect(key, return_url, options_.secure_cookie);
}

Response Handler::Api(const Request& req, std::string_view path, std::string_view query,
                      const CallMetadata& metadata) const {
  if (path == "/api/v1/settings") {
    if (req.method != "GET") return JsonError(12, "method not allowed", 405);
    return Settings();
  }
  // The UI server's raw history download: /api/v1/namespaces/{ns}/workflows/{wid}/run/{rid}/history.json
  std::vector<std::string_view> parts = SplitPath(path);
  if (parts.size() == 9 && parts[2] == "namespaces" && parts[4] == "workflows" && parts[6] == "run" &&
      parts[8] == "history.json" && req.method == "GET") {
    std::string ns, wid, rid;
    if (!PercentDecode(parts[3], false, &ns) || !PercentDecode(parts[5], false, &wid) ||
        !PercentDecode(parts[7], false, &rid))
      return JsonError(3, "malformed path");
    return HistoryJson(ns, wid, rid, metadata);
  }
  PathBindings bindings;
  bool path_matched = false;
  const Route* route = routes_.Match(req.method, path, &bindings, &path_matched);
  if (!route) {
    if (path_matched) return JsonError(12, "method " + req.method + " not allowed for " + std::string(path), 405);
    return JsonError(5, "no API route for " + req.method + " " + std::string(path));
  }
  QueryParams params;
  Status s = ParseQueryString(query, &params);
  auto* factory = pb::MessageFactory::generated_factory();
  std::unique_ptr<pb::Message> in(factory->GetPrototype(route->method->input_type())->New());
  std::unique_ptr<pb::Message> out(factory->GetPrototype(route->method->output_type())->New());
  if (s.ok()) s = BuildRequest(*route, bindings, params, req.body, in.get());
  if (!s.ok()) return JsonError(static_cast<int>(s.code()), s.message());
  const bool long_poll = IsLongPoll(*route->method, *in);
  if (long_poll) {
    const int waiting = long_polls_.fetch_add(1) + 1;
    if (waiting > options_.max_long_polls) {
      long_polls_.fetch_sub(1);
      return JsonError(8, "too many long polls waiting on this port (" + std::to_string(options_.max_long_polls) +
                              "); retry later");
    }
    ReportLongPolls();
  }
  CallResult r = invoker_.Call(*route->method, *in, out.get(), kCallTimeout, metadata, req.client_gone);
  if (long_poll) {
    long_polls_.fetch_sub(1);
    ReportLongPolls();
  }
  Response resp;
  if (r.code != 0) {
    resp.status = HttpStatusForCode(r.code);
    resp.body = StatusToJson(r.code, r.message, r.details_status);
    return resp;
  }
  resp.body = MessageToJson(*out);
  return resp;
}

void Handler::ReportLongPolls() const {
  if (!options_.long_polls_changed) return;
  // Under a lock: two threads' reports must not land in the wrong order.
  std::lock_guard<std::mutex> l(report_mu_);
  options_.long_polls_changed(long_polls_.load());
}

Response Handler::HistoryJson(std::string_view ns, std::string_view wid, std::string_view rid,
                              const CallMetadata& metadata) const {
  const auto* method = pb::DescriptorPool::generated_pool()->FindMethodByName(
      "temporal.api.workflowservice.v1.WorkflowService.GetWorkflowExecutionHistory");
  std::string body = "[";
  bool first = true;
  std::string token;
  do {
    wsv1::GetWorkflowExecutionHistoryRequest in;
    in.set_namespace_(std::string(ns));
    in.mutable_execution()->set_workflow_id(std::string(wid));
    in.mutable_execution()->set_run_id(std::string(rid));
    in.set_maximum_page_size(1000);
    in.set_next_page_token(token);
    wsv1::GetWorkflowExecutionHistoryResponse out;
    CallResult r = invoker_.Call(*method, in, &out, kCallTimeout, metadata, {});
    if (r.code != 0) {
      Response e;
      e.status = HttpStatusForCode(r.code);
      e.body = StatusToJson(r.code, r.message, r.details_status);
      return e;
    }
    for (const auto& ev : out.history().events()) {
      if (!first) body += ',';
      first = false;
      body += MessageToJson(ev);
    }
    token = out.next_page_token();
  } while (!token.empty());
  body += "]";
  Response resp;
  resp.body = std::move(body);
  resp.headers["Content-Disposition"] =
      "attachment; filename=\"" + std::string(rid) + "_events.json\"";
  return resp;
}

Response Handler::Static(const Request& req, std::string_view path) const {
  if (req.method != "GET" && req.method != "HEAD") return Text(405, "method not allowed\n");
  if (!static_files_) {
    Response r;
    r.status = 503;
    r.content_type = "text/html; charset=utf-8";
    r.body =
        "<!doctype html><html><head><title>Temporalite</title></head><body>"
        "<h1>The web UI was not built</h1>"
        "<p>This temporalite binary was built without the web UI (the UI build needs the npm packages of ui/). "
        "The HTTP API is served under <code>/api/v1</code>, health at <code>/healthz</code> and "
        "<code>/readyz</code>; gRPC clients and the CLI work as usual.</p></body></html>\n";
    return r;
  }
  std::string decoded;
  if (!PercentDecode(path, false, &decoded)) return Text(400, "malformed path\n");
  std::string_view rel = decoded;
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  bool traversal = false;
  for (std::string_view seg : SplitPath(rel)) traversal = traversal || seg == ".." || seg == ".";
  const StaticFile* f = traversal || rel.empty() ? nullptr : static_files_->Find(rel);
  bool fallback = false;
  if (!f) {
    f = static_files_->Find("index.html");
    fallback = true;
    if (!f) return Text(404, "not found\n");
  }
  Response r;
  r.content_type = std::string(f->content_type);
  r.body = std::string(f->body);
  r.headers["Cache-Control"] =
      (!fallback && f->immutable) ? "public, max-age=31536000, immutable" : "no-cache";
  r.headers["X-Content-Type-Options"] = "nosniff";
  return r;
}

}  // namespace temporalite::http
