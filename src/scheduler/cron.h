// Cron strings, as Temporal's ScheduleSpec.cron_string accepts them (semantics follow
// temporalio/temporal service/worker/scheduler/calendar.go parseCronString):
//
//   [CRON_TZ=<zone> | TZ=<zone>] <fields or shorthand> [# comment]
//
//   5 fields:         minute hour day-of-month month day-of-week
//   6 fields:         minute hour day-of-month month day-of-week year
//   7 fields: second  minute hour day-of-month month day-of-week year
//
// Each field takes the CalendarSpec syntax (see calendar.h): *, x, x-z, x/y, x-z/y, lists,
// JAN..DEC, SUN..SAT (7 is also Sunday). Missing second = 0, missing year = *. A time matches
// when ALL fields match: unlike Vixie cron, a restricted day-of-month and day-of-week are ANDed
// ("0 0 13 * FRI" is Friday the 13th only), as Temporal documents. "?" is not accepted, as in
// Temporal.
//
// Shorthands: @yearly/@annually "0 0 1 1 *", @monthly "0 0 1 * *", @weekly "0 0 * * 0",
// @daily/@midnight "0 0 * * *", @hourly "0 * * * *".
// "@every <interval>[/<phase>]" becomes an IntervalSpec; durations use Go syntax plus "d" for
// 24h ("90m", "1h30m", "5d", "5h/45m"). As in Temporal, a CRON_TZ prefix on @every is dropped.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "temporal/api/schedule/v1/message.pb.h"

namespace temporalite::scheduler {

namespace spv1 = ::temporal::api::schedule::v1;

struct CronSpec {
  std::optional<spv1::StructuredCalendarSpec> calendar;  // set for field/shorthand strings
  std::optional<spv1::IntervalSpec> interval;            // set for @every
  std::string timezone_name;                             // from CRON_TZ=/TZ=, or empty
};

// Parses one cron string. Errors -> INVALID_ARGUMENT saying what was wrong (field count,
// field name and range, bad duration). The time zone name is not checked here.
Result<CronSpec> ParseCronString(std::string_view cron);

// Go's time.ParseDuration syntax ("300ms", "-1.5h", "2h45m"; units ns us µs ms s m h) plus
// "d" = 24h, as Temporal's timestamp.ParseDuration. Errors -> INVALID_ARGUMENT.
Result<Duration> ParseGoDuration(std::string_view s);

}  // namespace temporalite::scheduler
