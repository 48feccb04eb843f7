// What the gRPC port answers while the server waits for its data directory to take writes again
// (src/server/storage_wait_server.h): every method, of any service, gets the reason with
// RESOURCE_EXHAUSTED (disk full) or UNAVAILABLE, and the port is released by Stop. End to end
// (a real full disk, the CLI, health, the HTTP port): tests/crash/store-faults.test.js.
#include "server/storage_wait_server.h"

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include "auth/api_keys.h"
#include "auth/auth_interceptor.h"
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

}  // namespace
}  // namespace temporalite::server
