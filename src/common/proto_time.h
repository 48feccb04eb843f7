// The one home of the conversions between TimePoint/Duration (common/clock.h) and protobuf
// Timestamp/Duration. Header-only, so libraries that do not link tl_common (the CLI) use it too.
#pragma once

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include "common/clock.h"

namespace temporalite {

// Normalised: nanos in [0, 1e9) also before 1970.
inline google::protobuf::Timestamp ToProto(TimePoint t) {
  google::protobuf::Timestamp ts;
  int64_t ns = t.time_since_epoch().count();
  int64_t s = ns / 1'000'000'000, r = ns % 1'000'000'000;
  if (r < 0) {
    r += 1'000'000'000;
    --s;
  }
  ts.set_seconds(s);
  ts.set_nanos(static_cast<int32_t>(r));
  return ts;
}

inline TimePoint FromProto(const google::protobuf::Timestamp& ts) {
  return TimePoint(Duration(ts.seconds() * 1'000'000'000LL + ts.nanos()));
}

inline bool IsZero(const google::protobuf::Timestamp& ts) { return ts.seconds() == 0 && ts.nanos() == 0; }

// Seconds and nanos carry the same sign, as protobuf requires.
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

}  // namespace temporalite
