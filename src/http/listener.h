// One HTTP port (cpp-httplib): reads requests on its own thread pool and hands each to a
// function. Owns no engine logic and runs on no engine thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "http/handler.h"

namespace httplib {
class Server;
}

namespace temporalite::http {

// HTTPS for the port: the server's PEM certificate and key (the gRPC port's --tls-cert-file and
// --tls-key-file); with `ca_file` every client must present a certificate signed by it (mutual TLS).
struct ListenerTls {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
};

class Listener {
 public:
  using Serve = std::function<Response(const Request&)>;
  // Bodies over `max_body_bytes` are answered by `too_large` (and not handed to `serve`).
  // `threads` serve connections always; up to `max_threads` when they are all busy (long polls
  // hold theirs, see elastic_pool.h). `tls` non-null: HTTPS (check ok()).
  Listener(Serve serve, size_t max_body_bytes, std::function<Response()> too_large, int threads = 32,
           const ListenerTls* tls = nullptr, int max_threads = 32 + 512 + 64);
  ~Listener();

  // False when the TLS certificate or key could not be loaded.
  bool ok() const;

  // Binds ip:port (0 picks a free port). Returns the bound port, or -1.
  int Bind(const std::string& ip, int port);
  // Serves until Stop. Call on a thread of the caller's (the composition root's).
  void Run();
  // Ends Run, whenever it is called: before Run starts (Run then returns at once), or while
  // httplib is still entering its accept loop (a plain httplib stop() then does nothing and the
  // thread would wait in accept() for ever: a server stopped right after its start hung).
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  int listen_fd_ = -1;  // the listening socket (see Bind)
  std::atomic<bool> stopping_{false};
  std::atomic<bool> run_started_{false};
  std::atomic<bool> run_returned_{false};
};

}  // namespace temporalite::http
