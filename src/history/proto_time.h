// Time helpers of the engine. The proto conversions themselves (ToProto, FromProto,
// ToProtoDuration, IsZero) live in common/proto_time.h.
#pragma once

#include "common/clock.h"
#include "common/proto_time.h"

namespace temporalite::history {

// Temporal's cron backoff: the wait until the next fire time, rounded up to whole seconds.
inline Duration CronBackoff(TimePoint now, TimePoint next) {
  if (next <= now) return Duration::zero();
  auto s = std::chrono::duration_cast<std::chrono::seconds>(next - now);
  if (Duration(s) < next - now) s += std::chrono::seconds(1);
  return s;
}

}  // namespace temporalite::history
