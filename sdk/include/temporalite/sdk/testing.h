// A Temporalite server for tests: starts `temporalite server start-dev --ephemeral` on a free
// loopback port and stops it (SIGTERM, then SIGKILL) when destroyed.
//
//   temporalite::sdk::TestServer server("/path/to/temporalite");
//   auto client = Client::Connect({.address = server.address()});
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace temporalite::sdk {

class TestServer {
 public:
  // Throws std::runtime_error if the server does not print its address within `timeout`.
  explicit TestServer(const std::string& binary, std::vector<std::string> extra_args = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~TestServer();
  TestServer(const TestServer&) = delete;
  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string address_;
};

}  // namespace temporalite::sdk
