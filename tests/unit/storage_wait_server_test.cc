// What the gRPC port answers while the server waits for its data directory to take writes again
// (src/server/storage_wait_server.h): every method, of any service, gets the reason with
// RESOURCE_EXHAUSTED (disk full) or UNAVAILABLE, and the port is released by Stop. End to end
// (a real full disk, the CLI, health, the HTTP port): tests/crash/store-faults.test.js.
#include "server/storage_wait_server.h"

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

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

// A server that requires API keys: the waiting port checks none, so its answer names no path.
TEST(StorageWaitStatus, WithoutADirectoryTheAnswerNamesNoPath) {
  grpc::Status s = StorageWaitStatus(Internal("storage error: disk I/O error"), "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(s.error_message(),
            "the server's database refused a write (storage error: disk I/O error); it resumes once writes succeed again");
}

TEST(StorageWaitServer, AnswersEveryMethodWithTheReasonAndReleasesThePort) {
  const grpc::Status answer = StorageWaitStatus(Internal("storage error: disk I/O error"), "/data");
  auto w = StorageWaitServer::Start("127.0.0.1:0", grpc::InsecureServerCredentials(), answer, std::chrono::seconds(1));
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
                                        std::chrono::milliseconds(0));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->port(), port);
}

}  // namespace
}  // namespace temporalite::server
