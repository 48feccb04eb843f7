// Schedule phrases: the runbook's small, human-readable grammar for schedules, compiled into a
// ScheduleSpec made of structured calendars (so `schedule describe` shows ordinary calendar
// fields and any Temporal server or client understands the result).
//
// Grammar (keywords are case-insensitive; spaces around "-" and "," are allowed):
//
//   phrase   = every | daily | weekdays
//   every    = "every" <N>("m"|"h") [ "between" TIME "-" TIME ] [ ZONE ]
//   daily    = "daily" "at" TIME { "," TIME } [ ZONE ]
//   weekdays = "weekdays" "at" TIME { "," TIME } [ ZONE ]
//   TIME     = HH:MM        24-hour wall-clock time, 00:00 to 23:59 ("6:00" is accepted)
//   ZONE     = an IANA time zone name, e.g. Africa/Johannesburg, Europe/London, UTC.
//              Default: UTC.
//
// Meaning (all times are wall-clock times in ZONE, at second 0):
//   every <N>m / every <N>h      at TIME1, TIME1 + N, TIME1 + 2N, ... up to and including
//                                TIME2, every day. The sequence restarts at TIME1 each day
//                                (like cron's */N). Without "between" the window is
//                                00:00-23:59. N is 1-1440 minutes or 1-24 hours; TIME1 must
//                                not be after TIME2 (a window cannot cross midnight).
//                                Without "between", an N that does not divide the day (7m,
//                                50m, 5h) becomes Temporal's IntervalSpec instead: every N
//                                counted from the Unix epoch (phase 0), with no restart (and
//                                no short gap) at midnight; the zone does not change the
//                                times then (an interval is absolute).
//   daily at TIME[,TIME...]      every day at each TIME.
//   weekdays at TIME[,TIME...]   Monday to Friday at each TIME.
//
// Examples:
//   every 2h between 06:00-22:00 Africa/Johannesburg
//       -> 06:00, 08:00, ..., 22:00 SAST (9 runs a day; hours 6-22/2, minute 0)
//   every 15m between 08:00-17:00 Europe/London   -> 08:00, 08:15, ..., 17:00 (37 a day)
//   daily at 03:30                                  -> 03:30 UTC every day
//   weekdays at 09:00,17:30 America/New_York        -> Mon-Fri 09:00 and 17:30 New York time
//
// In zones with daylight saving time the usual calendar rules apply (see spec.h): a time in
// the spring-forward gap does not run that day, a time in the repeated fall-back hour runs
// twice.
//
// Anything else -> false with a message saying what was expected where.
//
// A small library of its own (depends only on the generated Temporal API) so that both the
// server (scheduler/phrase.h, which checks zones against the tz database) and the CLI (a pure
// gRPC client, which checks zone names syntactically and lets the server check the rest) use
// the same grammar.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "temporal/api/schedule/v1/message.pb.h"

namespace temporalite::phrase {

namespace spv1 = ::temporal::api::schedule::v1;

// Whether `name` is an acceptable time zone name.
using ZoneCheck = std::function<bool(const std::string& name)>;

// Parses `phrase` into `*out` (structured calendars plus timezone_name). On failure returns false
// and sets `*error` to "invalid schedule phrase \"...\": <what was expected where>".
bool ParseSchedulePhrase(std::string_view phrase, const ZoneCheck& is_zone, spv1::ScheduleSpec* out,
                         std::string* error);

// A syntactic check for IANA names ("UTC", "GMT", or Area/Location like Africa/Johannesburg).
bool LooksLikeZoneName(const std::string& name);

}  // namespace temporalite::phrase
