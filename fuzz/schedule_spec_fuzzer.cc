// libFuzzer target: everything a client can put in a Temporal schedule spec. The first byte picks
// the form, the rest is the text: a cron string (scheduler/cron.h), a runbook phrase
// (phrase/schedule_phrase.h, zones checked against the tz database), a ScheduleSpec as proto3
// JSON (calendars, intervals, exclusions, bounds, jitter, zones), or a Go duration. Whatever
// parses is compiled and asked for its next times, as CreateSchedule and the scheduler do.
// Errors must be INVALID_ARGUMENT; nothing may crash or run unbounded.
#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "scheduler/calendar.h"
#include "scheduler/cron.h"
#include "scheduler/phrase.h"
#include "scheduler/spec.h"

namespace sch = temporalite::scheduler;
using temporalite::Code;
using temporalite::Status;
using temporalite::TimePoint;

namespace {

void CheckError(const Status& s) {
  if (!s.ok() && s.code() != Code::kInvalidArgument) std::abort();
}

void Exercise(const sch::spv1::ScheduleSpec& spec) {
  auto canonical = sch::CanonicalizeSpec(spec);
  CheckError(canonical.status());
  auto compiled = sch::CompiledSpec::Compile(spec);
  CheckError(compiled.status());
  if (!compiled.ok()) return;
  // 2026-03-29T00:30:00Z: just before a European DST change.
  TimePoint t{std::chrono::seconds(1774744200)};
  for (int i = 0; i < 3 && t != TimePoint::max(); ++i) {
    TimePoint next = compiled->Next(t);
    if (next != TimePoint::max() && next <= t) std::abort();  // Next is strictly after
    t = next;
  }
  auto next = compiled->GetNextTime("fuzz-seed", TimePoint{std::chrono::seconds(1774744200)});
  CheckError(next.status());
  auto times = compiled->ListMatchingTimes(TimePoint{std::chrono::seconds(1774744200)},
                                           TimePoint{std::chrono::seconds(1774744200 + 86400 * 3)}, "seed", 20);
  CheckError(times.status());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto cron = sch::ParseCronString(text);
      CheckError(cron.status());
      if (!cron.ok()) return 0;
      sch::spv1::ScheduleSpec spec;
      spec.add_cron_string(std::string(text));
      Exercise(spec);
      break;
    }
    case 1: {
      auto spec = sch::ParseSchedulePhrase(text);
      CheckError(spec.status());
      if (spec.ok()) Exercise(*spec);
      break;
    }
    case 2: {
      sch::spv1::ScheduleSpec spec;
      google::protobuf::util::JsonParseOptions opts;
      opts.ignore_unknown_fields = true;
      if (!google::protobuf::util::JsonStringToMessage(std::string(text), &spec, opts).ok()) return 0;
      for (const auto& cal : spec.calendar()) CheckError(sch::ParseCalendarSpec(cal).status());
      for (const auto& cal : spec.structured_calendar()) CheckError(sch::ValidateStructuredCalendar(cal));
      Exercise(spec);
      break;
    }
    default:
      CheckError(sch::ParseGoDuration(text).status());
      break;
  }
  return 0;
}
