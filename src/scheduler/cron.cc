#include "scheduler/cron.h"

#include <cctype>
#include <cmath>
#include <vector>

#include "scheduler/calendar.h"

namespace temporalite::scheduler {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string_view Shorthand(std::string_view c) {
  if (c == "@yearly" || c == "@annually") return "0 0 1 1 *";
  if (c == "@monthly") return "0 0 1 * *";
  if (c == "@weekly") return "0 0 * * 0";
  if (c == "@daily" || c == "@midnight") return "0 0 * * *";
  if (c == "@hourly") return "0 * * * *";
  return c;
}

Status BadDuration(std::string_view s, std::string_view why) {
  return InvalidArgument("invalid duration \"" + std::string(s) + "\": " + std::string(why) +
                         " (expected e.g. 90m, 1h30m, 5d)");
}

void SetDuration(Duration d, google::protobuf::Duration* out) {
  int64_t ns = d.count();
  out->set_seconds(ns / 1000000000);
  out->set_nanos(static_cast<int32_t>(ns % 1000000000));
}

Result<CronSpec> ParseEvery(std::string_view c) {
  // "@every <interval>[/<phase>]"
  size_t space = c.find(' ');
  if (space == std::string_view::npos) {
    return InvalidArgument("cron string \"" + std::string(c) +
                           "\" does not have an interval after @every (expected e.g. "
                           "\"@every 90m\" or \"@every 1h/15m\")");
  }
  std::string_view rest = Trim(c.substr(space + 1));
  std::string_view interval = rest, phase;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    interval = rest.substr(0, slash);
    phase = rest.substr(slash + 1);
  }
  CronSpec out;
  spv1::IntervalSpec iv;
  Result<Duration> d = ParseGoDuration(interval);
  if (!d.ok()) return d.status();
  SetDuration(*d, iv.mutable_interval());
  if (!phase.empty()) {
    Result<Duration> p = ParseGoDuration(phase);
    if (!p.ok()) return p.status();
    SetDuration(*p, iv.mutable_phase());
  }
  out.interval = std::move(iv);
  return out;
}

}  // namespace

Result<Duration> ParseGoDuration(std::string_view s) {
  const std::string_view orig = s;
  bool neg = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) return BadDuration(orig, "empty");
  long double total = 0;  // nanoseconds
  while (!s.empty()) {
    size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      value = value * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        value += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) return BadDuration(orig, "expected a number");
    size_t unit_start = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') ++i;
    std::string_view unit = s.substr(unit_start, i - unit_start);
    long double ns_per_unit = 0;
    if (unit == "ns") {
      ns_per_unit = 1;
    } else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") {
      ns_per_unit = 1e3L;
    } else if (unit == "ms") {
      ns_per_unit = 1e6L;
    } else if (unit == "s") {
      ns_per_unit = 1e9L;
    } else if (unit == "m") {
      ns_per_unit = 60e9L;
    } else if (unit == "h") {
      ns_per_unit = 3600e9L;
    } else if (unit == "d") {
      ns_per_unit = 86400e9L;
    } else if (unit.empty()) {
      return BadDuration(orig, "missing unit");
    } else {
      return BadDuration(orig, "unknown unit \"" + std::string(unit) + "\"");
    }
    total += value * ns_per_unit;
    if (total > 9.2e18L) return BadDuration(orig, "too large");
    s.remove_prefix(i);
  }
  int64_t ns = static_cast<int64_t>(std::llround(total));
  return Duration(neg ? -ns : ns);
}

Result<CronSpec> ParseCronString(std::string_view cron) {
  std::string_view c = Trim(cron);
  std::string tz;
  if (c.starts_with("TZ=") || c.starts_with("CRON_TZ=")) {
    size_t space = c.find(' ');
    if (space == std::string_view::npos) {
      return InvalidArgument("cron string \"" + std::string(cron) +
                             "\" has a time zone but no fields (expected e.g. "
                             "\"CRON_TZ=Africa/Johannesburg 0 6 * * *\")");
    }
    std::string_view prefix = c.substr(0, space);
    tz = std::string(prefix.substr(prefix.find('=') + 1));
    c = c.substr(space + 1);
  }
  std::string comment;
  if (size_t hash = c.find('#'); hash != std::string_view::npos) {
    comment = std::string(Trim(c.substr(hash + 1)));
    c = c.substr(0, hash);
  }
  c = Trim(c);

  if (c.starts_with("@every")) return ParseEvery(c);  // Temporal drops the zone here
  c = Shorthand(c);

  std::vector<std::string> fields;
  size_t i = 0;
  while (i < c.size()) {
    while (i < c.size() && std::isspace(static_cast<unsigned char>(c[i]))) ++i;
    size_t start = i;
    while (i < c.size() && !std::isspace(static_cast<unsigned char>(c[i]))) ++i;
    if (i > start) fields.emplace_back(c.substr(start, i - start));
    if (fields.size() > 7) break;
  }
  spv1::CalendarSpec cal;
  cal.set_comment(comment);
  switch (fields.size()) {
    case 5:
    case 6:
    case 7: {
      size_t f = 0;
      if (fields.size() == 7) cal.set_second(fields[f++]);
      cal.set_minute(fields[f++]);
      cal.set_hour(fields[f++]);
      cal.set_day_of_month(fields[f++]);
      cal.set_month(fields[f++]);
      cal.set_day_of_week(fields[f++]);
      if (f < fields.size()) cal.set_year(fields[f++]);
      break;
    }
    default:
      return InvalidArgument(
          "cron string \"" + std::string(cron) +
          "\" does not have 5-7 fields (expected "
          "\"minute hour day-of-month month day-of-week [year]\", \"second minute hour "
          "day-of-month month day-of-week year\", @hourly/@daily/@weekly/@monthly/@yearly or "
          "\"@every <duration>\")");
  }
  Result<spv1::StructuredCalendarSpec> structured = ParseCalendarSpec(cal);
  if (!structured.ok()) {
    return InvalidArgument("cron string \"" + std::string(cron) +
                           "\": " + structured.status().message());
  }
  CronSpec out;
  out.calendar = std::move(structured).value();
  out.timezone_name = std::move(tz);
  return out;
}

}  // namespace temporalite::scheduler
