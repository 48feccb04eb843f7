#include "phrase/schedule_phrase.h"

#include <bitset>
#include <cctype>
#include <string>
#include <vector>

namespace temporalite::phrase {

namespace {

constexpr int kMinutesPerDay = 24 * 60;
// Temporal's limit on StructuredCalendarSpec.comment (scheduler/calendar.h has the same).
constexpr size_t kMaxCommentLength = 200;
constexpr std::string_view kGrammar =
    "expected \"every <N>m|<N>h [between HH:MM-HH:MM] [<zone>]\", \"daily at HH:MM[,HH:MM...] "
    "[<zone>]\" or \"weekdays at HH:MM[,HH:MM...] [<zone>]\"";

// The error result: always false, with the message in `*error`.
struct Failure {
  std::string* error;
  bool operator()(std::string_view phrase, const std::string& why) const {
    *error = "invalid schedule phrase \"" + std::string(phrase) + "\": " + why;
    return false;
  }
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits on whitespace, first gluing "-" and "," to their neighbours ("06:00 - 22:00").
std::vector<std::string> Tokenize(std::string_view s) {
  std::string glued;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      bool before_glue = j < s.size() && (s[j] == '-' || s[j] == ',');
      bool after_glue = !glued.empty() && (glued.back() == '-' || glued.back() == ',');
      if (!before_glue && !after_glue && !glued.empty() && j < s.size()) glued += ' ';
      i = j - 1;
      continue;
    }
    glued += c;
  }
  std::vector<std::string> tokens;
  size_t start = 0;
  while (start < glued.size()) {
    size_t end = glued.find(' ', start);
    if (end == std::string::npos) end = glued.size();
    tokens.push_back(glued.substr(start, end - start));
    start = end + 1;
  }
  return tokens;
}

// "HH:MM" or "H:MM" -> minute of day.
bool ParseTime(std::string_view s, int* minute_of_day) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || s.size() - colon != 3) {
    return false;
  }
  int h = 0, m = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == colon) continue;
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    (i < colon ? h : m) = (i < colon ? h : m) * 10 + (s[i] - '0');
  }
  if (h > 23 || m > 59) return false;
  *minute_of_day = h * 60 + m;
  return true;
}

// Sorted values -> ranges in Temporal's compact form, greedily as arithmetic progressions.
void AddRanges(const std::vector<int>& v, google::protobuf::RepeatedPtrField<spv1::Range>* out) {
  size_t i = 0;
  while (i < v.size()) {
    spv1::Range* r = out->Add();
    r->set_start(v[i]);
    if (i + 1 == v.size()) break;
    int step = v[i + 1] - v[i];
    size_t j = i + 1;
    while (j + 1 < v.size() && v[j + 1] - v[j] == step) ++j;
    r->set_end(v[j]);
    if (step != 1) r->set_step(step);
    i = j + 1;
  }
}

void AddRange(int start, int end, google::protobuf::RepeatedPtrField<spv1::Range>* out) {
  spv1::Range* r = out->Add();
  r->set_start(start);
  if (end != start) r->set_end(end);
}

// Builds calendars firing at every minute of day in `minutes`: hours with the same set of
// minutes share one StructuredCalendarSpec.
void AddCalendars(const std::bitset<kMinutesPerDay>& minutes, bool weekdays_only,
                  std::string_view phrase, spv1::ScheduleSpec* spec) {
  std::vector<uint64_t> mask(24, 0);
  for (int t = 0; t < kMinutesPerDay; ++t) {
    if (minutes[t]) mask[t / 60] |= uint64_t{1} << (t % 60);
  }
  std::vector<bool> done(24, false);
  for (int h = 0; h < 24; ++h) {
    if (done[h] || mask[h] == 0) continue;
    std::vector<int> hours;
    for (int h2 = h; h2 < 24; ++h2) {
      if (mask[h2] == mask[h]) {
        hours.push_back(h2);
        done[h2] = true;
      }
    }
    std::vector<int> mins;
    for (int m = 0; m < 60; ++m) {
      if ((mask[h] >> m) & 1) mins.push_back(m);
    }
    spv1::StructuredCalendarSpec* cal = spec->add_structured_calendar();
    AddRange(0, 0, cal->mutable_second());
    AddRanges(mins, cal->mutable_minute());
    AddRanges(hours, cal->mutable_hour());
    AddRange(1, 31, cal->mutable_day_of_month());
    AddRange(1, 12, cal->mutable_month());
    if (weekdays_only) {
      AddRange(1, 5, cal->mutable_day_of_week());
    } else {
      AddRange(0, 6, cal->mutable_day_of_week());
    }
    if (phrase.size() <= kMaxCommentLength) cal->set_comment(std::string(phrase));
  }
}

}  // namespace

bool ParseSchedulePhrase(std::string_view phrase, const ZoneCheck& is_zone, spv1::ScheduleSpec* out,
                         std::string* error) {
  Failure Bad{error};
  std::vector<std::string> tok = Tokenize(phrase);
  if (tok.empty()) return Bad(phrase, "the phrase is empty; " + std::string(kGrammar));
  const std::string head = Lower(tok[0]);
  std::bitset<kMinutesPerDay> minutes;
  bool weekdays_only = false;
  size_t next = 0;           // index of the first token after the schedule part
  std::string zone_context;  // what else could have appeared where the zone is
  int interval_minutes = 0;  // "every N" over the whole day, N not dividing the day: an interval

  if (head == "every") {
    if (tok.size() < 2) return Bad(phrase, "expected <N>m or <N>h after \"every\" (e.g. every 2h)");
    const std::string amount = Lower(tok[1]);
    size_t digits = 0;
    while (digits < amount.size() && std::isdigit(static_cast<unsigned char>(amount[digits]))) {
      ++digits;
    }
    const std::string unit = amount.substr(digits);
    if (digits == 0 || digits > 5 || (unit != "m" && unit != "h")) {
      return Bad(phrase,
                 "expected <N>m or <N>h after \"every\" (e.g. every 15m, every 2h), got \"" +
                     tok[1] + "\"");
    }
    int n = std::stoi(amount.substr(0, digits));
    int step = unit == "h" ? n * 60 : n;
    if (n < 1 || (unit == "h" && n > 24) || (unit == "m" && n > kMinutesPerDay)) {
      return Bad(phrase, "interval \"" + tok[1] + "\" out of range: expected 1-1440m or 1-24h");
    }
    int from = 0, to = kMinutesPerDay - 1;
    next = 2;
    zone_context = "\"between HH:MM-HH:MM\"";
    if (tok.size() > 2 && Lower(tok[2]) == "between") {
      if (tok.size() < 4) return Bad(phrase, "expected HH:MM-HH:MM after \"between\"");
      const std::string& window = tok[3];
      size_t dash = window.find('-');
      if (dash == std::string::npos || !ParseTime(window.substr(0, dash), &from) ||
          !ParseTime(window.substr(dash + 1), &to)) {
        return Bad(phrase, "expected HH:MM-HH:MM after \"between\" (e.g. 06:00-22:00), got \"" +
                               window + "\"");
      }
      if (from > to) {
        return Bad(phrase, "window " + window +
                               " ends before it starts; a window cannot cross midnight (use "
                               "two schedules, or 00:00-HH:MM and HH:MM-23:59)");
      }
      next = 4;
      zone_context.clear();
    }
    if (next == 2 && kMinutesPerDay % step != 0) {
      // A grid restarting at midnight would leave a short gap there (every 7m: 23:55, 00:00);
      // Temporal's IntervalSpec keeps the step everywhere: epoch + k * N.
      interval_minutes = step;
    } else {
      for (int t = from; t <= to; t += step) minutes.set(t);
    }
  } else if (head == "daily" || head == "weekdays") {
    weekdays_only = head == "weekdays";
    if (tok.size() < 3 || Lower(tok[1]) != "at") {
      return Bad(phrase,
                 "expected \"" + head + " at HH:MM[,HH:MM...]\" (e.g. " + head + " at 09:00)");
    }
    std::string_view list = tok[2];
    while (true) {
      size_t comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      int t = 0;
      if (!ParseTime(item, &t)) {
        return Bad(phrase,
                   "expected a time HH:MM (00:00-23:59), got \"" + std::string(item) + "\"");
      }
      minutes.set(t);
      if (comma == std::string_view::npos) break;
      list = list.substr(comma + 1);
    }
    next = 3;
  } else {
    return Bad(phrase, "unknown start \"" + tok[0] + "\"; " + std::string(kGrammar));
  }

  spv1::ScheduleSpec spec;
  if (next < tok.size()) {
    if (!is_zone(tok[next])) {
      std::string expected = zone_context.empty() ? "" : zone_context + " or ";
      return Bad(phrase, "unexpected \"" + tok[next] + "\": expected " + expected +
                             "an IANA time zone name (e.g. Africa/Johannesburg)");
    }
    spec.set_timezone_name(tok[next]);
    ++next;
  }
  if (next < tok.size()) {
    return Bad(phrase,
               "unexpected \"" + tok[next] + "\" after the time zone; nothing may follow it");
  }
  if (interval_minutes > 0) {
    spec.add_interval()->mutable_interval()->set_seconds(int64_t{interval_minutes} * 60);
  } else {
    AddCalendars(minutes, weekdays_only, phrase, &spec);
  }
  *out = std::move(spec);
  return true;
}

bool LooksLikeZoneName(const std::string& name) {
  if (name == "UTC" || name == "GMT") return true;
  if (name.find('/') == std::string::npos || name.front() == '/' || name.back() == '/') return false;
  if (!std::isupper(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' && c != '+') return false;
  }
  return true;
}

}  // namespace temporalite::phrase
