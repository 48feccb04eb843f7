#include "ingest/config.h"

#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>

extern char** environ;

namespace tillless::ingest {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool ValidQueueName(const std::string& s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' && c != '/') {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::map<std::string, std::string>> ParseDotEnv(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t.rfind("export ", 0) == 0) t = Trim(t.substr(7));
    size_t eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument(".env line " + std::to_string(n) + " is not KEY=VALUE: " + t);
    }
    std::string key = Trim(t.substr(0, eq));
    for (char c : key) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
        return InvalidArgument(".env line " + std::to_string(n) + ": \"" + key + "\" is not a variable name");
      }
    }
    std::string value = Trim(t.substr(eq + 1));
    if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
      char q = value[0];
      size_t end = value.find(q, 1);
      if (end == std::string::npos) {
        return InvalidArgument(".env line " + std::to_string(n) + ": unterminated quote in " + key);
      }
      value = value.substr(1, end - 1);
    } else if (size_t hash = value.find(" #"); hash != std::string::npos) {
      value = Trim(value.substr(0, hash));
    }
    out[key] = value;
  }
  return out;
}

Result<IngestConfig> LoadConfig(const std::map<std::string, std::string>& dotenv,
                                const std::map<std::string, std::string>& env) {
  auto get = [&](const std::string& k, std::string* from) -> std::optional<std::string> {
    if (auto it = env.find(k); it != env.end()) {
      *from = "environment";
      return it->second;
    }
    if (auto it = dotenv.find(k); it != dotenv.end()) {
      *from = ".env";
      return it->second;
    }
    return std::nullopt;
  };
  IngestConfig c;
  std::string from;
  auto required = [&](const char* k, std::string& into) -> Status {
    auto v = get(k, &from);
    if (!v || v->empty()) return InvalidArgument(std::string(k) + " is not set (in .env or the environment)");
    into = *v;
    return Status::Ok();
  };
  auto integer = [&](const char* k, int lo, int hi, int& into) -> Status {
    auto v = get(k, &from);
    if (!v) return Status::Ok();
    size_t used = 0;
    int value = 0;
    try {
      value = std::stoi(*v, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != v->size() || value < lo || value > hi) {
      return InvalidArgument(std::string(k) + "=\"" + *v + "\" (" + from + ") is not an integer in " +
                             std::to_string(lo) + ".." + std::to_string(hi));
    }
    into = value;
    return Status::Ok();
  };
  for (Status s : {required("DATABASE_URL", c.database_url),
                   required("SIXTY60_BASE_URL", c.retailer_base_url),
                   required("SIXTY60_CLIENT_ID", c.retailer_client_id),
                   required("SIXTY60_CLIENT_SECRET", c.retailer_client_secret),
                   integer("INGEST_CONCURRENCY", 1, 64, c.concurrency),
                   integer("INGEST_PAGE_SIZE", 1, 5000, c.page_size),
                   integer("HTTP_TIMEOUT_MS", 100, 600000, c.http_timeout_ms)}) {
    if (!s.ok()) return s;
  }
  get("DATABASE_URL", &from);
  if (c.database_url.rfind("postgres://", 0) != 0 && c.database_url.rfind("postgresql://", 0) != 0) {
    return InvalidArgument("DATABASE_URL (" + from + ") must be a postgres:// or postgresql:// URL");
  }
  get("SIXTY60_BASE_URL", &from);
  if (c.retailer_base_url.rfind("http://", 0) != 0 && c.retailer_base_url.rfind("https://", 0) != 0) {
    return InvalidArgument("SIXTY60_BASE_URL=\"" + c.retailer_base_url + "\" (" + from +
                           ") must be an http:// or https:// URL");
  }
  while (!c.retailer_base_url.empty() && c.retailer_base_url.back() == '/') c.retailer_base_url.pop_back();
  if (auto v = get("TEMPORAL_ADDRESS", &from)) {
    size_t colon = v->rfind(':');
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < v->size();
    for (size_t i = colon + 1; ok && i < v->size(); ++i) ok = std::isdigit(static_cast<unsigned char>((*v)[i]));
    if (!ok) return InvalidArgument("TEMPORAL_ADDRESS=\"" + *v + "\" (" + from + ") is not host:port");
    c.temporal_address = *v;
  }
  if (auto v = get("TEMPORAL_NAMESPACE", &from)) {
    if (v->empty()) return InvalidArgument("TEMPORAL_NAMESPACE (" + from + ") is empty");
    c.temporal_namespace = *v;
  }
  for (auto [key, into] : {std::pair{"PG_BOSS_QUEUE", &c.pgboss_queue},
                           std::pair{"PG_BOSS_PRICE_QUEUE", &c.pgboss_price_queue},
                           std::pair{"TEMPORAL_TASK_QUEUE", &c.task_queue}}) {
    if (auto v = get(key, &from)) {
      if (!ValidQueueName(*v)) {
        return InvalidArgument(std::string(key) + "=\"" + *v + "\" (" + from +
                               ") is not a queue name (letters, digits, _ - . /, at most 100)");
      }
      *into = *v;
    }
  }
  c.pgboss_queue_set = get("PG_BOSS_QUEUE", &from).has_value();
  return c;
}

Result<IngestConfig> LoadConfigFromFile(const std::string& path, bool required) {
  std::map<std::string, std::string> dotenv;
  std::ifstream in(path);
  if (!in) {
    if (required) return InvalidArgument("cannot read env file " + path);
  } else {
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = ParseDotEnv(ss.str());
    if (!parsed.ok()) return Status(parsed.status().code(), path + ": " + parsed.status().message());
    dotenv = std::move(parsed.value());
  }
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return LoadConfig(dotenv, env);
}

}  // namespace tillless::ingest
