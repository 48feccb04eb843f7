// Worker / runner settings from `.env` and the environment (the environment wins, as with
// dotenv). Every value is validated up front; an error names the variable and where it came from.
#pragma once

#include <map>
#include <string>

#include "ingest/status.h"

namespace tillless::ingest {

struct IngestConfig {
  std::string temporal_address = "127.0.0.1:7233";
  std::string temporal_namespace = "default";
  std::string task_queue = "checkers-ingestion";
  std::string database_url;
  std::string pgboss_queue = "checkers-ingestion-requests";  // ingestion requests (consumer)
  bool pgboss_queue_set = false;  // PG_BOSS_QUEUE given (the worker service requires it)
  std::string pgboss_price_queue = "price-changes";          // published price changes
  std::string retailer_base_url;
  std::string retailer_client_id;
  std::string retailer_client_secret;
  int concurrency = 4;
  int page_size = 500;
  int http_timeout_ms = 10000;
};

// Parses KEY=VALUE lines (comments, blank lines, `export `, single/double quotes). Errors name
// the line.
Result<std::map<std::string, std::string>> ParseDotEnv(const std::string& text);

// Builds the config from `dotenv` overridden by `env`. Required: DATABASE_URL,
// SIXTY60_BASE_URL, SIXTY60_CLIENT_ID, SIXTY60_CLIENT_SECRET.
Result<IngestConfig> LoadConfig(const std::map<std::string, std::string>& dotenv,
                                const std::map<std::string, std::string>& env);

// Reads `path` (absent is fine when `required` is false) and the process environment.
Result<IngestConfig> LoadConfigFromFile(const std::string& path, bool required);

}  // namespace tillless::ingest
