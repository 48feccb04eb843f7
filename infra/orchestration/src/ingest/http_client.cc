#include "ingest/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace tillless::ingest {
namespace {

size_t WriteBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.pop_back();
    }
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

struct CurlHandle {
  CurlHandle() : h(curl_easy_init()) {}
  ~CurlHandle() { curl_easy_cleanup(h); }
  CURL* h;
};

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

HttpClient::HttpClient(HttpOptions options, Sleeper sleep)
    : options_(options), sleep_(std::move(sleep)) {
  GlobalInit();
}

Result<HttpResponse> HttpClient::SendOnce(const std::string& method, const std::string& url,
                                          const std::map<std::string, std::string>& headers,
                                          const std::string& body) {
  thread_local CurlHandle handle;
  CURL* c = handle.h;
  if (c == nullptr) return Internal("curl_easy_init failed");
  curl_easy_reset(c);
  HttpResponse resp;
  curl_slist* list = nullptr;
  for (const auto& [k, v] : headers) list = curl_slist_append(list, (k + ": " + v).c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp.headers);
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    Code code = rc == CURLE_OPERATION_TIMEDOUT ? Code::kDeadlineExceeded : Code::kUnavailable;
    return Status(code, method + " " + url + ": " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

Result<HttpResponse> HttpClient::Send(const std::string& method, const std::string& url,
                                      const std::map<std::string, std::string>& headers,
                                      const std::string& body, HttpStats* stats) {
  HttpStats local;
  HttpStats& st = stats ? *stats : local;
  std::chrono::milliseconds backoff = options_.retry.initial_backoff;
  Status last;
  for (int attempt = 1; attempt <= options_.retry.max_attempts; ++attempt) {
    ++st.attempts;
    auto r = SendOnce(method, url, headers, body);
    std::chrono::milliseconds wait = backoff;
    if (!r.ok()) {
      last = r.status();
      ++st.retries_transport;
    } else if (r->status == 429) {
      last = Status(Code::kResourceExhausted, method + " " + url + ": HTTP 429 Too Many Requests");
      ++st.retries_429;
      auto it = r->headers.find("retry-after");
      if (it != r->headers.end()) {
        try {
          wait = std::min(std::chrono::milliseconds(static_cast<int64_t>(std::stod(it->second) * 1000)),
                          options_.retry.max_retry_after);
        } catch (...) {
          // An HTTP-date or garbage: fall back to the backoff.
        }
      }
    } else if (r->status >= 500) {
      last = Unavailable(method + " " + url + ": HTTP " + std::to_string(r->status));
      ++st.retries_5xx;
    } else {
      return r;
    }
    if (attempt == options_.retry.max_attempts) break;
    sleep_(wait);
    backoff = std::min(backoff * 2, options_.retry.max_backoff);
  }
  return Status(last.code(), last.message() + " (gave up after " +
                                 std::to_string(options_.retry.max_attempts) + " attempts)");
}

}  // namespace tillless::ingest
