// Store tests of the file format: start-up and background integrity checks, compression with a
// trained dictionary, and the schema migrations. Each test works in its own mkdtemp directory.
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

#include "persistence_test_util.h"

namespace temporalite::persistence {
namespace {

TEST_F(PersistenceTest, DamagedDatabaseIsRefusedAtOpenWithTheRestoreCommand) {
  ASSERT_NO_FATAL_FAILURE(WriteManyVisibilityRowsAndCheckpoint(2000));
  long size = static_cast<long>(std::filesystem::file_size(path_));
  ASSERT_GT(size, 20 * 4096);
  Damage(path_, size / 2, 3 * 4096);
  auto damaged = SqliteStore::Open(Options());
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), Code::kInternal);
  EXPECT_TRUE(Contains(damaged.status().message(), "database " + path_ + " is damaged"));
  EXPECT_TRUE(Contains(damaged.status().message(),
                       "temporalite backup restore --from <backup> --db-filename " + path_));
  // Skipping the check, the damage surfaces when a damaged page is read (while opening, or
  // listing every row): INTERNAL, naming the restore command, without SQL text.
  SqliteOptions o = Options();
  o.integrity_check = false;
  auto opened = SqliteStore::Open(o);
  Status s;
  if (!opened.ok()) {
    s = opened.status();
  } else {
    VisibilityQuery q;
    q.namespace_id = "ns-1";
    q.limit = 5000;
    s = (*opened)->ListVisibility(q).status();
    (*opened)->Close();
  }
  EXPECT_EQ(s.code(), Code::kInternal) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "storage error: database disk image is malformed"));
  EXPECT_TRUE(Contains(s.message(), "temporalite backup restore"));
  EXPECT_FALSE(Contains(s.message(), "SELECT"));
  EXPECT_FALSE(Contains(s.message(), "visibility"));
}

// A file above integrity_check_sync_max_bytes opens at once (start-up does not read the whole
// file) and is checked in the background: damage found there becomes the store's fatal error,
// the listener is told once (also when it is set after the check finished), writes are refused.
TEST_F(PersistenceTest, LargeDatabaseIsCheckedInTheBackgroundAndDamageStopsWrites) {
  ASSERT_NO_FATAL_FAILURE(WriteManyVisibilityRowsAndCheckpoint(2000));
  ASSERT_NO_FATAL_FAILURE(DamageLastVisibilityLeaf());
  auto opened = SqliteStore::Open(Options(), 4096);  // every real file is "large"
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& store = *opened;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (store->fatal_error().ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Status fatal = store->fatal_error();
  EXPECT_EQ(fatal.code(), Code::kInternal) << fatal.ToString();
  EXPECT_TRUE(Contains(fatal.message(), "database " + path_ + " is damaged"));
  EXPECT_TRUE(Contains(fatal.message(), "temporalite backup restore --from <backup> --db-filename " + path_));
  std::atomic<int> told{0};
  store->set_fatal_error_listener([&](const Status& s) {
    EXPECT_TRUE(Contains(s.message(), "is damaged"));
    ++told;
  });
  EXPECT_EQ(told.load(), 1);  // told at once: the damage was found before anyone listened
  Status write = store->CommitSync(WriteBatch{.upsert_current = {{"ns-1", "wf", "r"}}});
  EXPECT_EQ(write.code(), Code::kUnavailable);
  EXPECT_TRUE(Contains(write.message(), "is damaged"));
  EXPECT_EQ(told.load(), 1);
  store->Close();
}

// With defer_background_check (the server's setting) the check of a large file waits for
// RecoveryFinished: the damaged file opens and reads with no check running, then the check starts
// and finds the damage.
TEST_F(PersistenceTest, DeferredBackgroundCheckStartsOnlyAfterRecoveryFinished) {
  ASSERT_NO_FATAL_FAILURE(WriteManyVisibilityRowsAndCheckpoint(2000));
  ASSERT_NO_FATAL_FAILURE(DamageLastVisibilityLeaf());
  auto opened = SqliteStore::Open(Options(), 4096, /*defer_background_check=*/true);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& store = *opened;
  EXPECT_FALSE(store->background_check_started());
  EXPECT_TRUE(store->LoadOpenExecutions().ok());  // "recovery"
  EXPECT_TRUE(store->fatal_error().ok());
  EXPECT_FALSE(store->background_check_started());
  store->RecoveryFinished();
  EXPECT_TRUE(store->background_check_started());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (store->fatal_error().ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(Contains(store->fatal_error().message(), "is damaged"));
  store->RecoveryFinished();  // a second call starts nothing
  store->Close();
}

// The same file undamaged: opens, the background check passes, writes work; Close interrupts a
// check still running.
TEST_F(PersistenceTest, BackgroundIntegrityCheckPassesOnAHealthyFileAndStopsOnClose) {
  ASSERT_NO_FATAL_FAILURE(WriteManyVisibilityRows(2000));
  for (int i = 0; i < 3; ++i) {
    auto opened = SqliteStore::Open(Options(), 4096);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    auto store = std::move(opened).value();
    EXPECT_TRUE(store->CommitSync(WriteBatch{.upsert_current = {{"ns-1", "wf", "r" + std::to_string(i)}}}).ok());
    if (i == 2) std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let one check finish
    EXPECT_TRUE(store->fatal_error().ok()) << store->fatal_error().ToString();
    store->Close();
  }
}

// Commits probe records (execution rows the tests ignore) until the file holds `n` dictionaries
// (a trained one is stored by the first commit after its training finished).
void WaitForDictionaries(SqliteStore& store, const std::string& path, int n, const std::string& probe_text = "probe record ") {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int k = 0; std::chrono::steady_clock::now() < deadline; ++k) {
    std::string state;
    while (state.size() < 400) state += probe_text + std::to_string(k) + " ";
    ASSERT_TRUE(store.CommitSync(WriteBatch{.upsert_executions = {Exec("probe-" + std::to_string(k), "wf-probe", state)}}).ok());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    int64_t have = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM dictionaries", -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
      have = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    if (have >= n) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  FAIL() << "no dictionary " << n << " within 60 s";
}

// Schema 5 blobs: once 256 KB of records are written, a dictionary is trained and stored, and
// later records are compressed with it; everything reads back the same, also after a reopen
// (dictionary loaded from the file) and across history rows of several commits.
TEST_F(PersistenceTest, RecordsAreCompressedWithATrainedDictionaryAndReadBackAfterReopen) {
  auto text = [](int i, int n) {
    std::string t;
    while (static_cast<int>(t.size()) < n) t += "workflow-type-A task-queue-main identity-" + std::to_string(i % 7) + " ";
    return t + std::to_string(i);
  };
  std::map<std::string, std::string> states;
  std::map<std::string, std::vector<std::string>> events;
  auto store = OpenOrDie();
  for (int i = 0; i < 400; ++i) {
    std::string run = "run-" + std::to_string(i);
    WriteBatch b;
    states[run] = text(i, 600);
    b.upsert_executions = {Exec(run, "wf-" + std::to_string(i), states[run])};
    for (int e = 1; e <= 4; ++e) {
      events[run].push_back(text(i * 10 + e, 150));
      b.append_events.push_back(EventRow{run, e, events[run].back()});
    }
    VisibilityRow v = ManyVisibilityRows(1).upsert_visibility[0];
    v.run_id = run;
    v.info = text(i, 300);
    b.upsert_visibility = {v};
    ASSERT_TRUE(store->CommitSync(std::move(b)).ok());
    // A second commit appends events 5-6 (a second history row).
    WriteBatch more;
    for (int e = 5; e <= 6; ++e) {
      events[run].push_back(std::string(1, '\0') + text(e, 40));  // starts with byte 0: escaped when raw
      more.append_events.push_back(EventRow{run, e, events[run].back()});
    }
    ASSERT_TRUE(store->CommitSync(std::move(more)).ok());
    // Trained in the background from 256 KB on: the records after it are compressed.
    if (i == 200) WaitForDictionaries(*store, path_, 1);
  }
  auto check = [&](SqliteStore& st) {
    for (const auto& [run, state] : states) {
      auto ex = st.GetExecution(run);
      ASSERT_TRUE(ex.ok() && ex->has_value()) << run;
      EXPECT_EQ((*ex)->state, state);
      auto all = st.ReadEvents(run, 1, 100);
      ASSERT_TRUE(all.ok());
      ASSERT_EQ(all->size(), 6u);
      for (size_t k = 0; k < all->size(); ++k) {
        EXPECT_EQ((*all)[k].event_id, static_cast<int64_t>(k + 1));
        EXPECT_EQ((*all)[k].data, events[run][k]);
      }
      auto page = st.ReadEvents(run, 4, 2);  // spans the two rows
      ASSERT_TRUE(page.ok());
      EXPECT_EQ(EventIds(*page), (std::vector<int64_t>{4, 5}));
    }
    VisibilityQuery q;
    q.namespace_id = "ns-1";
    q.limit = 1000;
    auto page = st.ListVisibility(q);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->infos.size(), 400u);
  };
  check(*store);
  store->Close();
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM dictionaries"), 1);
  EXPECT_GT(RawQueryInt("SELECT count(*) FROM history WHERE substr(data, 1, 2) = x'0001'"), 100);
  EXPECT_GT(RawQueryInt("SELECT count(*) FROM executions WHERE substr(state, 1, 2) = x'0001'"), 100);
  EXPECT_GT(RawQueryInt("SELECT count(*) FROM visibility WHERE substr(info, 1, 2) = x'0001'"), 100);
  // Compressed: well under the raw bytes.
  EXPECT_LT(RawQueryInt("SELECT sum(length(state)) FROM executions WHERE substr(state, 1, 2) = x'0001'"),
            RawQueryInt("SELECT count(*) FROM executions WHERE substr(state, 1, 2) = x'0001'") * 300);
  auto reopened = OpenOrDie();
  check(*reopened);
  ASSERT_TRUE(reopened->CommitSync(WriteBatch{.upsert_executions = {Exec("late", "wf-late", text(1, 600))}}).ok());
  EXPECT_EQ(reopened->GetExecution("late")->value().state, text(1, 600));
  reopened->Close();
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM dictionaries"), 1);  // the stored one is reused
  EXPECT_EQ(RawQueryInt("SELECT substr(state, 1, 2) = x'0001' FROM executions WHERE run_id = 'late'"), 1);
}

// A version-4 file (one history row per event, the executions-by-workflow index) migrates: its
// events read back in order through the new rows, and appends continue after them.
TEST_F(PersistenceTest, Version4HistoryMigratesToRowsPerRun) {
  ASSERT_TRUE(MigrateFileTo(path_, 4).ok());
  RawExec(
      "INSERT INTO history_events VALUES('a', 1, 'a1'), ('a', 2, 'a2'), ('a', 3, x'0061'), ('b', 1, 'b1');"
      "INSERT INTO executions(run_id, namespace_id, workflow_id, open, close_time, state) VALUES('a', 'ns-1', 'wf-a', 1, 0, 'sa');");
  auto store = OpenOrDie();
  EXPECT_EQ(RawQueryInt("PRAGMA user_version"), LatestSchemaVersion());
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM sqlite_schema WHERE name IN ('history_events', 'executions_by_workflow')"), 0);
  auto a = store->ReadEvents("a", 1, 10);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(EventIds(*a), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ((*a)[2].data, std::string("\0a", 2));
  EXPECT_EQ(store->ReadEvents("b", 1, 10)->at(0).data, "b1");
  EXPECT_EQ(store->GetExecution("a")->value().state, "sa");
  EXPECT_EQ(store->CommitSync(WriteBatch{.append_events = {Event("a", 3)}}).code(), Code::kInternal);  // exists
}

// Schema 5 files as the version-5 store wrote them (text run and namespace ids, raw blobs), for
// the version-6 migration tests: `n` runs "0190c0de-0000-7000-8000-00000000NNNN" in two
// namespaces (even: open, odd: closed), each with a current row, two history rows (events 1-2 and
// 3) and a visibility row; run "legacy-run" (not a UUID) likewise; and a search attribute index.
void WriteVersion5Rows(const std::string& path, int n) {
  ASSERT_TRUE(MigrateFileTo(path, 5).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto run = [&](const std::string& sql, const std::vector<std::string>& texts, const std::vector<int64_t>& ints,
                 const std::string& blob) {
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    int i = 1;
    for (const std::string& t : texts) sqlite3_bind_text(s, i++, t.c_str(), -1, SQLITE_TRANSIENT);
    for (int64_t v : ints) sqlite3_bind_int64(s, i++, v);
    sqlite3_bind_blob(s, i, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(s), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(s);
  };
  ASSERT_EQ(sqlite3_exec(db, "BEGIN; CREATE INDEX \"visibility_sa_Team\" ON visibility(namespace_id, "
                             "json_extract(search_attributes, '$.\"Team\"'))", nullptr, nullptr, nullptr), SQLITE_OK);
  for (int k = 0; k <= n; ++k) {
    char id[64];
    std::snprintf(id, sizeof id, "0190c0de-0000-7000-8000-%012d", k);
    const std::string run_id = k == n ? "legacy-run" : id;
    const std::string ns = k % 2 == 0 ? "ns-even" : "ns-odd";
    const std::string wf = "wf-" + std::to_string(k);
    const bool open = k % 2 == 0;
    run("INSERT INTO executions VALUES(?1, ?2, ?3, ?4, ?5, ?6)", {run_id, ns, wf}, {open ? 1 : 0, open ? 0 : 1000 + k},
        EncodeRaw("state-" + run_id));
    run("INSERT INTO current_executions VALUES(?1, ?2, ?3)", {ns, wf, run_id}, {}, "");
    std::string first, second;
    AppendEvent(&first, "e1-" + run_id);
    AppendEvent(&first, "e2-" + run_id);
    AppendEvent(&second, "e3-" + run_id);
    run("INSERT INTO history VALUES(?1, ?2, ?3)", {run_id}, {2}, EncodeRaw(first));
    run("INSERT INTO history VALUES(?1, ?2, ?3)", {run_id}, {3}, EncodeRaw(second));
    run("INSERT INTO visibility(run_id, namespace_id, workflow_id, workflow_type, task_queue, search_attributes, "
        "status, start_time, execution_time, close_time, history_length, history_size_bytes, state_transition_count, "
        "info) VALUES(?1, ?2, ?3, 'T', 'q', ?4, ?5, ?6, ?6, ?7, 3, 30, 4, ?8)",
        {run_id, ns, wf, "{\"Team\":\"t" + std::to_string(k % 3) + "\"}"},
        {open ? 1 : 2, 100 + k, open ? INT64_MAX : 1000 + k}, EncodeRaw("info-" + run_id));
  }
  ASSERT_EQ(sqlite3_exec(db, "UPDATE visibility SET close_time = NULL WHERE status = 1; COMMIT", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
}

// Schema 7: an open row written idle carries its wake-up time, and recovery's load leaves its
// state out; any other row (and every row of a version-6 file, which gains the column as NULL)
// comes with its state. Rewriting a row without a wake-up time clears it.
TEST_F(PersistenceTest, IdleRowsLoadWithoutStateAndVersion6RowsHaveNoWakeTime) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    WriteBatch b;
    b.upsert_namespaces.push_back({"ns-1", "default", "d"});
    b.upsert_executions.push_back({"ns-1", "wf-idle", "0190c0de-0000-7000-8000-000000000001", true, 0, "idle-state", 1234});
    b.upsert_executions.push_back({"ns-1", "wf-busy", "0190c0de-0000-7000-8000-000000000002", true, 0, "busy-state", {}});
    b.upsert_executions.push_back({"ns-1", "wf-none", "0190c0de-0000-7000-8000-000000000003", true, 0, "none", kNoIdleTimer});
    ASSERT_TRUE(store->CommitSync(std::move(b)).ok());
    auto lean = store->LoadOpenExecutions(/*idle_states=*/false);
    ASSERT_TRUE(lean.ok());
    ASSERT_EQ(lean->size(), 3u);
    std::map<std::string, ExecutionRow> by_wf;
    for (auto& r : *lean) by_wf[r.workflow_id] = r;
    EXPECT_EQ(by_wf["wf-idle"].state, "");
    EXPECT_EQ(by_wf["wf-idle"].idle_wake_unix_nanos, std::optional<int64_t>(1234));
    EXPECT_EQ(by_wf["wf-none"].idle_wake_unix_nanos, std::optional<int64_t>(kNoIdleTimer));
    EXPECT_EQ(by_wf["wf-busy"].state, "busy-state");
    EXPECT_FALSE(by_wf["wf-busy"].idle_wake_unix_nanos.has_value());
    auto full = store->LoadOpenExecutions();
    ASSERT_TRUE(full.ok());
    for (auto& r : *full) EXPECT_FALSE(r.state.empty()) << r.workflow_id;
    // In place (same open / close_time): the wake-up time goes with the new state.
    WriteBatch busy;
    busy.upsert_executions.push_back({"ns-1", "wf-idle", "0190c0de-0000-7000-8000-000000000001", true, 0, "now-busy", {}});
    ASSERT_TRUE(store->CommitSync(std::move(busy)).ok());
    EXPECT_EQ(RawQueryInt("SELECT count(*) FROM executions WHERE wake IS NULL"), 2);
    store->Close();
  }
  RawExec("ALTER TABLE executions DROP COLUMN wake; PRAGMA user_version = 6;");
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawQueryInt("PRAGMA user_version"), LatestSchemaVersion());
  auto lean = store->LoadOpenExecutions(/*idle_states=*/false);
  ASSERT_TRUE(lean.ok());
  ASSERT_EQ(lean->size(), 3u);
  for (auto& r : *lean) {
    EXPECT_FALSE(r.state.empty()) << r.workflow_id;
    EXPECT_FALSE(r.idle_wake_unix_nanos.has_value()) << r.workflow_id;
  }
}

// A version-5 file migrates to compact keys (schema 6) keeping every row: executions, current
// rows, history, visibility (search attribute index included), read back through the store by
// their text ids; UUID run ids are stored as 16 bytes, the other as text; writes go on.
TEST_F(PersistenceTest, Version5FileMigratesToCompactKeysKeepingEveryRow) {
  constexpr int kRuns = 40;
  WriteVersion5Rows(path_, kRuns);
  ASSERT_EQ(RawQueryInt("PRAGMA user_version"), 5);
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawQueryInt("PRAGMA user_version"), LatestSchemaVersion());
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM namespace_keys"), 2);
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM executions WHERE typeof(run_id) = 'blob' AND length(run_id) = 16"), kRuns);
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM history WHERE typeof(run_id) = 'blob'"), 2 * kRuns);
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM current_executions WHERE typeof(run_id) = 'blob'"), kRuns);
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM visibility WHERE typeof(namespace_id) = 'integer'"), kRuns + 1);
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN ('visibility_sa_Team', "
                        "'visibility_by_order', 'visibility_by_type', 'visibility_by_workflow_id', 'executions_open', "
                        "'executions_closed')"),
            6);
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'"), 0);
  for (int k = 0; k <= kRuns; ++k) {
    char id[64];
    std::snprintf(id, sizeof id, "0190c0de-0000-7000-8000-%012d", k);
    const std::string run_id = k == kRuns ? "legacy-run" : id;
    const std::string ns = k % 2 == 0 ? "ns-even" : "ns-odd";
    auto e = store->GetExecution(run_id);
    ASSERT_TRUE(e.ok() && e->has_value()) << run_id;
    EXPECT_EQ((*e)->namespace_id, ns);
    EXPECT_EQ((*e)->workflow_id, "wf-" + std::to_string(k));
    EXPECT_EQ((*e)->state, "state-" + run_id);
    EXPECT_EQ((*e)->open, k % 2 == 0);
    EXPECT_EQ(store->GetCurrentRunId(ns, "wf-" + std::to_string(k))->value_or(""), run_id);
    auto events = store->ReadEvents(run_id, 2, 10);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(EventIds(*events), (std::vector<int64_t>{2, 3}));
    EXPECT_EQ((*events)[1].data, "e3-" + run_id);
  }
  auto open = store->LoadOpenExecutions();
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->size(), static_cast<size_t>(kRuns / 2 + 1));
  for (const ExecutionRow& r : *open) EXPECT_EQ(r.namespace_id, "ns-even");
  auto expired = store->ClosedRunsBefore("ns-odd", 1000 + 6, 100);  // runs 1, 3, 5
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, (std::vector<std::string>{"0190c0de-0000-7000-8000-000000000001",
                                                "0190c0de-0000-7000-8000-000000000003",
                                                "0190c0de-0000-7000-8000-000000000005"}));
  VisibilityQuery q;
  q.namespace_id = "ns-odd";
  q.where = "json_extract(search_attributes, '$.\"Team\"') = ?";
  q.args = {std::string("t1")};
  auto page = store->ListVisibility(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  // Odd k with k % 3 == 1: 1, 7, 13, 19, 25, 31, 37, newest close first.
  ASSERT_EQ(page->infos.size(), 7u);
  EXPECT_EQ(page->infos.front(), "info-0190c0de-0000-7000-8000-000000000037");
  EXPECT_EQ(page->cursors.front().run_id, "0190c0de-0000-7000-8000-000000000037");
  q.where.clear();
  q.args.clear();
  q.namespace_id = "ns-even";
  EXPECT_EQ(store->CountVisibility(q).value(), kRuns / 2 + 1);
  q.namespace_id = "ns-never";
  EXPECT_EQ(store->CountVisibility(q).value(), 0);

  // Writes go on: a new event, a new namespace, a deleted run.
  const std::string run0 = "0190c0de-0000-7000-8000-000000000000";
  EXPECT_EQ(store->CommitSync(WriteBatch{.append_events = {Event(run0, 3)}}).code(), Code::kInternal);  // exists
  store.reset();
  store = OpenOrDie();
  WriteBatch b;
  b.append_events = {Event(run0, 4)};
  ExecutionRow fresh = Exec("0190c0de-0000-7000-8000-0000000000ff", "wf-new", "s");
  fresh.namespace_id = "ns-new";
  b.upsert_executions = {fresh};
  b.upsert_current = {{"ns-new", "wf-new", fresh.run_id}};
  b.delete_runs = {"legacy-run"};
  ASSERT_TRUE(store->CommitSync(std::move(b)).ok());
  EXPECT_EQ(EventIds(store->ReadEvents(run0, 1, 10).value()), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(store->GetCurrentRunId("ns-new", "wf-new")->value_or(""), fresh.run_id);
  EXPECT_EQ(store->GetExecution(fresh.run_id)->value().namespace_id, "ns-new");
  EXPECT_FALSE(store->GetExecution("legacy-run")->has_value());
  EXPECT_TRUE(store->ReadEvents("legacy-run", 1, 10)->empty());
  EXPECT_FALSE(store->GetCurrentRunId("ns-even", "wf-" + std::to_string(kRuns))->has_value());
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM namespace_keys"), 3);
}

// A crash in the middle of the version-6 migration (the process exits inside its transaction,
// after the rebuilt tables were written to the WAL) leaves the version-5 file as it was; the next
// open migrates it.
TEST_F(PersistenceTest, CrashDuringCompactKeyMigrationLeavesVersion5Intact) {
  constexpr int kRuns = 400;
  WriteVersion5Rows(path_, kRuns);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    SetMigrationHookForTesting([](int version) {
      if (version == 6) _exit(9);
    });
    SqliteOptions o = Options();
    o.extra_pragmas = {"cache_size=2"};  // spill the migration's pages to the WAL before the crash
    auto store = SqliteStore::Open(o);
    _exit(store.ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 9);  // died inside the migration
  EXPECT_GT(std::filesystem::file_size(path_ + "-wal"), 64u * 1024);  // uncommitted frames
  EXPECT_EQ(RawQueryInt("PRAGMA user_version"), 5);
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM sqlite_schema WHERE name = 'namespace_keys'"), 0);
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM executions WHERE typeof(run_id) = 'text'"), kRuns + 1);
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM history"), 2 * (kRuns + 1));
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM visibility WHERE namespace_id = 'ns-odd'"), kRuns / 2);

  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawQueryInt("PRAGMA user_version"), LatestSchemaVersion());
  EXPECT_EQ(store->GetExecution("0190c0de-0000-7000-8000-000000000399")->value().state,
            "state-0190c0de-0000-7000-8000-000000000399");
  EXPECT_EQ(store->ReadEvents("legacy-run", 1, 10)->size(), 3u);
}

// A record text of about `n` bytes in one of two vocabularies (a dictionary trained on one
// compresses the other poorly).
std::string Vocabulary(char which, int i, int n) {
  std::string t;
  while (static_cast<int>(t.size()) < n) {
    t += which == 'A' ? "workflow-type-A task-queue-main identity-" + std::to_string(i % 7) + " attempt " + std::to_string(i % 100) + " "
                      : "PaymentCaptured{amount_cents:" + std::to_string((i * 7919) % 100000) + ",currency:EUR,region:" +
                            std::to_string(i % 13) + ",merchant:shop-" + std::to_string((i * 31) % 997) + "} ";
  }
  return t;
}

// Drops the test hooks when a test ends.
struct ResetDictionaryTestHooks {
  ~ResetDictionaryTestHooks() {
    SetDictionaryTrainingHookForTesting(nullptr);
    SetDictionaryPolicyForTesting(std::nullopt);
  }
};

// Holds a training until released.
struct TrainingGate {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool released = false;
  void Hold() {
    std::unique_lock<std::mutex> l(mu);
    started = true;
    cv.notify_all();
    cv.wait(l, [this] { return released; });
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu);
    released = true;
    cv.notify_all();
  }
  bool Started() {
    std::lock_guard<std::mutex> l(mu);
    return started;
  }
};

// Every run of `states` reads back from `store` with that state.
void ExpectStates(SqliteStore& store, const std::map<std::string, std::string>& states) {
  for (const auto& [run, state] : states) {
    auto ex = store.GetExecution(run);
    ASSERT_TRUE(ex.ok() && ex->has_value()) << run;
    EXPECT_EQ((*ex)->state, state) << run;
  }
}

// The dictionary is trained on a thread of its own: while a training is held, commits go on (their
// records stored raw); the dictionary is stored by the first commit after it, later records use it,
// and everything reads back, also after a reopen.
TEST_F(PersistenceTest, CommitsGoOnWhileTheDictionaryTrainsInTheBackground) {
  ResetDictionaryTestHooks reset_hooks;
  DictionaryPolicy policy;
  policy.sample_bytes = 32 * 1024;
  policy.retrain_after_bytes = UINT64_MAX;
  SetDictionaryPolicyForTesting(policy);
  TrainingGate gate_storage;
  TrainingGate* gate = &gate_storage;
  SetDictionaryTrainingHookForTesting([gate] { gate->Hold(); });
  auto store = OpenOrDie();
  // Destroyed before the store (whose end waits for the training): releases it, also on a failure.
  std::unique_ptr<TrainingGate, void (*)(TrainingGate*)> releaser(gate, [](TrainingGate* g) { g->Release(); });
  std::map<std::string, std::string> states;
  int next = 0;
  auto commit = [&] {
    std::string run = "run-" + std::to_string(next);
    states[run] = Vocabulary('A', next++, 600);
    return store->CommitSync(WriteBatch{.upsert_executions = {Exec(run, "wf-" + run, states[run])}});
  };
  for (int k = 0; k < 1000 && !gate->Started(); ++k) ASSERT_TRUE(commit().ok());
  ASSERT_TRUE(gate->Started()) << "no training started";
  // The training is held: 40 more commits finish anyway.
  auto more = std::async(std::launch::async, [&] {
    for (int k = 0; k < 40; ++k) {
      if (!commit().ok()) return false;
    }
    return true;
  });
  if (more.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    gate->Release();
    more.wait();
    FAIL() << "commits waited for the training";
  }
  EXPECT_TRUE(more.get());
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM dictionaries"), 0);
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM executions WHERE substr(state, 1, 2) = x'0001'"), 0);
  gate->Release();
  for (int k = 0; k < 6000 && RawQueryInt("SELECT count(*) FROM dictionaries") == 0; ++k) ASSERT_TRUE(commit().ok());
  ASSERT_EQ(RawQueryInt("SELECT count(*) FROM dictionaries"), 1);
  for (int k = 0; k < 20; ++k) ASSERT_TRUE(commit().ok());
  EXPECT_GE(RawQueryInt("SELECT count(*) FROM executions WHERE substr(state, 1, 3) = x'000101'"), 20);
  ExpectStates(*store, states);
  store->Close();
  auto reopened = OpenOrDie();
  ExpectStates(*reopened, states);
}

// Retraining: after `retrain_after_bytes` with the first dictionary the records changed (another
// vocabulary), so the retrained dictionary compresses held-out samples much better and is stored
// as dictionary 2; records under both dictionaries (and raw ones) read back, also after a reopen,
// and new records use dictionary 2.
TEST_F(PersistenceTest, RetrainedDictionaryIsAdoptedWhenBetterAndOldRecordsStillRead) {
  DictionaryPolicy policy;
  policy.sample_bytes = 32 * 1024;
  policy.retrain_after_bytes = 64 * 1024;
  policy.retrain_stride = 1;
  SetDictionaryPolicyForTesting(policy);
  ResetDictionaryTestHooks reset_hooks;
  auto store = OpenOrDie();
  std::map<std::string, std::string> states;
  int next = 0;
  auto commit_until = [&](char vocabulary, int dictionaries) {
    for (int k = 0; k < 6000 && RawQueryInt("SELECT count(*) FROM dictionaries") < dictionaries; ++k) {
      std::string run = "run-" + std::to_string(next);
      states[run] = Vocabulary(vocabulary, next++, 500);
      ASSERT_TRUE(store->CommitSync(WriteBatch{.upsert_executions = {Exec(run, "wf-" + run, states[run])}}).ok());
    }
    ASSERT_EQ(RawQueryInt("SELECT count(*) FROM dictionaries"), dictionaries);
  };
  commit_until('A', 1);
  commit_until('B', 2);
  ASSERT_TRUE(store->CommitSync(WriteBatch{.upsert_executions = {Exec("last", "wf-last", Vocabulary('B', 1, 500))}}).ok());
  states["last"] = Vocabulary('B', 1, 500);
  EXPECT_GT(RawQueryInt("SELECT count(*) FROM executions WHERE substr(state, 1, 3) = x'000101'"), 0);
  EXPECT_EQ(RawQueryInt("SELECT substr(state, 1, 3) = x'000102' FROM executions WHERE run_id = 'last'"), 1);
  ExpectStates(*store, states);
  store->Close();
  auto reopened = OpenOrDie();
  ExpectStates(*reopened, states);
  ASSERT_TRUE(reopened->CommitSync(WriteBatch{.upsert_executions = {Exec("late", "wf-late", Vocabulary('B', 2, 500))}}).ok());
  EXPECT_EQ(reopened->GetExecution("late")->value().state, Vocabulary('B', 2, 500));
  reopened->Close();
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM dictionaries"), 2);
  EXPECT_EQ(RawQueryInt("SELECT substr(state, 1, 3) = x'000102' FROM executions WHERE run_id = 'late'"), 1);
}

// A retraining on records like the first dictionary's is not better by the policy's margin: the
// current dictionary stays, and no further training starts in this process.
TEST(BlobEncoderTest, RetrainingThatIsNoBetterKeepsTheCurrentDictionaryAndIsTheLast) {
  DictionaryPolicy policy;
  policy.sample_bytes = 32 * 1024;
  policy.retrain_after_bytes = 64 * 1024;
  policy.retrain_stride = 1;
  policy.retrain_min_gain = 0.05;
  BlobEncoder enc(policy);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int i = 0;
  while (!enc.training() && i < 10000) enc.Sample(Vocabulary('A', i++, 500));
  ASSERT_TRUE(enc.training());
  std::optional<std::string> first;
  while (!first && std::chrono::steady_clock::now() < deadline) {
    first = enc.TakeTrained();
    if (!first) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(first.has_value());
  enc.SetDictionary(1, *first);
  EXPECT_FALSE(enc.training());
  while (!enc.training() && i < 20000) enc.Sample(Vocabulary('A', i++, 500));
  ASSERT_TRUE(enc.training()) << "no retraining started";
  while (enc.training() && std::chrono::steady_clock::now() < deadline) {
    EXPECT_FALSE(enc.TakeTrained().has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_FALSE(enc.training());
  for (int k = 0; k < 2000; ++k) enc.Sample(Vocabulary('B', i++, 500));
  EXPECT_FALSE(enc.training());
  EXPECT_EQ(enc.Encode(Vocabulary('A', 1, 500)).substr(0, 3), std::string("\0\1\1", 3));
}

}  // namespace
}  // namespace temporalite::persistence
