// fixture-retailer: a local Sixty60-like catalogue server for tests, benchmarks and the demo.
//   fixture-retailer [--port 0] [--store sixty60-jhb=1200 ...] [--client-id ID --client-secret S]
// Prints "Fixture retailer: http://127.0.0.1:<port>" on stdout once listening. Binds 127.0.0.1.
// Admin endpoints (no auth; loopback test fixture):
//   POST /admin/epoch            {"epoch": N}      prices as of epoch N (default 0)
//   POST /admin/faults           {"store","category","page","kind":"429|500|slow","times",
//                                 "retryAfter","delayMs"}; category "" = the categories endpoint
//   GET  /admin/stats            request and fault counters
//   GET  /admin/expected?store=S&from=E1&to=E2   well-formed/malformed counts, items changed
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <csignal>
#include <memory>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "fixture/catalogue.h"

using nlohmann::json;
using tillless::fixture::Catalogue;

namespace {

struct Fault {
  std::string store, category, kind;
  int page = 0, times = 1, retry_after = 1, delay_ms = 1500;
};

uint64_t Fnv(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

struct Options {
  int port = 0;
  std::map<std::string, int> stores;
  std::string client_id = "tillless", client_secret = "fixture-secret";
};

// Reads the command line into *o; returns -1 to go on, or the exit code after printing the error.
int ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "fixture-retailer: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port") o->port = std::stoi(next());
    else if (a == "--store") {
      std::string v = next();
      size_t eq = v.find('=');
      if (eq == std::string::npos) {
        std::cerr << "fixture-retailer: --store wants ID=ITEMS, got " << v << "\n";
        return 2;
      }
      o->stores[v.substr(0, eq)] = std::stoi(v.substr(eq + 1));
    } else if (a == "--client-id") o->client_id = next();
    else if (a == "--client-secret") o->client_secret = next();
    else {
      std::cerr << "fixture-retailer: unknown argument " << a << "\n";
      return 2;
    }
  }
  if (o->stores.empty()) o->stores = {{"sixty60-jhb", 1200}, {"sixty60-cpt", 800}, {"sixty60-dbn", 400}};
  return -1;
}

// The catalogue API and the admin endpoints over one catalogue; handlers run on httplib's threads.
class Retailer {
 public:
  explicit Retailer(const Options& o) : options_(o), catalogue_(o.stores) {}

  void Register(httplib::Server& server) {
    using httplib::Request, httplib::Response;
    server.Post("/api/v1/auth/token", [this](const Request& req, Response& res) { Token(req, res); });
    server.Get(R"(/api/v1/stores/([^/]+)/categories)", [this](const Request& req, Response& res) { Categories(req, res); });
    server.Get(R"(/api/v1/stores/([^/]+)/categories/([^/]+)/products)",
               [this](const Request& req, Response& res) { Products(req, res); });
    server.Post("/admin/epoch", [this](const Request& req, Response& res) { SetEpoch(req, res); });
    server.Post("/admin/faults", [this](const Request& req, Response& res) { AddFault(req, res); });
    server.Get("/admin/stats", [this](const Request&, Response& res) { Stats(res); });
    server.Get("/admin/expected", [this](const Request& req, Response& res) { Expected(req, res); });
  }

 private:
  void Count(const std::string& k) {
    std::lock_guard lock(mu_);
    ++stats_[k];
  }

  // Applies a matching fault; returns true when the response is already set.
  bool ApplyFault(const std::string& store, const std::string& category, int page, httplib::Response& res) {
    Fault f;
    {
      std::lock_guard lock(mu_);
      auto it = std::find_if(faults_.begin(), faults_.end(), [&](const Fault& x) {
        return x.store == store && x.category == category && x.page == page && x.times > 0;
      });
      if (it == faults_.end()) return false;
      f = *it;
      if (--it->times == 0) faults_.erase(it);
      ++stats_["fault_" + f.kind];
    }
    if (f.kind == "429") {
      res.status = 429;
      res.set_header("Retry-After", std::to_string(f.retry_after));
      res.set_content(R"({"error":"rate limited"})", "application/json");
      return true;
    }
    if (f.kind == "500") {
      res.status = 500;
      res.set_content(R"({"error":"internal"})", "application/json");
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(f.delay_ms));  // "slow"
    return false;
  }

  bool Authorized(const httplib::Request& req, httplib::Response& res) {
    std::string h = req.get_header_value("Authorization");
    std::lock_guard lock(mu_);
    if (h.rfind("Bearer ", 0) == 0 && tokens_.count(h.substr(7))) return true;
    ++stats_["unauthorized"];
    res.status = 401;
    res.set_content(R"({"error":"unauthorized"})", "application/json");
    return false;
  }

  void Token(const httplib::Request& req, httplib::Response& res) {
    Count("token");
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || body.value("clientId", "") != options_.client_id ||
        body.value("clientSecret", "") != options_.client_secret) {
      res.status = 401;
      res.set_content(R"({"error":"invalid_client"})", "application/json");
      return;
    }
    std::lock_guard lock(mu_);
    std::string t = "tok-" + std::to_string(++token_counter_);
    tokens_.insert(t);
    res.set_content(json{{"accessToken", t}, {"expiresIn", 3600}}.dump(), "application/json");
  }

  void Categories(const httplib::Request& req, httplib::Response& res) {
    Count("categories");
    if (!Authorized(req, res)) return;
    std::string store = req.matches[1];
    if (ApplyFault(store, "", 0, res)) return;
    if (!catalogue_.HasStore(store)) {
      res.status = 404;
      res.set_content(R"({"error":"no such store"})", "application/json");
      return;
    }
    json cats = json::array();
    for (const auto& c : tillless::fixture::Categories()) {
      cats.push_back({{"id", c.id}, {"name", c.name}, {"itemCount", catalogue_.CategorySize(store, c.id)}});
    }
    res.set_content(json{{"categories", cats}}.dump(), "application/json");
  }

  // Pages are pure functions of their key: each is built once (benchmarks measure the client).
  std::shared_ptr<const std::string> PageBody(const std::string& store, const std::string& category, int offset,
                                              int page_size) {
    int e;
    {
      std::lock_guard lock(mu_);
      e = epoch_;
    }
    std::string key = store + "|" + category + "|" + std::to_string(offset) + "|" +
                      std::to_string(page_size) + "|" + std::to_string(e);
    std::shared_ptr<const std::string> cached;
    {
      std::lock_guard lock(mu_);
      if (auto it = page_cache_.find(key); it != page_cache_.end()) cached = it->second;
    }
    if (!cached) {
      cached = std::make_shared<const std::string>(catalogue_.Page(store, category, offset, page_size, e).dump());
      std::lock_guard lock(mu_);
      page_cache_.emplace(key, cached);
    }
    return cached;
  }

  void Products(const httplib::Request& req, httplib::Response& res) {
    Count("pages");
    if (!Authorized(req, res)) return;
    std::string store = req.matches[1], category = req.matches[2];
    if (!catalogue_.HasStore(store) || !catalogue_.HasCategory(category)) {
      res.status = 404;
      res.set_content(R"({"error":"no such store or category"})", "application/json");
      return;
    }
    int page_size = 100;
    if (req.has_param("pageSize")) page_size = std::clamp(std::atoi(req.get_param_value("pageSize").c_str()), 1, 1000);
    int offset = 0;
    if (req.has_param("cursor")) {
      std::string c = req.get_param_value("cursor");
      if (c.rfind("offset-", 0) != 0) {
        res.status = 400;
        res.set_content(R"({"error":"bad cursor"})", "application/json");
        return;
      }
      offset = std::atoi(c.c_str() + 7);
    }
    if (ApplyFault(store, category, offset / page_size, res)) return;
    const std::shared_ptr<const std::string> cached = PageBody(store, category, offset, page_size);
    const std::string& body = *cached;
    char etag[40];
    snprintf(etag, sizeof etag, "\"%016llx\"", static_cast<unsigned long long>(Fnv(body)));
    res.set_header("ETag", etag);
    if (req.get_header_value("If-None-Match") == etag) {
      Count("not_modified");
      res.status = 304;
      return;
    }
    res.set_content(body, "application/json");
  }

  void SetEpoch(const httplib::Request& req, httplib::Response& res) {
    auto body = json::parse(req.body, nullptr, false);
    std::lock_guard lock(mu_);
    epoch_ = body.is_object() ? body.value("epoch", epoch_ + 1) : epoch_ + 1;
    res.set_content(json{{"epoch", epoch_}}.dump(), "application/json");
  }

  void AddFault(const httplib::Request& req, httplib::Response& res) {
    auto b = json::parse(req.body, nullptr, false);
    if (!b.is_object()) {
      res.status = 400;
      return;
    }
    Fault f{b.value("store", ""), b.value("category", ""), b.value("kind", "500"), b.value("page", 0),
            b.value("times", 1), b.value("retryAfter", 1), b.value("delayMs", 1500)};
    std::lock_guard lock(mu_);
    faults_.push_back(f);
    res.set_content("{}", "application/json");
  }

  void Stats(httplib::Response& res) {
    std::lock_guard lock(mu_);
    json j = stats_;
    j["epoch"] = epoch_;
    j["pendingFaults"] = faults_.size();
    res.set_content(j.dump(), "application/json");
  }

  void Expected(const httplib::Request& req, httplib::Response& res) {
    std::string store = req.get_param_value("store");
    int from = std::atoi(req.get_param_value("from").c_str());
    int to = std::atoi(req.get_param_value("to").c_str());
    auto it = options_.stores.find(store);
    if (it == options_.stores.end()) {
      res.status = 404;
      return;
    }
    int64_t good = 0, bad = 0, changed = 0;
    for (int i = 0; i < it->second; ++i) {
      if (Catalogue::IsMalformed(i)) {
        ++bad;
        continue;
      }
      ++good;
      if (Catalogue::PriceCents(store, i, from) != Catalogue::PriceCents(store, i, to)) ++changed;
    }
    res.set_content(json{{"items", it->second}, {"wellFormed", good}, {"malformed", bad},
                         {"priceChanged", changed}}.dump(), "application/json");
  }

  const Options options_;
  Catalogue catalogue_;
  std::mutex mu_;
  // Guarded by mu_:
  int epoch_ = 0;
  std::vector<Fault> faults_;
  std::set<std::string> tokens_;
  int token_counter_ = 0;
  std::map<std::string, int64_t> stats_;
  std::map<std::string, std::shared_ptr<const std::string>> page_cache_;
};

httplib::Server* g_server = nullptr;
void OnSignal(int) {
  if (g_server) g_server->stop();
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (int rc = ParseArgs(argc, argv, &options); rc >= 0) return rc;
  Retailer retailer(options);
  httplib::Server server;
  retailer.Register(server);

  g_server = &server;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const int port = options.port;
  int bound = port == 0 ? server.bind_to_any_port("127.0.0.1") : (server.bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound <= 0) {
    std::cerr << "fixture-retailer: cannot bind 127.0.0.1:" << port << "\n";
    return 1;
  }
  std::cout << "Fixture retailer: http://127.0.0.1:" << bound << std::endl;
  server.listen_after_bind();
  return 0;
}
