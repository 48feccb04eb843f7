// Shared by the C++ SDK tests (tests/sdk/*_test.cc, one sdk_test binary): the server fixture
// (the real temporalite binary, ephemeral on a free port, one for the whole binary), a user type
// and default activity options.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "temporal/api/sdk/v1/workflow_metadata.pb.h"
#include "temporalite/sdk/replayer.h"
#include "temporalite/sdk/sdk.h"
#include "temporalite/sdk/testing.h"

namespace sdk_test {

using namespace temporalite::sdk;
using namespace std::chrono_literals;
namespace enums = temporal::api::enums::v1;

// GCC 12 destroys brace-initialised temporaries (lambdas included) of a co_await expression
// twice; workflow code here names them first (see README "Write a worker in C++").

inline std::string ServerBinary() {
  const char* b = std::getenv("TEMPORALITE_BIN");
  return b ? b : TEMPORALITE_DEFAULT_BIN;
}

struct Order {
  std::string item;
  int quantity = 0;
};
inline void to_json(nlohmann::json& j, const Order& o) { j = {{"item", o.item}, {"quantity", o.quantity}}; }
inline void from_json(const nlohmann::json& j, Order& o) {
  j.at("item").get_to(o.item);
  j.at("quantity").get_to(o.quantity);
}

inline ActivityOptions Short() {
  ActivityOptions o;
  o.start_to_close = 10s;
  o.retry_policy = RetryPolicy{.initial_interval = 50ms, .maximum_attempts = 3};
  return o;
}

class SdkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(ServerBinary()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ClientOptions o;
    o.address = server_->address();
    client_ = Client::Connect(o);
    task_queue_ = std::string("tq-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  StartWorkflowOptions Opts(const std::string& id) {
    StartWorkflowOptions o;
    o.id = id;
    o.task_queue = task_queue_;
    return o;
  }
  std::unique_ptr<Worker> NewWorker() {
    WorkerOptions wo;
    wo.task_queue = task_queue_;
    wo.graceful_shutdown_timeout = 2s;
    return std::make_unique<Worker>(client_, wo);
  }

  static inline TestServer* server_ = nullptr;
  std::shared_ptr<Client> client_;
  std::string task_queue_;
};

}  // namespace sdk_test
