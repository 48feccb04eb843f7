// Temporal's dynamic config keys this server honours, set at start with
// `--dynamic-config-value KEY=VALUE` (as `temporal server start-dev` takes them).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "history/engine.h"

namespace temporalite::history {

// Applies one KEY=VALUE (VALUE: per key a non-negative integer, a non-negative number, true/false,
// 0/1 for temporalite.evictIdleRuns, or a duration such as 20s or 500ms). NOT_FOUND when
// KEY is not one of DynamicConfigKeys() (the composition root names every known key then);
// INVALID_ARGUMENT for a bad value.
Status ApplyDynamicConfigValue(const std::string& key_value, EngineOptions* options);
// The keys ApplyDynamicConfigValue takes.
std::vector<std::string> DynamicConfigKeys();

}  // namespace temporalite::history
