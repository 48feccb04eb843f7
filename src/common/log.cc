#include "common/log.h"

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
}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
void SetLogJson(bool json) { g_json = json; }

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
    std::string escaped;
    for (const char* p = msg; *p; ++p) {
      const auto c = static_cast<unsigned char>(*p);
      if (c == '"' || c == '\\') {
        escaped += '\\';
        escaped += *p;
      } else if (c == '\n') {
        escaped += "\\n";
      } else if (c < 0x20 || c == 0x7f) {
        char u[8];
        std::snprintf(u, sizeof u, "\\u%04x", c);
        escaped += u;
      } else {
        escaped += *p;
      }
    }
    std::fprintf(stderr, "{\"level\":\"%s\",\"ts\":\"%s.%03dZ\",\"msg\":\"%s\"}\n", Name(level), ts, ms, escaped.c_str());
  } else {
    std::fprintf(stderr, "time=%s.%03dZ level=%s msg=%s\n", ts, ms, Name(level), EscapeControlCharacters(msg).c_str());
  }
}

}  // namespace temporalite
