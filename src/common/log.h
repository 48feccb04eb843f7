// Minimal leveled logging to stderr (data goes to stdout, everything else to stderr).
#pragma once

#include <cstdarg>
#include <string>

namespace temporalite {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLogLevel(LogLevel level);
void SetLogJson(bool json);
bool ParseLogLevel(const std::string& s, LogLevel* out);
void Log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

#define TL_LOG_DEBUG(...) ::temporalite::Log(::temporalite::LogLevel::kDebug, __VA_ARGS__)
#define TL_LOG_INFO(...) ::temporalite::Log(::temporalite::LogLevel::kInfo, __VA_ARGS__)
#define TL_LOG_WARN(...) ::temporalite::Log(::temporalite::LogLevel::kWarn, __VA_ARGS__)
#define TL_LOG_ERROR(...) ::temporalite::Log(::temporalite::LogLevel::kError, __VA_ARGS__)

}  // namespace temporalite
