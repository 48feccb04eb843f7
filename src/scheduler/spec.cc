#include "scheduler/spec.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "scheduler/cron.h"

namespace temporalite::scheduler {

namespace {

constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
// 2101-01-01T00:00:00Z: no time at or after this matches (Temporal's maxCalendarYear).
constexpr int64_t kEndOfCalendar = 4133980800;

Duration ToDuration(const google::protobuf::Duration& d) {
  constexpr int64_t kMaxSeconds = 9'000'000'000;
  int64_t s = std::clamp<int64_t>(d.seconds(), -kMaxSeconds, kMaxSeconds);
  return std::chrono::seconds(s) + std::chrono::nanoseconds(d.nanos());
}

// Clamped to what TimePoint (int64 nanoseconds, years 1678-2261) can hold.
TimePoint ToTimePoint(const google::protobuf::Timestamp& ts) {
  constexpr int64_t kMaxSeconds = 9'000'000'000;
  int64_t s = std::clamp<int64_t>(ts.seconds(), -kMaxSeconds, kMaxSeconds);
  return TimePoint(std::chrono::seconds(s) + std::chrono::nanoseconds(ts.nanos()));
}

TimePoint FromUnix(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

// Whole seconds of t, rounded down (Go's Time.Unix()).
int64_t FloorSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

// 64-bit FNV-1a followed by a murmur-style finaliser: stable across platforms and releases.
uint64_t Hash(int64_t nominal_seconds, std::string_view seed) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;
  };
  for (int i = 7; i >= 0; --i) mix(static_cast<unsigned char>(nominal_seconds >> (i * 8)));
  for (char c : seed) mix(static_cast<unsigned char>(c));
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

Status ValidateInterval(const spv1::IntervalSpec& iv) {
  Duration interval = ToDuration(iv.interval());
  Duration phase = ToDuration(iv.phase());
  if (interval < std::chrono::seconds(1)) {
    return InvalidArgument("interval is too small: it must be at least 1s");
  }
  if (phase < Duration(0)) return InvalidArgument("interval phase is negative");
  if (phase >= interval) {
    return InvalidArgument("interval phase must be smaller than the interval");
  }
  return Status::Ok();
}

}  // namespace

Result<spv1::ScheduleSpec> CanonicalizeSpec(const spv1::ScheduleSpec& in) {
  spv1::ScheduleSpec spec = in;
  for (const spv1::CalendarSpec& cal : in.calendar()) {
    Result<spv1::StructuredCalendarSpec> s = ParseCalendarSpec(cal);
    if (!s.ok()) return s.status();
    *spec.add_structured_calendar() = std::move(s).value();
  }
  spec.clear_calendar();
  // exclude_calendar is deprecated in the API but still accepted, as Temporal does.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  for (const spv1::CalendarSpec& cal : in.exclude_calendar()) {
    Result<spv1::StructuredCalendarSpec> s = ParseCalendarSpec(cal);
    if (!s.ok()) return s.status();
    *spec.add_exclude_structured_calendar() = std::move(s).value();
  }
  spec.clear_exclude_calendar();
#pragma GCC diagnostic pop

  // All cron strings must agree on their time zone (present or not), and it must not conflict
  // with timezone_name.
  std::optional<std::string> cron_tz;
  for (const std::string& cs : in.cron_string()) {
    Result<CronSpec> c = ParseCronString(cs);
    if (!c.ok()) return c.status();
    if (cron_tz && *cron_tz != c->timezone_name) {
      return InvalidArgument("conflicting time zones: cron strings name different time zones (\"" +
                             *cron_tz + "\" and \"" + c->timezone_name + "\")");
    }
    cron_tz = c->timezone_name;
    if (c->calendar) *spec.add_structured_calendar() = std::move(*c->calendar);
    if (c->interval) *spec.add_interval() = std::move(*c->interval);
  }
  spec.clear_cron_string();
  if (cron_tz && !cron_tz->empty()) {
    if ((!spec.timezone_name().empty() && spec.timezone_name() != *cron_tz) ||
        !spec.timezone_data().empty()) {
      return InvalidArgument("conflicting time zones: cron string has CRON_TZ=" + *cron_tz +
                             " but timezone_name is \"" + spec.timezone_name() + "\"");
    }
    spec.set_timezone_name(*cron_tz);
  }

  for (const spv1::StructuredCalendarSpec& s : spec.structured_calendar()) {
    TL_RETURN_IF_ERROR(ValidateStructuredCalendar(s));
  }
  for (const spv1::StructuredCalendarSpec& s : spec.exclude_structured_calendar()) {
    TL_RETURN_IF_ERROR(ValidateStructuredCalendar(s));
  }
  for (const spv1::IntervalSpec& iv : spec.interval()) TL_RETURN_IF_ERROR(ValidateInterval(iv));
  return spec;
}

Result<CompiledSpec> CompiledSpec::Compile(const spv1::ScheduleSpec& in, CompileOptions options) {
  Result<spv1::ScheduleSpec> canonical = CanonicalizeSpec(in);
  if (!canonical.ok()) return canonical.status();
  CompiledSpec cs;
  cs.spec_ = std::move(canonical).value();
  cs.options_ = options;
  if (!cs.spec_.timezone_data().empty()) {
    return InvalidArgument(
        "timezone_data is not supported by this server: set timezone_name to an IANA zone name "
        "instead");
  }
  Result<TimeZone> tz = TimeZone::Load(cs.spec_.timezone_name());
  if (!tz.ok()) return tz.status();
  cs.tz_ = std::move(tz).value();
  for (const auto& s : cs.spec_.structured_calendar()) cs.calendars_.emplace_back(s);
  for (const auto& s : cs.spec_.exclude_structured_calendar()) cs.excludes_.emplace_back(s);
  for (const auto& iv : cs.spec_.interval()) {
    // Intervals beyond ~31,000 years cannot fire before 2100 either way; clamping keeps the
    // arithmetic in RawNext far from overflow.
    constexpr int64_t kMaxInterval = 1'000'000'000'000;
    int64_t interval = std::min(iv.interval().seconds(), kMaxInterval);
    cs.intervals_.push_back({interval, std::min(iv.phase().seconds(), interval - 1)});
  }
  cs.has_start_ = cs.spec_.has_start_time();
  cs.has_end_ = cs.spec_.has_end_time();
  if (cs.has_start_) cs.start_time_ = ToTimePoint(cs.spec_.start_time());
  if (cs.has_end_) cs.end_time_ = ToTimePoint(cs.spec_.end_time());
  cs.jitter_ = ToDuration(cs.spec_.jitter());
  return cs;
}

int64_t CompiledSpec::CalendarNext(const CalendarMatcher& cal, int64_t after) const {
  // Walk the zone's spans of constant UTC offset. Within a span local time is utc + offset and
  // increases with utc, so the first match is the first matching local time inside the span's
  // local range. Local times skipped by a gap belong to no span (never match); local times
  // repeated by a fall-back belong to two spans (match twice).
  int64_t t = after + 1;
  while (t < kEndOfCalendar) {
    OffsetSpan span = tz_.SpanAt(t);
    std::optional<int64_t> local = cal.NextLocal(t + span.offset);
    if (!local) return kNone;
    int64_t candidate = *local - span.offset;
    if (candidate < span.end) return candidate;
    t = span.end;
  }
  return kNone;
}

int64_t CompiledSpec::RawNext(int64_t after) const {
  int64_t best = kNone;
  for (const CalendarMatcher& cal : calendars_) best = std::min(best, CalendarNext(cal, after));
  for (const Interval& iv : intervals_) {
    // Truncating division, as Temporal (Go) computes it.
    int64_t next = ((after - iv.phase) / iv.interval + 1) * iv.interval + iv.phase;
    best = std::min(best, next);
  }
  return best;
}

bool CompiledSpec::ExcludedAt(int64_t t) const {
  if (excludes_.empty()) return false;
  CivilTime local = SecondsToCivil(t + tz_.OffsetAt(t));
  for (const CalendarMatcher& ex : excludes_) {
    if (ex.Matches(local)) return true;
  }
  return false;
}

bool CompiledSpec::Excluded(TimePoint t) const { return ExcludedAt(FloorSeconds(t)); }

Result<int64_t> CompiledSpec::NextNominal(TimePoint after) const {
  // Start just before start_time so that start_time itself can match (unset = the epoch).
  const TimePoint floor_after = (has_start_ ? start_time_ : TimePoint{}) - std::chrono::seconds(1);
  int64_t from = FloorSeconds(std::max(after, floor_after));
  for (int64_t i = 0;; ++i) {
    if (options_.max_iterations > 0 && i >= options_.max_iterations) {
      return InvalidArgument(
          "the schedule calendar specification has too many exclusions: no time found after " +
          std::to_string(i) + " excluded candidates. Please modify the specification.");
    }
    int64_t nominal = RawNext(from);
    if (nominal == kNone || nominal >= kEndOfCalendar ||
        (has_end_ && FromUnix(nominal) > end_time_)) {
      return kNone;
    }
    if (!ExcludedAt(nominal)) return nominal;
    from = nominal;
  }
}

Result<NextTime> CompiledSpec::GetNextTime(std::string_view jitter_seed, TimePoint after) const {
  Result<int64_t> nominal = NextNominal(after);
  if (!nominal.ok()) return nominal.status();
  if (*nominal == kNone) return NextTime{};
  return NextTime{FromUnix(*nominal), JitterFor(*nominal, jitter_seed)};
}

TimePoint CompiledSpec::Next(TimePoint after) const {
  Result<int64_t> nominal = NextNominal(after);
  return !nominal.ok() || *nominal == kNone ? TimePoint::max() : FromUnix(*nominal);
}

TimePoint CompiledSpec::JitterFor(int64_t nominal, std::string_view seed) const {
  Duration max_jitter = jitter_;
  if (max_jitter <= Duration(0)) return FromUnix(nominal);
  // Never push a time past the following nominal time.
  int64_t following = RawNext(nominal);
  if (following != kNone)
    max_jitter = std::min<Duration>(max_jitter, std::chrono::seconds(following - nominal));
  // As Temporal: 32 bits of hash scale a range of whole milliseconds (capped at 2^32-1 ms).
  uint64_t ms = static_cast<uint64_t>(
      std::min<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(max_jitter).count(),
                        std::numeric_limits<uint32_t>::max()));
  uint64_t fp = Hash(nominal, seed) >> 32;
  return FromUnix(nominal) + std::chrono::milliseconds((fp * ms) >> 32);
}

TimePoint CompiledSpec::Jittered(TimePoint nominal, std::string_view seed) const {
  return JitterFor(FloorSeconds(nominal), seed);
}

std::vector<TimePoint> CompiledSpec::MatchingTimes(TimePoint start, TimePoint end,
                                                   size_t limit) const {
  std::vector<TimePoint> out;
  TimePoint t = start;
  while (out.size() < limit) {
    TimePoint next = Next(t);
    if (next == TimePoint::max() || next > end) break;
    out.push_back(next);
    t = next;
  }
  return out;
}

Result<std::vector<TimePoint>> CompiledSpec::ListMatchingTimes(TimePoint start, TimePoint end,
                                                               std::string_view jitter_seed,
                                                               size_t limit) const {
  std::vector<TimePoint> out;
  TimePoint t = start;
  while (out.size() < limit) {
    Result<NextTime> next = GetNextTime(jitter_seed, t);
    if (!next.ok()) return next.status();
    t = next->actual;
    if (t == TimePoint::max() || t > end) break;
    out.push_back(t);
  }
  return out;
}

}  // namespace temporalite::scheduler
