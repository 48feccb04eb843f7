// Signing in to the web UI when the server requires API keys (--api-key-file). Temporal's UI
// server sends the browser to its login page on a 401/403 (the UI navigates to
// /login?returnUrl=..&error=..), keeps what the login yields in a cookie, and forwards it to the
// frontend as the `authorization` header. Here the login page asks for an API key of the key
// file; the UI port checks it against the server (a call that needs any valid key), keeps it in
// an HttpOnly, SameSite=Strict cookie, and sends `authorization: Bearer <key>` on the API calls
// of that browser, so each operator acts with the role of their own key. The HTTP API port takes
// only the Authorization header (no cookie).
#pragma once

#include <string>
#include <string_view>

#include "http/handler.h"

namespace temporalite::http {

inline constexpr std::string_view kUiKeyCookie = "temporalite-ui-key";

// The login form. `error`: why the browser was sent here (shown), `return_url`: where to go after.
Response LoginPage(std::string_view error, std::string_view return_url);

// 303 to `return_url` (only a same-origin path; "/" otherwise) setting the cookie to `key`
// (an empty key clears it).
Response LoginRedirect(std::string_view key, std::string_view return_url, bool secure = false);

// The key in a Cookie header, "" when absent.
std::string KeyFromCookie(std::string_view cookie_header);

// `return_url` if it is a path of this origin ("/..." but not "//..."), else "/". Absolute URLs
// of the same host are reduced to their path by the caller.
std::string SafeReturnPath(std::string_view return_url);

}  // namespace temporalite::http
