// C++ SDK client retries: RESOURCE_EXHAUSTED from a rate-limited server and UNAVAILABLE while
// a server restarts on the same port and database are retried within the attempts; other codes
// (and per-attempt deadlines) are not.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "sdk_fixture.h"

namespace sdk_test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

// The server on a fixed port with its database in `dir` (so a restart keeps the data).
class DurableServer {
 public:
  DurableServer(std::string dir, int port) : dir_(std::move(dir)), port_(port) {}
  ~DurableServer() { Stop(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void Start() {
    std::string out = dir_ + "/server.out";
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::string bin = ServerBinary(), port = std::to_string(port_), db = dir_ + "/t.db";
      execl(bin.c_str(), bin.c_str(), "server", "start-dev", "--ip", "127.0.0.1", "--port", port.c_str(),
            "--db-filename", db.c_str(), "--http-port", "0", "--headless", "--log-level", "warn", nullptr);
      _exit(127);
    }
    for (int i = 0; i < 400; ++i) {
      std::ifstream f(out);
      std::stringstream ss;
      ss << f.rdbuf();
      if (ss.str().find("Server:") != std::string::npos) return;
      std::this_thread::sleep_for(25ms);
    }
    FAIL() << "server did not start";
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  std::string dir_;
  int port_;
  pid_t pid_ = -1;
};

TEST(SdkRetryTest, UnavailableWhileTheServerRestartsIsRetried) {
  char tmpl[] = "/tmp/sdk-retry-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  DurableServer server(dir, FreePort());
  server.Start();
  ClientOptions o;
  o.address = server.address();
  auto client = Client::Connect(o);
  StartWorkflowOptions so;
  so.id = "survives-restart";
  so.task_queue = "nobody";
  auto h = client->Start("Anything", so);
  server.Stop();
  // While it is down: one attempt fails at once with UNAVAILABLE.
  ClientOptions once = o;
  once.max_attempts = 1;
  auto impatient = std::make_shared<Client>(once);
  auto t0 = Clock::now();
  try {
    impatient->GetHandle("survives-restart").Describe();
    FAIL() << "expected UNAVAILABLE";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::UNAVAILABLE) << e.what();
  }
  EXPECT_LT(Clock::now() - t0, 5s);
  // The retrying client rides out the restart (same port, same database).
  auto described = std::async(std::launch::async, [&] { return client->GetHandle("survives-restart").Describe(); });
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(described.wait_for(0ms), std::future_status::timeout);  // still retrying
  server.Start();
  ASSERT_EQ(described.wait_for(60s), std::future_status::ready);
  auto d = described.get();
  EXPECT_EQ(d.workflow_execution_info().execution().run_id(), h.run_id());
  server.Stop();
  fs::remove_all(dir);
}

TEST(SdkRetryTest, ResourceExhaustedIsRetriedUntilTheRateAllowsIt) {
  // 4 requests/s with a burst of 8 for the namespace.
  TestServer server(ServerBinary(), {"--dynamic-config-value", "frontend.namespaceRPS=4"});
  ClientOptions o;
  o.address = server.address();
  auto client = Client::Connect(o);
  StartWorkflowOptions so;
  so.task_queue = "nobody";
  auto t0 = Clock::now();
  for (int i = 0; i < 14; ++i) {
    so.id = "limited-" + std::to_string(i);
    ASSERT_NO_THROW(client->Start("Anything", so)) << i;
  }
  // More than the burst: some starts waited for tokens (the limit held) and all went through.
  EXPECT_GT(Clock::now() - t0, 900ms);
  EXPECT_EQ(client->Count("WorkflowType = 'Anything'"), 14);
  // One attempt: the refusal reaches the caller as RESOURCE_EXHAUSTED.
  ClientOptions once = o;
  once.max_attempts = 1;
  auto impatient = std::make_shared<Client>(once);
  bool exhausted = false;
  for (int i = 0; i < 30 && !exhausted; ++i) {
    so.id = "impatient-" + std::to_string(i);
    try {
      impatient->Start("Anything", so);
    } catch (const RpcError& e) {
      EXPECT_EQ(e.code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << e.what();
      EXPECT_NE(std::string(e.what()).find("rate limit"), std::string::npos) << e.what();
      exhausted = true;
    }
  }
  EXPECT_TRUE(exhausted);
}

TEST_F(SdkTest, NonRetryableCodesAndDeadlinesAreNotRetried) {
  auto t0 = Clock::now();
  try {
    client_->GetHandle("no-such-workflow").Describe();
    FAIL() << "expected NOT_FOUND";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
  }
  try {
    client_->Start("Anything", Opts(""));  // no id
    FAIL() << "expected INVALID_ARGUMENT";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_LT(Clock::now() - t0, 900ms);  // no backoff (the first retry would wait 100 ms, then 200 ...)
  // A long poll past its per-call deadline: DEADLINE_EXCEEDED after one attempt.
  auto h = client_->Start("Anything", Opts("deadline-1"));
  wsv1::GetWorkflowExecutionHistoryRequest req;
  req.set_namespace_("default");
  req.mutable_execution()->set_workflow_id("deadline-1");
  req.set_wait_new_event(true);
  req.set_history_event_filter_type(enums::HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT);
  t0 = Clock::now();
  try {
    client_->Call(&wsv1::WorkflowService::Stub::GetWorkflowExecutionHistory, req, 400ms);
    FAIL() << "expected DEADLINE_EXCEEDED";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  auto took = Clock::now() - t0;
  EXPECT_GE(took, 350ms);
  EXPECT_LT(took, 3s);
  // The result wait honours its own timeout.
  EXPECT_THROW(h.Result<int>(500ms), RpcError);
  h.Terminate();
}

}  // namespace
}  // namespace sdk_test
