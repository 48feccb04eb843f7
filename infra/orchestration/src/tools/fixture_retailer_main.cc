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

httplib::Server* g_server = nullptr;
void OnSignal(int) {
  if (g_server) g_server->stop();
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  std::map<std::string, int> stores;
  std::string client_id = "tillless", client_secret = "fixture-secret";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "fixture-retailer: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port") port = std::stoi(next());
    else if (a == "--store") {
      std::string v = next();
      size_t eq = v.find('=');
      if (eq == std::string::npos) {
        std::cerr << "fixture-retailer: --store wants ID=ITEMS, got " << v << "\n";
        return 2;
      }
      stores[v.substr(0, eq)] = std::stoi(v.substr(eq + 1));
    } else if (a == "--client-id") client_id = next();
    else if (a == "--client-secret") client_secret = next();
    else {
      std::cerr << "fixture-retailer: unknown argument " << a << "\n";
      return 2;
    }
  }
  if (stores.empty()) stores = {{"sixty60-jhb", 1200}, {"sixty60-cpt", 800}, {"sixty60-dbn", 400}};
  Catalogue catalogue(stores);

  std::mutex mu;
  int epoch = 0;
  std::vector<Fault> faults;
  std::set<std::string> tokens;
  int token_counter = 0;
  std::map<std::string, int64_t> stats;
  std::map<std::string, std::shared_ptr<const std::string>> page_cache;  // guarded by mu

  auto count = [&](const std::string& k) {
    std::lock_guard lock(mu);
    ++stats[k];
  };
  // Applies a matching fault; returns true when the response is already set.
  auto fault = [&](const std::string& store, const std::string& category, int page,
                   httplib::Response& res) -> bool {
    Fault f;
    {
      std::lock_guard lock(mu);
      auto it = std::find_if(faults.begin(), faults.end(), [&](const Fault& x) {
        return x.store == store && x.category == category && x.page == page && x.times > 0;
      });
      if (it == faults.end()) return false;
      f = *it;
      if (--it->times == 0) faults.erase(it);
      ++stats["fault_" + f.kind];
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
  };
  auto authorized = [&](const httplib::Request& req, httplib::Response& res) {
    std::string h = req.get_header_value("Authorization");
    std::lock_guard lock(mu);
    if (h.rfind("Bearer ", 0) == 0 && tokens.count(h.substr(7))) return true;
    ++stats["unauthorized"];
    res.status = 401;
    res.set_content(R"({"error":"unauthorized"})", "application/json");
    return false;
  };

  httplib::Server server;
  server.Post("/api/v1/auth/token", [&](const httplib::Request& req, httplib::Response& res) {
    count("token");
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || body.value("clientId", "") != client_id ||
        body.value("clientSecret", "") != client_secret) {
      res.status = 401;
      res.set_content(R"({"error":"invalid_client"})", "application/json");
      return;
    }
    std::lock_guard lock(mu);
    std::string t = "tok-" + std::to_string(++token_counter);
    tokens.insert(t);
    res.set_content(json{{"accessToken", t}, {"expiresIn", 3600}}.dump(), "application/json");
  });
  server.Get(R"(/api/v1/stores/([^/]+)/categories)", [&](const httplib::Request& req, httplib::Response& res) {
    count("categories");
    if (!authorized(req, res)) return;
    std::string store = req.matches[1];
    if (fault(store, "", 0, res)) return;
    if (!catalogue.HasStore(store)) {
      res.status = 404;
      res.set_content(R"({"error":"no such store"})", "application/json");
      return;
    }
    json cats = json::array();
    for (const auto& c : tillless::fixture::Categories()) {
      cats.push_back({{"id", c.id}, {"name", c.name}, {"itemCount", catalogue.CategorySize(store, c.id)}});
    }
    res.set_content(json{{"categories", cats}}.dump(), "application/json");
  });
  server.Get(R"(/api/v1/stores/([^/]+)/categories/([^/]+)/products)",
             [&](const httplib::Request& req, httplib::Response& res) {
    count("pages");
    if (!authorized(req, res)) return;
    std::string store = req.matches[1], category = req.matches[2];
    if (!catalogue.HasStore(store) || !catalogue.HasCategory(category)) {
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
    if (fault(store, category, offset / page_size, res)) return;
    int e;
    {
      std::lock_guard lock(mu);
      e = epoch;
    }
    // Pages are pure functions of their key: build each once (benchmarks measure the client).
    std::string key = store + "|" + category + "|" + std::to_string(offset) + "|" +
                      std::to_string(page_size) + "|" + std::to_string(e);
    std::shared_ptr<const std::string> cached;
    {
      std::lock_guard lock(mu);
      if (auto it = page_cache.find(key); it != page_cache.end()) cached = it->second;
    }
    if (!cached) {
      cached = std::make_shared<const std::string>(catalogue.Page(store, category, offset, page_size, e).dump());
      std::lock_guard lock(mu);
      page_cache.emplace(key, cached);
    }
    const std::string& body = *cached;
    char etag[40];
    snprintf(etag, sizeof etag, "\"%016llx\"", static_cast<unsigned long long>(Fnv(body)));
    res.set_header("ETag", etag);
    if (req.get_header_value("If-None-Match") == etag) {
      count("not_modified");
      res.status = 304;
      return;
    }
    res.set_content(body, "application/json");
  });
  server.Post("/admin/epoch", [&](const httplib::Request& req, httplib::Response& res) {
    auto body = json::parse(req.body, nullptr, false);
    std::lock_guard lock(mu);
    epoch = body.is_object() ? body.value("epoch", epoch + 1) : epoch + 1;
    res.set_content(json{{"epoch", epoch}}.dump(), "application/json");
  });
  server.Post("/admin/faults", [&](const httplib::Request& req, httplib::Response& res) {
    auto b = json::parse(req.body, nullptr, false);
    if (!b.is_object()) {
      res.status = 400;
      return;
    }
    Fault f{b.value("store", ""), b.value("category", ""), b.value("kind", "500"), b.value("page", 0),
            b.value("times", 1), b.value("retryAfter", 1), b.value("delayMs", 1500)};
    std::lock_guard lock(mu);
    faults.push_back(f);
    res.set_content("{}", "application/json");
  });
  server.Get("/admin/stats", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mu);
    json j = stats;
    j["epoch"] = epoch;
    j["pendingFaults"] = faults.size();
    res.set_content(j.dump(), "application/json");
  });
  server.Get("/admin/expected", [&](const httplib::Request& req, httplib::Response& res) {
    std::string store = req.get_param_value("store");
    int from = std::atoi(req.get_param_value("from").c_str());
    int to = std::atoi(req.get_param_value("to").c_str());
    auto it = stores.find(store);
    if (it == stores.end()) {
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
  });

  g_server = &server;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  int bound = port == 0 ? server.bind_to_any_port("127.0.0.1") : (server.bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound <= 0) {
    std::cerr << "fixture-retailer: cannot bind 127.0.0.1:" << port << "\n";
    return 1;
  }
  std::cout << "Fixture retailer: http://127.0.0.1:" << bound << std::endl;
  server.listen_after_bind();
  return 0;
}
