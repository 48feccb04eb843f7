// Conversions between the engine's TimePoint/Duration and protobuf Timestamp/Duration.
#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include "common/clock.h"

namespace temporalite::history {

inline google::protobuf::Timestamp ToProto(TimePoint t) {
  google::protobuf::Timestamp ts;
  int64_t ns = t.time_since_epoch().count();
  int64_t s = ns / 1'000'000'000, r = ns % 1'000'000'000;
  if (r < 0) { r += 1'000'000'000; --s; }
  ts.set_seconds(s);
  ts.set_nanos(static_cast<int32_t>(r));
  return ts;
}

inline TimePoint FromProto(const google::protobuf::Timestamp& ts) {
  return TimePoint(Duration(ts.seconds() * 1'000'000'000LL + ts.nanos()));
}

inline bool IsZero(const google::protobuf::Timestamp& ts) { return ts.seconds() == 0 && ts.nanos() == 0; }

inline google::protobuf::Duration ToProtoDuration(Duration d) {
  google::protobuf::Duration p;
  p.set_seconds(d.count() / 1'000'000'000);
  p.set_nanos(static_cast<int32_t>(d.count() % 1'000'000'000));
  return p;
}

inline Duration FromProto(const google::protobuf::Duration& d) {
  return Duration(d.seconds() * 1'000'000'000LL + d.nanos());
}

inline bool IsZero(const google::protobuf::Duration& d) { return d.seconds() == 0 && d.nanos() == 0; }

// Temporal's cron backoff: the wait until the next fire time, rounded up to whole seconds.
inline Duration CronBackoff(TimePoint now, TimePoint next) {
  if (next <= now) return Duration::zero();
  auto s = std::chrono::duration_cast<std::chrono::seconds>(next - now);
  if (Duration(s) < next - now) s += std::chrono::seconds(1);
  return s;
}

}  // namespace temporalite::history
