// What the gRPC port answers while the server waits for its data directory to take writes again
// (src/server/storage_wait_server.h): every method, of any service, gets the reason with
// RESOURCE_EXHAUSTED (disk full) or UNAVAILABLE, and the port is released by Stop; with API keys
// and an audit log it checks and audits as the server does; the HTTP ports while waiting
// (src/server/storage_wait_http.h) check as the HTTP API does. End to end
// (a real full disk, the CLI, health, the HTTP port): tests/crash/store-faults.test.js.
#include "server/storage_wait_server.h"

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "auth/api_keys.h"
#include "auth/audit_log.h"
#include "auth/auth_interceptor.h"
#include "http/ui_login.h"
#include "server/storage_wait_http.h"
#include "temporal/api/operatorservice/v1/service.grpc.pb.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"

namespace temporalite::server {
namespace {

namespace wf = temporal::api::workflowservice::v1;
namespace op = temporal::api::operatorservice::v1;

TEST(StorageWaitStatus, DiskFullIsResourceExhaustedOtherwiseUnavailable) {
  grpc::Status full = StorageWaitStatus(Status(Code::kResourceExhausted, "storage error: database or disk is full"), "/data");
  EXPECT_EQ(full.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(full.error_message(),
            "the server's database refused a write (storage error: database or disk is full); it resumes once writes "
            "succeed in /data");
  grpc::Status io = StorageWaitStatus(Internal("storage error: disk I/O error"), "/data");
  EXPECT_EQ(io.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(io.error_message(),
            "the server's database refused a write (storage error: disk I/O error); it resumes once writes succeed in /data");
}

// Without a data directory the answer names no path.
TEST(StorageWaitStatus, WithoutADirectoryTheAnswerNamesNoPath) {
  grpc::Status s = StorageWaitStatus(Internal("storage error: disk I/O error"), "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(s.error_message(),
            "the server's database refused a write (storage error: disk I/O error); it resumes once writes succeed again");
}

TEST(StorageWaitServer, AnswersEveryMethodWithTheReasonAndReleasesThePort) {
  const grpc::Status answer = StorageWaitStatus(Internal("storage error: disk I/O error"), "/data");
  auto w = StorageWaitServer::Start("127.0.0.1:0", grpc::InsecureServerCredentials(), answer, nullptr, std::chrono::seconds(1));
  ASSERT_NE(w, nullptr);
  ASSERT_GT(w->port(), 0);
  const std::string address = "127.0.0.1:" + std::to_string(w->port());
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto deadline = [] { return std::chrono::system_clock::now() + std::chrono::seconds(10); };

  auto workflows = wf::WorkflowService::NewStub(channel);
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    wf::StartWorkflowExecutionRequest req;
    req.set_namespace_("default");
    req.set_workflow_id("w");
    wf::StartWorkflowExecutionResponse resp;
    grpc::Status s = workflows->StartWorkflowExecution(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(s.error_message(), answer.error_message());
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    wf::GetSystemInfoResponse resp;
    EXPECT_EQ(workflows->GetSystemInfo(&ctx, wf::GetSystemInfoRequest(), &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  {
    auto operators = op::OperatorService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline());
    op::ListSearchAttributesResponse resp;
    EXPECT_EQ(operators->ListSearchAttributes(&ctx, op::ListSearchAttributesRequest(), &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
  }

  // Stop releases the port: another server binds it at once.
  const int port = w->port();
  w->Stop();
  auto again = StorageWaitServer::Start("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(), answer,
                                        nullptr, std::chrono::milliseconds(0));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->port(), port);
}

// The namespace the waiting port authorizes on, from the request's bytes.
TEST(StorageWaitServer, ReadsTheNamespaceFromTheEncodedRequest) {
  wf::StartWorkflowExecutionRequest req;
  req.set_namespace_("default");
  req.set_workflow_id("w");
  EXPECT_EQ(auth::EncodedRequestNamespace("/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution",
                                          req.SerializeAsString()),
            "default");
  EXPECT_EQ(auth::EncodedRequestNamespace("/temporal.api.workflowservice.v1.WorkflowService/NoSuchMethod", req.SerializeAsString()), "");
  EXPECT_EQ(auth::EncodedRequestNamespace("/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution", "\xff\xff"), "");
}

// With API keys the waiting port answers a call as the server does (auth::Authorize on the
// method and the request's namespace): without a valid key UNAUTHENTICATED with the server's
// message, with a key lacking the role PERMISSION_DENIED; only a caller with a valid key is told
// the cause. (Health, open as on the server and NOT_SERVING: tests/crash/store-faults.test.js.)
TEST(StorageWaitServer, WithApiKeysOnlyAValidKeyIsToldTheCause) {
  constexpr char kKey[] = "ci-key-0123456789abcdef";
  auto parsed = auth::ApiKeys::Parse(std::string("ci ") + kKey + " writer@default\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auth::KeyRing keys("keys.txt", std::move(parsed).value());
  const grpc::Status answer = StorageWaitStatus(Internal("storage error: disk I/O error"), "/data");
  auto w = StorageWaitServer::Start("127.0.0.1:0", grpc::InsecureServerCredentials(), answer, &keys, std::chrono::seconds(1));
  ASSERT_NE(w, nullptr);
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(w->port()), grpc::InsecureChannelCredentials());
  auto workflows = wf::WorkflowService::NewStub(channel);
  auto start = [&](const std::string& authorization, const std::string& ns) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    wf::StartWorkflowExecutionRequest req;
    req.set_namespace_(ns);
    req.set_workflow_id("w");
    wf::StartWorkflowExecutionResponse resp;
    return workflows->StartWorkflowExecution(&ctx, req, &resp);
  };
  const std::string method = "/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution";
  for (const std::string authorization : {"", "Bearer not-a-key-0123456789", "Basic abc"}) {
    grpc::Status s = start(authorization, "default");
    auth::Decision server = auth::Authorize(*keys.Current(), authorization, method, "default");
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << authorization;
    EXPECT_EQ(s.error_message(), server.status.message()) << authorization;
    EXPECT_EQ(s.error_message().find("refused a write"), std::string::npos);
  }
  grpc::Status other = start(std::string("Bearer ") + kKey, "other");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(other.error_message(), auth::Authorize(*keys.Current(), std::string("Bearer ") + kKey, method, "other").status.message());
  grpc::Status allowed = start(std::string("Bearer ") + kKey, "default");
  EXPECT_EQ(allowed.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(allowed.error_message(), answer.error_message());
  // GetSystemInfo needs no key on the server; here a caller without one is not told the cause.
  for (const std::string authorization : {std::string(), std::string("Bearer ") + kKey}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    wf::GetSystemInfoResponse resp;
    grpc::Status s = workflows->GetSystemInfo(&ctx, wf::GetSystemInfoRequest(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(s.error_message(),
              authorization.empty() ? StorageWaitWithoutCause().error_message() : answer.error_message());
  }
}

// One unary call of `method` on `stub` with `authorization` ("" for none).
template <typename Req, typename Resp>
grpc::Status Call(wf::WorkflowService::Stub& stub, grpc::Status (wf::WorkflowService::Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                  const std::string& authorization, const Req& req) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
  Resp resp;
  return (stub.*method)(&ctx, req, &resp);
}

std::vector<nlohmann::json> AuditLines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// With an audit log the waiting port writes the lines the server's auth interceptor writes
// (auth::WriteAudit): denied calls and calls of audited methods, with the answer as the outcome;
// no line for reads, open methods, or health.
TEST(StorageWaitServer, WritesTheServersAuditLinesForWhatItDeniesAndAuditedCalls) {
  constexpr char kKey[] = "ci-key-0123456789abcdef";
  auto parsed = auth::ApiKeys::Parse(std::string("ci ") + kKey + " writer@default\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auth::KeyRing keys("keys.txt", std::move(parsed).value());
  const std::string path = ::testing::TempDir() + "storage-wait-audit-" + std::to_string(::getpid()) + ".log";
  std::remove(path.c_str());
  auto audit = auth::AuditLog::Open(path);
  ASSERT_TRUE(audit.ok());
  const grpc::Status answer = StorageWaitStatus(Internal("storage error: disk I/O error"), "/data");
  auto w = StorageWaitServer::Start("127.0.0.1:0", grpc::InsecureServerCredentials(), answer, &keys, std::chrono::seconds(1),
                                    audit.value().get());
  ASSERT_NE(w, nullptr);
  auto workflows = wf::WorkflowService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(w->port()), grpc::InsecureChannelCredentials()));
  const std::string bearer = std::string("Bearer ") + kKey;
  wf::StartWorkflowExecutionRequest start;
  start.set_namespace_("default");
  start.set_workflow_id("audited-wf");
  EXPECT_EQ(Call(*workflows, &wf::WorkflowService::Stub::StartWorkflowExecution, "", start).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Call(*workflows, &wf::WorkflowService::Stub::StartWorkflowExecution, bearer, start).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  start.set_namespace_("other");
  EXPECT_EQ(Call(*workflows, &wf::WorkflowService::Stub::StartWorkflowExecution, bearer, start).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  wf::DescribeNamespaceRequest describe;
  describe.set_namespace_("default");
  EXPECT_EQ(Call(*workflows, &wf::WorkflowService::Stub::DescribeNamespace, bearer, describe).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(*workflows, &wf::WorkflowService::Stub::GetSystemInfo, "", wf::GetSystemInfoRequest()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  w->Stop();

  const std::vector<nlohmann::json> lines = AuditLines(path);
  ASSERT_EQ(lines.size(), 3u) << nlohmann::json(lines).dump();
  const auto expect = [](const nlohmann::json& l, const char* principal, const char* ns, const char* outcome) {
    EXPECT_EQ(l["principal"], principal) << l.dump();
    EXPECT_EQ(l["method"], "StartWorkflowExecution") << l.dump();
    EXPECT_EQ(l["namespace"], ns) << l.dump();
    EXPECT_EQ(l["workflowId"], "audited-wf") << l.dump();
    EXPECT_EQ(l["outcome"], outcome) << l.dump();
    EXPECT_NE(l["peer"].get<std::string>().find("127.0.0.1"), std::string::npos) << l.dump();
    EXPECT_TRUE(l.contains("time") && l.contains("message")) << l.dump();
  };
  expect(lines[0], "", "default", "UNAUTHENTICATED");
  expect(lines[1], "ci", "default", "UNAVAILABLE");
  EXPECT_EQ(lines[1]["message"], answer.error_message());
  expect(lines[2], "ci", "other", "PERMISSION_DENIED");
  std::remove(path.c_str());
}

http::Request HttpRequest(std::string method, std::string target, std::map<std::string, std::string> headers) {
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.header = [headers](std::string_view name) {
    auto it = headers.find(std::string(name));
    return it == headers.end() ? std::string() : it->second;
  };
  return r;
}

// The HTTP API and UI ports while waiting with API keys: the normal HTTP API's checks (401
// without a valid key, 403 for a key without the role on the route's namespace), the waiting
// answer as 503 to a call the API lets through; an open route (system-info, settings) answers 503
// without the cause to a caller without a valid key.
TEST(StorageWaitHttp, WithApiKeysChecksTheRoleOnTheRoutesNamespaceAndOpenRoutesAnswer503) {
  constexpr char kKey[] = "ci-key-0123456789abcdef";
  constexpr char kOther[] = "other-key-0123456789abc";
  auto parsed = auth::ApiKeys::Parse(std::string("ci ") + kKey + " writer@default\nother " + kOther + " writer@other\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auth::KeyRing keys("keys.txt", std::move(parsed).value());
  const grpc::Status answer = StorageWaitStatus(Internal("storage error: disk I/O error"), "/data");
  StorageWaitHttp waiting(answer, &keys, nullptr, http::HandlerOptions());
  const std::string workflows = "/api/v1/namespaces/default/workflows";
  auto get = [&](const std::string& target, const std::string& key, bool ui_port = false) {
    std::map<std::string, std::string> headers;
    if (!key.empty()) headers["authorization"] = "Bearer " + key;
    return waiting.Handle(HttpRequest("GET", target, headers), ui_port);
  };
  const auto message = [](const http::Response& r) { return nlohmann::json::parse(r.body).value("message", ""); };
  const std::string cause = answer.error_message();
  const std::string no_cause = StorageWaitWithoutCause().error_message();

  http::Response denied = get(workflows, kOther);
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_EQ(message(denied),
            auth::Authorize(*keys.Current(), std::string("Bearer ") + kOther,
                            "/temporal.api.workflowservice.v1.WorkflowService/ListWorkflowExecutions", "default")
                .status.message());
  http::Response no_key = get(workflows, "");
  EXPECT_EQ(no_key.status, 401) << no_key.body;
  EXPECT_EQ(message(no_key).find("refused a write"), std::string::npos);
  http::Response allowed = get(workflows, kKey);
  EXPECT_EQ(allowed.status, 503) << allowed.body;
  EXPECT_EQ(message(allowed), cause);
  EXPECT_EQ(allowed.headers["Retry-After"], "5");
  // The UI port takes the key from its sign-in cookie, as the UI's API calls send it.
  http::Response cookie = waiting.Handle(
      HttpRequest("GET", workflows, {{"cookie", std::string(http::kUiKeyCookie) + "=" + kOther}}), true);
  EXPECT_EQ(cookie.status, 403) << cookie.body;

  for (const std::string open : {"/api/v1/system-info", "/api/v1/settings"}) {
    http::Response anonymous = get(open, "");
    EXPECT_EQ(anonymous.status, 503) << open << " " << anonymous.body;
    EXPECT_EQ(message(anonymous), no_cause) << open;
    http::Response keyed = get(open, kKey);
    EXPECT_EQ(keyed.status, 503) << open << " " << keyed.body;
    EXPECT_EQ(message(keyed), cause) << open;
  }
  EXPECT_EQ(get("/healthz", "").status, 503);
  EXPECT_EQ(message(get("/", "", true)), no_cause);

  // Without keys every request is told the cause.
  StorageWaitHttp open(answer, nullptr, nullptr, http::HandlerOptions());
  http::Response r = open.Handle(HttpRequest("GET", workflows, {}), false);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(message(r), cause);

  // With an audit log (here without keys) an API call is audited as the normal HTTP API's call is
  // (through the in-process channel, whose peer gRPC names "unknown").
  const std::string path = ::testing::TempDir() + "storage-wait-http-audit-" + std::to_string(::getpid()) + ".log";
  std::remove(path.c_str());
  auto audit = auth::AuditLog::Open(path);
  ASSERT_TRUE(audit.ok());
  StorageWaitHttp audited(answer, nullptr, audit.value().get(), http::HandlerOptions());
  http::Request start = HttpRequest("POST", workflows + "/http-wf", {{"content-type", "application/json"}});
  start.body = R"({"workflowType":{"name":"W"},"taskQueue":{"name":"q"}})";
  http::Response started = audited.Handle(start, false);
  EXPECT_EQ(started.status, 503) << started.body;
  EXPECT_EQ(message(started), cause);
  EXPECT_EQ(audited.Handle(HttpRequest("GET", workflows, {}), false).status, 503);  // a read: not audited
  // Without keys the audit log changes nothing of the answers: a route the API does not know and a
  // body it cannot parse get the waiting answer too, as they do without the audit log.
  for (const http::Request& other : {HttpRequest("GET", "/api/v1/no-such-route", {}),
                                     [&] {
                                       http::Request bad = start;
                                       bad.body = "{not json";
                                       return bad;
                                     }()}) {
    http::Response answered = audited.Handle(other, false);
    EXPECT_EQ(answered.status, 503) << other.target << " " << answered.body;
    EXPECT_EQ(message(answered), cause) << other.target;
    EXPECT_EQ(answered.status, open.Handle(other, false).status) << other.target;
  }
  const std::vector<nlohmann::json> lines = AuditLines(path);
  ASSERT_EQ(lines.size(), 1u) << nlohmann::json(lines).dump();
  EXPECT_EQ(lines[0]["method"], "StartWorkflowExecution");
  EXPECT_EQ(lines[0]["namespace"], "default");
  EXPECT_EQ(lines[0]["workflowId"], "http-wf");
  EXPECT_EQ(lines[0]["outcome"], "UNAVAILABLE");
  EXPECT_EQ(lines[0]["peer"], "unknown");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace temporalite::server
