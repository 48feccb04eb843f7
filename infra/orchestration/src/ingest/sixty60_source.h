// Checkers Sixty60-like catalogue API over HTTP:
//   POST {base}/api/v1/auth/token {"clientId","clientSecret"} -> {"accessToken","expiresIn"}
//   GET  {base}/api/v1/stores/{store}/categories -> {"categories":[{"id","name"}]}
//   GET  {base}/api/v1/stores/{store}/categories/{cat}/products?cursor=&pageSize=
//        -> {"items":[...], "nextCursor": "..."|null}, ETag; If-None-Match -> 304
// A 401 refreshes the token once. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "ingest/http_client.h"
#include "ingest/retailer.h"

namespace tillless::ingest {

struct Sixty60Options {
  std::string base_url;
  std::string client_id;
  std::string client_secret;
  int page_size = 500;
  HttpOptions http;
};

class Sixty60Source : public Retailer {
 public:
  Sixty60Source(Sixty60Options options, HttpClient::Sleeper sleep);

  std::string Name() const override { return "checkers-sixty60"; }
  Result<std::vector<Category>> ListCategories(const std::string& store_id) override;
  Result<Page> FetchPage(const PageRequest& request) override;

  // Retries seen so far (all threads).
  HttpStats Stats();

 private:
  Result<std::string> Token(bool refresh);
  Result<HttpResponse> AuthorizedGet(const std::string& url,
                                     std::map<std::string, std::string> headers);

  Sixty60Options options_;
  HttpClient http_;
  std::mutex mu_;
  std::string token_;  // guarded by mu_
  HttpStats stats_;    // guarded by mu_
};

// Parses a products page body (exposed for tests).
Result<Page> ParseProductsPage(const std::string& body, const std::string& category_id);

}  // namespace tillless::ingest
