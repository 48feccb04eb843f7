// Schedule specs: cron, calendars, intervals, time zones (DST), exclusions, bounds, jitter and
// the runbook phrase grammar. Deterministic: fixed instants, no system clock (steady_clock is
// only used to print how long the 3-year backfill took).
#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <random>
#include <set>

#include "scheduler/cron.h"
#include "scheduler/phrase.h"
#include "scheduler/spec.h"
#include "scheduler/time_zone.h"

// exclude_calendar is deprecated in the proto but still accepted by servers; it is tested here.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace temporalite::scheduler {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TimePoint Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  auto day = date::sys_days(date::year(y) / mo / d);
  return TimePoint(day.time_since_epoch() + hours(h) + minutes(mi) + seconds(s));
}

std::string Fmt(TimePoint t) {
  if (t == TimePoint::max()) return "max";
  return date::format("%FT%TZ", std::chrono::time_point_cast<seconds>(t));
}

// Wall-clock fields of `t` in `zone`.
date::hh_mm_ss<seconds> LocalClock(TimePoint t, const std::string& zone) {
  auto local = date::make_zoned(zone, std::chrono::time_point_cast<seconds>(t)).get_local_time();
  return date::hh_mm_ss<seconds>(local - date::floor<date::days>(local));
}

CompiledSpec MustCompile(const spv1::ScheduleSpec& spec) {
  Result<CompiledSpec> r = CompiledSpec::Compile(spec);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

CompiledSpec Cron(const std::string& cron) {
  spv1::ScheduleSpec spec;
  spec.add_cron_string(cron);
  return MustCompile(spec);
}

void ExpectInvalid(const spv1::ScheduleSpec& spec, const std::string& needle) {
  Result<CompiledSpec> r = CompiledSpec::Compile(spec);
  ASSERT_FALSE(r.ok()) << "expected an error containing \"" << needle << "\"";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

void ExpectInvalidCron(const std::string& cron, const std::string& needle) {
  spv1::ScheduleSpec spec;
  spec.add_cron_string(cron);
  ExpectInvalid(spec, needle);
}

spv1::Range R(int start, int end = 0, int step = 0) {
  spv1::Range r;
  r.set_start(start);
  r.set_end(end);
  r.set_step(step);
  return r;
}

std::vector<TimePoint> Seq(const CompiledSpec& cs, TimePoint after, int n) {
  std::vector<TimePoint> out;
  for (int i = 0; i < n; ++i) {
    after = cs.Next(after);
    out.push_back(after);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The runbook phrase

TEST(SchedulePhrase, RunbookEveryTwoHoursInJohannesburg) {
  Result<spv1::ScheduleSpec> spec =
      ParseSchedulePhrase("every 2h between 06:00-22:00 Africa/Johannesburg");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->timezone_name(), "Africa/Johannesburg");
  ASSERT_EQ(spec->structured_calendar_size(), 1);
  const spv1::StructuredCalendarSpec& cal = spec->structured_calendar(0);
  ASSERT_EQ(cal.hour_size(), 1);
  EXPECT_EQ(cal.hour(0).start(), 6);
  EXPECT_EQ(cal.hour(0).end(), 22);
  EXPECT_EQ(cal.hour(0).step(), 2);
  ASSERT_EQ(cal.minute_size(), 1);
  EXPECT_EQ(cal.minute(0).start(), 0);
  EXPECT_EQ(cal.minute(0).end(), 0);
  ASSERT_EQ(cal.second_size(), 1);
  EXPECT_EQ(cal.second(0).start(), 0);

  CompiledSpec cs = MustCompile(*spec);
  // 2026-06-15 00:00:00 SAST = 2026-06-14T22:00:00Z; the local day ends at 23:59:59 SAST.
  const TimePoint day_start = Utc(2026, 6, 14, 22);
  const TimePoint day_end = Utc(2026, 6, 15, 21, 59, 59);
  std::vector<TimePoint> got = cs.MatchingTimes(day_start - seconds(1), day_end, 100);
  std::vector<TimePoint> want;
  for (int h = 6; h <= 22; h += 2) want.push_back(Utc(2026, 6, 15, h - 2));  // SAST = UTC+2
  ASSERT_EQ(got.size(), 9u);
  EXPECT_EQ(got, want);
  for (TimePoint t : got) {
    auto clock = LocalClock(t, "Africa/Johannesburg");
    EXPECT_GE(clock.hours().count(), 6) << Fmt(t);   // nothing at 00:00-05:59
    EXPECT_LE(clock.hours().count(), 22) << Fmt(t);  // nothing at 23:00-23:59
    EXPECT_EQ(clock.minutes().count(), 0);
    EXPECT_EQ(clock.seconds().count(), 0);
  }
  // A whole week: 9 a day, and the first run after 22:00 is 06:00 the next morning.
  EXPECT_EQ(cs.MatchingTimes(day_start, day_start + hours(24 * 7), 1000).size(), 63u);
  EXPECT_EQ(cs.Next(Utc(2026, 6, 15, 20)), Utc(2026, 6, 16, 4));
}

TEST(SchedulePhrase, OtherForms) {
  // every 15m between 08:00-17:00 -> 08:00 ... 17:00 inclusive: 37 a day.
  auto quarter = ParseSchedulePhrase("Every 15m between 08:00 - 17:00 Europe/London");
  ASSERT_TRUE(quarter.ok()) << quarter.status().ToString();
  CompiledSpec q = MustCompile(*quarter);
  // 2026-01-12 is winter (GMT = UTC).
  auto day = q.MatchingTimes(Utc(2026, 1, 12) - seconds(1), Utc(2026, 1, 12, 23, 59, 59), 1000);
  ASSERT_EQ(day.size(), 37u);
  EXPECT_EQ(day.front(), Utc(2026, 1, 12, 8));
  EXPECT_EQ(day[1], Utc(2026, 1, 12, 8, 15));
  EXPECT_EQ(day.back(), Utc(2026, 1, 12, 17));

  // every 90m (no window): 00:00, 01:30, ..., 22:30, restarting at midnight, in UTC.
  auto ninety = ParseSchedulePhrase("every 90m");
  ASSERT_TRUE(ninety.ok()) << ninety.status().ToString();
  EXPECT_EQ(ninety->timezone_name(), "");
  CompiledSpec n = MustCompile(*ninety);
  auto times = n.MatchingTimes(Utc(2026, 1, 12) - seconds(1), Utc(2026, 1, 12, 23, 59, 59), 100);
  ASSERT_EQ(times.size(), 16u);
  for (size_t i = 0; i < times.size(); ++i) {
    EXPECT_EQ(times[i], Utc(2026, 1, 12) + minutes(90 * static_cast<int>(i)));
  }

  // every 7m (no window; 7 does not divide the day): Temporal's interval from the epoch, so the
  // step stays 7 minutes across midnight (a calendar grid restarted at 00:00, after 23:55).
  auto seven = ParseSchedulePhrase("every 7m");
  ASSERT_TRUE(seven.ok()) << seven.status().ToString();
  EXPECT_EQ(seven->structured_calendar_size(), 0);
  ASSERT_EQ(seven->interval_size(), 1);
  EXPECT_EQ(seven->interval(0).interval().seconds(), 420);
  CompiledSpec s7 = MustCompile(*seven);
  auto around_midnight = s7.MatchingTimes(Utc(2026, 1, 12, 23, 30), Utc(2026, 1, 13, 0, 30), 100);
  ASSERT_GE(around_midnight.size(), 8u);
  for (size_t i = 0; i < around_midnight.size(); ++i) {
    EXPECT_EQ((around_midnight[i].time_since_epoch() / seconds(1)) % 420, 0) << Fmt(around_midnight[i]);
    if (i > 0) EXPECT_EQ(around_midnight[i] - around_midnight[i - 1], minutes(7)) << Fmt(around_midnight[i]);
  }
  // With a window the grid is anchored at the window's start each day (documented).
  auto seven_window = ParseSchedulePhrase("every 7m between 08:00-09:00");
  ASSERT_TRUE(seven_window.ok()) << seven_window.status().ToString();
  EXPECT_EQ(seven_window->interval_size(), 0);
  CompiledSpec w7 = MustCompile(*seven_window);
  EXPECT_EQ(w7.Next(Utc(2026, 1, 12, 7)), Utc(2026, 1, 12, 8));

  // daily at 03:30 (UTC).
  auto daily = ParseSchedulePhrase("daily at 03:30");
  ASSERT_TRUE(daily.ok());
  CompiledSpec d = MustCompile(*daily);
  EXPECT_EQ(Seq(d, Utc(2026, 1, 12, 3, 30), 2),
            (std::vector<TimePoint>{Utc(2026, 1, 13, 3, 30), Utc(2026, 1, 14, 3, 30)}));

  // weekdays at 09:00,17:30 New York: Mon 2026-01-12 .. Sun 2026-01-18 -> 10 runs (EST=UTC-5).
  auto weekdays = ParseSchedulePhrase("weekdays at 09:00,17:30 America/New_York");
  ASSERT_TRUE(weekdays.ok()) << weekdays.status().ToString();
  CompiledSpec w = MustCompile(*weekdays);
  auto week = w.MatchingTimes(Utc(2026, 1, 12, 5) - seconds(1), Utc(2026, 1, 19, 5), 100);
  ASSERT_EQ(week.size(), 10u);
  EXPECT_EQ(week[0], Utc(2026, 1, 12, 14));
  EXPECT_EQ(week[1], Utc(2026, 1, 12, 22, 30));
  EXPECT_EQ(week[9], Utc(2026, 1, 16, 22, 30));  // Friday 17:30; nothing on the weekend
}

TEST(SchedulePhrase, Invalid) {
  struct Case {
    const char* phrase;
    const char* needle;
  };
  const Case cases[] = {
      {"", "empty"},
      {"   ", "empty"},
      {"hourly", "unknown start"},
      {"every", "<N>m or <N>h"},
      {"every 2x", "<N>m or <N>h"},
      {"every 0h", "out of range"},
      {"every 25h", "out of range"},
      {"every 2h between", "HH:MM-HH:MM"},
      {"every 2h between 6-22", "HH:MM-HH:MM"},
      {"every 2h between 22:00-06:00", "cannot cross midnight"},
      {"every 2h between 06:00-24:00", "HH:MM-HH:MM"},
      {"every 2h from 06:00", "between HH:MM-HH:MM"},
      {"every 2h Mars/Olympus", "IANA time zone"},
      {"daily 09:00", "daily at HH:MM"},
      {"daily at 9", "HH:MM"},
      {"daily at 09:60", "HH:MM"},
      {"weekdays at 09:00,", "HH:MM"},
      {"daily at 09:00 UTC extra", "nothing may follow"},
  };
  for (const Case& c : cases) {
    Result<spv1::ScheduleSpec> r = ParseSchedulePhrase(c.phrase);
    ASSERT_FALSE(r.ok()) << c.phrase;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.phrase;
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << c.phrase << " -> " << r.status().message();
  }
}

// ---------------------------------------------------------------------------------------------
// Cron strings

TEST(Cron, EveryTwoHours) {
  CompiledSpec cs = Cron("0 */2 * * *");
  EXPECT_EQ(Seq(cs, Utc(2026, 1, 1, 0, 30), 3),
            (std::vector<TimePoint>{Utc(2026, 1, 1, 2), Utc(2026, 1, 1, 4), Utc(2026, 1, 1, 6)}));
  EXPECT_EQ(cs.Next(Utc(2026, 1, 1, 22)), Utc(2026, 1, 2, 0));
  EXPECT_EQ(cs.MatchingTimes(Utc(2026, 1, 1) - seconds(1), Utc(2026, 1, 1, 23, 59, 59), 100).size(),
            12u);
}

TEST(Cron, WeekdayMornings) {
  CompiledSpec cs = Cron("30 9 * * MON-FRI");
  // 2026-01-02 is a Friday: after its 09:30 the next is Monday 2026-01-05.
  EXPECT_EQ(cs.Next(Utc(2026, 1, 2, 9)), Utc(2026, 1, 2, 9, 30));
  EXPECT_EQ(cs.Next(Utc(2026, 1, 2, 9, 30)), Utc(2026, 1, 5, 9, 30));
  EXPECT_EQ(cs.MatchingTimes(Utc(2026, 1, 4), Utc(2026, 1, 11), 100).size(), 5u);
}

TEST(Cron, ShorthandsAndEvery) {
  EXPECT_EQ(Cron("@hourly").Next(Utc(2026, 3, 1, 10, 15)), Utc(2026, 3, 1, 11));
  EXPECT_EQ(Cron("@daily").Next(Utc(2026, 3, 1, 10, 15)), Utc(2026, 3, 2));
  EXPECT_EQ(Cron("@midnight").Next(Utc(2026, 3, 1, 10, 15)), Utc(2026, 3, 2));
  EXPECT_EQ(Cron("@weekly").Next(Utc(2026, 3, 2)), Utc(2026, 3, 8));  // Sunday
  EXPECT_EQ(Cron("@monthly").Next(Utc(2026, 3, 2)), Utc(2026, 4, 1));
  EXPECT_EQ(Cron("@yearly").Next(Utc(2026, 3, 2)), Utc(2027, 1, 1));
  EXPECT_EQ(Cron("@annually").Next(Utc(2026, 3, 2)), Utc(2027, 1, 1));

  // @every 90m: epoch + n*5400s, independent of any zone.
  CompiledSpec every = Cron("@every 90m");
  ASSERT_EQ(every.canonical().interval_size(), 1);
  EXPECT_EQ(every.canonical().interval(0).interval().seconds(), 5400);
  EXPECT_EQ(every.canonical().structured_calendar_size(), 0);
  const TimePoint from = Utc(2026, 1, 1);  // 1767225600 = 326893*5400 + 1800... check below
  int64_t unix = std::chrono::duration_cast<seconds>(from.time_since_epoch()).count();
  TimePoint want = TimePoint(seconds((unix / 5400 + 1) * 5400));
  EXPECT_EQ(every.Next(from), want);
  EXPECT_EQ(every.Next(want), want + minutes(90));

  // @every 1h/15m: every hour at xx:15.
  CompiledSpec phased = Cron("@every 1h/15m");
  EXPECT_EQ(phased.Next(Utc(2026, 1, 1, 10, 15)), Utc(2026, 1, 1, 11, 15));
  EXPECT_EQ(phased.Next(Utc(2026, 1, 1, 10, 14, 59)), Utc(2026, 1, 1, 10, 15));
}

TEST(Cron, SecondsYearsNamesAndComments) {
  // 7 fields: second minute hour dom month dow year.
  CompiledSpec cs = Cron("15 30 4 * * * 2027");
  EXPECT_EQ(cs.Next(Utc(2026, 6, 1)), Utc(2027, 1, 1, 4, 30, 15));
  EXPECT_EQ(cs.Next(Utc(2027, 12, 31, 4, 30, 15)), TimePoint::max());
  // 6 fields: the sixth is the year.
  EXPECT_EQ(Cron("0 12 1 jan * 2030").Next(Utc(2026, 1, 1)), Utc(2030, 1, 1, 12));
  // Day-of-month AND day-of-week (no cron "OR"): Friday the 13th. 2026-02-13 is a Friday.
  EXPECT_EQ(Cron("0 0 13 * fri # spooky").Next(Utc(2026, 1, 1)), Utc(2026, 2, 13));
  // 7 is Sunday too.
  EXPECT_EQ(Cron("0 0 * * 7").Next(Utc(2026, 3, 2)), Utc(2026, 3, 8));
}

TEST(Cron, CanonicalFormMatchesTemporal) {
  // Same expectations as Temporal's calendar_test.go TestParseCronString.
  Result<CronSpec> c = ParseCronString("5,9 */2 * * *");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->calendar.has_value());
  const spv1::StructuredCalendarSpec& s = *c->calendar;
  ASSERT_EQ(s.minute_size(), 2);
  EXPECT_EQ(s.minute(0).start(), 5);
  EXPECT_EQ(s.minute(1).start(), 9);
  EXPECT_EQ(s.hour(0).start(), 0);
  EXPECT_EQ(s.hour(0).end(), 23);
  EXPECT_EQ(s.hour(0).step(), 2);
  EXPECT_EQ(s.day_of_month(0).end(), 31);
  EXPECT_EQ(s.day_of_week(0).end(), 6);
  EXPECT_EQ(s.year_size(), 0);

  c = ParseCronString("CRON_TZ=US/Pacific 55 55,57 5 2/2 * wed-thurs *  # explanation");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->timezone_name, "US/Pacific");
  EXPECT_EQ(c->calendar->comment(), "explanation");
  EXPECT_EQ(c->calendar->day_of_month(0).start(), 2);
  EXPECT_EQ(c->calendar->day_of_month(0).end(), 31);
  EXPECT_EQ(c->calendar->day_of_month(0).step(), 2);
  EXPECT_EQ(c->calendar->day_of_week(0).start(), 3);
  EXPECT_EQ(c->calendar->day_of_week(0).end(), 4);

  c = ParseCronString("@every 5h/45m");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->calendar.has_value());
  EXPECT_EQ(c->interval->interval().seconds(), 5 * 3600);
  EXPECT_EQ(c->interval->phase().seconds(), 45 * 60);

  // CRON_TZ is copied to timezone_name in the canonical spec.
  CompiledSpec tz = Cron("TZ=Africa/Johannesburg 0 6 * * *");
  EXPECT_EQ(tz.canonical().timezone_name(), "Africa/Johannesburg");
  EXPECT_EQ(tz.canonical().cron_string_size(), 0);
  EXPECT_EQ(tz.Next(Utc(2026, 1, 1)), Utc(2026, 1, 1, 4));
}

TEST(Cron, SundayRepresentations) {
  // From Temporal's TestCalendarMatch: all of these include Sunday 2022-03-06 and exclude
  // Monday 2022-03-07 (except "*" and "0-3").
  for (const char* dow :
       {"0", "7", "sun", "*", "0-3", "5-7", "5-7/2", "6-7", "2-7/5", "0-7/7", "0/7"}) {
    CompiledSpec cs = Cron(std::string("0 0 * * ") + dow);
    EXPECT_EQ(cs.Next(Utc(2022, 3, 5, 12)), Utc(2022, 3, 6)) << dow;
  }
  for (const char* dow : {"0", "7", "sun", "5-7", "5-7/2", "6-7", "2-7/5", "0-7/7", "0/7"}) {
    CompiledSpec cs = Cron(std::string("0 0 * * ") + dow);
    EXPECT_NE(cs.Next(Utc(2022, 3, 6, 12)), Utc(2022, 3, 7)) << dow;
  }
}

// ---------------------------------------------------------------------------------------------
// Time zones and DST (America/New_York 2026: spring forward Sun 2026-03-08 02:00 EST -> 03:00
// EDT; fall back Sun 2026-11-01 02:00 EDT -> 01:00 EST).
//
// Behaviour chosen = Temporal's (ScheduleSpec.timezone_name proto comment, and calendar.go with
// its TestCalendarNextDST): calendar fields match the wall clock literally.
//  - Spring forward: 02:00-02:59 do not exist on 2026-03-08, so "0 2 * * *" does not fire that
//    day at all (no shift to 03:00); the next run is 2026-03-09 02:00 EDT.
//  - Fall back: 01:00-01:59 happen twice on 2026-11-01, so "30 1 * * *" fires TWICE, at
//    01:30 EDT (05:30Z) and 01:30 EST (06:30Z). 02:00 happens once (EST), so "0 2 * * *" fires
//    once. Temporal fires twice rather than once; we mirror it for wire compatibility.

TEST(CronDst, NewYorkSpringForwardSkipsTheMissingHour) {
  CompiledSpec cs = Cron("CRON_TZ=America/New_York 0 2 * * *");
  EXPECT_EQ(cs.Next(Utc(2026, 3, 6, 12)), Utc(2026, 3, 7, 7));  // 02:00 EST = 07:00Z
  EXPECT_EQ(cs.Next(Utc(2026, 3, 7, 7)), Utc(2026, 3, 9, 6));   // skips 03-08; 02:00 EDT
  EXPECT_EQ(cs.Next(Utc(2026, 3, 9, 6)), Utc(2026, 3, 10, 6));

  // Hourly on the spring-forward day: 23 runs (00:00, 01:00, 03:00, ... 23:00).
  CompiledSpec hourly = Cron("CRON_TZ=America/New_York 0 * * * *");
  auto day = hourly.MatchingTimes(Utc(2026, 3, 8, 5) - seconds(1), Utc(2026, 3, 9, 3, 59, 59), 100);
  EXPECT_EQ(day.size(), 23u);
  EXPECT_EQ(hourly.Next(Utc(2026, 3, 8, 6)), Utc(2026, 3, 8, 7));  // 01:00 EST -> 03:00 EDT
  EXPECT_EQ(LocalClock(Utc(2026, 3, 8, 7), "America/New_York").hours().count(), 3);

  // Every 30 minutes: 01:30 EST is followed directly by 03:00 EDT.
  CompiledSpec half = Cron("CRON_TZ=America/New_York */30 * * * *");
  EXPECT_EQ(half.Next(Utc(2026, 3, 8, 6, 30)), Utc(2026, 3, 8, 7));
}

TEST(CronDst, NewYorkFallBackFiresOnceAtTwoAndTwiceAtOneThirty) {
  CompiledSpec two = Cron("CRON_TZ=America/New_York 0 2 * * *");
  EXPECT_EQ(two.Next(Utc(2026, 10, 31, 6)), Utc(2026, 11, 1, 7));  // 02:00 EST, once
  EXPECT_EQ(two.Next(Utc(2026, 11, 1, 7)), Utc(2026, 11, 2, 7));

  CompiledSpec one_thirty = Cron("CRON_TZ=America/New_York 30 1 * * *");
  EXPECT_EQ(Seq(one_thirty, Utc(2026, 10, 31, 5, 30), 3),
            (std::vector<TimePoint>{Utc(2026, 11, 1, 5, 30),     // 01:30 EDT
                                    Utc(2026, 11, 1, 6, 30),     // 01:30 EST (again)
                                    Utc(2026, 11, 2, 6, 30)}));  // next day, EST
  for (TimePoint t : {Utc(2026, 11, 1, 5, 30), Utc(2026, 11, 1, 6, 30)}) {
    auto c = LocalClock(t, "America/New_York");
    EXPECT_EQ(c.hours().count(), 1);
    EXPECT_EQ(c.minutes().count(), 30);
  }

  // Hourly on the fall-back day: 25 runs.
  CompiledSpec hourly = Cron("CRON_TZ=America/New_York 0 * * * *");
  EXPECT_EQ(hourly.MatchingTimes(Utc(2026, 11, 1, 4) - seconds(1), Utc(2026, 11, 2, 4, 59, 59), 100)
                .size(),
            25u);
}

TEST(CronDst, TemporalPacificSequences) {
  // Temporal's TestCalendarNextDST, including its check that every start second between two
  // results leads to the later one (sampled every 7s to keep the test fast).
  auto check = [](const std::string& cron, TimePoint start, std::vector<TimePoint> want) {
    CompiledSpec cs = Cron(cron);
    for (TimePoint exp : want) {
      TimePoint next = cs.Next(start);
      ASSERT_EQ(Fmt(next), Fmt(exp)) << cron;
      for (TimePoint t = start; t < next; t += seconds(7)) ASSERT_EQ(cs.Next(t), exp) << Fmt(t);
      start = next;
    }
  };
  // US/Pacific: 2022-03-13 has no 02:33:33 (PST = UTC-8, PDT = UTC-7).
  check("CRON_TZ=US/Pacific 33 33 2 * * * *", Utc(2022, 3, 12, 4),
        {Utc(2022, 3, 12, 10, 33, 33), Utc(2022, 3, 14, 9, 33, 33)});
  // 2021-11-07 has two 1:33:33s and two 1:44:33s.
  check("CRON_TZ=US/Pacific 33 33,44 1 * * * *", Utc(2021, 11, 7, 7, 15, 15),
        {Utc(2021, 11, 7, 8, 33, 33), Utc(2021, 11, 7, 8, 44, 33), Utc(2021, 11, 7, 9, 33, 33),
         Utc(2021, 11, 7, 9, 44, 33), Utc(2021, 11, 8, 9, 33, 33)});
}

// Next() against a brute-force reference (every whole minute, the zone's wall clock at that
// instant computed with date/tz directly), for random calendars around every 2026 offset change
// of zones with unusual DST: at midnight (Havana, Beirut), at -01:00 local (Nuuk), 30 minutes
// (Lord_Howe), negative DST (Dublin), southern hemisphere (Sydney, Santiago).
TEST(CronDst, MatchesBruteForceAroundTransitions) {
  std::mt19937 rng(20260308);
  const char* zones[] = {"America/New_York", "Europe/London",    "America/Havana",
                         "America/Nuuk",     "Asia/Beirut",      "Australia/Lord_Howe",
                         "Europe/Dublin",    "Australia/Sydney", "America/Santiago"};
  int checked = 0;
  for (const char* zone_name : zones) {
    const date::time_zone* zone = date::locate_zone(zone_name);
    std::vector<TimePoint> transitions;
    date::sys_info info = zone->get_info(date::sys_days(date::year(2026) / 1 / 1));
    while (info.end < date::sys_days(date::year(2027) / 1 / 1)) {
      transitions.push_back(TimePoint(info.end.time_since_epoch()));
      info = zone->get_info(info.end);
    }
    ASSERT_FALSE(transitions.empty()) << zone_name;
    for (TimePoint transition : transitions) {
      for (int trial = 0; trial < 12; ++trial) {
        spv1::ScheduleSpec spec;
        spec.set_timezone_name(zone_name);
        spv1::StructuredCalendarSpec* cal = spec.add_structured_calendar();
        std::vector<bool> hour_ok(24), minute_ok(60);
        *cal->add_second() = R(0);
        for (int h = 0; h < 24; ++h) {
          if (rng() % 3 == 0 || (h == 0 && trial % 4 == 0)) {
            *cal->add_hour() = R(h);
            hour_ok[h] = true;
          }
        }
        int step = 1 + static_cast<int>(rng() % 40);
        int start = static_cast<int>(rng() % 60);
        *cal->add_minute() = R(start, 59, step);
        for (int m = start; m < 60; m += step) minute_ok[m] = true;
        *cal->add_day_of_month() = R(1, 31);
        *cal->add_month() = R(1, 12);
        *cal->add_day_of_week() = R(0, 6);
        CompiledSpec cs = MustCompile(spec);

        TimePoint after = transition - hours(30) + seconds(rng() % (60 * 3600));
        auto matches = [&](TimePoint t) {
          auto local =
              date::make_zoned(zone, std::chrono::time_point_cast<seconds>(t)).get_local_time();
          date::hh_mm_ss<seconds> hms(local - date::floor<date::days>(local));
          return hour_ok[hms.hours().count()] && minute_ok[hms.minutes().count()] &&
                 hms.seconds().count() == 0;
        };
        TimePoint want = TimePoint::max();
        TimePoint t = std::chrono::floor<minutes>(after) + minutes(1);
        for (int i = 0; i < 4 * 24 * 60; ++i, t += minutes(1)) {
          if (matches(t)) {
            want = t;
            break;
          }
        }
        TimePoint got = cs.Next(after);
        if (want == TimePoint::max()) {
          EXPECT_GT(got, after + hours(24 * 4 - 1)) << zone_name;
        } else {
          ASSERT_EQ(Fmt(got), Fmt(want))
              << zone_name << " after " << Fmt(after) << " trial " << trial;
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 150);
  std::cout << "[ info     ] " << checked << " random calendars checked\n";
}

// Day-level skipping (years, months, days of month and week) against a brute force over every
// hour of ~14 months, in UTC and Johannesburg.
TEST(Spec, DateFieldsMatchBruteForce) {
  std::mt19937 rng(424242);
  int found = 0;
  for (int trial = 0; trial < 120; ++trial) {
    const std::string zone = trial % 2 ? "Africa/Johannesburg" : "UTC";
    spv1::ScheduleSpec spec;
    spec.set_timezone_name(zone);
    spv1::StructuredCalendarSpec* cal = spec.add_structured_calendar();
    std::vector<bool> hour_ok(24), dom_ok(32), month_ok(13), dow_ok(7), year_ok(2101, true);
    auto pick = [&](int lo, int hi, int one_in, std::vector<bool>& ok,
                    google::protobuf::RepeatedPtrField<spv1::Range>* ranges) {
      for (int v = lo; v <= hi; ++v) {
        if (rng() % one_in == 0) {
          *ranges->Add() = R(v);
          ok[v] = true;
        }
      }
      if (ranges->empty()) {  // keep every field satisfiable
        *ranges->Add() = R(lo);
        ok[lo] = true;
      }
    };
    *cal->add_second() = R(0);
    *cal->add_minute() = R(0);
    pick(0, 23, 6, hour_ok, cal->mutable_hour());
    pick(1, 31, 1 + static_cast<int>(rng() % 8), dom_ok, cal->mutable_day_of_month());
    pick(1, 12, 1 + static_cast<int>(rng() % 4), month_ok, cal->mutable_month());
    pick(0, 6, 1 + static_cast<int>(rng() % 3), dow_ok, cal->mutable_day_of_week());
    if (trial % 5 == 0) {
      std::fill(year_ok.begin(), year_ok.end(), false);
      *cal->add_year() = R(2027);
      year_ok[2027] = true;
    }
    CompiledSpec cs = MustCompile(spec);
    const TimePoint after = Utc(2026, 1, 1) + hours(rng() % (24 * 200)) + seconds(rng() % 3600);
    const auto* tz = date::locate_zone(zone);
    TimePoint want = TimePoint::max();
    for (TimePoint t = std::chrono::floor<hours>(after) + hours(1); t < after + hours(24 * 430);
         t += hours(1)) {
      auto local = date::make_zoned(tz, std::chrono::time_point_cast<seconds>(t)).get_local_time();
      auto day = date::floor<date::days>(local);
      date::year_month_day ymd(day);
      int h = static_cast<int>(date::hh_mm_ss<seconds>(local - day).hours().count());
      int y = static_cast<int>(ymd.year());
      if (y <= 2100 && year_ok[y] && month_ok[static_cast<unsigned>(ymd.month())] &&
          dom_ok[static_cast<unsigned>(ymd.day())] && dow_ok[date::weekday(day).c_encoding()] &&
          hour_ok[h]) {
        want = t;
        break;
      }
    }
    TimePoint got = cs.Next(after);
    if (want == TimePoint::max()) {
      EXPECT_GE(got, after + hours(24 * 430)) << "trial " << trial;
    } else {
      ++found;
      ASSERT_EQ(Fmt(got), Fmt(want)) << "trial " << trial << " after " << Fmt(after);
    }
  }
  EXPECT_GT(found, 60);
}

TEST(TimeZones, DstBeyond2037UsesTheTzifFooterRule) {
  // Debian's TZif files list transitions up to 2037; later ones come from the POSIX footer.
  CompiledSpec ny = Cron("CRON_TZ=America/New_York 0 12 * * *");
  EXPECT_EQ(ny.Next(Utc(2040, 7, 1)), Utc(2040, 7, 1, 16));    // EDT
  EXPECT_EQ(ny.Next(Utc(2040, 12, 1)), Utc(2040, 12, 1, 17));  // EST
  // 2040 spring forward is Sunday 2040-03-11: no 02:30 that day.
  CompiledSpec gap = Cron("CRON_TZ=America/New_York 30 2 * * *");
  EXPECT_EQ(gap.Next(Utc(2040, 3, 10, 7, 30)), Utc(2040, 3, 12, 6, 30));
  // Southern hemisphere: Sydney is AEDT (UTC+11) in January 2045, AEST (UTC+10) in July.
  CompiledSpec syd = Cron("CRON_TZ=Australia/Sydney 0 12 * * *");
  EXPECT_EQ(syd.Next(Utc(2045, 1, 10)), Utc(2045, 1, 10, 1));
  EXPECT_EQ(syd.Next(Utc(2045, 7, 10)), Utc(2045, 7, 10, 2));
}

TEST(TimeZones, PosixFooterParsing) {
  auto rule = ParsePosixTz("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_NE(rule, nullptr);
  auto span = PosixTzSpanAt(
      *rule, std::chrono::duration_cast<seconds>(Utc(2050, 7, 1).time_since_epoch()).count());
  EXPECT_EQ(span.offset, -4 * 3600);
  // 2050-03-13 02:00 EST = 07:00Z .. 2050-11-06 02:00 EDT = 06:00Z.
  EXPECT_EQ(TimePoint(seconds(span.begin)), Utc(2050, 3, 13, 7));
  EXPECT_EQ(TimePoint(seconds(span.end)), Utc(2050, 11, 6, 6));
  ASSERT_NE(ParsePosixTz("<+0330>-3:30"), nullptr);
  EXPECT_EQ(PosixTzSpanAt(*ParsePosixTz("<+0330>-3:30"), 0).offset, 3 * 3600 + 1800);
  ASSERT_NE(ParsePosixTz("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1"), nullptr);
  EXPECT_EQ(ParsePosixTz(""), nullptr);
  EXPECT_EQ(ParsePosixTz("EST5EDT,M13.2.0,M11.1.0"), nullptr);
}

TEST(TimeZones, EuropeLondonRepeatedHourEdgeCase) {
  // Temporal's TestCalendarDSTStartInRepeatedHourButNotEnd: Sunday 2 January at 00:01.
  spv1::ScheduleSpec spec;
  spec.set_timezone_name("Europe/London");
  spv1::CalendarSpec* cal = spec.add_calendar();
  cal->set_second("0");
  cal->set_minute("1");
  cal->set_hour("0");
  cal->set_day_of_month("2");
  cal->set_month("Jan");
  cal->set_day_of_week("Sun");
  CompiledSpec cs = MustCompile(spec);
  EXPECT_EQ(cs.Next(Utc(2004, 1, 1, 0, 0, 5)), Utc(2005, 1, 2, 0, 1));
  EXPECT_EQ(cs.Next(Utc(2004, 10, 31, 1, 7, 3)), Utc(2005, 1, 2, 0, 1));
}

// ---------------------------------------------------------------------------------------------
// Intervals, calendars, exclusions, bounds

TEST(Spec, IntervalWithPhase) {
  // Examples from the IntervalSpec proto comment.
  spv1::ScheduleSpec spec;
  spv1::IntervalSpec* iv = spec.add_interval();
  iv->mutable_interval()->set_seconds(3600);
  iv->mutable_phase()->set_seconds(19 * 60);
  CompiledSpec hourly19 = MustCompile(spec);
  EXPECT_EQ(hourly19.Next(Utc(2026, 5, 1, 10, 30)), Utc(2026, 5, 1, 11, 19));
  EXPECT_EQ(hourly19.Next(Utc(2026, 5, 1, 11, 19)), Utc(2026, 5, 1, 12, 19));

  iv->mutable_interval()->set_seconds(28 * 86400);
  iv->mutable_phase()->set_seconds(0);
  EXPECT_EQ(MustCompile(spec).Next(Utc(2022, 2, 16)), Utc(2022, 2, 17));
  iv->mutable_phase()->set_seconds(3 * 86400 + 5 * 3600 + 23 * 60);
  EXPECT_EQ(MustCompile(spec).Next(Utc(2022, 2, 16)), Utc(2022, 2, 20, 5, 23));

  // Sub-second parts are truncated; the result is strictly after `after`.
  iv->mutable_interval()->set_seconds(60);
  iv->mutable_interval()->set_nanos(500000000);
  iv->mutable_phase()->set_seconds(0);
  CompiledSpec minutely = MustCompile(spec);
  EXPECT_EQ(minutely.Next(Utc(2026, 5, 1, 10) + std::chrono::milliseconds(1)),
            Utc(2026, 5, 1, 10, 1));
}

TEST(Spec, StructuredCalendarRangesAndSteps) {
  spv1::ScheduleSpec spec;
  spv1::StructuredCalendarSpec* cal = spec.add_structured_calendar();
  *cal->add_second() = R(0);
  *cal->add_minute() = R(0, 45, 15);  // 0,15,30,45
  *cal->add_hour() = R(9, 17);        // 9..17
  *cal->add_hour() = R(20);           // and 20
  *cal->add_day_of_month() = R(1, 31);
  *cal->add_month() = R(1, 12);
  *cal->add_day_of_week() = R(1, 5);  // Mon-Fri
  CompiledSpec cs = MustCompile(spec);
  // Monday 2026-01-05.
  EXPECT_EQ(cs.Next(Utc(2026, 1, 5, 8, 59)), Utc(2026, 1, 5, 9));
  EXPECT_EQ(cs.Next(Utc(2026, 1, 5, 9, 50)), Utc(2026, 1, 5, 10));
  EXPECT_EQ(cs.Next(Utc(2026, 1, 5, 17, 45)), Utc(2026, 1, 5, 20));
  EXPECT_EQ(cs.Next(Utc(2026, 1, 9, 20, 45)), Utc(2026, 1, 12, 9));  // Fri -> Mon
  // Per weekday: 9 hours x 4 + 4 at 20:xx = 40; a week has 200.
  EXPECT_EQ(cs.MatchingTimes(Utc(2026, 1, 4), Utc(2026, 1, 11), 1000).size(), 200u);

  // A year range and the 29th of February: the next one is in 2028.
  spv1::ScheduleSpec leap;
  cal = leap.add_structured_calendar();
  *cal->add_second() = R(0);
  *cal->add_minute() = R(0);
  *cal->add_hour() = R(12);
  *cal->add_day_of_month() = R(29);
  *cal->add_month() = R(2);
  *cal->add_day_of_week() = R(0, 6);
  *cal->add_year() = R(2026, 2040, 2);  // even years
  EXPECT_EQ(MustCompile(leap).Next(Utc(2026, 1, 1)), Utc(2028, 2, 29, 12));

  // An impossible date never matches (and does not hang): 31 February.
  cal->mutable_day_of_month(0)->set_start(31);
  cal->clear_year();
  EXPECT_EQ(MustCompile(leap).Next(Utc(2026, 1, 1)), TimePoint::max());

  // As in Temporal, a field without ranges matches nothing (only year defaults to all).
  spv1::ScheduleSpec empty;
  empty.add_structured_calendar()->add_hour()->set_start(6);
  EXPECT_EQ(MustCompile(empty).Next(Utc(2026, 1, 1)), TimePoint::max());
}

TEST(Spec, CalendarStringForm) {
  spv1::ScheduleSpec spec;
  spv1::CalendarSpec* cal = spec.add_calendar();
  cal->set_minute("*/20");
  cal->set_hour("8-10");
  cal->set_day_of_week("sat,sunday");
  CompiledSpec cs = MustCompile(spec);
  ASSERT_EQ(cs.canonical().calendar_size(), 0);
  ASSERT_EQ(cs.canonical().structured_calendar_size(), 1);
  // Saturday 2026-01-10: 08:00, 08:20, ..., 10:40 = 9 runs; Sunday the same.
  EXPECT_EQ(cs.MatchingTimes(Utc(2026, 1, 5), Utc(2026, 1, 12), 100).size(), 18u);
  EXPECT_EQ(cs.Next(Utc(2026, 1, 5)), Utc(2026, 1, 10, 8));
}

TEST(Spec, Exclusions) {
  spv1::ScheduleSpec spec;
  spec.add_cron_string("0 * * * *");
  spv1::StructuredCalendarSpec* ex = spec.add_exclude_structured_calendar();
  *ex->add_second() = R(0);
  *ex->add_minute() = R(0, 59);
  *ex->add_hour() = R(12, 13);
  *ex->add_day_of_month() = R(1, 31);
  *ex->add_month() = R(1, 12);
  *ex->add_day_of_week() = R(0, 6);
  CompiledSpec cs = MustCompile(spec);
  EXPECT_EQ(cs.Next(Utc(2026, 1, 5, 11)), Utc(2026, 1, 5, 14));
  EXPECT_TRUE(cs.Excluded(Utc(2026, 1, 5, 12)));
  EXPECT_FALSE(cs.Excluded(Utc(2026, 1, 5, 14)));
  EXPECT_EQ(cs.MatchingTimes(Utc(2026, 1, 5) - seconds(1), Utc(2026, 1, 5, 23), 100).size(), 22u);

  // The deprecated string form, in the spec's zone: no runs on weekends in Johannesburg.
  spv1::ScheduleSpec weekend;
  weekend.set_timezone_name("Africa/Johannesburg");
  weekend.add_cron_string("0 6 * * *");
  weekend.add_exclude_calendar()->set_day_of_week(
      "sat,sun");  // "sat-sun" is End before Start, as in Temporal
  weekend.mutable_exclude_calendar(0)->set_hour("*");
  weekend.mutable_exclude_calendar(0)->set_minute("*");
  CompiledSpec w = MustCompile(weekend);
  EXPECT_EQ(w.canonical().exclude_structured_calendar_size(), 1);
  EXPECT_EQ(w.Next(Utc(2026, 1, 9, 4)), Utc(2026, 1, 12, 4));  // Fri 06:00 SAST -> Mon

  // Everything excluded: the search stops at the iteration bound instead of spinning.
  spv1::ScheduleSpec all;
  all.add_cron_string("* * * * * * *");  // every second
  all.add_exclude_calendar()->set_second("*");
  all.mutable_exclude_calendar(0)->set_minute("*");
  all.mutable_exclude_calendar(0)->set_hour("*");
  Result<CompiledSpec> bounded = CompiledSpec::Compile(all, CompileOptions{10000});
  ASSERT_TRUE(bounded.ok());
  Result<NextTime> r = bounded->GetNextTime("seed", Utc(2026, 1, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bounded->Next(Utc(2026, 1, 1)), TimePoint::max());
}

TEST(Spec, StartAndEndBoundsAreInclusive) {
  spv1::ScheduleSpec spec;
  spec.add_cron_string("@hourly");
  spec.mutable_start_time()->set_seconds(
      std::chrono::duration_cast<seconds>(Utc(2026, 1, 1, 5).time_since_epoch()).count());
  spec.mutable_end_time()->set_seconds(
      std::chrono::duration_cast<seconds>(Utc(2026, 1, 1, 8).time_since_epoch()).count());
  CompiledSpec cs = MustCompile(spec);
  EXPECT_EQ(cs.Next(Utc(2025, 6, 1)), Utc(2026, 1, 1, 5));     // start_time itself matches
  EXPECT_EQ(cs.Next(Utc(2026, 1, 1, 7)), Utc(2026, 1, 1, 8));  // end_time itself matches
  EXPECT_EQ(cs.Next(Utc(2026, 1, 1, 8)), TimePoint::max());
  EXPECT_EQ(cs.MatchingTimes(Utc(2020, 1, 1), Utc(2030, 1, 1), 100).size(), 4u);

  // Nothing after 2100.
  EXPECT_EQ(Cron("@yearly").Next(Utc(2100, 1, 1)), TimePoint::max());
  EXPECT_EQ(Cron("@yearly").Next(Utc(2099, 6, 1)), Utc(2100, 1, 1));
}

TEST(Spec, UnionOfCalendarsAndIntervals) {
  spv1::ScheduleSpec spec;
  spec.add_cron_string("0 6 * * *");
  spec.add_cron_string("0 18 * * *");
  spv1::IntervalSpec* iv = spec.add_interval();
  iv->mutable_interval()->set_seconds(8 * 3600);
  iv->mutable_phase()->set_seconds(3600);  // 01:00, 09:00, 17:00 UTC
  CompiledSpec cs = MustCompile(spec);
  EXPECT_EQ(Seq(cs, Utc(2026, 1, 1), 5),
            (std::vector<TimePoint>{Utc(2026, 1, 1, 1), Utc(2026, 1, 1, 6), Utc(2026, 1, 1, 9),
                                    Utc(2026, 1, 1, 17), Utc(2026, 1, 1, 18)}));
}

TEST(Spec, JitterIsDeterministicAndBounded) {
  spv1::ScheduleSpec spec;
  spec.add_cron_string("@hourly");
  spec.mutable_jitter()->set_seconds(600);
  CompiledSpec cs = MustCompile(spec);
  std::set<int64_t> offsets;
  for (int h = 0; h < 48; ++h) {
    TimePoint nominal = Utc(2026, 1, 1, h);
    TimePoint j = cs.Jittered(nominal, "ns-id-schedule-a");
    EXPECT_EQ(j, cs.Jittered(nominal, "ns-id-schedule-a"));  // deterministic
    EXPECT_GE(j, nominal);
    EXPECT_LT(j, nominal + seconds(600));
    offsets.insert(std::chrono::duration_cast<std::chrono::milliseconds>(j - nominal).count());
  }
  EXPECT_GT(offsets.size(), 40u);  // spread out, not a constant
  EXPECT_NE(cs.Jittered(Utc(2026, 1, 1, 3), "a"), cs.Jittered(Utc(2026, 1, 1, 3), "b"));

  Result<NextTime> next = cs.GetNextTime("seed", Utc(2026, 1, 1, 0, 30));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->nominal, Utc(2026, 1, 1, 1));
  EXPECT_EQ(next->actual, cs.Jittered(next->nominal, "seed"));

  // Jitter never pushes a run past the following nominal time (1h here).
  spec.mutable_jitter()->set_seconds(5 * 3600);
  CompiledSpec big = MustCompile(spec);
  for (int h = 0; h < 48; ++h) {
    EXPECT_LT(big.Jittered(Utc(2026, 1, 1, h), "x"), Utc(2026, 1, 1, h + 1));
  }
  // No jitter configured: the nominal time.
  EXPECT_EQ(Cron("@hourly").Jittered(Utc(2026, 1, 1, 1), "x"), Utc(2026, 1, 1, 1));

  // ListMatchingTimes (Temporal's ListScheduleMatchingTimes) returns jittered times.
  Result<std::vector<TimePoint>> listed =
      cs.ListMatchingTimes(Utc(2026, 1, 1), Utc(2026, 1, 1, 5, 30), "seed");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 5u);
  EXPECT_EQ((*listed)[0], cs.Jittered(Utc(2026, 1, 1, 1), "seed"));
}

// ---------------------------------------------------------------------------------------------
// Invalid input

TEST(SpecInvalid, RejectedWithInvalidArgument) {
  spv1::ScheduleSpec bad_zone;
  bad_zone.set_timezone_name("Mars/Olympus");
  bad_zone.add_cron_string("@daily");
  ExpectInvalid(bad_zone, "Mars/Olympus");
  ExpectInvalidCron("CRON_TZ=Not/AZone 0 * * * *", "Not/AZone");

  spv1::ScheduleSpec minute61;
  spv1::StructuredCalendarSpec* cal = minute61.add_structured_calendar();
  *cal->add_minute() = R(61);
  ExpectInvalid(minute61, "Minute Start is not in range [0-59]");
  ExpectInvalidCron("61 * * * *", "Minute is not in range [0-59]");
  ExpectInvalidCron("0 24 * * *", "Hour is not in range [0-23]");
  ExpectInvalidCron("0 0 0 * *", "DayOfMonth is not in range [1-31]");
  ExpectInvalidCron("0 0 * 13 *", "Month is not in range [1-12]");
  ExpectInvalidCron("0 0 * * 8", "DayOfWeek is not in range [0-7]");
  ExpectInvalidCron("0 1 2 3 4 1999", "Year is not in range");

  ExpectInvalidCron("*/0 * * * *", "Minute has invalid Step");
  ExpectInvalidCron("1/2/3 * * * *", "too many slashes");
  ExpectInvalidCron("1-2-3 * * * *", "too many dashes");
  ExpectInvalidCron("10-5 * * * *", "End is before Start");
  ExpectInvalidCron("0 0 * * FRI-MON", "End is before Start");
  ExpectInvalidCron("? * * * *", "Minute is not in range");
  ExpectInvalidCron("* * * *", "does not have 5-7 fields");
  ExpectInvalidCron("* * * * * * * *", "does not have 5-7 fields");
  ExpectInvalidCron("@reboot", "does not have 5-7 fields");
  ExpectInvalidCron("@every", "interval after @every");
  ExpectInvalidCron("@every 10x", "unknown unit");
  ExpectInvalidCron("@every 0s", "interval is too small");
  ExpectInvalidCron("@every 1h/2h", "phase must be smaller");
  ExpectInvalidCron("CRON_TZ=UTC", "no fields");

  spv1::ScheduleSpec step_negative;
  cal = step_negative.add_structured_calendar();
  *cal->add_hour() = R(0, 23, -1);
  ExpectInvalid(step_negative, "Hour has invalid Step");

  spv1::ScheduleSpec zero_interval;
  zero_interval.add_interval()->mutable_interval()->set_seconds(0);
  ExpectInvalid(zero_interval, "interval is too small");
  spv1::ScheduleSpec negative_phase;
  negative_phase.add_interval()->mutable_interval()->set_seconds(60);
  negative_phase.mutable_interval(0)->mutable_phase()->set_seconds(-1);
  ExpectInvalid(negative_phase, "phase is negative");

  spv1::ScheduleSpec conflict;
  conflict.set_timezone_name("Europe/London");
  conflict.add_cron_string("CRON_TZ=Africa/Johannesburg 0 6 * * *");
  ExpectInvalid(conflict, "conflicting time zones");
  spv1::ScheduleSpec conflict2;
  conflict2.add_cron_string("CRON_TZ=Africa/Johannesburg 0 6 * * *");
  conflict2.add_cron_string("0 7 * * *");
  ExpectInvalid(conflict2, "conflicting time zones");

  spv1::ScheduleSpec tzdata;
  tzdata.set_timezone_data("TZif2...");
  ExpectInvalid(tzdata, "timezone_data is not supported");

  spv1::ScheduleSpec long_comment;
  long_comment.add_structured_calendar()->set_comment(std::string(201, 'x'));
  ExpectInvalid(long_comment, "comment is too long");
}

TEST(GoDuration, Syntax) {
  EXPECT_EQ(ParseGoDuration("90m").value(), minutes(90));
  EXPECT_EQ(ParseGoDuration("1h30m").value(), minutes(90));
  EXPECT_EQ(ParseGoDuration("1.5h").value(), minutes(90));
  EXPECT_EQ(ParseGoDuration("5d").value(), hours(120));
  EXPECT_EQ(ParseGoDuration("300ms").value(), std::chrono::milliseconds(300));
  EXPECT_EQ(ParseGoDuration("0").value(), Duration(0));
  EXPECT_EQ(ParseGoDuration("-2s").value(), seconds(-2));
  EXPECT_FALSE(ParseGoDuration("").ok());
  EXPECT_FALSE(ParseGoDuration("10").ok());
  EXPECT_FALSE(ParseGoDuration("h").ok());
  EXPECT_FALSE(ParseGoDuration("1y").ok());
}

// ---------------------------------------------------------------------------------------------
// Performance: a 3-year hourly backfill.

TEST(SpecPerformance, ThreeYearsHourly) {
  for (const char* zone : {"UTC", "America/New_York"}) {
    spv1::ScheduleSpec spec;
    spec.set_timezone_name(zone);
    spec.add_cron_string("@hourly");
    CompiledSpec cs = MustCompile(spec);
    auto begin = std::chrono::steady_clock::now();
    // 2026-01-01T00:00Z .. 2028-12-31T23:00Z: 365 + 365 + 366 days = 26,304 hours (26,280 plus
    // the leap day). In New York the 23-hour and 25-hour DST days cancel out.
    std::vector<TimePoint> times =
        cs.MatchingTimes(Utc(2026, 1, 1) - seconds(1), Utc(2029, 1, 1) - seconds(1), 100000);
    auto elapsed = std::chrono::steady_clock::now() - begin;
    EXPECT_EQ(times.size(), 26304u) << zone;
    for (size_t i = 1; i < times.size(); ++i) ASSERT_EQ(times[i] - times[i - 1], hours(1));
    std::cout << "[ info     ] 3 years hourly in " << zone << ": " << times.size() << " times in "
              << std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() / 1000.0
              << " ms\n";
  }
}

}  // namespace
}  // namespace temporalite::scheduler
