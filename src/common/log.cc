#include "common/log.h"
#include "common/log_format.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "common/namespace_name.h"

namespace temporalite {

namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_json{false};
const char* Name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

// Length of the valid UTF-8 sequence at p (1 to 4), or 0 when p does not start one (a stray or
// truncated byte, an overlong form, a surrogate, past U+10FFFF).
size_t Utf8SequenceLength(const unsigned char* p) {
  const unsigned char c = p[0];
  size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  if (n == 0 || c > 0xf4) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xc0) != 0x80) return 0;  // also stops at the terminating NUL
  }
  if (c == 0xe0 && p[1] < 0xa0) return 0;
  if (c == 0xed && p[1] >= 0xa0) return 0;
  if (c == 0xf0 && p[1] < 0x90) return 0;
  if (c == 0xf4 && p[1] >= 0x90) return 0;
  return n;
}

// A message as a JSON string's contents: quotes, backslashes and control characters escaped, and
// bytes that are not UTF-8 (a message cut at the buffer's end inside a character, or bytes from
// elsewhere) as U+FFFD, so that a line is always valid JSON in UTF-8.
std::string JsonEscape(const char* msg) {
  std::string escaped;
  const auto* p = reinterpret_cast<const unsigned char*>(msg);
  while (*p) {
    const unsigned char c = *p;
    if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += static_cast<char>(c);
    } else if (c == '\n') {
      escaped += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char u[8];
      std::snprintf(u, sizeof u, "\\u%04x", c);
      escaped += u;
    } else if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(p);
      if (n == 0) {
        escaped += "\\ufffd";
      } else {
        escaped.append(reinterpret_cast<const char*>(p), n);
        p += n - 1;
      }
    } else {
      escaped += static_cast<char>(c);
    }
    ++p;
  }
  return escaped;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
void SetLogJson(bool json) { g_json = json; }
bool LogJson() { return g_json; }

bool ParseLogLevel(const std::string& s, LogLevel* out) {
  if (s == "debug") *out = LogLevel::kDebug;
  else if (s == "info") *out = LogLevel::kInfo;
  else if (s == "warn") *out = LogLevel::kWarn;
  else if (s == "error" || s == "fatal") *out = LogLevel::kError;
  else if (s == "never") *out = static_cast<LogLevel>(99);
  else return false;
  return true;
}

void Log(LogLevel level, const char* fmt, ...) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  static std::mutex mu;
  std::lock_guard<std::mutex> l(mu);
  // Messages carry client-provided strings (namespaces, ids, names): a control character in one
  // must not start a line of its own or a terminal sequence.
  if (g_json) {
    const std::string escaped = JsonEscape(msg);
    std::fprintf(stderr, "{\"level\":\"%s\",\"ts\":\"%s.%03dZ\",\"msg\":\"%s\"}\n", Name(level), ts, ms, escaped.c_str());
  } else {
    std::fprintf(stderr, "time=%s.%03dZ level=%s msg=%s\n", ts, ms, Name(level), EscapeControlCharacters(msg).c_str());
  }
}

}  // namespace temporalite
