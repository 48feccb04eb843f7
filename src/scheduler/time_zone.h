// IANA time zones for schedule specs: the UTC offset in effect at an instant, as spans of
// constant offset, so calendar matching can walk local time one offset span at a time.
//
// Backed by Howard Hinnant's date/tz (Debian libhowardhinnant-date-dev), which reads the system
// tz database (/usr/share/zoneinfo, package tzdata). Its TZif reader ignores the POSIX rule
// footer that TZif files use for instants after their last explicit transition (2037 in
// Debian's files); this class evaluates that footer itself so DST keeps working up to the
// calendar limit (year 2100), as Go's time package (and so Temporal) does.
//
// Thread-safety: a TimeZone is immutable after Load and safe to share between threads. It is
// cheap to copy (a pointer into the process-wide tz database plus the parsed footer rule).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace date {
class time_zone;
}  // namespace date

namespace temporalite::scheduler {

// Instants [begin, end) (Unix seconds) over which the zone's UTC offset is `offset` seconds
// (local = utc + offset). `end` may be a far-future sentinel for the last span.
struct OffsetSpan {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t offset = 0;
};

struct PosixTzRule;  // time_zone.cc

class TimeZone {
 public:
  // UTC.
  TimeZone();

  // Loads an IANA zone by name ("Africa/Johannesburg", "America/New_York", "Etc/GMT-2").
  // "" and "UTC" are UTC; "Local" is the server's zone (/etc/localtime), as in Go.
  // Unknown names -> INVALID_ARGUMENT naming the zone.
  static Result<TimeZone> Load(const std::string& name);

  // The span of constant offset containing `unix_seconds`.
  OffsetSpan SpanAt(int64_t unix_seconds) const;
  int64_t OffsetAt(int64_t unix_seconds) const { return SpanAt(unix_seconds).offset; }

  // The name given to Load ("UTC" for the default).
  const std::string& name() const { return name_; }
  bool is_utc() const { return zone_ == nullptr; }

 private:
  const date::time_zone* zone_ = nullptr;  // nullptr = UTC; owned by date's global tzdb
  std::string name_ = "UTC";
  // Transitions after the TZif table's last one (nullptr when the zone has no DST then).
  std::shared_ptr<const PosixTzRule> footer_;
  int64_t footer_from_ = 0;  // the footer applies at and after this instant
};

// Parses a POSIX TZ string such as "EST5EDT,M3.2.0,M11.1.0" or "<+0330>-3:30" (the footer of
// a TZif v2+ file). Exposed for tests. Returns nullptr if the string is not understood.
std::shared_ptr<const PosixTzRule> ParsePosixTz(const std::string& tz);
// Offset span at `unix_seconds` under a parsed POSIX rule (spans are clipped to one year).
OffsetSpan PosixTzSpanAt(const PosixTzRule& rule, int64_t unix_seconds);

}  // namespace temporalite::scheduler
