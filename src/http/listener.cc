#include "http/listener.h"

#include <httplib.h>

#include <sys/socket.h>

#include <algorithm>

#include "http/elastic_pool.h"

namespace temporalite::http {

namespace {

std::unique_ptr<httplib::Server> NewServer(const ListenerTls* tls) {
  if (tls == nullptr) return std::make_unique<httplib::Server>();
  // With a CA file httplib requires and verifies a client certificate (mutual TLS).
  return std::make_unique<httplib::SSLServer>(tls->cert_file.c_str(), tls->key_file.c_str(),
                                              tls->ca_file.empty() ? nullptr : tls->ca_file.c_str());
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

void Listener::Run() { server_->listen_after_bind(); }

void Listener::Stop() { server_->stop(); }

}  // namespace temporalite::http
