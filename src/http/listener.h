// One HTTP port (cpp-httplib): reads requests on its own thread pool and hands each to a
// function. Owns no engine logic and runs on no engine thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "http/handler.h"

namespace httplib {
class Server;
}

namespace temporalite::http {

class Listener {
 public:
  using Serve = std::function<Response(const Request&)>;
  // Bodies over `max_body_bytes` are answered by `too_large` (and not handed to `serve`).
  // `threads` serve connections always; up to `max_threads` when they are all busy (long polls
  // hold theirs, see elastic_pool.h).
  Listener(Serve serve, size_t max_body_bytes, std::function<Response()> too_large, int threads = 32,
           int max_threads = 32 + 512 + 64);
  ~Listener();

  // Binds ip:port (0 picks a free port). Returns the bound port, or -1.
  int Bind(const std::string& ip, int port);
  // Serves until Stop. Call on a thread of the caller's (the composition root's).
  void Run();
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  int listen_fd_ = -1;  // the listening socket (see Bind)
};

}  // namespace temporalite::http
