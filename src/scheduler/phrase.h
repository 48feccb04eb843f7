// Schedule phrases (the runbook's grammar, documented in phrase/schedule_phrase.h), with time
// zones checked against the tz database.
#pragma once

#include <string_view>

#include "common/status.h"
#include "temporal/api/schedule/v1/message.pb.h"

namespace temporalite::scheduler {

namespace spv1 = ::temporal::api::schedule::v1;

// INVALID_ARGUMENT "invalid schedule phrase ..." for anything the grammar does not accept.
Result<spv1::ScheduleSpec> ParseSchedulePhrase(std::string_view phrase);

}  // namespace temporalite::scheduler
