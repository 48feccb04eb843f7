#include "persistence/snapshot.h"

#include <sqlite3.h>

#include <filesystem>

namespace temporalite::persistence {
namespace {

// A read-only connection closed on scope exit.
class ReadOnlyDb {
 public:
  ~ReadOnlyDb() { sqlite3_close_v2(db_); }
  Status Open(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return NotFound("database " + path + " does not exist");
    int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
    if (rc != SQLITE_OK) {
      return Unavailable("cannot open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
    }
    sqlite3_busy_timeout(db_, 5000);
    return Status::Ok();
  }
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

Status SnapshotDatabase(const std::string& db_path, const std::string& dest_path) {
  ReadOnlyDb db;
  TL_RETURN_IF_ERROR(db.Open(db_path));
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db.get(), "VACUUM INTO ?1", -1, &s, nullptr) != SQLITE_OK) {
    return Unavailable(std::string("cannot prepare snapshot: ") + sqlite3_errmsg(db.get()));
  }
  sqlite3_bind_text(s, 1, dest_path.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(s);
  Status status = rc == SQLITE_DONE ? Status::Ok()
                                    : Unavailable("snapshot of " + db_path + " into " + dest_path +
                                                  " failed: " + sqlite3_errmsg(db.get()));
  sqlite3_finalize(s);
  return status;
}

Result<int> ReadSchemaVersion(const std::string& path) {
  ReadOnlyDb db;
  TL_RETURN_IF_ERROR(db.Open(path));
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db.get(), "PRAGMA user_version", -1, &s, nullptr) != SQLITE_OK) {
    return FailedPrecondition(path + " is not a readable SQLite database: " + sqlite3_errmsg(db.get()));
  }
  int rc = sqlite3_step(s);
  int v = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
  std::string err = sqlite3_errmsg(db.get());
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW) return FailedPrecondition(path + " is not a readable SQLite database: " + err);
  return v;
}

Result<std::string> CheckDatabase(const std::string& path, bool quick) {
  ReadOnlyDb db;
  TL_RETURN_IF_ERROR(db.Open(path));
  sqlite3_stmt* s = nullptr;
  const char* sql = quick ? "PRAGMA quick_check(10)" : "PRAGMA integrity_check(10)";
  if (sqlite3_prepare_v2(db.get(), sql, -1, &s, nullptr) != SQLITE_OK) {
    return std::string(sqlite3_errmsg(db.get()));
  }
  std::string out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(s, 0);
    if (!out.empty()) out += "; ";
    std::string line = t ? reinterpret_cast<const char*>(t) : "";
    for (char& c : line) {
      if (c == '\n') c = ' ';  // one problem per line of output
    }
    out += line;
  }
  if (rc != SQLITE_DONE) {
    if (!out.empty()) out += "; ";
    out += sqlite3_errmsg(db.get());
  }
  sqlite3_finalize(s);
  return out;
}

}  // namespace temporalite::persistence
