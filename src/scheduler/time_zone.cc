#include "scheduler/time_zone.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <limits>
#include <sstream>

namespace temporalite::scheduler {

// A POSIX TZ rule (TZif footer): standard offset, and optionally a DST offset with the two
// yearly transition rules. Offsets here are seconds east of UTC (the opposite sign of POSIX).
struct PosixTzRule {
  struct DateRule {
    enum class Kind { kJulian1, kZeroBased, kMonthWeekDay } kind = Kind::kMonthWeekDay;
    int day = 0;                           // Jn (1..365, no Feb 29) or n (0..365)
    int month = 0, week = 0, weekday = 0;  // Mm.w.d
    int64_t time = 2 * 3600;  // local time of day of the transition (may be <0 or >24h)
  };
  int64_t std_offset = 0;
  bool has_dst = false;
  int64_t dst_offset = 0;
  DateRule start, end;  // start of DST (in standard time), end of DST (in DST)
};

namespace {

constexpr int64_t kFarPast = -(int64_t{1} << 50);
constexpr int64_t kFarFuture = int64_t{1} << 50;

int64_t ToUnix(const date::sys_seconds& s) { return s.time_since_epoch().count(); }

int64_t DaysFromCivil(int y, int m, int d) {
  return date::sys_days(date::year(y) / date::month(static_cast<unsigned>(m)) /
                        date::day(static_cast<unsigned>(d)))
      .time_since_epoch()
      .count();
}

bool IsLeap(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

// --- POSIX TZ string parsing -------------------------------------------------------------

class PosixParser {
 public:
  explicit PosixParser(const std::string& s) : s_(s) {}

  bool Parse(PosixTzRule* r) {
    int64_t off = 0;
    if (!Name() || !Offset(&off)) return false;
    r->std_offset = -off;
    if (Done()) return true;
    if (!Name()) return false;
    r->has_dst = true;
    r->dst_offset = r->std_offset + 3600;
    if (!Done() && Peek() != ',') {
      if (!Offset(&off)) return false;
      r->dst_offset = -off;
    }
    if (Done()) {  // POSIX leaves the default rule to the implementation; glibc uses US rules.
      r->start = {PosixTzRule::DateRule::Kind::kMonthWeekDay, 0, 3, 2, 0, 7200};
      r->end = {PosixTzRule::DateRule::Kind::kMonthWeekDay, 0, 11, 1, 0, 7200};
      return true;
    }
    if (Peek() != ',') return false;
    ++i_;
    if (!Rule(&r->start) || Done() || Peek() != ',') return false;
    ++i_;
    return Rule(&r->end) && Done();
  }

 private:
  bool Done() const { return i_ >= s_.size(); }
  char Peek() const { return Done() ? '\0' : s_[i_]; }

  bool Name() {
    if (Peek() == '<') {
      size_t close = s_.find('>', i_);
      if (close == std::string::npos) return false;
      i_ = close + 1;
      return true;
    }
    size_t start = i_;
    while (!Done() && std::isalpha(static_cast<unsigned char>(Peek()))) ++i_;
    return i_ - start >= 3;
  }

  bool Number(int64_t* v, int max_digits) {
    size_t start = i_;
    *v = 0;
    while (!Done() && std::isdigit(static_cast<unsigned char>(Peek())) &&
           static_cast<int>(i_ - start) < max_digits) {
      *v = *v * 10 + (Peek() - '0');
      ++i_;
    }
    return i_ > start;
  }

  // [+-]hh[:mm[:ss]] -> seconds (POSIX sign: positive is west of UTC).
  bool Offset(int64_t* out) {
    int64_t sign = 1;
    if (Peek() == '+' || Peek() == '-') {
      if (Peek() == '-') sign = -1;
      ++i_;
    }
    int64_t h = 0, m = 0, sec = 0;
    if (!Number(&h, 3) || h > 167) return false;
    if (Peek() == ':') {
      ++i_;
      if (!Number(&m, 2) || m > 59) return false;
      if (Peek() == ':') {
        ++i_;
        if (!Number(&sec, 2) || sec > 59) return false;
      }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }

  bool Rule(PosixTzRule::DateRule* r) {
    int64_t v = 0;
    if (Peek() == 'M') {
      ++i_;
      int64_t m = 0, w = 0, d = 0;
      if (!Number(&m, 2) || Peek() != '.') return false;
      ++i_;
      if (!Number(&w, 1) || Peek() != '.') return false;
      ++i_;
      if (!Number(&d, 1)) return false;
      if (m < 1 || m > 12 || w < 1 || w > 5 || d > 6) return false;
      r->kind = PosixTzRule::DateRule::Kind::kMonthWeekDay;
      r->month = static_cast<int>(m);
      r->week = static_cast<int>(w);
      r->weekday = static_cast<int>(d);
    } else if (Peek() == 'J') {
      ++i_;
      if (!Number(&v, 3) || v < 1 || v > 365) return false;
      r->kind = PosixTzRule::DateRule::Kind::kJulian1;
      r->day = static_cast<int>(v);
    } else {
      if (!Number(&v, 3) || v > 365) return false;
      r->kind = PosixTzRule::DateRule::Kind::kZeroBased;
      r->day = static_cast<int>(v);
    }
    r->time = 7200;
    if (Peek() == '/') {
      ++i_;
      int64_t t = 0;
      if (!Offset(&t)) return false;
      r->time = t;
    }
    return true;
  }

  const std::string& s_;
  size_t i_ = 0;
};

// Local midnight (as days since the epoch) of the rule's date in year `y`.
int64_t RuleDay(const PosixTzRule::DateRule& r, int y) {
  using Kind = PosixTzRule::DateRule::Kind;
  int64_t jan1 = DaysFromCivil(y, 1, 1);
  switch (r.kind) {
    case Kind::kJulian1:
      return jan1 + r.day - 1 + ((IsLeap(y) && r.day >= 60) ? 1 : 0);
    case Kind::kZeroBased:
      return jan1 + r.day;
    case Kind::kMonthWeekDay: {
      int64_t first = DaysFromCivil(y, r.month, 1);
      unsigned first_wd = date::weekday(date::sys_days(date::days(first))).c_encoding();
      int64_t day = first + (r.weekday - static_cast<int>(first_wd) + 7) % 7 + (r.week - 1) * 7;
      auto ymd_next = date::year_month_day(date::year(y) / date::month(r.month) / date::last);
      int64_t last = date::sys_days(ymd_next).time_since_epoch().count();
      while (day > last) day -= 7;
      return day;
    }
  }
  return jan1;
}

std::string ReadTzifFooter(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();
  if (data.size() < 6 || data.compare(0, 4, "TZif") != 0 || data[4] < '2') return {};
  if (data.back() != '\n') return {};
  size_t prev = data.rfind('\n', data.size() - 2);
  if (prev == std::string::npos) return {};
  return data.substr(prev + 1, data.size() - prev - 2);
}

}  // namespace

std::shared_ptr<const PosixTzRule> ParsePosixTz(const std::string& tz) {
  auto rule = std::make_shared<PosixTzRule>();
  PosixParser p(tz);
  if (tz.empty() || !p.Parse(rule.get())) return nullptr;
  return rule;
}

OffsetSpan PosixTzSpanAt(const PosixTzRule& rule, int64_t t) {
  if (!rule.has_dst) return {kFarPast, kFarFuture, rule.std_offset};
  const int y = static_cast<int>(
      date::year_month_day(date::floor<date::days>(date::sys_seconds(std::chrono::seconds(t))))
          .year());
  // Transitions of the neighbouring years, as (instant, offset after it). A DST end is listed
  // before a DST start at the same instant, so a start wins a tie (permanent-DST rules).
  struct Transition {
    int64_t at;
    int order;
    int64_t offset;
  };
  std::array<Transition, 6> ts;
  size_t n = 0;
  for (int yy = y - 1; yy <= y + 1; ++yy) {
    int64_t start = RuleDay(rule.start, yy) * 86400 + rule.start.time - rule.std_offset;
    int64_t end = RuleDay(rule.end, yy) * 86400 + rule.end.time - rule.dst_offset;
    ts[n++] = {start, 1, rule.dst_offset};
    ts[n++] = {end, 0, rule.std_offset};
  }
  std::sort(ts.begin(), ts.end(), [](const Transition& a, const Transition& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  });
  OffsetSpan span{kFarPast, kFarFuture, rule.std_offset};
  for (size_t i = 0; i < ts.size(); ++i) {
    if (ts[i].at <= t) {
      span.begin = ts[i].at;
      span.offset = ts[i].offset;
    } else {
      span.end = ts[i].at;
      break;
    }
  }
  return span;
}

TimeZone::TimeZone() = default;

Result<TimeZone> TimeZone::Load(const std::string& name) {
  TimeZone tz;
  if (name.empty() || name == "UTC") return tz;
  try {
    tz.zone_ = name == "Local" ? date::current_zone() : date::locate_zone(name);
  } catch (const std::exception&) {
    return InvalidArgument("unknown time zone \"" + name +
                           "\": expected an IANA time zone name such as Africa/Johannesburg "
                           "or America/New_York");
  }
  tz.name_ = name;
  // Past the TZif table's last transition, date/tz repeats the last offset; the file's footer
  // rule says what really happens (e.g. US DST after 2037). Use it when it has DST.
  date::sys_info last = tz.zone_->get_info(date::sys_days(date::year(2200) / 1 / 1));
  auto footer = ParsePosixTz(ReadTzifFooter("/usr/share/zoneinfo/" + tz.zone_->name()));
  if (footer && footer->has_dst) {
    tz.footer_ = std::move(footer);
    tz.footer_from_ = ToUnix(last.begin);
  }
  return tz;
}

OffsetSpan TimeZone::SpanAt(int64_t t) const {
  if (zone_ == nullptr) return {kFarPast, kFarFuture, 0};
  if (footer_ && t >= footer_from_) {
    OffsetSpan s = PosixTzSpanAt(*footer_, t);
    s.begin = std::max(s.begin, footer_from_);
    return s;
  }
  date::sys_info info = zone_->get_info(date::sys_seconds(std::chrono::seconds(t)));
  OffsetSpan s{ToUnix(info.begin), ToUnix(info.end), info.offset.count()};
  s.begin = std::max(s.begin, kFarPast);
  s.end = std::min(s.end, footer_ ? footer_from_ : kFarFuture);
  return s;
}

}  // namespace temporalite::scheduler
