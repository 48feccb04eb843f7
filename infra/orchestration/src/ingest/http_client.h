// A small blocking HTTP client over libcurl with the retry policy the retailer sources share:
// transport errors, timeouts and 5xx are retried with exponential backoff, 429 after its
// Retry-After (capped), everything else is returned to the caller. Thread-safe; each thread
// reuses its own curl handle (and so its keep-alive connection).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "ingest/status.h"

namespace tillless::ingest {

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

struct RetryPolicy {
  int max_attempts = 6;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds max_retry_after{30000};
};

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{10000};
  RetryPolicy retry;
};

struct HttpStats {
  int attempts = 0;
  int retries_429 = 0;
  int retries_5xx = 0;
  int retries_transport = 0;
};

class HttpClient {
 public:
  using Sleeper = std::function<void(std::chrono::milliseconds)>;
  // `sleep` is injected so tests and the activity context control waiting.
  HttpClient(HttpOptions options, Sleeper sleep);

  // Sends a request, retrying as described above. `stats` (optional) counts retries.
  Result<HttpResponse> Send(const std::string& method, const std::string& url,
                            const std::map<std::string, std::string>& headers,
                            const std::string& body, HttpStats* stats = nullptr);

 private:
  Result<HttpResponse> SendOnce(const std::string& method, const std::string& url,
                                const std::map<std::string, std::string>& headers,
                                const std::string& body);
  HttpOptions options_;
  Sleeper sleep_;
};

}  // namespace tillless::ingest
