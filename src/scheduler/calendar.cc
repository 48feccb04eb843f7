#include "scheduler/calendar.h"

#include <date/date.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <vector>

namespace temporalite::scheduler {

namespace {

enum class ParseMode { kInt, kYear, kMonth, kDayOfWeek };

constexpr std::array<std::string_view, 12> kMonthNames = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};
constexpr std::array<std::string_view, 7> kDayNames = {"sunday",   "monday", "tuesday", "wednesday",
                                                       "thursday", "friday", "saturday"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ParseInt(std::string_view s, int* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// One value: a decimal integer, or a name prefix in month/day-of-week mode. False if it is
// neither or is outside [min_val, max_val].
bool ParseValue(std::string_view s, int min_val, int max_val, ParseMode mode, int* out) {
  auto in_range = [&](int v) {
    *out = v;
    return v >= min_val && v <= max_val;
  };
  if (mode == ParseMode::kMonth && s.size() >= 3) {
    std::string l = Lower(s);
    for (size_t i = 0; i < kMonthNames.size(); ++i) {
      if (kMonthNames[i].starts_with(l)) return in_range(static_cast<int>(i) + 1);
    }
  } else if (mode == ParseMode::kDayOfWeek && s.size() >= 2) {
    std::string l = Lower(s);
    for (size_t i = 0; i < kDayNames.size(); ++i) {
      if (kDayNames[i].starts_with(l)) return in_range(static_cast<int>(i));
    }
  }
  int v = 0;
  return ParseInt(s, &v) && in_range(v);
}

spv1::Range MakeRange(int start, int end, int step) {
  spv1::Range r;
  r.set_start(start);
  if (end != start) r.set_end(end);  // compact form, as Temporal writes it
  if (step != 1) r.set_step(step);
  return r;
}

std::string RangeText(int min_val, int max_val) {
  return "[" + std::to_string(min_val) + "-" + std::to_string(max_val) + "]";
}

// Parses one field expression ("*", "x", "x-z", "x/y", "x-z/y", comma lists) into ranges.
Status ParseField(std::string_view s, std::string_view field, std::string_view def, int min_val,
                  int max_val, ParseMode mode,
                  google::protobuf::RepeatedPtrField<spv1::Range>* out) {
  const std::string f(field);
  s = Trim(s);
  if (s.empty()) s = def;
  if (s == "*" && mode == ParseMode::kYear) return Status::Ok();  // every year: no ranges
  while (true) {
    size_t comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    int step = 1;
    bool has_step = false;
    size_t slashes = std::count(part.begin(), part.end(), '/');
    if (slashes > 1) return InvalidArgument(f + " has too many slashes");
    if (slashes == 1) {
      size_t slash = part.find('/');
      std::string_view step_text = part.substr(slash + 1);
      if (step_text.empty()) return InvalidArgument(f + " missing step value");
      if (!ParseInt(step_text, &step) || step < 1) {
        return InvalidArgument(f + " has invalid Step \"" + std::string(step_text) +
                               "\": expected an integer >= 1");
      }
      part = part.substr(0, slash);
      has_step = true;
    }
    int start = min_val, end = max_val;
    if (part != "*") {
      size_t dashes = std::count(part.begin(), part.end(), '-');
      if (dashes > 1) return InvalidArgument(f + " has too many dashes");
      if (dashes == 1) {
        size_t dash = part.find('-');
        if (!ParseValue(part.substr(0, dash), min_val, max_val, mode, &start)) {
          return InvalidArgument(f + " Start is not in range " + RangeText(min_val, max_val));
        }
        if (!ParseValue(part.substr(dash + 1), start, max_val, mode, &end)) {
          return InvalidArgument(f + " End is before Start or not in range " +
                                 RangeText(min_val, max_val));
        }
      } else {
        if (!ParseValue(part, min_val, max_val, mode, &start)) {
          return InvalidArgument(f + " is not in range " + RangeText(min_val, max_val) +
                                 " (got \"" + std::string(part) + "\")");
        }
        // "x/y" runs from x to the maximum; a bare "x" is just x.
        if (!has_step) end = start;
      }
    }
    // Day of week 7 is Sunday (0). When the range cannot simply be cut at 6 without losing a
    // Sunday (start > 1 with step 1, or 7 reachable by a larger step), add Sunday separately.
    bool skip = false;
    if (mode == ParseMode::kDayOfWeek && end == 7) {
      if ((7 - start) % step == 0 && (step > 1 || start > 1)) {
        *out->Add() = MakeRange(0, 0, 1);
        skip = start == 7;
      }
      end = 6;
    }
    if (!skip) *out->Add() = MakeRange(start, end, step);
    if (comma == std::string_view::npos) break;
    s = s.substr(comma + 1);
  }
  return Status::Ok();
}

// Calls f(v) for every value a field's ranges select (bounded by max_val).
template <typename F>
void ForEachValue(const google::protobuf::RepeatedPtrField<spv1::Range>& ranges, int max_val, F f) {
  for (const spv1::Range& r : ranges) {
    int start = r.start();
    int end = std::max(r.end(), start);
    int step = r.step() <= 0 ? 1 : r.step();
    for (int v = start; v <= end && v <= max_val; v += step) {
      if (v >= 0) f(v);
    }
  }
}

template <typename T>
T Bits(const google::protobuf::RepeatedPtrField<spv1::Range>& ranges, int max_val) {
  T bits = 0;
  ForEachValue(ranges, max_val, [&](int v) { bits |= T{1} << v; });
  return bits;
}

// Lowest set bit >= from, or -1.
template <typename T>
int NextBit(T bits, int from) {
  if (from >= static_cast<int>(sizeof(T) * 8)) return -1;
  T rest = bits >> from;
  return rest == 0 ? -1 : from + std::countr_zero(rest);
}

int Weekday(int y, int m, int d) {
  return static_cast<int>(
      date::weekday(date::sys_days(date::year(y) / date::month(static_cast<unsigned>(m)) /
                                   date::day(static_cast<unsigned>(d))))
          .c_encoding());
}

}  // namespace

Result<spv1::StructuredCalendarSpec> ParseCalendarSpec(const spv1::CalendarSpec& cal) {
  spv1::StructuredCalendarSpec out;
  std::vector<std::string> errors;
  auto field = [&](const std::string& s, std::string_view name, std::string_view def, int lo,
                   int hi, ParseMode mode, google::protobuf::RepeatedPtrField<spv1::Range>* r) {
    Status st = ParseField(s, name, def, lo, hi, mode, r);
    if (!st.ok()) errors.push_back(st.message());
  };
  field(cal.second(), "Second", "0", 0, 59, ParseMode::kInt, out.mutable_second());
  field(cal.minute(), "Minute", "0", 0, 59, ParseMode::kInt, out.mutable_minute());
  field(cal.hour(), "Hour", "0", 0, 23, ParseMode::kInt, out.mutable_hour());
  field(cal.day_of_week(), "DayOfWeek", "*", 0, 7, ParseMode::kDayOfWeek,
        out.mutable_day_of_week());
  field(cal.day_of_month(), "DayOfMonth", "*", 1, 31, ParseMode::kInt, out.mutable_day_of_month());
  field(cal.month(), "Month", "*", 1, 12, ParseMode::kMonth, out.mutable_month());
  field(cal.year(), "Year", "*", kMinCalendarYear, kMaxCalendarYear, ParseMode::kYear,
        out.mutable_year());
  out.set_comment(cal.comment());
  if (!errors.empty()) {
    std::string msg = "invalid calendar spec: ";
    for (size_t i = 0; i < errors.size(); ++i) msg += (i ? ", " : "") + errors[i];
    return InvalidArgument(msg);
  }
  return out;
}

Status ValidateStructuredCalendar(const spv1::StructuredCalendarSpec& cal) {
  std::vector<std::string> errors;
  auto check = [&](const google::protobuf::RepeatedPtrField<spv1::Range>& ranges,
                   const std::string& field, int lo, int hi) {
    for (const spv1::Range& r : ranges) {
      if (r.start() < lo || r.start() > hi) {
        errors.push_back(field + " Start is not in range " + RangeText(lo, hi) + " (got " +
                         std::to_string(r.start()) + ")");
      }
      if (r.end() != 0 && (r.end() < r.start() || r.end() > hi)) {
        errors.push_back(field + " End is before Start or not in range " + RangeText(lo, hi) +
                         " (got " + std::to_string(r.end()) + ")");
      }
      if (r.step() < 0) errors.push_back(field + " has invalid Step (must not be negative)");
    }
  };
  check(cal.second(), "Second", 0, 59);
  check(cal.minute(), "Minute", 0, 59);
  check(cal.hour(), "Hour", 0, 23);
  check(cal.day_of_month(), "DayOfMonth", 1, 31);
  check(cal.month(), "Month", 1, 12);
  check(cal.year(), "Year", kMinCalendarYear, kMaxCalendarYear);
  check(cal.day_of_week(), "DayOfWeek", 0, 6);
  if (cal.comment().size() > kMaxCommentLength) {
    errors.push_back("comment is too long (max " + std::to_string(kMaxCommentLength) + " bytes)");
  }
  if (errors.empty()) return Status::Ok();
  std::string msg = "invalid calendar spec: ";
  for (size_t i = 0; i < errors.size(); ++i) msg += (i ? ", " : "") + errors[i];
  return InvalidArgument(msg);
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

int64_t CivilToSeconds(const CivilTime& c) {
  int64_t days = date::sys_days(date::year(c.year) / date::month(static_cast<unsigned>(c.month)) /
                                date::day(static_cast<unsigned>(c.day)))
                     .time_since_epoch()
                     .count();
  return days * 86400 + c.hour * 3600 + c.minute * 60 + c.second;
}

CivilTime SecondsToCivil(int64_t s) {
  int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
  int64_t sod = s - days * 86400;
  date::year_month_day ymd{date::sys_days(date::days(days))};
  CivilTime c;
  c.year = static_cast<int>(ymd.year());
  c.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  c.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>(sod / 60 % 60);
  c.second = static_cast<int>(sod % 60);
  return c;
}

CalendarMatcher::CalendarMatcher(const spv1::StructuredCalendarSpec& cal) {
  second_ = Bits<uint64_t>(cal.second(), 59);
  minute_ = Bits<uint64_t>(cal.minute(), 59);
  hour_ = Bits<uint32_t>(cal.hour(), 23);
  day_of_month_ = Bits<uint32_t>(cal.day_of_month(), 31);
  month_ = Bits<uint16_t>(cal.month(), 12);
  day_of_week_ = Bits<uint8_t>(cal.day_of_week(), 6);
  all_years_ = cal.year_size() == 0;
  ForEachValue(cal.year(), kMaxCalendarYear, [&](int y) {
    if (y >= kMinCalendarYear)
      years_[(y - kMinCalendarYear) / 64] |= uint64_t{1} << ((y - kMinCalendarYear) % 64);
  });
  never_ = second_ == 0 || minute_ == 0 || hour_ == 0 || (day_of_month_ >> 1) == 0 ||
           (month_ >> 1) == 0 || day_of_week_ == 0 ||
           (!all_years_ && years_[0] == 0 && years_[1] == 0);
}

bool CalendarMatcher::YearMatches(int y) const {
  if (y > kMaxCalendarYear) return false;
  if (all_years_) return true;
  if (y < kMinCalendarYear) return false;
  int i = y - kMinCalendarYear;
  return (years_[i / 64] >> (i % 64)) & 1;
}

bool CalendarMatcher::DayMatches(int day_of_month, int weekday) const {
  return ((day_of_month_ >> day_of_month) & 1) && ((day_of_week_ >> weekday) & 1);
}

bool CalendarMatcher::Matches(const CivilTime& c) const {
  return !never_ && YearMatches(c.year) && ((month_ >> c.month) & 1) &&
         DayMatches(c.day, Weekday(c.year, c.month, c.day)) && ((hour_ >> c.hour) & 1) &&
         ((minute_ >> c.minute) & 1) && ((second_ >> c.second) & 1);
}

std::optional<int64_t> CalendarMatcher::NextLocal(int64_t local_seconds) const {
  if (never_) return std::nullopt;
  CivilTime c = SecondsToCivil(local_seconds);
  int& y = c.year;
  int& mo = c.month;
  int& d = c.day;
  int& h = c.hour;
  int& mi = c.minute;
  int& s = c.second;
  // Each field is moved to its next allowed value; when a field runs out, the next larger field
  // is bumped by one (smaller fields reset) and the carries are normalised at the loop top.
  while (true) {
    if (s >= 60) s = 0, ++mi;
    if (mi >= 60) mi = 0, ++h;
    if (h >= 24) h = 0, ++d;
    if (mo <= 12 && d > DaysInMonth(y, mo)) d = 1, ++mo;  // mo == 13 only with d == 1
    if (mo > 12) mo = 1, ++y;
    if (y > kMaxCalendarYear) return std::nullopt;
    if (!YearMatches(y)) {
      if (y < kMinCalendarYear && !all_years_) {
        y = kMinCalendarYear;
      } else {
        ++y;
      }
      mo = 1, d = 1, h = 0, mi = 0, s = 0;
      continue;
    }
    if (!((month_ >> mo) & 1)) {
      int next = NextBit(month_, mo);
      d = 1, h = 0, mi = 0, s = 0;
      if (next < 0) {
        mo = 13;
        continue;
      }
      mo = next;
    }
    const int dim = DaysInMonth(y, mo);
    int wd = Weekday(y, mo, d);
    if (!DayMatches(d, wd)) {
      do {
        ++d;
        wd = (wd + 1) % 7;
      } while (d <= dim && !DayMatches(d, wd));
      h = 0, mi = 0, s = 0;
      if (d > dim) continue;
    }
    if (!((hour_ >> h) & 1)) {
      int next = NextBit(hour_, h);
      mi = 0, s = 0;
      if (next < 0) {
        h = 24;
        continue;
      }
      h = next;
    }
    if (!((minute_ >> mi) & 1)) {
      int next = NextBit(minute_, mi);
      s = 0;
      if (next < 0) {
        mi = 60;
        continue;
      }
      mi = next;
    }
    if (!((second_ >> s) & 1)) {
      int next = NextBit(second_, s);
      if (next < 0) {
        s = 60;
        continue;
      }
      s = next;
    }
    return CivilToSeconds(c);
  }
}

}  // namespace temporalite::scheduler
