#include "http/ui_login.h"

#include <cctype>
#include <string>

#include "common/percent_encode.h"
#include "http/routes.h"

namespace temporalite::http {

namespace {

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string SafeReturnPath(std::string_view return_url) {
  // The UI sends an absolute URL of its own origin: keep its path (and query).
  size_t scheme = return_url.find("://");
  if (scheme != std::string_view::npos) {
    size_t slash = return_url.find('/', scheme + 3);
    return_url = slash == std::string_view::npos ? std::string_view("/") : return_url.substr(slash);
  }
  if (return_url.empty() || return_url[0] != '/' || (return_url.size() > 1 && (return_url[1] == '/' || return_url[1] == '\\')))
    return "/";
  if (return_url.rfind("/login", 0) == 0) return "/";
  for (char c : return_url)
    if (static_cast<unsigned char>(c) < 0x20) return "/";
  return std::string(return_url);
}

Response LoginPage(std::string_view error, std::string_view return_url) {
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.headers["Cache-Control"] = "no-store";
  r.headers["X-Frame-Options"] = "DENY";
  r.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";
  std::string err = error.empty() ? "" : "<p class=\"error\" role=\"alert\">" + HtmlEscape(error) + "</p>";
  r.body =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in - Temporalite</title>"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<style>body{font-family:system-ui,sans-serif;background:#f8fafc;display:flex;justify-content:center;"
      "padding-top:10vh}form{background:#fff;border:1px solid #cbd5e1;border-radius:8px;padding:2rem;width:24rem}"
      "label{display:block;margin:1rem 0 .25rem}input{width:100%;padding:.5rem;box-sizing:border-box}"
      "button{margin-top:1rem;padding:.5rem 1rem}.error{color:#b91c1c}</style></head><body>"
      "<form method=\"post\" action=\"/login\"><h1>Temporalite</h1>"
      "<p>This server requires an API key (a key of its <code>--api-key-file</code>).</p>" +
      err +
      "<label for=\"key\">API key</label>"
      "<input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"current-password\" required autofocus>"
      "<input type=\"hidden\" name=\"returnUrl\" value=\"" +
      HtmlEscape(SafeReturnPath(return_url)) +
      "\"><button type=\"submit\">Sign in</button></form></body></html>\n";
  return r;
}

Response LoginRedirect(std::string_view key, std::string_view return_url, bool secure) {
  Response r;
  r.status = 303;
  r.content_type = "text/plain; charset=utf-8";
  r.headers["Location"] = SafeReturnPath(return_url);
  r.headers["Cache-Control"] = "no-store";
  // Keys may hold characters a cookie value cannot: percent-encoded.
  std::string cookie = std::string(kUiKeyCookie) + "=" + PercentEncode(key) + "; Path=/; HttpOnly; SameSite=Strict";
  if (secure) cookie += "; Secure";  // the UI port serves HTTPS: never sent over plain HTTP
  if (key.empty()) cookie += "; Max-Age=0";
  r.headers["Set-Cookie"] = cookie;
  return r;
}

std::string KeyFromCookie(std::string_view cookie_header) {
  std::string_view rest = cookie_header;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    size_t eq = part.find('=');
    std::string key;
    if (eq != std::string_view::npos && part.substr(0, eq) == kUiKeyCookie && PercentDecode(part.substr(eq + 1), false, &key))
      return key;
  }
  return "";
}

}  // namespace temporalite::http
