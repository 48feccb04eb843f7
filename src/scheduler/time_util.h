// RFC 3339 text of a TimePoint. The proto conversions live in common/proto_time.h.
#pragma once

#include <ctime>
#include <string>

#include "common/clock.h"
#include "common/proto_time.h"

namespace temporalite::scheduler {

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
