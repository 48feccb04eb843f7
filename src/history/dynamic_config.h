// Temporal's dynamic config keys this server honours, set at start with
// `--dynamic-config-value KEY=VALUE` (as `temporal server start-dev` takes them).
#pragma once

#include <string>

#include "common/status.h"
#include "history/engine.h"

namespace temporalite::history {

// Applies one KEY=VALUE (VALUE: a JSON integer, or true/false for boolean keys). Unknown keys
// and bad values: INVALID_ARGUMENT, naming the keys this server knows.
Status ApplyDynamicConfigValue(const std::string& key_value, EngineOptions* options);

}  // namespace temporalite::history
