// The SQLite store tests' fixture, row builders and file damage (persistence_test.cc, persistence_format_test.cc).
#pragma once

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "persistence/blob_codec.h"
#include "persistence/sqlite_store.h"
#include "persistence/store.h"

namespace temporalite::persistence {

// Substring check with a readable failure (gmock's HasSubstr would need gmock linked).
inline ::testing::AssertionResult Contains(const std::string& s, const std::string& sub) {
  if (s.find(sub) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << '"' << s << "\" does not contain \"" << sub << '"';
}

// A visibility row of ns-1 numbered `i`: run-i, wf-i, type T, queue q, status 1, start time i.
inline VisibilityRow NumberedVisibilityRow(int i) {
  VisibilityRow r;
  r.namespace_id = "ns-1";
  r.run_id = "run-" + std::to_string(i);
  r.workflow_id = "wf-" + std::to_string(i);
  r.workflow_type = "T";
  r.task_queue = "q";
  r.status = 1;
  r.start_time = i;
  return r;
}

// Many visibility rows, so the table spans pages well past the schema's.
inline WriteBatch ManyVisibilityRows(int n) {
  WriteBatch b;
  for (int i = 0; i < n; ++i) {
    VisibilityRow r = NumberedVisibilityRow(i);
    r.info = std::string(200, 'i');
    b.upsert_visibility.push_back(r);
  }
  return b;
}

// Overwrites `len` bytes at `offset` of the database file with garbage.
inline void Damage(const std::string& path, long offset, size_t len) {
  FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fseek(f, offset, SEEK_SET), 0);
  std::string junk(len, '\xA5');
  ASSERT_EQ(std::fwrite(junk.data(), 1, junk.size(), f), junk.size());
  std::fclose(f);
}

class PersistenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tl_persist_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/temporalite.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  SqliteOptions Options() const {
    SqliteOptions o;
    o.path = path_;
    return o;
  }
  std::unique_ptr<SqliteStore> OpenOrDie(const SqliteOptions& o) {
    auto store = SqliteStore::Open(o);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  std::unique_ptr<SqliteStore> OpenOrDie() { return OpenOrDie(Options()); }

  // Runs raw SQL against the database file, bypassing the store.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_free(err);
    sqlite3_close(db);
  }
  int64_t RawQueryInt(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK);
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
  }

  // Commits `n` visibility rows (ManyVisibilityRows) and closes the store.
  void WriteManyVisibilityRows(int n) {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CommitSync(ManyVisibilityRows(n)).ok());
    store->Close();
  }
  // The same, then checkpoints the WAL so that every row is in the database file itself.
  void WriteManyVisibilityRowsAndCheckpoint(int n) {
    ASSERT_NO_FATAL_FAILURE(WriteManyVisibilityRows(n));
    RawExec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  // Overwrites the visibility table's last leaf page in key order: the open's sampled ANALYZE
  // (first 1000 rows of each b-tree) does not read it, a full integrity check does.
  void DamageLastVisibilityLeaf() {
    int64_t page = RawQueryInt("SELECT pageno FROM dbstat WHERE name = 'visibility' AND pagetype = 'leaf' "
                               "ORDER BY path DESC LIMIT 1");
    ASSERT_GT(page, 1);
    Damage(path_, static_cast<long>((page - 1) * 4096), 4096);
  }

  std::string dir_;
  std::string path_;
};

inline ExecutionRow Exec(const std::string& run, const std::string& wf, const std::string& state,
                  bool open = true) {
  ExecutionRow r;
  r.namespace_id = "ns-1";
  r.workflow_id = wf;
  r.run_id = run;
  r.open = open;
  r.close_time_unix_nanos = open ? 0 : 1'700'000'000'123'456'789;
  r.state = state;
  return r;
}

inline EventRow Event(const std::string& run, int64_t id) {
  return EventRow{run, id, "event-" + run + "-" + std::to_string(id)};
}

inline std::vector<int64_t> EventIds(const std::vector<EventRow>& events) {
  std::vector<int64_t> ids;
  for (const EventRow& e : events) ids.push_back(e.event_id);
  return ids;
}

}  // namespace temporalite::persistence
