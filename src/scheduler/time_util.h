// Conversions between TimePoint/Duration and protobuf Timestamp/Duration, and RFC 3339 text.
#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <ctime>
#include <string>

#include "common/clock.h"

namespace temporalite::scheduler {

inline google::protobuf::Timestamp ToPbTime(TimePoint t) {
  int64_t ns = t.time_since_epoch().count();
  int64_t s = ns / 1'000'000'000, n = ns % 1'000'000'000;
  if (n < 0) s -= 1, n += 1'000'000'000;
  google::protobuf::Timestamp p;
  p.set_seconds(s);
  p.set_nanos(static_cast<int32_t>(n));
  return p;
}
inline TimePoint FromPbTime(const google::protobuf::Timestamp& p) {
  return TimePoint(Duration(p.seconds() * 1'000'000'000LL + p.nanos()));
}
inline google::protobuf::Duration ToPbDuration(Duration d) {
  google::protobuf::Duration p;
  p.set_seconds(d.count() / 1'000'000'000);
  p.set_nanos(static_cast<int32_t>(d.count() % 1'000'000'000));
  return p;
}
inline Duration FromPbDuration(const google::protobuf::Duration& p) {
  return Duration(p.seconds() * 1'000'000'000LL + p.nanos());
}

// Go's time.RFC3339 of the whole second containing `t`, in UTC: 2026-11-25T06:00:00Z.
inline std::string Rfc3339Seconds(TimePoint t) {
  int64_t ns = t.time_since_epoch().count();
  time_t secs = static_cast<time_t>(ns >= 0 ? ns / 1'000'000'000 : -((-ns + 999'999'999) / 1'000'000'000));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace temporalite::scheduler
