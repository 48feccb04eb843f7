#include "ops/webhook.h"

#include <curl/curl.h>

#include <nlohmann/json.hpp>

namespace temporalite::ops {
namespace {

size_t Append(char* p, size_t size, size_t n, void* ud) {
  auto* s = static_cast<std::string*>(ud);
  if (s->size() < 4096) s->append(p, size * n);
  return size * n;
}

}  // namespace

std::string SlackText(const std::string& text) { return nlohmann::json{{"text", text}}.dump(); }

Status PostJson(const std::string& url, const std::string& json) {
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) return Internal("cannot initialise libcurl");
  CURL* curl = curl_easy_init();
  if (!curl) return Internal("cannot initialise libcurl");
  std::string body;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(json.size()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 15L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return Unavailable(std::string("webhook POST failed: ") + curl_easy_strerror(rc));
  if (code / 100 == 2) return Status::Ok();
  std::string msg = "webhook answered HTTP " + std::to_string(code) + (body.empty() ? "" : ": " + body.substr(0, 200));
  if (code >= 500 || code == 429) return Unavailable(msg);
  return FailedPrecondition(msg);
}

}  // namespace temporalite::ops
