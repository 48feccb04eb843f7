#include "http/listener.h"

#include <httplib.h>

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
                   const ListenerTls* tls)
    : server_(NewServer(tls)) {
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Bodies are read to the end and refused after (a response before the body is read would
  // reset the connection under a client still sending). Beyond 8x the limit httplib stops
  // reading and answers 413; keep the API's 400 there too.
  server_->set_payload_max_length(max_body_bytes * 8);
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
  if (port == 0) return server_->bind_to_any_port(ip.c_str());
  return server_->bind_to_port(ip.c_str(), port) ? port : -1;
}

void Listener::Run() { server_->listen_after_bind(); }

void Listener::Stop() { server_->stop(); }

}  // namespace temporalite::http
