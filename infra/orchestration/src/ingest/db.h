// PostgreSQL connections (libpqxx) for the ingestion libraries: a small pool so concurrent
// category activities each hold their own connection, and one helper that turns libpqxx
// exceptions into Status values (a lost connection is UNAVAILABLE so callers retry).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "ingest/status.h"

namespace tillless::ingest {

class ConnectionPool {
 public:
  explicit ConnectionPool(std::string url) : url_(std::move(url)) {}

  // Runs `fn` with a connection from the pool (connecting if needed). Exceptions from libpqxx
  // become a Status; a connection that failed is dropped instead of returned.
  Status With(const std::function<Status(pqxx::connection&)>& fn);

 private:
  std::string url_;
  std::mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // guarded by mu_
};

// Maps a libpqxx / std exception to a Status.
Status FromException(const std::exception& e);

}  // namespace tillless::ingest
