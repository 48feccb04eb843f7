#include "scheduler/phrase.h"

#include "phrase/schedule_phrase.h"
#include "scheduler/time_zone.h"

namespace temporalite::scheduler {

Result<spv1::ScheduleSpec> ParseSchedulePhrase(std::string_view phrase) {
  spv1::ScheduleSpec spec;
  std::string error;
  auto is_zone = [](const std::string& name) { return TimeZone::Load(name).ok(); };
  if (!phrase::ParseSchedulePhrase(phrase, is_zone, &spec, &error)) return InvalidArgument(error);
  return spec;
}

}  // namespace temporalite::scheduler
