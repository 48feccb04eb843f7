#include "http/listener.h"

#include <httplib.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cstdlib>
#include <memory>

#include "http/elastic_pool.h"

namespace temporalite::http {

namespace {

std::unique_ptr<httplib::Server> NewServer(const ListenerTls* tls) {
  if (tls == nullptr) return std::make_unique<httplib::Server>();
  // With a CA file httplib requires and verifies a client certificate (mutual TLS).
  return std::make_unique<httplib::SSLServer>(tls->cert_file.c_str(), tls->key_file.c_str(),
                                              tls->ca_file.empty() ? nullptr : tls->ca_file.c_str());
}

// The numeric host of a socket address, formatted as cpp-httplib formats Request::remote_addr.
std::string NumericHost(const sockaddr_storage& a, socklen_t len) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) return "";
  return host;
}

int Port(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return -1;
}

// The request's connection socket, found by its two addresses (cpp-httplib 0.11 hands a handler
// no socket). The handler runs on the thread that serves that socket, so the descriptor stays
// this connection's while the handler runs. -1 if not found.
int FindConnectionSocket(const httplib::Request& req) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int found = -1;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    sockaddr_storage peer{}, local{};
    socklen_t peer_len = sizeof peer, local_len = sizeof local;
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (Port(peer) != req.remote_port) continue;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (Port(local) != req.local_port || NumericHost(peer, peer_len) != req.remote_addr) continue;
    found = static_cast<int>(fd);
    break;
  }
  closedir(dir);
  return found;
}

// Whether the client closed its side: the peer's FIN (POLLRDHUP), a reset or an error. As Go's
// HTTP server (Temporal's frontend) ends a request's context when its connection reads EOF.
// Asked only from the handler's thread; finds the socket on first use.
std::function<bool()> ClientGoneProbe(const httplib::Request& req) {
  auto fd = std::make_shared<int>(-2);  // -2: not looked up yet
  return [fd, &req] {
    if (*fd == -2) *fd = FindConnectionSocket(req);
    if (*fd < 0) return false;
    pollfd p{*fd, POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
  };
}

}  // namespace

Listener::Listener(Serve serve, size_t max_body_bytes, std::function<Response()> too_large, int threads,
                   const ListenerTls* tls, int max_threads)
    : server_(NewServer(tls)) {
  server_->new_task_queue = [threads, max_threads] {
    return new ElasticPool(threads, std::max(threads, max_threads), std::chrono::seconds(30));
  };
  // Bodies are read to the end and refused after (a response before the body is read would
  // reset the connection under a client still sending). Beyond 8x the limit httplib stops
  // reading and answers 413; keep the API's 400 there too.
  server_->set_payload_max_length(max_body_bytes * 8);
  // cpp-httplib listens with a backlog of 5, compiled into Debian's library: a burst of
  // connections (a page's requests, many clients' long polls) overflows it, and connections
  // whose handshake the kernel dropped are retried in step and may never get in. Keep the
  // library's socket options and note the socket, so Bind can listen again with a real backlog.
  server_->set_socket_options([this](int sock) {
    httplib::default_socket_options(sock);
    listen_fd_ = sock;
  });
  auto write = [](const Response& r, httplib::Response& res) {
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    res.set_content(r.body, r.content_type);
  };
  server_->set_error_handler([too_large, write](const httplib::Request&, httplib::Response& res) {
    if (res.status == 413) write(too_large(), res);
  });
  auto handle = [serve, write, max_body_bytes, too_large](const httplib::Request& req, httplib::Response& res) {
    if (req.body.size() > max_body_bytes) return write(too_large(), res);
    Request r;
    r.method = req.method;
    r.target = req.target.empty() ? req.path : req.target;
    r.header = [&req](std::string_view name) { return req.get_header_value(std::string(name).c_str()); };
    r.body = req.body;
    r.peer = req.remote_addr;
    r.client_gone = ClientGoneProbe(req);
    write(serve(r), res);
  };
  server_->Get(".*", handle);
  server_->Post(".*", handle);
  server_->Put(".*", handle);
  server_->Patch(".*", handle);
  server_->Delete(".*", handle);
  server_->Options(".*", handle);
}

Listener::~Listener() = default;

bool Listener::ok() const { return server_->is_valid(); }

int Listener::Bind(const std::string& ip, int port) {
  int bound = port == 0 ? server_->bind_to_any_port(ip.c_str()) : (server_->bind_to_port(ip.c_str(), port) ? port : -1);
  // listen() on a listening socket only changes its backlog (capped by net.core.somaxconn).
  if (bound > 0 && listen_fd_ >= 0) ::listen(listen_fd_, SOMAXCONN);
  return bound;
}

void Listener::Run() {
  run_started_ = true;
  if (!stopping_) server_->listen_after_bind();
  run_returned_ = true;
}

void Listener::Stop() {
  stopping_ = true;
  // Run not started: it will see stopping_ (set before this read) and not listen.
  if (!run_started_) return;
  // Run started: httplib's stop() acts only once the server is marked running (the first thing
  // its listen loop does), so wait for that or for Run to return (it saw stopping_).
  while (!server_->is_running() && !run_returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();
}

}  // namespace temporalite::http
