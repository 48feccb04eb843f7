// S3-compatible object storage (AWS S3, Supabase Storage, MinIO, ...) over libcurl, requests
// signed with AWS Signature Version 4. Multipart upload above the part size; every request is
// retried with exponential backoff on network errors, 5xx and 429.
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <thread>

#include "ops/hash.h"
#include "ops/object_store.h"
#include "ops/sigv4.h"

namespace temporalite::ops {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The text of the first <tag>...</tag> in `xml` ("" if absent).
std::string XmlValue(const std::string& xml, const std::string& tag, size_t from = 0, size_t* end = nullptr) {
  size_t b = xml.find("<" + tag + ">", from);
  if (b == std::string::npos) return "";
  b += tag.size() + 2;
  size_t e = xml.find("</" + tag + ">", b);
  if (e == std::string::npos) return "";
  if (end) *end = e;
  std::string v = xml.substr(b, e - b);
  // The few entities S3 uses in keys and tokens.
  for (auto [ent, ch] : {std::pair{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}}) {
    for (size_t p; (p = v.find(ent)) != std::string::npos;) v.replace(p, std::strlen(ent), ch);
  }
  return v;
}

size_t AppendToString(char* p, size_t size, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, size * n);
  return size * n;
}

size_t WriteToFile(char* p, size_t size, size_t n, void* ud) {
  auto* out = static_cast<std::ofstream*>(ud);
  out->write(p, static_cast<std::streamsize>(size * n));
  return *out ? size * n : 0;
}

size_t CollectHeader(char* p, size_t size, size_t n, void* ud) {
  std::string line(p, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(ud))[name] = value;
  }
  return size * n;
}

struct Response {
  long code = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

class S3Store final : public ObjectStore {
 public:
  S3Store(std::string bucket, std::string prefix, S3Settings s, bool path_style)
      : path_style_(path_style), bucket_(std::move(bucket)), prefix_(std::move(prefix)), s_(std::move(s)) {
    while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
    std::string ep = s_.endpoint;
    while (!ep.empty() && ep.back() == '/') ep.pop_back();
    size_t scheme = ep.find("://");
    scheme_ = ep.substr(0, scheme);
    std::string rest = ep.substr(scheme + 3);
    size_t slash = rest.find('/');
    host_ = rest.substr(0, slash);
    base_path_ = slash == std::string::npos ? "" : rest.substr(slash);
    if (!path_style_) host_ = bucket_ + "." + host_;
  }

  Status Put(const std::string& key, const std::string& path) override {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) return Unavailable("cannot read " + path);
    const int64_t size = in.tellg();
    in.seekg(0);
    if (size <= s_.part_size) {
      std::string body(static_cast<size_t>(size), '\0');
      in.read(body.data(), size);
      Result<Response> r = Send("PUT", ObjectPath(key), {}, body, nullptr, "uploading " + key);
      return r.ok() ? Status::Ok() : r.status();
    }
    // Multipart: initiate, upload parts, complete (abort on failure so no parts linger).
    Result<Response> init = Send("POST", ObjectPath(key), {{"uploads", ""}}, "", nullptr, "starting multipart upload of " + key);
    if (!init.ok()) return init.status();
    const std::string upload_id = XmlValue(init->body, "UploadId");
    if (upload_id.empty()) return Unavailable("S3 returned no UploadId for " + key + ": " + init->body.substr(0, 200));
    std::string complete = "<CompleteMultipartUpload>";
    Status status;
    std::string body(static_cast<size_t>(s_.part_size), '\0');
    for (int part = 1; status.ok(); ++part) {
      in.read(body.data(), s_.part_size);
      std::streamsize n = in.gcount();
      if (n <= 0) break;
      Result<Response> r = Send("PUT", ObjectPath(key), {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}},
                                std::string_view(body.data(), static_cast<size_t>(n)), nullptr,
                                "uploading part " + std::to_string(part) + " of " + key);
      if (!r.ok()) {
        status = r.status();
        break;
      }
      complete += "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" + r->headers["etag"] + "</ETag></Part>";
      parts_uploaded_++;
    }
    complete += "</CompleteMultipartUpload>";
    if (status.ok()) {
      Result<Response> r = Send("POST", ObjectPath(key), {{"uploadId", upload_id}}, complete, nullptr,
                                "completing multipart upload of " + key);
      // S3 can answer 200 with an <Error> body for a failed completion.
      if (r.ok() && r->body.find("<Error>") != std::string::npos) {
        status = Unavailable("S3 failed completing the multipart upload of " + key + ": " + XmlValue(r->body, "Message"));
      } else if (!r.ok()) {
        status = r.status();
      }
    }
    if (!status.ok()) Send("DELETE", ObjectPath(key), {{"uploadId", upload_id}}, "", nullptr, "aborting upload of " + key);
    return status;
  }

  Status Get(const std::string& key, const std::string& path) override {
    Result<Response> r = Send("GET", ObjectPath(key), {}, "", &path, "downloading " + key);
    return r.ok() ? Status::Ok() : r.status();
  }

  Result<std::vector<ObjectInfo>> List() override {
    std::vector<ObjectInfo> out;
    std::string token;
    const std::string want = prefix_.empty() ? "" : prefix_ + "/";
    for (;;) {
      std::map<std::string, std::string> q = {{"list-type", "2"}, {"prefix", want}};
      if (!token.empty()) q["continuation-token"] = token;
      Result<Response> r = Send("GET", BucketPath(), q, "", nullptr, "listing " + Describe());
      if (!r.ok()) return r.status();
      size_t pos = 0;
      for (;;) {
        size_t b = r->body.find("<Contents>", pos);
        if (b == std::string::npos) break;
        size_t e = r->body.find("</Contents>", b);
        std::string item = r->body.substr(b, e - b);
        std::string key = XmlValue(item, "Key");
        if (key.rfind(want, 0) == 0 && key.find('/', want.size()) == std::string::npos) {
          out.push_back(ObjectInfo{key.substr(want.size()), std::atoll(XmlValue(item, "Size").c_str())});
        }
        pos = e;
      }
      if (XmlValue(r->body, "IsTruncated") != "true") break;
      token = XmlValue(r->body, "NextContinuationToken");
      if (token.empty()) break;
    }
    std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Status Delete(const std::string& key) override {
    Result<Response> r = Send("DELETE", ObjectPath(key), {}, "", nullptr, "deleting " + key);
    return r.ok() ? Status::Ok() : r.status();
  }

  std::string Describe() const override { return "s3://" + bucket_ + (prefix_.empty() ? "" : "/" + prefix_); }

 private:
  std::string BucketPath() const { return base_path_ + (path_style_ ? "/" + bucket_ : "") + "/"; }
  std::string ObjectPath(const std::string& key) const {
    return base_path_ + (path_style_ ? "/" + bucket_ : "") + "/" + (prefix_.empty() ? "" : prefix_ + "/") + key;
  }

  // One signed request, retried on transient failures. `download_to` streams a 200 body to a file.
  Result<Response> Send(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                        std::string_view body, const std::string* download_to, const std::string& what) {
    Status last;
    for (int attempt = 1; attempt <= s_.max_attempts; ++attempt) {
      if (attempt > 1) std::this_thread::sleep_for(std::chrono::milliseconds(200 << std::min(attempt - 2, 5)));
      bool retryable = false;
      Result<Response> r = SendOnce(method, path, query, body, download_to, what, &retryable);
      if (r.ok() || !retryable) return r;
      last = r.status();
    }
    return Status(last.code(), last.message() + " (after " + std::to_string(s_.max_attempts) + " attempts)");
  }

  Result<Response> SendOnce(const std::string& method, const std::string& path, const std::map<std::string, std::string>& query,
                            std::string_view body, const std::string* download_to, const std::string& what,
                            bool* retryable) {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char amz_date[32];
    std::strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
    SigV4Request sr;
    sr.method = method;
    sr.path = path;
    sr.query = query;
    sr.payload_sha256 = Sha256Hex(body);
    sr.amz_date = amz_date;
    sr.region = s_.region;
    sr.access_key_id = s_.access_key_id;
    sr.secret_access_key = s_.secret_access_key;
    sr.headers = {{"host", host_}, {"x-amz-content-sha256", sr.payload_sha256}, {"x-amz-date", amz_date}};
    if (!s_.session_token.empty()) sr.headers["x-amz-security-token"] = s_.session_token;
    const std::string authorization = SignV4(sr);
    const std::string canonical_uri = UriEncode(path, true);
    const std::string canonical_query = CanonicalQuery(query);
    const auto& headers = sr.headers;

    CURL* curl = curl_easy_init();
    if (!curl) return Internal("cannot initialise libcurl");
    std::string url = scheme_ + "://" + host_ + canonical_uri + (canonical_query.empty() ? "" : "?" + canonical_query);
    curl_slist* hl = nullptr;
    for (const auto& [k, v] : headers) {
      if (k != "host") hl = curl_slist_append(hl, (k + ": " + v).c_str());
    }
    hl = curl_slist_append(hl, ("Authorization: " + authorization).c_str());
    hl = curl_slist_append(hl, "Expect:");
    if (method == "PUT" || method == "POST") hl = curl_slist_append(hl, "Content-Type: application/octet-stream");
    Response resp;
    std::ofstream file;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp.headers);
    if (method == "PUT" || method == "POST") {
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    } else if (method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    }
    // A download goes to the file only once we know it succeeded; errors are small XML bodies.
    struct Sink {
      Response* resp;
      std::ofstream* file;
      const std::string* path;
      CURL* curl;
    } sink{&resp, &file, download_to, curl};
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* p, size_t size, size_t n, void* ud) -> size_t {
      auto* s = static_cast<Sink*>(ud);
      long code = 0;
      curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
      if (s->path && code / 100 == 2) {
        if (!s->file->is_open()) s->file->open(*s->path, std::ios::binary | std::ios::trunc);
        return WriteToFile(p, size, n, s->file);
      }
      return AppendToString(p, size, n, &s->resp->body);
    });
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.code);
    curl_slist_free_all(hl);
    curl_easy_cleanup(curl);
    if (file.is_open()) {
      file.close();
      if (!file) return Unavailable("cannot write " + *download_to);
    } else if (download_to && rc == CURLE_OK && resp.code / 100 == 2) {
      std::ofstream(*download_to, std::ios::binary | std::ios::trunc);  // an empty object
    }
    if (rc != CURLE_OK) {
      *retryable = true;
      return Unavailable("S3 request failed while " + what + " (" + scheme_ + "://" + host_ + "): " + curl_easy_strerror(rc));
    }
    if (resp.code / 100 == 2) return resp;
    const std::string code = XmlValue(resp.body, "Code");
    const std::string message = XmlValue(resp.body, "Message");
    std::string detail = "HTTP " + std::to_string(resp.code) + (code.empty() ? "" : " " + code) +
                         (message.empty() ? "" : ": " + message);
    if (resp.code >= 500 || resp.code == 429) {
      *retryable = true;
      return Unavailable("S3 error while " + what + ": " + detail);
    }
    if (resp.code == 404) return NotFound("S3: not found while " + what + " in " + Describe() + ": " + detail);
    if (resp.code == 403 || resp.code == 401) {
      return Status(Code::kPermissionDenied, "S3 refused the request while " + what + " in " + Describe() + ": " + detail +
                                                 " (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, --s3-region and the endpoint)");
    }
    return FailedPrecondition("S3 error while " + what + " in " + Describe() + ": " + detail);
  }

  const bool path_style_;
  std::string bucket_;
  std::string prefix_;
  S3Settings s_;
  std::string scheme_;
  std::string host_;
  std::string base_path_;
  int parts_uploaded_ = 0;
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenS3Store(const std::string& bucket, const std::string& prefix, S3Settings s) {
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) return Internal("cannot initialise libcurl");
  if (s.access_key_id.empty()) s.access_key_id = Env("AWS_ACCESS_KEY_ID");
  if (s.secret_access_key.empty()) s.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  if (s.session_token.empty()) s.session_token = Env("AWS_SESSION_TOKEN");
  if (s.region.empty()) s.region = Env("AWS_REGION");
  if (s.region.empty()) s.region = Env("AWS_DEFAULT_REGION");
  if (s.region.empty()) s.region = "us-east-1";
  const bool custom_endpoint = !s.endpoint.empty() || !Env("AWS_ENDPOINT_URL").empty();
  if (s.endpoint.empty()) s.endpoint = Env("AWS_ENDPOINT_URL");
  if (s.endpoint.empty()) s.endpoint = "https://s3." + s.region + ".amazonaws.com";
  if (s.access_key_id.empty() || s.secret_access_key.empty()) {
    return InvalidArgument("S3 credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --s3-access-key-id/--s3-secret-access-key)");
  }
  if (s.endpoint.find("://") == std::string::npos) {
    return InvalidArgument("invalid S3 endpoint \"" + s.endpoint + "\": want http(s)://host[:port][/path]");
  }
  if (s.part_size < 5 * 1024 * 1024) return InvalidArgument("--s3-part-size must be at least 5 MiB (S3's minimum part size)");
  if (!s.path_style.empty() && s.path_style != "true" && s.path_style != "false") {
    return InvalidArgument("--s3-path-style must be true or false");
  }
  const bool path_style = s.path_style.empty() ? custom_endpoint : s.path_style == "true";
  return std::unique_ptr<ObjectStore>(new S3Store(bucket, prefix, std::move(s), path_style));
}

}  // namespace temporalite::ops
