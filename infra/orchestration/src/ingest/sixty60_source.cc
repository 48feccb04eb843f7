#include "ingest/sixty60_source.h"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

namespace tillless::ingest {
namespace {

std::string UrlEncode(const std::string& s) {
  std::string out;
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Text of a JSON scalar ("" for null/absent); numbers keep their decimals.
std::string Text(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_number()) {
    char buf[64];
    snprintf(buf, sizeof buf, "%.2f", it->get<double>());
    return buf;
  }
  return it->dump();
}

void Add(HttpStats& into, const HttpStats& s) {
  into.attempts += s.attempts;
  into.retries_429 += s.retries_429;
  into.retries_5xx += s.retries_5xx;
  into.retries_transport += s.retries_transport;
}

}  // namespace

Result<Page> ParseProductsPage(const std::string& body, const std::string& category_id) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("items") || !doc["items"].is_array()) {
    return Status(Code::kDataLoss, "products page of " + category_id + " is not the expected JSON");
  }
  Page page;
  for (const auto& it : doc["items"]) {
    if (!it.is_object()) {
      page.malformed.push_back(it.dump().substr(0, 200));
      continue;
    }
    RawItem raw;
    raw.id = Text(it, "id");
    raw.title = Text(it, "name");
    raw.brand = Text(it, "brand");
    raw.category = category_id;
    raw.price = Text(it, "price");
    raw.size = Text(it, "size");
    raw.stock = it.contains("stockStatus") ? Text(it, "stockStatus") : Text(it, "inStock");
    if (auto p = it.find("promotion"); p != it.end() && p->is_object()) {
      raw.promo_price = Text(*p, "price");
      raw.promo_label = Text(*p, "label");
    }
    page.items.push_back(std::move(raw));
  }
  if (auto n = doc.find("nextCursor"); n != doc.end() && n->is_string()) page.next_cursor = *n;
  return page;
}

Sixty60Source::Sixty60Source(Sixty60Options options, HttpClient::Sleeper sleep)
    : options_(std::move(options)), http_(options_.http, std::move(sleep)) {}

HttpStats Sixty60Source::Stats() {
  std::lock_guard lock(mu_);
  return stats_;
}

Result<std::string> Sixty60Source::Token(bool refresh) {
  {
    std::lock_guard lock(mu_);
    if (!refresh && !token_.empty()) return token_;
  }
  nlohmann::json req = {{"clientId", options_.client_id}, {"clientSecret", options_.client_secret}};
  HttpStats st;
  auto r = http_.Send("POST", options_.base_url + "/api/v1/auth/token",
                      {{"Content-Type", "application/json"}}, req.dump(), &st);
  std::lock_guard lock(mu_);
  Add(stats_, st);
  if (!r.ok()) return r.status();
  if (r->status == 401 || r->status == 403) {
    return Status(Code::kUnauthenticated,
                  "retailer rejected the credentials (SIXTY60_CLIENT_ID / SIXTY60_CLIENT_SECRET): HTTP " +
                      std::to_string(r->status));
  }
  auto doc = nlohmann::json::parse(r->body, nullptr, false);
  if (r->status != 200 || doc.is_discarded() || !doc.contains("accessToken")) {
    return Status(Code::kUnavailable, "retailer token endpoint answered HTTP " + std::to_string(r->status));
  }
  token_ = doc["accessToken"].get<std::string>();
  return token_;
}

Result<HttpResponse> Sixty60Source::AuthorizedGet(const std::string& url,
                                                  std::map<std::string, std::string> headers) {
  for (int round = 0; round < 2; ++round) {
    auto token = Token(round > 0);
    if (!token.ok()) return token.status();
    headers["Authorization"] = "Bearer " + token.value();
    headers["Accept"] = "application/json";
    HttpStats st;
    auto r = http_.Send("GET", url, headers, "", &st);
    {
      std::lock_guard lock(mu_);
      Add(stats_, st);
    }
    if (!r.ok()) return r.status();
    if (r->status == 401 && round == 0) continue;  // expired token: refresh once
    return r;
  }
  return Status(Code::kUnauthenticated, "retailer rejected a fresh token for " + url);
}

Result<std::vector<Category>> Sixty60Source::ListCategories(const std::string& store_id) {
  std::string url = options_.base_url + "/api/v1/stores/" + UrlEncode(store_id) + "/categories";
  auto r = AuthorizedGet(url, {});
  if (!r.ok()) return r.status();
  if (r->status == 404) return NotFound("retailer has no store " + store_id);
  if (r->status != 200) {
    return Status(Code::kUnavailable, "GET " + url + ": HTTP " + std::to_string(r->status));
  }
  auto doc = nlohmann::json::parse(r->body, nullptr, false);
  if (doc.is_discarded() || !doc.contains("categories") || !doc["categories"].is_array()) {
    return Status(Code::kDataLoss, "categories of " + store_id + " are not the expected JSON");
  }
  std::vector<Category> out;
  for (const auto& c : doc["categories"]) {
    if (c.is_object() && c.contains("id") && c["id"].is_string()) {
      out.push_back({c["id"].get<std::string>(), Text(c, "name")});
    }
  }
  return out;
}

Result<Page> Sixty60Source::FetchPage(const PageRequest& req) {
  std::string url = options_.base_url + "/api/v1/stores/" + UrlEncode(req.store_id) +
                    "/categories/" + UrlEncode(req.category_id) +
                    "/products?pageSize=" + std::to_string(options_.page_size);
  if (!req.cursor.empty()) url += "&cursor=" + UrlEncode(req.cursor);
  std::map<std::string, std::string> headers;
  if (!req.if_none_match.empty()) headers["If-None-Match"] = req.if_none_match;
  auto r = AuthorizedGet(url, headers);
  if (!r.ok()) return r.status();
  if (r->status == 304) {
    Page page;
    page.not_modified = true;
    page.etag = req.if_none_match;
    return page;
  }
  if (r->status == 404) return NotFound("GET " + url + ": HTTP 404");
  if (r->status != 200) {
    return Status(Code::kUnavailable, "GET " + url + ": HTTP " + std::to_string(r->status));
  }
  auto page = ParseProductsPage(r->body, req.category_id);
  if (!page.ok()) return page.status();
  if (auto e = r->headers.find("etag"); e != r->headers.end()) page->etag = e->second;
  return page;
}

}  // namespace tillless::ingest
