// CompiledSpec: the matching times of a temporal.api.schedule.v1.ScheduleSpec.
//
// Semantics follow Temporal (temporalio/temporal service/worker/scheduler/spec.go):
//  - The spec's times are the union of its calendars (structured_calendar, calendar,
//    cron_string) and intervals, minus times matching exclude_structured_calendar /
//    exclude_calendar, within [start_time, end_time] (both inclusive), and never after 2100.
//    Times have one-second resolution.
//  - Calendars match local wall-clock time in timezone_name (default UTC), literally:
//      * a wall-clock time that does not exist (spring-forward gap, e.g. 02:30 on
//        2026-03-08 in America/New_York) never matches, so a daily 02:30 spec skips that day;
//      * a wall-clock time that occurs twice (fall-back, e.g. 01:30 on 2026-11-01 in
//        America/New_York) matches both instants, so a daily 01:30 spec fires twice that day
//        (01:30 EDT and 01:30 EST, an hour apart). This is what Temporal's proto documents and
//        its calendar.go implements (its test TestCalendarNextDST expects both 1:33:33s).
//    Exclusions are checked the same way (the local time of the candidate instant).
//  - Intervals: epoch + n*interval + phase (both truncated to whole seconds), independent of
//    the time zone. Interval >= 1s, 0 <= phase < interval.
//  - cron_string and calendar are compiled into structured_calendar (and interval /
//    timezone_name for @every / CRON_TZ=), as Temporal's canonical form; see canonical().
//  - Jitter: each nominal time is delayed by a deterministic pseudo-random offset in
//    [0, min(jitter, gap to the following nominal time)), derived from a hash of the nominal
//    time and a per-schedule seed (Temporal uses "<namespace id>-<schedule id>"), in whole
//    milliseconds, as Temporal does (the hash function differs from Temporal's FarmHash).
//
// Next() skips by fields (year, month, day, hour, minute, second) and by UTC-offset spans, so
// it never steps minute by minute; a spec whose exclusions reject many consecutive candidates
// is bounded by CompileOptions::max_iterations.
//
// Thread-safety: immutable after Compile; all methods are const and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "scheduler/calendar.h"
#include "scheduler/time_zone.h"
#include "temporal/api/schedule/v1/message.pb.h"

namespace temporalite::scheduler {

namespace spv1 = ::temporal::api::schedule::v1;

struct CompileOptions {
  // Upper bound on candidates examined by one GetNextTime (each excluded candidate costs one).
  // Temporal leaves its equivalent unlimited by default; an unbounded search over a spec that
  // excludes (almost) everything would pin a thread until 2100, so we bound it.
  int64_t max_iterations = 1'000'000;
};

struct NextTime {
  TimePoint nominal = TimePoint::max();  // the matching time; max() if there is none
  TimePoint actual = TimePoint::max();   // nominal + jitter
};

class CompiledSpec {
 public:
  // Validates and compiles. Errors -> INVALID_ARGUMENT naming the problem: unknown time zone,
  // out-of-range or malformed calendar fields, bad cron strings, interval < 1s, negative phase,
  // phase >= interval, conflicting time zones between cron strings and timezone_name, and
  // timezone_data (not supported: give timezone_name instead).
  static Result<CompiledSpec> Compile(const spv1::ScheduleSpec& spec, CompileOptions options = {});

  // The canonical form (what DescribeSchedule returns, as in Temporal): calendar and
  // cron_string compiled into structured_calendar / interval / timezone_name; exclude_calendar
  // into exclude_structured_calendar.
  const spv1::ScheduleSpec& canonical() const { return spec_; }
  const TimeZone& time_zone() const { return tz_; }

  // The first nominal (pre-jitter) time strictly after `after`, or TimePoint::max() if none
  // (past end_time or 2100, or the iteration bound was hit).
  TimePoint Next(TimePoint after) const;

  // Temporal's GetNextTime: the next nominal time after `after` and its jittered time.
  // INVALID_ARGUMENT if the iteration bound was hit ("too many exclusions").
  Result<NextTime> GetNextTime(std::string_view jitter_seed, TimePoint after) const;

  // nominal + a deterministic offset in [0, min(jitter, following nominal - nominal)).
  // REQUIRES: `nominal` is a matching time of this spec (e.g. returned by Next).
  TimePoint Jittered(TimePoint nominal, std::string_view seed) const;

  // Nominal times t with start < t <= end, in order, at most `limit` of them (fewer if the
  // iteration bound is hit).
  std::vector<TimePoint> MatchingTimes(TimePoint start, TimePoint end, size_t limit) const;

  // Temporal's ListScheduleMatchingTimes: jittered times chained from `start` (each search
  // starts after the previous jittered time), stopping after `end` or `limit` (Temporal: 1000).
  Result<std::vector<TimePoint>> ListMatchingTimes(TimePoint start, TimePoint end,
                                                   std::string_view jitter_seed,
                                                   size_t limit = 1000) const;

  // True if an exclude calendar matches `t` (local wall-clock time in the spec's zone).
  bool Excluded(TimePoint t) const;

 private:
  struct Interval {
    int64_t interval;  // seconds, >= 1
    int64_t phase;     // seconds, [0, interval)
  };

  CompiledSpec() = default;

  // Next calendar/interval time (unix seconds) strictly after `after`, ignoring exclusions and
  // bounds; INT64_MAX if none.
  int64_t RawNext(int64_t after) const;
  // Next non-excluded time within the bounds (unix seconds), INT64_MAX if none,
  // INVALID_ARGUMENT if the iteration bound was hit.
  Result<int64_t> NextNominal(TimePoint after) const;
  int64_t CalendarNext(const CalendarMatcher& cal, int64_t after) const;
  bool ExcludedAt(int64_t t) const;
  TimePoint JitterFor(int64_t nominal, std::string_view seed) const;

  spv1::ScheduleSpec spec_;
  CompileOptions options_;
  TimeZone tz_;
  std::vector<CalendarMatcher> calendars_;
  std::vector<CalendarMatcher> excludes_;
  std::vector<Interval> intervals_;
  bool has_start_ = false, has_end_ = false;
  TimePoint start_time_{}, end_time_{};
  Duration jitter_{0};
};

// Temporal's canonicalisation (calendar/cron -> structured, validation) without compiling.
Result<spv1::ScheduleSpec> CanonicalizeSpec(const spv1::ScheduleSpec& spec);

}  // namespace temporalite::scheduler
