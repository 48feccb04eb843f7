#include "history/dynamic_config.h"

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace temporalite::history {
namespace {

// A key's parser: sets the key's field of `options` from `value`, or INVALID_ARGUMENT.
using Parser = Status (*)(const std::string& key, const std::string& value, EngineOptions* options);

Status Bad(const std::string& key, const std::string& value, const char* want) {
  return Status(Code::kInvalidArgument, "dynamic config " + key + ": \"" + value + "\" is not " + want);
}

template <int64_t EngineOptions::*kField>
Status NonNegativeInteger(const std::string& key, const std::string& value, EngineOptions* options) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno == ERANGE || v < 0) return Bad(key, value, "a non-negative integer");
  options->*kField = v;
  return Status::Ok();
}

template <double EngineOptions::*kField>
Status NonNegativeNumber(const std::string& key, const std::string& value, EngineOptions* options) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || errno == ERANGE || !(v >= 0)) return Bad(key, value, "a non-negative number");
  options->*kField = v;
  return Status::Ok();
}

template <bool EngineOptions::*kField>
Status TrueOrFalse(const std::string& key, const std::string& value, EngineOptions* options) {
  if (value != "true" && value != "false") return Bad(key, value, "true or false");
  options->*kField = value == "true";
  return Status::Ok();
}

template <bool EngineOptions::*kField>
Status ZeroOrOne(const std::string& key, const std::string& value, EngineOptions* options) {
  if (value != "0" && value != "1") return Bad(key, value, "0 or 1");
  options->*kField = value == "1";
  return Status::Ok();
}

// Temporal's duration values: a Go duration of one unit ("20s", "500ms", "2m", "1h"), or an integer,
// read as seconds (as Temporal's dynamic config reads integers for durations).
template <Duration EngineOptions::*kField>
Status NonNegativeDuration(const std::string& key, const std::string& value, EngineOptions* options) {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || end == value.c_str() || errno == ERANGE || v < 0 || v > 1000000000LL) {
    return Bad(key, value, "a non-negative duration (e.g. 20s, 500ms)");
  }
  const std::string unit = end;
  if (unit.empty() || unit == "s") {
    options->*kField = std::chrono::seconds(v);
  } else if (unit == "ms") {
    options->*kField = std::chrono::milliseconds(v);
  } else if (unit == "m") {
    options->*kField = std::chrono::minutes(v);
  } else if (unit == "h") {
    options->*kField = std::chrono::hours(v);
  } else {
    return Bad(key, value, "a non-negative duration (e.g. 20s, 500ms)");
  }
  return Status::Ok();
}

struct Key {
  const char* name;
  Parser parse;
};

// Every key this file honours, with its parser.
const std::vector<Key>& Keys() {
  static const std::vector<Key> keys = {
      // Temporalite's own switch: idle open runs leave memory (run_cache.h). For benchmarks.
      {"temporalite.evictIdleRuns", &ZeroOrOne<&EngineOptions::evict_idle_runs>},
      {"limit.historyCount.suggestContinueAsNew",
       &NonNegativeInteger<&EngineOptions::history_count_suggest_continue_as_new>},
      {"limit.historySize.suggestContinueAsNew",
       &NonNegativeInteger<&EngineOptions::history_size_suggest_continue_as_new>},
      {"limit.historyCount.error", &NonNegativeInteger<&EngineOptions::history_count_limit_error>},
      {"limit.historySize.error", &NonNegativeInteger<&EngineOptions::history_size_limit_error>},
      {"history.maxInFlightUpdates", &NonNegativeInteger<&EngineOptions::max_in_flight_updates>},
      {"history.maxTotalUpdates", &NonNegativeInteger<&EngineOptions::max_total_updates>},
      {"history.maxInFlightUpdatePayloads", &NonNegativeInteger<&EngineOptions::max_in_flight_update_payloads>},
      // Temporal's is a duration; here whole seconds.
      {"history.workflowTaskHeartbeatTimeout",
       &NonNegativeInteger<&EngineOptions::workflow_task_heartbeat_timeout_seconds>},
      {"history.maxTotalUpdates.suggestContinueAsNewThreshold",
       &NonNegativeNumber<&EngineOptions::max_total_updates_suggest_continue_as_new_threshold>},
      {"system.enableActivityEagerExecution", &TrueOrFalse<&EngineOptions::enable_activity_eager_execution>},
      // How long after the last poll a query still waits for a worker; later it is refused at once.
      {"matching.queryPollerUnavailableWindow",
       &NonNegativeDuration<&EngineOptions::query_poller_unavailable_window>},
      // The minimal interval between starts of one workflow id, checked only with the validation on
      // (Temporal's defaults: 1s, false).
      {"history.workflowIdReuseMinimalInterval",
       &NonNegativeDuration<&EngineOptions::workflow_id_reuse_minimal_interval>},
      {"history.enableWorkflowIdReuseStartTimeValidation",
       &TrueOrFalse<&EngineOptions::workflow_id_reuse_start_time_validation>},
  };
  return keys;
}

}  // namespace

Status ApplyDynamicConfigValue(const std::string& key_value, EngineOptions* options) {
  const size_t eq = key_value.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status(Code::kInvalidArgument, "dynamic config value \"" + key_value + "\": want KEY=VALUE");
  }
  const std::string key = key_value.substr(0, eq);
  const std::string value = key_value.substr(eq + 1);
  for (const Key& k : Keys()) {
    if (key == k.name) return k.parse(key, value, options);
  }
  return Status(Code::kNotFound, "not an engine dynamic config key: " + key);
}

std::vector<std::string> DynamicConfigKeys() {
  std::vector<std::string> out;
  for (const Key& k : Keys()) out.emplace_back(k.name);
  return out;
}

}  // namespace temporalite::history
