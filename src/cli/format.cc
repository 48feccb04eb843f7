#include "cli/format.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "cli/command.h"
#include "common/enum_names.h"

namespace temporalite::cli {
namespace {

using std::chrono::nanoseconds;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "WorkflowExecutionStatus" -> "WORKFLOW_EXECUTION_STATUS_"
std::string EnumPrefix(const std::string& type_name) {
  std::string out;
  for (size_t i = 0; i < type_name.size(); ++i) {
    char c = type_name[i];
    if (i > 0 && std::isupper(static_cast<unsigned char>(c))) out += '_';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out + "_";
}

}  // namespace

nanoseconds ParseDuration(const std::string& text, const std::string& flag) {
  auto bad = [&]() -> UsageError {
    return UsageError("invalid duration \"" + text + "\" for " + flag +
                      " (examples: 10s, 1m30s, 72h, 5d, 250ms)");
  };
  if (text.empty()) throw bad();
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    i = 1;
  }
  if (text.substr(i) == "0") return nanoseconds(0);
  long double total = 0;
  bool any = false;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) throw bad();
    long double number;
    try {
      number = std::stold(text.substr(start, i - start));
    } catch (...) {
      throw bad();
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    long double scale;
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "µs") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else if (unit == "d") scale = 86400e9;
    else throw bad();
    total += number * scale;
    any = true;
  }
  if (!any) throw bad();
  // Beyond int64 nanoseconds (about 292 years) llround has no defined result (it wrapped to a
  // negative duration); Go's time.ParseDuration rejects these too.
  if (!(total <= 9223372036854775807.0L)) {
    throw UsageError("invalid duration \"" + text + "\" for " + flag +
                     " (out of range: at most 2562047h47m16.854775807s)");
  }
  return nanoseconds(static_cast<int64_t>(std::llround(negative ? -total : total)));
}

std::string FormatDuration(nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  // Negated as unsigned: -ns is undefined for INT64_MIN.
  uint64_t u = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  // Trims trailing zeros of a fraction: 1500000 ns with divisor 1e6 -> "1.5".
  auto fixed = [](uint64_t v, uint64_t div) {
    std::string s = std::to_string(v / div);
    uint64_t frac = v % div;
    if (frac != 0) {
      std::string f = std::to_string(frac);
      int width = static_cast<int>(std::log10(static_cast<double>(div)));
      f = std::string(width - f.size(), '0') + f;
      while (!f.empty() && f.back() == '0') f.pop_back();
      s += "." + f;
    }
    return s;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + fixed(u, 1000) + "µs";
  if (u < 1000000000) return sign + fixed(u, 1000000) + "ms";
  uint64_t hours = u / 3600000000000ULL;
  uint64_t rest = u % 3600000000000ULL;
  uint64_t minutes = rest / 60000000000ULL;
  uint64_t sec_ns = rest % 60000000000ULL;
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += fixed(sec_ns, 1000000000ULL) + "s";
  return out;
}

bool IsSet(const google::protobuf::Timestamp& ts) { return ts.seconds() != 0 || ts.nanos() != 0; }

std::string Rfc3339(const google::protobuf::Timestamp& ts) {
  std::time_t t = static_cast<std::time_t>(ts.seconds());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string RelativeTime(std::chrono::system_clock::time_point t, std::chrono::system_clock::time_point now) {
  auto diff = std::chrono::duration_cast<std::chrono::seconds>(now - t).count();
  std::string suffix = diff >= 0 ? "ago" : "from now";
  int64_t s = diff >= 0 ? diff : -diff;
  auto unit = [&](int64_t n, const char* one, const char* many) {
    return n == 1 ? std::string("1 ") + one + " " + suffix : std::to_string(n) + " " + many + " " + suffix;
  };
  constexpr int64_t kMinute = 60, kHour = 3600, kDay = 86400, kWeek = 7 * kDay, kMonth = 30 * kDay,
                    kYear = 12 * kMonth;
  if (s < 1) return "now";
  if (s < kMinute) return unit(s, "second", "seconds");
  if (s < kHour) return unit(s / kMinute, "minute", "minutes");
  if (s < kDay) return unit(s / kHour, "hour", "hours");
  if (s < kWeek) return unit(s / kDay, "day", "days");
  if (s < kMonth) return unit(s / kWeek, "week", "weeks");
  if (s < kYear) return unit(s / kMonth, "month", "months");
  return unit(s / kYear, "year", "years");
}

std::string EnumName(const google::protobuf::EnumDescriptor* type, int value) {
  const google::protobuf::EnumValueDescriptor* v = type->FindValueByNumber(value);
  if (v == nullptr) return std::to_string(value);
  return PascalEnumName(v->name(), EnumPrefix(type->name()));
}

bool ParseEnumName(const google::protobuf::EnumDescriptor* type, const std::string& text, int* value) {
  std::string want = Lower(text);
  for (int i = 0; i < type->value_count(); ++i) {
    const auto* v = type->value(i);
    if (Lower(v->name()) == want || Lower(EnumName(type, v->number())) == want) {
      *value = v->number();
      return true;
    }
  }
  return false;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string Base64Encode(const std::string& in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kB64[n >> 18];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += kB64[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kB64[n >> 18];
    out += kB64[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kB64[n >> 18];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

bool Base64Decode(const std::string& text, std::string* out) {
  std::string s;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') s += c;
  }
  if (s.size() % 4 != 0) return false;
  out->clear();
  uint32_t buf = 0;
  int bits = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '=') {
      if (i < s.size() - 2) return false;
      break;
    }
    const char* p = std::strchr(kB64, c);
    if (p == nullptr || c == '\0') return false;
    buf = (buf << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((buf >> bits) & 0xFF));
    }
  }
  return true;
}

}  // namespace temporalite::cli
