// Calendar specs, as Temporal defines them (temporal.api.schedule.v1.CalendarSpec /
// StructuredCalendarSpec; semantics follow temporalio/temporal service/worker/scheduler/
// calendar.go):
//  - A time matches when every field matches (day_of_month AND day_of_week: no cron "OR").
//  - In a StructuredCalendarSpec a field with no ranges matches nothing, except year, where no
//    ranges means every year. Range{start, end, step}: end < start means end = start, step 0
//    means 1.
//  - The string form (CalendarSpec) accepts "*", "x", "x-z", "x/y" (x to the maximum, step y),
//    "x-z/y" and comma lists; month names (>= 3 letters) and day-of-week names (>= 2 letters);
//    day of week 7 is Sunday. Empty fields take the defaults second=0 minute=0 hour=0 and "*"
//    for the rest.
//  - Years are limited to [2000, 2100]; no time after 2100 ever matches.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "temporal/api/schedule/v1/message.pb.h"

namespace temporalite::scheduler {

namespace spv1 = ::temporal::api::schedule::v1;

inline constexpr int kMinCalendarYear = 2000;
inline constexpr int kMaxCalendarYear = 2100;
inline constexpr size_t kMaxCommentLength = 200;

// Compiles the string form into the structured form exactly as Temporal does (including its
// compact encoding: a single value has end 0, step 1 is written as 0, "*" year is no ranges).
// Errors -> INVALID_ARGUMENT naming the field, e.g. "Minute is not in range [0-59]".
Result<spv1::StructuredCalendarSpec> ParseCalendarSpec(const spv1::CalendarSpec& cal);

// Checks field bounds (second 0-59, ..., year 2000-2100, day_of_week 0-6), steps >= 0 and the
// comment length. Errors -> INVALID_ARGUMENT "invalid calendar spec: ...".
Status ValidateStructuredCalendar(const spv1::StructuredCalendarSpec& cal);

// Wall-clock fields of a local time. month 1-12, day 1-31, weekday 0-6 (0 = Sunday).
struct CivilTime {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
};

// Seconds since 1970-01-01T00:00:00 of the same (local) calendar, and back.
int64_t CivilToSeconds(const CivilTime& c);
CivilTime SecondsToCivil(int64_t s);
int DaysInMonth(int year, int month);

// A compiled StructuredCalendarSpec: bit sets per field, matched against local wall-clock
// time. Time zones are the caller's business (see spec.cc): this class only sees civil time.
// Immutable, thread-safe.
class CalendarMatcher {
 public:
  // REQUIRES: ValidateStructuredCalendar(cal).ok().
  explicit CalendarMatcher(const spv1::StructuredCalendarSpec& cal);

  bool Matches(const CivilTime& c) const;
  bool MatchesLocal(int64_t local_seconds) const { return Matches(SecondsToCivil(local_seconds)); }

  // The first local time >= `local_seconds` whose fields all match, skipping by fields (never
  // stepping second by second through non-matching hours or days). nullopt if none up to the
  // end of kMaxCalendarYear.
  std::optional<int64_t> NextLocal(int64_t local_seconds) const;

 private:
  bool YearMatches(int y) const;
  bool DayMatches(int day_of_month, int weekday) const;

  uint64_t second_ = 0, minute_ = 0;
  uint32_t hour_ = 0, day_of_month_ = 0;
  uint16_t month_ = 0;
  uint8_t day_of_week_ = 0;
  bool all_years_ = true;
  // Bit i = year kMinCalendarYear + i.
  uint64_t years_[2] = {0, 0};
  bool never_ = false;  // some field can never match
};

}  // namespace temporalite::scheduler
