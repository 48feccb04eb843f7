#include "temporalite/sdk/testing.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

namespace temporalite::sdk {

TestServer::TestServer(const std::string& binary, std::vector<std::string> extra_args,
                       std::chrono::milliseconds timeout) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {binary, "server", "start-dev", "--ip", "127.0.0.1", "--port", "0",
                                   "--ephemeral", "--headless", "--log-level", "warn"};
  for (auto& a : extra_args) args.push_back(std::move(a));
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // The server dies with the test process, even when that one is killed.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string buf;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (address_.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char chunk[512];
    ssize_t n = read(out[0], chunk, sizeof chunk);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    auto pos = buf.find("Server:");
    if (pos != std::string::npos) {
      auto eol = buf.find('\n', pos);
      if (eol == std::string::npos) continue;
      std::string line = buf.substr(pos + 7, eol - pos - 7);
      auto b = line.find_first_not_of(" \t");
      auto e = line.find_last_not_of(" \t\r");
      if (b != std::string::npos) address_ = line.substr(b, e - b + 1);
    }
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  int fd = out[0];
  std::thread([fd] {
    char chunk[512];
    while (read(fd, chunk, sizeof chunk) > 0) {
    }
    close(fd);
  }).detach();
  if (address_.empty()) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    throw std::runtime_error("temporalite server did not start: " + buf);
  }
}

TestServer::~TestServer() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

}  // namespace temporalite::sdk
