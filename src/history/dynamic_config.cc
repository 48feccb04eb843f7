#include "history/dynamic_config.h"

#include <cerrno>
#include <cstdlib>
#include <utility>
#include <vector>

namespace temporalite::history {
namespace {

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
  if (key == "temporalite.evictIdleRuns") {
    if (value != "0" && value != "1") {
      return Status(Code::kInvalidArgument, "dynamic config " + key + ": \"" + value + "\" is not 0 or 1");
    }
    options->evict_idle_runs = value == "1";
    return Status::Ok();
  }
  std::string known = "temporalite.evictIdleRuns";
  for (const Key& k : Keys()) {
    known += (known.empty() ? "" : ", ") + std::string(k.name);
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
    known += ", " + std::string(k.name);
    if (key != k.name) continue;
    if (value != "true" && value != "false") {
      return Status(Code::kInvalidArgument, "dynamic config " + key + ": \"" + value + "\" is not true or false");
    }
    options->*k.field = value == "true";
    return Status::Ok();
  }
  for (const FloatKey& k : FloatKeys()) {
    known += ", " + std::string(k.name);
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
  return Status(Code::kInvalidArgument, "unknown dynamic config key \"" + key + "\" (known: " + known + ")");
}

}  // namespace temporalite::history
