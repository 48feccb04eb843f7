#include "ingest/db.h"

namespace tillless::ingest {

Status FromException(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return Unavailable(std::string("PostgreSQL connection lost: ") + e.what());
  }
  if (const auto* se = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = se->sqlstate();
    // Class 08 (connection), 57P0x (shutdown / crash recovery), 40001/40P01 (retry the txn).
    if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0 || state == "40001" ||
        state == "40P01") {
      return Unavailable(std::string("PostgreSQL unavailable: ") + e.what());
    }
    return Internal(std::string("PostgreSQL error ") + state + ": " + e.what());
  }
  return Internal(std::string("PostgreSQL: ") + e.what());
}

Status ConnectionPool::With(const std::function<Status(pqxx::connection&)>& fn) {
  std::unique_ptr<pqxx::connection> conn;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  try {
    if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(url_);
    Status s = fn(*conn);
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(conn));
    return s;
  } catch (const std::exception& e) {
    return FromException(e);  // the connection (if any) is dropped
  }
}

}  // namespace tillless::ingest
