#include "history/dynamic_config.h"

#include <cerrno>
#include <cstdlib>
#include <utility>
#include <vector>

namespace temporalite::history {
namespace {

constexpr const char* kEvictIdleRuns = "temporalite.evictIdleRuns";

struct Key {
  const char* name;
  int64_t EngineOptions::*field;
};

const std::vector<Key>& Keys() {
  static const std::vector<Key> keys = {
      {"limit.historyCount.suggestContinueAsNew", &EngineOptions::history_count_suggest_continue_as_new},
      {"limit.historySize.suggestContinueAsNew", &EngineOptions::history_size_suggest_continue_as_new},
      {"limit.historyCount.error", &EngineOptions::history_count_limit_error},
      {"limit.historySize.error", &EngineOptions::history_size_limit_error},
      {"history.maxInFlightUpdates", &EngineOptions::max_in_flight_updates},
      {"history.maxTotalUpdates", &EngineOptions::max_total_updates},
      {"history.maxInFlightUpdatePayloads", &EngineOptions::max_in_flight_update_payloads},
      // Temporal's is a duration; here whole seconds.
      {"history.workflowTaskHeartbeatTimeout", &EngineOptions::workflow_task_heartbeat_timeout_seconds},
  };
  return keys;
}

struct BoolKey {
  const char* name;
  bool EngineOptions::*field;
};

const std::vector<BoolKey>& BoolKeys() {
  static const std::vector<BoolKey> keys = {
      {"system.enableActivityEagerExecution", &EngineOptions::enable_activity_eager_execution},
  };
  return keys;
}

struct FloatKey {
  const char* name;
  double EngineOptions::*field;
};

const std::vector<FloatKey>& FloatKeys() {
  static const std::vector<FloatKey> keys = {
      {"history.maxTotalUpdates.suggestContinueAsNewThreshold",
       &EngineOptions::max_total_updates_suggest_continue_as_new_threshold},
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
  // Temporalite's own switch (0 or 1): idle open runs leave memory (run_cache.h). For benchmarks.
  if (key == kEvictIdleRuns) {
    if (value != "0" && value != "1") {
      return Status(Code::kInvalidArgument, "dynamic config " + key + ": \"" + value + "\" is not 0 or 1");
    }
    options->evict_idle_runs = value == "1";
    return Status::Ok();
  }
  for (const Key& k : Keys()) {
    if (key != k.name) continue;
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno == ERANGE || v < 0) {
      return Status(Code::kInvalidArgument, "dynamic config " + key + ": \"" + value + "\" is not a non-negative integer");
    }
    options->*k.field = v;
    return Status::Ok();
  }
  for (const BoolKey& k : BoolKeys()) {
    if (key != k.name) continue;
    if (value != "true" && value != "false") {
      return Status(Code::kInvalidArgument, "dynamic config " + key + ": \"" + value + "\" is not true or false");
    }
    options->*k.field = value == "true";
    return Status::Ok();
  }
  for (const FloatKey& k : FloatKeys()) {
    if (key != k.name) continue;
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || errno == ERANGE || !(v >= 0)) {
      return Status(Code::kInvalidArgument, "dynamic config " + key + ": \"" + value + "\" is not a non-negative number");
    }
    options->*k.field = v;
    return Status::Ok();
  }
  return Status(Code::kNotFound, "not an engine dynamic config key: " + key);
}

std::vector<std::string> DynamicConfigKeys() {
  std::vector<std::string> out = {kEvictIdleRuns};
  for (const Key& k : Keys()) out.emplace_back(k.name);
  for (const FloatKey& k : FloatKeys()) out.emplace_back(k.name);
  for (const BoolKey& k : BoolKeys()) out.emplace_back(k.name);
  return out;
}

}  // namespace temporalite::history
