// Conformance tests for the SQLite store and the data-directory lock. Each test works in its own
// mkdtemp directory, removed afterwards.
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
#include "persistence/inline_commit.h"
#include "persistence/sqlite_store.h"
#include "persistence/store.h"
#include "persistence_test_util.h"

namespace temporalite::persistence {
namespace {

// Holds the writer thread inside a `done` callback until Release(), so the test can queue
// batches that are then guaranteed to be taken by the next transaction together.
class WriterGate {
 public:
  Store::DoneCallback Callback() {
    return [this](const Status& s) {
      entered_.set_value();
      release_.get_future().wait();
    };
  }
  void WaitEntered() { entered_.get_future().wait(); }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
};

TEST_F(PersistenceTest, RoundTripsEveryRowKindAcrossReopen) {
  const std::string binary_state("state\0with\xffnul", 15);
  {
    auto store = OpenOrDie();
    WriteBatch b;
    b.upsert_namespaces.push_back({"ns-1", "default", "ns-data-1"});
    b.upsert_namespaces.push_back({"ns-2", "another", std::string("\0\1\2", 3)});
    b.upsert_executions.push_back(Exec("run-open", "wf-a", binary_state));
    b.upsert_executions.push_back(Exec("run-closed", "wf-b", "closed-state", /*open=*/false));
    b.upsert_executions.push_back(Exec("run-empty", "wf-c", ""));
    b.upsert_current.push_back({"ns-1", "wf-a", "run-open"});
    b.append_events = {Event("run-open", 1), Event("run-open", 2), Event("run-closed", 1)};
    ASSERT_TRUE(store->CommitSync(std::move(b)).ok());
    store->Close();
    store->Close();  // Idempotent.
  }
  auto store = OpenOrDie();
  auto ns = store->LoadNamespaces();
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(ns->size(), 2u);
  EXPECT_EQ((*ns)[0].name, "another");  // Ordered by name.
  EXPECT_EQ((*ns)[0].data, std::string("\0\1\2", 3));
  EXPECT_EQ((*ns)[1].id, "ns-1");
  EXPECT_EQ((*ns)[1].data, "ns-data-1");

  auto open = store->LoadOpenExecutions();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 2u);
  for (const ExecutionRow& r : *open) EXPECT_TRUE(r.open);

  auto e = store->GetExecution("run-open");
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->state, binary_state);
  EXPECT_EQ((*e)->workflow_id, "wf-a");
  EXPECT_EQ((*e)->namespace_id, "ns-1");
  auto closed = store->GetExecution("run-closed");
  ASSERT_TRUE(closed.ok() && closed->has_value());
  EXPECT_FALSE((*closed)->open);
  EXPECT_EQ((*closed)->close_time_unix_nanos, 1'700'000'000'123'456'789);
  auto empty = store->GetExecution("run-empty");
  ASSERT_TRUE(empty.ok() && empty->has_value());
  EXPECT_EQ((*empty)->state, "");
  auto missing = store->GetExecution("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto cur = store->GetCurrentRunId("ns-1", "wf-a");
  ASSERT_TRUE(cur.ok() && cur->has_value());
  EXPECT_EQ(**cur, "run-open");
  auto no_cur = store->GetCurrentRunId("ns-1", "wf-b");
  ASSERT_TRUE(no_cur.ok());
  EXPECT_FALSE(no_cur->has_value());

  auto events = store->ReadEvents("run-open", 1, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].data, "event-run-open-2");
  EXPECT_EQ((*events)[1].run_id, "run-open");

  // Upserts replace: closing the run drops it from the open set.
  WriteBatch close;
  close.upsert_executions.push_back(Exec("run-open", "wf-a", "final", /*open=*/false));
  close.upsert_current.push_back({"ns-1", "wf-a", "run-next"});
  ASSERT_TRUE(store->CommitSync(std::move(close)).ok());
  open = store->LoadOpenExecutions();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].run_id, "run-empty");
  EXPECT_EQ(store->GetCurrentRunId("ns-1", "wf-a").value().value_or(""), "run-next");
  EXPECT_EQ(store->GetExecution("run-open")->value().state, "final");
}

TEST_F(PersistenceTest, BatchesFromManyThreadsCompleteInSubmissionOrderAndSurviveReopen) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 150;
  std::mutex submit_mu;  // Makes "submission order" observable: seq is assigned with Commit.
  int64_t next_seq = 0;
  std::mutex done_mu;
  std::vector<int64_t> done_order;
  std::vector<std::vector<int>> per_thread(kThreads);
  std::atomic<int> failures{0};
  {
    auto store = OpenOrDie();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          WriteBatch b;
          std::string run = "run-" + std::to_string(t);
          b.upsert_executions.push_back(Exec(run, "wf-" + std::to_string(t), std::to_string(i)));
          b.append_events.push_back(Event(run, i + 1));
          std::lock_guard<std::mutex> l(submit_mu);
          int64_t seq = next_seq++;
          store->Commit(std::move(b), [&, t, i, seq](const Status& s) {
            if (!s.ok()) failures++;
            std::lock_guard<std::mutex> dl(done_mu);
            done_order.push_back(seq);
            per_thread[t].push_back(i);
          });
        }
      });
    }
    for (auto& th : threads) th.join();
    store->Close();  // Commits everything still queued.
    EXPECT_EQ(store->batches_committed(), static_cast<uint64_t>(kThreads * kPerThread));
  }
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(done_order.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < done_order.size(); ++i) ASSERT_EQ(done_order[i], (int64_t)i);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(per_thread[t].size(), static_cast<size_t>(kPerThread));
    for (int i = 0; i < kPerThread; ++i) ASSERT_EQ(per_thread[t][i], i);
  }

  auto store = OpenOrDie();
  for (int t = 0; t < kThreads; ++t) {
    std::string run = "run-" + std::to_string(t);
    auto events = store->ReadEvents(run, 1, 1000);
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->size(), static_cast<size_t>(kPerThread));
    // The last upsert wins, so the state is the last batch's.
    EXPECT_EQ(store->GetExecution(run)->value().state, std::to_string(kPerThread - 1));
  }
}

TEST_F(PersistenceTest, GroupCommitMergesQueuedBatchesIntoOneTransaction) {
  auto store = OpenOrDie();
  WriterGate gate;
  WriteBatch first;
  first.append_events.push_back(Event("r", 1));
  store->Commit(std::move(first), gate.Callback());
  gate.WaitEntered();  // The writer is now parked inside the first batch's `done`.

  constexpr int kQueued = 100;
  std::atomic<int> ok{0};
  std::promise<void> all_done;
  for (int i = 0; i < kQueued; ++i) {
    WriteBatch b;
    b.append_events.push_back(Event("r", i + 2));
    store->Commit(std::move(b), [&, i](const Status& s) {
      if (s.ok()) ok++;
      if (i == kQueued - 1) all_done.set_value();
    });
  }
  gate.Release();
  all_done.get_future().wait();
  EXPECT_EQ(ok.load(), kQueued);
  EXPECT_EQ(store->transactions_committed(), 2u);
  EXPECT_EQ(store->batches_committed(), static_cast<uint64_t>(kQueued + 1));
  EXPECT_EQ(store->ReadEvents("r", 1, 1000)->size(), static_cast<size_t>(kQueued + 1));
}

TEST_F(PersistenceTest, GroupCommitRespectsMaxBatchesPerTransaction) {
  SqliteOptions o = Options();
  o.max_batches_per_transaction = 10;
  auto store = OpenOrDie(o);
  WriterGate gate;
  store->Commit(WriteBatch{.append_events = {Event("r", 1)}}, gate.Callback());
  gate.WaitEntered();
  for (int i = 0; i < 100; ++i) store->Commit(WriteBatch{.append_events = {Event("r", i + 2)}}, {});
  gate.Release();
  store->Close();
  EXPECT_EQ(store->transactions_committed(), 11u);
  EXPECT_EQ(store->batches_committed(), 101u);
}

// An idle store: a commit made inside an InlineCommitScope runs on the scope's thread when the
// scope ends (no hand-off to the writer thread), durable before its `done` runs.
TEST_F(PersistenceTest, InlineCommitScopeRunsAnIdleStoresCommitOnItsOwnThread) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->CommitSync(WriteBatch{.append_events = {Event("r", 1)}}).ok());
  // The writer thread may still hold the role for that transaction's follow-up (seen under TSan):
  // the store is idle only once it has left it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!store->WriterIdle() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_TRUE(store->WriterIdle());
  const auto before = store->transactions_committed();
  std::thread::id ran_on;
  int calls = 0;
  Status got = Internal("not run");
  {
    InlineCommitScope scope;
    store->Commit(WriteBatch{.append_events = {Event("r", 2)}}, [&](const Status& s) {
      ran_on = std::this_thread::get_id();
      got = s;
      ++calls;
    });
  }
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(got.ok()) << got.message();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_EQ(store->transactions_committed(), before + 1);
  EXPECT_EQ(store->ReadEvents("r", 1, 10)->size(), 2u);
  // The writer thread still serves commits made outside a scope.
  ASSERT_TRUE(store->CommitSync(WriteBatch{.append_events = {Event("r", 3)}}).ok());
}

// A busy writer (a transaction running): the commit goes to the writer thread, after the running
// transaction, in order; a CommitSync inside a scope does not wait for the scope's end.
TEST_F(PersistenceTest, InlineCommitScopeLeavesCommitsToABusyWriterInOrder) {
  auto store = OpenOrDie();
  WriterGate gate;
  store->Commit(WriteBatch{.append_events = {Event("r", 1)}}, gate.Callback());
  gate.WaitEntered();  // The writer holds the role, parked in the first batch's `done`.
  std::promise<std::thread::id> ran_on;
  {
    InlineCommitScope scope;
    store->Commit(WriteBatch{.append_events = {Event("r", 2)}},
                  [&](const Status& s) { ran_on.set_value(std::this_thread::get_id()); });
  }
  auto ran = ran_on.get_future();
  EXPECT_EQ(ran.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);  // behind the first
  gate.Release();
  ASSERT_EQ(ran.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_NE(ran.get(), std::this_thread::get_id());

  auto synced = std::async(std::launch::async, [&] {
    InlineCommitScope scope;
    return store->CommitSync(WriteBatch{.append_events = {Event("r", 3)}});
  });
  ASSERT_EQ(synced.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(synced.get().ok());
  EXPECT_EQ(store->ReadEvents("r", 1, 10)->size(), 3u);
}

// Close while a commit waits for its scope's end: Close's drain commits it (once), and the
// scope's end then finds nothing to do.
TEST_F(PersistenceTest, CloseCommitsABatchLeftToAnInlineCommitScope) {
  auto store = OpenOrDie();
  int calls = 0;
  Status got = Internal("not run");
  {
    InlineCommitScope scope;
    store->Commit(WriteBatch{.append_events = {Event("r", 1)}}, [&](const Status& s) {
      got = s;
      ++calls;
    });
    store->Close();
    EXPECT_EQ(calls, 1);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(got.ok()) << got.message();
  store.reset();
  auto reopened = OpenOrDie();
  EXPECT_EQ(reopened->ReadEvents("r", 1, 10)->size(), 1u);
}

TEST_F(PersistenceTest, DuplicateEventFailsWholeTransactionAndStoreRefusesWrites) {
  auto store = OpenOrDie();
  // The composition root's watch: told once, on the writer thread, before any failed reply.
  std::atomic<int> told{0};
  std::promise<Status> told_status;
  std::atomic<int> replies_before_told{0};
  std::atomic<int> replies{0};
  store->set_fatal_error_listener([&](const Status& s) {
    replies_before_told = replies.load();
    if (told.fetch_add(1) == 0) told_status.set_value(s);
  });
  ASSERT_TRUE(store->CommitSync(WriteBatch{.append_events = {Event("r1", 1)}}).ok());
  EXPECT_TRUE(store->fatal_error().ok());

  WriterGate gate;
  store->Commit(WriteBatch{}, gate.Callback());
  gate.WaitEntered();
  // Three batches that will share one transaction; the middle one rewrites event r1/1.
  std::vector<std::future<Status>> results;
  auto commit = [&](WriteBatch b) {
    auto p = std::make_shared<std::promise<Status>>();
    results.push_back(p->get_future());
    store->Commit(std::move(b), [p, &replies](const Status& s) {
      ++replies;
      p->set_value(s);
    });
  };
  commit(WriteBatch{.upsert_executions = {Exec("r2", "wf-2", "s2")},
                    .append_events = {Event("r2", 1)}});
  commit(WriteBatch{.append_events = {Event("r1", 2), Event("r1", 1)}});
  commit(WriteBatch{.upsert_current = {{"ns-1", "wf-3", "r3"}}});
  gate.Release();
  for (auto& f : results) {
    Status s = f.get();
    // INTERNAL (retrying cannot help); the message names the kind of failure, never SQL or schema
    // names (those are in the server log).
    EXPECT_EQ(s.code(), Code::kInternal);
    EXPECT_EQ(s.message(), "storage error: constraint failed");
  }
  EXPECT_FALSE(store->GetExecution("r2")->has_value());
  EXPECT_TRUE(store->ReadEvents("r2", 1, 10)->empty());
  EXPECT_EQ(EventIds(store->ReadEvents("r1", 1, 10).value()), std::vector<int64_t>{1});
  EXPECT_FALSE(store->GetCurrentRunId("ns-1", "wf-3")->has_value());

  // The error is recorded and the listener was told exactly once, before the failed replies.
  EXPECT_EQ(told.load(), 1);
  EXPECT_EQ(replies_before_told.load(), 0);
  EXPECT_EQ(told_status.get_future().get().message(), "storage error: constraint failed");
  EXPECT_EQ(store->fatal_error().code(), Code::kInternal);
  EXPECT_EQ(store->fatal_error().message(), "storage error: constraint failed");

  // A perfectly valid batch is now refused, still through `done`: UNAVAILABLE (a restarted
  // server will take it), and nothing of it reaches the database.
  Status later = store->CommitSync(WriteBatch{.append_events = {Event("r9", 1)}});
  EXPECT_EQ(later.code(), Code::kUnavailable);
  EXPECT_TRUE(Contains(later.message(), "refuses writes"));
  EXPECT_TRUE(store->ReadEvents("r9", 1, 10)->empty());
  // An empty batch (a read barrier) is refused too: no reply may claim durability now.
  EXPECT_EQ(store->CommitSync(WriteBatch{}).code(), Code::kUnavailable);
  EXPECT_EQ(told.load(), 1);
  store->Close();
  EXPECT_EQ(store->CommitSync(WriteBatch{}).code(), Code::kUnavailable);  // Closed: inline.
}

TEST_F(PersistenceTest, DeleteRunsRemovesExecutionEventsAndOnlyItsCurrentRow) {
  auto store = OpenOrDie();
  WriteBatch b;
  b.upsert_executions = {Exec("old", "wf", "s-old", false), Exec("new", "wf", "s-new"),
                         Exec("keep", "wf-2", "s-keep")};
  b.upsert_current = {{"ns-1", "wf", "new"}, {"ns-1", "wf-2", "keep"}};
  b.append_events = {Event("old", 1), Event("old", 2), Event("new", 1), Event("keep", 1)};
  ASSERT_TRUE(store->CommitSync(std::move(b)).ok());

  ASSERT_TRUE(store->CommitSync(WriteBatch{.delete_runs = {"old"}}).ok());
  EXPECT_FALSE(store->GetExecution("old")->has_value());
  EXPECT_TRUE(store->ReadEvents("old", 1, 10)->empty());
  EXPECT_EQ(store->GetCurrentRunId("ns-1", "wf")->value_or(""), "new");  // Names another run.

  ASSERT_TRUE(store->CommitSync(WriteBatch{.delete_runs = {"new", "never-existed"}}).ok());
  EXPECT_FALSE(store->GetExecution("new")->has_value());
  EXPECT_TRUE(store->ReadEvents("new", 1, 10)->empty());
  EXPECT_FALSE(store->GetCurrentRunId("ns-1", "wf")->has_value());

  EXPECT_TRUE(store->GetExecution("keep")->has_value());
  EXPECT_EQ(store->ReadEvents("keep", 1, 10)->size(), 1u);
  EXPECT_EQ(store->GetCurrentRunId("ns-1", "wf-2")->value_or(""), "keep");
}

// server_state rows by prefix (the engine's deferred steps, "history.step/<id>"): a batch's
// deletes come after its puts, and a prefix lists only the keys that start with it.
TEST_F(PersistenceTest, ServerStateRowsAreListedByPrefixAndDeleted) {
  auto store = OpenOrDie();
  WriteBatch b;
  b.put_server_state = {{"history.step/b", "2"}, {"history.step/a", "1"}, {"history.stepx", "no"}, {"alerts", "x"}};
  ASSERT_TRUE(store->CommitSync(std::move(b)).ok());
  auto rows = store->ListServerState("history.step/");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  using Rows = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(rows.value(), (Rows{{"history.step/a", "1"}, {"history.step/b", "2"}}));

  WriteBatch d;
  d.put_server_state = {{"history.step/c", "3"}};
  d.delete_server_state = {"history.step/a", "history.step/never"};
  EXPECT_FALSE(d.empty());
  ASSERT_TRUE(store->CommitSync(std::move(d)).ok());
  EXPECT_EQ(store->ListServerState("history.step/").value(), (Rows{{"history.step/b", "2"}, {"history.step/c", "3"}}));
  EXPECT_EQ(store->GetServerState("alerts")->value_or(""), "x");
  EXPECT_FALSE(store->GetServerState("history.step/a")->has_value());
}

TEST_F(PersistenceTest, ReadEventsPages) {
  auto store = OpenOrDie();
  WriteBatch b;
  for (int i = 1; i <= 10; ++i) b.append_events.push_back(Event("r", i));
  b.append_events.push_back(Event("other", 1));
  b.append_events.push_back(Event("r0", 5));  // Sorts right before "r": must not leak in.
  ASSERT_TRUE(store->CommitSync(std::move(b)).ok());

  EXPECT_EQ(EventIds(store->ReadEvents("r", 1, 3).value()), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(EventIds(store->ReadEvents("r", 4, 3).value()), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(EventIds(store->ReadEvents("r", 9, 5).value()), (std::vector<int64_t>{9, 10}));
  EXPECT_TRUE(store->ReadEvents("r", 11, 5)->empty());
  EXPECT_EQ(store->ReadEvents("r", 1, 1000)->size(), 10u);
  EXPECT_EQ(store->ReadEvents("r", 7, 1)->at(0).data, "event-r-7");
  EXPECT_TRUE(store->ReadEvents("missing", 1, 5)->empty());
  EXPECT_EQ(store->ReadEvents("r", 1, 0).status().code(), Code::kInvalidArgument);
}

TEST_F(PersistenceTest, NewerSchemaVersionIsRefused) {
  OpenOrDie()->Close();
  EXPECT_EQ(RawQueryInt("PRAGMA user_version"), LatestSchemaVersion());
  RawExec("PRAGMA user_version = 99");
  auto store = SqliteStore::Open(Options());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(Contains(store.status().message(), "schema version 99"));
  EXPECT_TRUE(Contains(store.status().message(), path_));
  EXPECT_TRUE(Contains(store.status().message(), "upgrade temporalite"));
  EXPECT_EQ(RawQueryInt("PRAGMA user_version"), 99);  // Untouched.
}

TEST_F(PersistenceTest, FileDatabaseUsesWalAndMigratesAnEmptyFile) {
  RawExec("PRAGMA application_id = 7");  // An existing database at version 0.
  auto store = OpenOrDie();
  ASSERT_TRUE(store->CommitSync(WriteBatch{.append_events = {Event("r", 1)}}).ok());
  EXPECT_TRUE(std::filesystem::exists(path_ + "-wal"));
  store->Close();
  EXPECT_EQ(RawQueryInt("PRAGMA application_id"), 7);  // Same file, migrated in place.
  EXPECT_EQ(RawQueryInt("PRAGMA user_version"), LatestSchemaVersion());
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM history"), 1);
}

TEST_F(PersistenceTest, ExtraPragmasAreValidatedAndApplied) {
  for (const char* bad : {"cache_size", "Cache_Size=1", "cache_size=1; DROP TABLE namespaces",
                          "cache_size=", "=1", "no_such_pragma=1", "mmap_size=1 2"}) {
    SqliteOptions o = Options();
    o.extra_pragmas = {bad};
    auto store = SqliteStore::Open(o);
    ASSERT_FALSE(store.ok()) << bad;
    EXPECT_EQ(store.status().code(), Code::kInvalidArgument) << bad;
  }
  SqliteOptions bad_sync = Options();
  bad_sync.synchronous = "FULL; DROP TABLE x";
  EXPECT_EQ(SqliteStore::Open(bad_sync).status().code(), Code::kInvalidArgument);

  SqliteOptions o = Options();
  o.synchronous = "normal";
  o.extra_pragmas = {"cache_size=-4000", "application_id=42", "mmap_size=0"};
  auto store = OpenOrDie(o);
  ASSERT_TRUE(store->CommitSync(WriteBatch{.append_events = {Event("r", 1)}}).ok());
  store->Close();
  EXPECT_EQ(RawQueryInt("PRAGMA application_id"), 42);  // Persistent, so visible from outside.
}

TEST_F(PersistenceTest, ReadersNeverSeeAPartialBatch) {
  for (const std::string& path : {path_, std::string(":memory:")}) {
    SqliteOptions o = Options();
    o.path = path;
    auto store = OpenOrDie(o);
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0}, reads{0};
    std::thread reader([&] {
      while (!stop) {
        auto events = store->ReadEvents("r", 1, 1 << 20);
        // Every batch appends two events, so an odd count is a torn read.
        if (!events.ok() || events->size() % 2 != 0) bad++;
        reads++;
      }
    });
    // Joins the reader even when an ASSERT below returns early.
    struct Joiner {
      std::atomic<bool>& stop;
      std::thread& t;
      ~Joiner() {
        stop = true;
        if (t.joinable()) t.join();
      }
    } joiner{stop, reader};
    // Keep writing until the reader has overlapped with a good number of commits.
    int batches = 0;
    for (; batches < 300 || (reads < 100 && batches < 200'000); ++batches) {
      store->Commit(WriteBatch{.append_events = {Event("r", 2 * batches + 1),
                                                 Event("r", 2 * batches + 2)}},
                    {});
      if (batches % 100 == 99) {
        ASSERT_TRUE(store->CommitSync(WriteBatch{}).ok());
      }
    }
    ASSERT_TRUE(store->CommitSync(WriteBatch{}).ok());
    stop = true;
    reader.join();
    EXPECT_EQ(bad.load(), 0) << path;
    EXPECT_GE(reads.load(), 100) << path;
    EXPECT_EQ(store->ReadEvents("r", 1, 1 << 20)->size(), 2u * batches) << path;
  }
}

TEST_F(PersistenceTest, InMemoryModeCommitsReadsAndGroupsCommits) {
  SqliteOptions o;
  o.path = ":memory:";
  auto store = OpenOrDie(o);
  ASSERT_TRUE(store->CommitSync(WriteBatch{.upsert_namespaces = {{"id", "default", "d"}}}).ok());
  WriterGate gate;
  store->Commit(WriteBatch{.upsert_executions = {Exec("r", "wf", "s")}}, gate.Callback());
  gate.WaitEntered();
  for (int i = 1; i <= 20; ++i) store->Commit(WriteBatch{.append_events = {Event("r", i)}}, {});
  store->Commit(WriteBatch{.upsert_current = {{"ns-1", "wf", "r"}}}, {});
  gate.Release();
  ASSERT_TRUE(store->CommitSync(WriteBatch{}).ok());  // Empty: waits, adds no transaction.
  EXPECT_EQ(store->transactions_committed(), 3u);  // namespace; execution; 20 events + current.
  EXPECT_EQ(store->LoadNamespaces()->size(), 1u);
  EXPECT_EQ(store->LoadOpenExecutions()->size(), 1u);
  EXPECT_EQ(store->GetExecution("r")->value().state, "s");
  EXPECT_EQ(store->GetCurrentRunId("ns-1", "wf")->value_or(""), "r");
  EXPECT_EQ(store->ReadEvents("r", 5, 100)->size(), 16u);
  store->Close();
  EXPECT_EQ(store->LoadNamespaces().status().code(), Code::kUnavailable);
}

TEST_F(PersistenceTest, OpenStoreViaInterfaceAndCommitSync) {
  auto store = OpenSqliteStore(Options());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->CommitSync(WriteBatch{}).ok());
  EXPECT_EQ(OpenSqliteStore(SqliteOptions{}).status().code(), Code::kInvalidArgument);
}

TEST(WriteBatchTest, AppendMovesRowsToTheEnd) {
  WriteBatch a{.append_events = {Event("r", 1)}, .delete_runs = {"x"}};
  WriteBatch b{.upsert_namespaces = {{"n", "name", "d"}},
               .upsert_executions = {Exec("r", "wf", "s")},
               .upsert_current = {{"ns-1", "wf", "r"}},
               .append_events = {Event("r", 2), Event("r", 3)},
               .delete_runs = {"y"}};
  a.Append(std::move(b));
  EXPECT_EQ(EventIds(a.append_events), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(a.delete_runs, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(a.upsert_namespaces.size(), 1u);
  EXPECT_EQ(a.upsert_executions.size(), 1u);
  EXPECT_EQ(a.upsert_current.size(), 1u);
  WriteBatch c{.delete_server_state = {"k"}};
  EXPECT_FALSE(c.empty());
  a.Append(std::move(c));
  EXPECT_EQ(a.delete_server_state, (std::vector<std::string>{"k"}));
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move): Append leaves `other` empty.
}

TEST_F(PersistenceTest, DirLockIsExclusiveAndReleasedOnDestruction) {
  const std::string data_dir = dir_ + "/nested/data";  // mkdir -p.
  auto first = DirLock::Acquire(data_dir);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(data_dir + "/LOCK"));

  auto second = DirLock::Acquire(data_dir);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(Contains(second.status().message(), "(pid " + std::to_string(getpid()) + ")"));
  EXPECT_TRUE(Contains(second.status().message(), data_dir));

  first = Status(Code::kCancelled, "drop the lock");  // Destroys the DirLock.
  auto third = DirLock::Acquire(data_dir);
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST_F(PersistenceTest, DatabaseLockFollowsSymlinksAndHardLinks) {
  const std::string real_dir = dir_ + "/real", other_dir = dir_ + "/other", third_dir = dir_ + "/third";
  auto first = DirLock::AcquireForDatabase(real_dir + "/temporalite.db");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(std::filesystem::exists(real_dir + "/temporalite.db"));
  std::filesystem::create_directories(other_dir);
  std::filesystem::create_symlink(real_dir + "/temporalite.db", other_dir + "/temporalite.db");
  auto via_symlink = DirLock::AcquireForDatabase(other_dir + "/temporalite.db");
  ASSERT_FALSE(via_symlink.ok());
  EXPECT_EQ(via_symlink.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(Contains(via_symlink.status().message(), real_dir)) << via_symlink.status().message();
  EXPECT_TRUE(Contains(via_symlink.status().message(), "in use by another temporalite server"));
  // A hard link has no path to the real directory; the lock on the file itself catches it.
  std::filesystem::create_directories(third_dir);
  std::filesystem::create_hard_link(real_dir + "/temporalite.db", third_dir + "/temporalite.db");
  auto via_hard_link = DirLock::AcquireForDatabase(third_dir + "/temporalite.db");
  ASSERT_FALSE(via_hard_link.ok());
  EXPECT_EQ(via_hard_link.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(Contains(via_hard_link.status().message(), "in use by another temporalite server"));
  first = Status(Code::kCancelled, "drop the lock");
  EXPECT_TRUE(DirLock::AcquireForDatabase(other_dir + "/temporalite.db").ok());
}

// Throughput: 4 submitters, synchronous=FULL, engine-like batches. Run with
// --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'.
TEST_F(PersistenceTest, DISABLED_Throughput) {
  constexpr int kSubmitters = 4;
  constexpr int kInFlightPerSubmitter = 256;  // Like engine shards with bounded pipelines.
  constexpr auto kDuration = std::chrono::seconds(5);
  auto store = OpenOrDie();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> committed{0};
  const std::string state(2048, 's'), payload(300, 'e');
  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < kSubmitters; ++t) {
    threads.emplace_back([&, t] {
      std::mutex mu;
      std::condition_variable cv;
      int in_flight = 0;
      for (int64_t i = 0; !stop; ++i) {
        {
          std::unique_lock<std::mutex> l(mu);
          cv.wait(l, [&] { return in_flight < kInFlightPerSubmitter; });
          ++in_flight;
        }
        std::string run = "run-" + std::to_string(t) + "-" + std::to_string(i / 50);
        WriteBatch b;
        b.upsert_executions.push_back(Exec(run, run, state));
        for (int e = 0; e < 3; ++e) b.append_events.push_back({run, (i % 50) * 3 + e + 1, payload});
        store->Commit(std::move(b), [&](const Status& s) {
          if (s.ok()) committed++;
          std::lock_guard<std::mutex> l(mu);
          --in_flight;
          cv.notify_one();
        });
      }
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return in_flight == 0; });
    });
  }
  std::this_thread::sleep_for(kDuration);
  stop = true;
  for (auto& th : threads) th.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%lld batches in %.2fs = %.0f batches/s, %llu transactions (%.1f batches/txn)\n",
              static_cast<long long>(committed.load()), secs, committed.load() / secs,
              static_cast<unsigned long long>(store->transactions_committed()),
              static_cast<double>(store->batches_committed()) /
                  std::max<uint64_t>(1, store->transactions_committed()));
}


VisibilityRow Vis(const std::string& run, int64_t status, int64_t start, int64_t close, const std::string& type = "T") {
  VisibilityRow r;
  r.namespace_id = "ns-1";
  r.run_id = run;
  r.workflow_id = "wf-" + run;
  r.workflow_type = type;
  r.task_queue = "tq";
  r.status = status;
  r.start_time = start;
  r.execution_time = start;
  r.close_time = close;
  r.execution_duration = close ? close - start : 0;
  r.search_attributes_json = "{\"K\":\"" + run + "\"}";
  r.info = "info-" + run;
  return r;
}

TEST_F(PersistenceTest, VisibilityListsInDefaultOrderPagesCountsAndDeletesWithTheRun) {
  auto store = OpenOrDie();
  WriteBatch b;
  b.upsert_visibility = {Vis("r1", 2, 10, 20), Vis("r2", 3, 11, 30), Vis("r3", 1, 12, 0), Vis("r4", 2, 13, 25, "U")};
  ASSERT_TRUE(store->CommitSync(std::move(b)).ok());
  VisibilityQuery q;
  q.namespace_id = "ns-1";
  q.limit = 2;
  auto page = store->ListVisibility(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  // Open runs first, then by close time descending.
  EXPECT_EQ(page->infos, (std::vector<std::string>{"info-r3", "info-r2"}));
  q.after = page->cursors.back();
  page = store->ListVisibility(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->infos, (std::vector<std::string>{"info-r4", "info-r1"}));
  q.after = page->cursors.back();
  EXPECT_TRUE(store->ListVisibility(q)->infos.empty());

  VisibilityQuery f;
  f.namespace_id = "ns-1";
  f.where = "status = ? AND json_extract(search_attributes, '$.\"K\"') != ?";
  f.args = {int64_t{2}, std::string("r1")};
  EXPECT_EQ(store->CountVisibility(f).value(), 1);
  f.where = "";
  f.args.clear();
  f.order_by = "start_time ASC";
  f.offset = 1;
  f.limit = 2;
  EXPECT_EQ(store->ListVisibility(f)->infos, (std::vector<std::string>{"info-r2", "info-r3"}));
  auto groups = store->CountVisibilityByStatus(f);
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(*groups, (std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {2, 2}, {3, 1}}));
  VisibilityQuery other;
  other.namespace_id = "ns-2";
  EXPECT_EQ(store->CountVisibility(other).value(), 0);

  // Retention candidates come from the executions table: closed, before the cutoff, oldest first.
  WriteBatch e;
  e.upsert_executions = {Exec("r1", "wf-r1", "s", false), Exec("r3", "wf-r3", "s", true)};
  e.upsert_executions[0].close_time_unix_nanos = 20;
  ASSERT_TRUE(store->CommitSync(std::move(e)).ok());
  EXPECT_EQ(store->ClosedRunsBefore("ns-1", 21, 10).value(), (std::vector<std::string>{"r1"}));
  EXPECT_TRUE(store->ClosedRunsBefore("ns-1", 20, 10)->empty());
  WriteBatch d;
  d.delete_runs = {"r1"};
  ASSERT_TRUE(store->CommitSync(std::move(d)).ok());
  other.namespace_id = "ns-1";
  EXPECT_EQ(store->CountVisibility(other).value(), 3);
  store->Close();
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM visibility WHERE run_id = 'r1'"), 0);
}

// Most transitions rewrite only a run's state blob (and, for a search attribute or memo upsert,
// its visibility row's values) while open/close_time and status stay: the writer updates those
// rows in place without touching the indexes, and falls back to the upsert for a new row or a
// close. Reads through every index must see the latest values, and the indexes must still match
// the tables (integrity_check compares each index entry with its row), also after a reopen.
TEST_F(PersistenceTest, RowsUpdatedInPlaceStayConsistentWithTheirIndexes) {
  auto store = OpenOrDie();
  WriteBatch b;
  b.upsert_executions = {Exec("r1", "wf-r1", "s1"), Exec("r2", "wf-r2", "s1")};
  b.upsert_visibility = {Vis("r1", 1, 10, 0), Vis("r2", 1, 11, 0)};
  ASSERT_TRUE(store->CommitSync(std::move(b)).ok());
  // In place: same open/close_time, same status/close_time; several in one transaction too.
  for (int i = 2; i <= 4; ++i) {
    WriteBatch u;
    u.upsert_executions = {Exec("r1", "wf-r1", "s" + std::to_string(i)), Exec("r2", "wf-r2", "s" + std::to_string(i))};
    VisibilityRow v = Vis("r1", 1, 10, 0);
    v.search_attributes_json = "{\"K\":\"v" + std::to_string(i) + "\"}";
    v.info = "info-r1-" + std::to_string(i);
    v.history_length = i;
    u.upsert_visibility = {v};
    ASSERT_TRUE(store->CommitSync(std::move(u)).ok());
  }
  auto open = store->LoadOpenExecutions();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 2u);
  for (const ExecutionRow& r : *open) EXPECT_EQ(r.state, "s4") << r.run_id;
  VisibilityQuery q;
  q.namespace_id = "ns-1";
  q.where = "status = ? AND json_extract(search_attributes, '$.\"K\"') = ?";
  q.args = {int64_t{1}, std::string("v4")};
  EXPECT_EQ(store->ListVisibility(q)->infos, (std::vector<std::string>{"info-r1-4"}));
  EXPECT_EQ(RawQueryInt("SELECT history_length FROM visibility WHERE run_id = 'r1'"), 4);

  // A close changes open/close_time and status: the upsert path, indexes rewritten.
  WriteBatch c;
  c.upsert_executions = {Exec("r1", "wf-r1", "s5", false)};
  c.upsert_executions[0].close_time_unix_nanos = 20;
  VisibilityRow closed = Vis("r1", 2, 10, 20);
  closed.info = "info-r1-closed";
  c.upsert_visibility = {closed};
  ASSERT_TRUE(store->CommitSync(std::move(c)).ok());
  open = store->LoadOpenExecutions();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].run_id, "r2");
  EXPECT_EQ(store->ClosedRunsBefore("ns-1", 21, 10).value(), (std::vector<std::string>{"r1"}));
  EXPECT_EQ(store->GetExecution("r1").value()->state, "s5");
  VisibilityQuery all;
  all.namespace_id = "ns-1";
  // Default order: the open run first, then the closed one (the order index was rewritten).
  EXPECT_EQ(store->ListVisibility(all)->infos, (std::vector<std::string>{"info-r2", "info-r1-closed"}));
  q.where = "status = ?";
  q.args = {int64_t{2}};
  EXPECT_EQ(store->CountVisibility(q).value(), 1);
  // A later in-place update of the closed rows keeps them closed.
  WriteBatch after;
  after.upsert_executions = {Exec("r1", "wf-r1", "s6", false)};
  after.upsert_executions[0].close_time_unix_nanos = 20;
  ASSERT_TRUE(store->CommitSync(std::move(after)).ok());
  store->Close();
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'"), 0);

  store = OpenOrDie();
  open = store->LoadOpenExecutions();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].state, "s4");
  EXPECT_EQ(store->GetExecution("r1").value()->state, "s6");
  EXPECT_EQ(store->ClosedRunsBefore("ns-1", 21, 10).value(), (std::vector<std::string>{"r1"}));
}

// The writer remembers the rows it wrote for UUID run ids (docs/persistence.md, "Rows written in
// place") and picks the in-place UPDATE or the upsert from that, without reading the last event
// id: new runs, transitions, a close, a delete and re-creation, a restart (nothing remembered)
// and a duplicate append all leave the rows and indexes as the plain statements would.
TEST_F(PersistenceTest, RowsOfRunsTheWriterRemembersStayConsistentAcrossClosesDeletesAndRestarts) {
  const std::string a = "0190a5e0-0000-7000-8000-00000000000a";
  const std::string b = "0190a5e0-0000-7000-8000-00000000000b";
  const std::string c = "0190a5e0-0000-7000-8000-00000000000c";
  const int64_t cutoff = 1'800'000'000'000'000'000;
  auto store = OpenOrDie();
  WriteBatch start;
  start.upsert_executions = {Exec(a, "wf-a", "a1"), Exec(b, "wf-b", "b1")};
  start.upsert_visibility = {Vis(a, 1, 10, 0), Vis(b, 1, 11, 0)};
  start.append_events = {Event(a, 1), Event(a, 2), Event(b, 1)};
  ASSERT_TRUE(store->CommitSync(std::move(start)).ok());
  for (int i = 2; i <= 3; ++i) {
    WriteBatch u;
    u.upsert_executions = {Exec(a, "wf-a", "a" + std::to_string(i)), Exec(b, "wf-b", "b" + std::to_string(i))};
    VisibilityRow v = Vis(a, 1, 10, 0);
    v.history_length = i;
    v.info = "info-a-" + std::to_string(i);
    u.upsert_visibility = {v};
    u.append_events = {Event(a, i + 1)};
    ASSERT_TRUE(store->CommitSync(std::move(u)).ok());
  }
  WriteBatch close;
  close.upsert_executions = {Exec(a, "wf-a", "a-closed", false)};
  close.upsert_visibility = {Vis(a, 2, 10, 20)};
  close.append_events = {Event(a, 5)};
  ASSERT_TRUE(store->CommitSync(std::move(close)).ok());
  ASSERT_TRUE(store->CommitSync(WriteBatch{.append_events = {Event(a, 6)}}).ok());  // after its close
  auto open = store->LoadOpenExecutions();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].run_id, b);
  EXPECT_EQ((*open)[0].state, "b3");
  EXPECT_EQ(store->GetExecution(a).value()->state, "a-closed");
  EXPECT_EQ(store->ClosedRunsBefore("ns-1", cutoff, 10).value(), (std::vector<std::string>{a}));
  EXPECT_EQ(EventIds(store->ReadEvents(a, 1, 10).value()), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  VisibilityQuery all;
  all.namespace_id = "ns-1";
  EXPECT_EQ(store->ListVisibility(all)->infos, (std::vector<std::string>{"info-" + b, "info-" + a}));
  // Deleted, then written again under the same run id: nothing of the deleted run is assumed.
  ASSERT_TRUE(store->CommitSync(WriteBatch{.delete_runs = {b}}).ok());
  WriteBatch again;
  again.upsert_executions = {Exec(b, "wf-b", "b-new")};
  again.upsert_visibility = {Vis(b, 1, 12, 0)};
  again.append_events = {Event(b, 1)};
  ASSERT_TRUE(store->CommitSync(std::move(again)).ok());
  EXPECT_EQ(store->GetExecution(b).value()->state, "b-new");
  EXPECT_EQ(EventIds(store->ReadEvents(b, 1, 10).value()), std::vector<int64_t>{1});
  store->Close();
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'"), 0);

  // After a restart nothing is remembered: an open row is upserted, then updated and closed.
  store = OpenOrDie();
  for (const std::string& state : {"b-restarted", "b-again"}) {
    WriteBatch u;
    u.upsert_executions = {Exec(b, "wf-b", state)};
    VisibilityRow v = Vis(b, 1, 12, 0);
    v.info = std::string("info-") + state;
    u.upsert_visibility = {v};
    ASSERT_TRUE(store->CommitSync(std::move(u)).ok());
  }
  EXPECT_EQ(store->LoadOpenExecutions().value().at(0).state, "b-again");
  EXPECT_EQ(store->ListVisibility(all)->infos, (std::vector<std::string>{"info-b-again", "info-" + a}));
  WriteBatch close_b;
  close_b.upsert_executions = {Exec(b, "wf-b", "b-closed", false)};
  close_b.upsert_visibility = {Vis(b, 2, 12, 30)};
  close_b.append_events = {Event(b, 2)};
  ASSERT_TRUE(store->CommitSync(std::move(close_b)).ok());
  EXPECT_TRUE(store->LoadOpenExecutions().value().empty());
  EXPECT_EQ(store->ClosedRunsBefore("ns-1", cutoff, 10).value().size(), 2u);
  EXPECT_EQ(store->ListVisibility(all)->infos, (std::vector<std::string>{"info-" + b, "info-" + a}));
  // An append at or below a remembered run's last stored event still fails the transaction.
  WriteBatch new_c;
  new_c.upsert_executions = {Exec(c, "wf-c", "c1")};
  new_c.append_events = {Event(c, 1), Event(c, 2)};
  ASSERT_TRUE(store->CommitSync(std::move(new_c)).ok());
  Status dup = store->CommitSync(WriteBatch{.append_events = {Event(c, 2)}});
  EXPECT_EQ(dup.code(), Code::kInternal) << dup.message();
  store->Close();
  store = OpenOrDie();
  EXPECT_EQ(EventIds(store->ReadEvents(c, 1, 10).value()), (std::vector<int64_t>{1, 2}));
  store->Close();
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check != 'ok'"), 0);
}

TEST_F(PersistenceTest, SearchAttributeIndexesAreCreatedOnceAndNamesAreChecked) {
  auto store = OpenOrDie();
  WriteBatch b;
  b.index_search_attributes = {"CustomKeywordField", "Custom.Int-2"};
  ASSERT_TRUE(store->CommitSync(std::move(b)).ok());
  WriteBatch again;
  again.index_search_attributes = {"CustomKeywordField"};
  ASSERT_TRUE(store->CommitSync(std::move(again)).ok());
  WriteBatch bad;
  bad.index_search_attributes = {"x\"); DROP TABLE visibility; --"};
  Status s = store->CommitSync(std::move(bad));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  store->Close();
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'visibility_sa_%'"), 2);
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM sqlite_master WHERE name = 'visibility'"), 1);
}

// A server that opened an empty database re-analyzes visibility as it grows (1,000 rows written,
// then each doubling), so a selective search attribute filter uses its index instead of walking
// the default-order index (issue 17: the filtered ListSchedules plan).
TEST_F(PersistenceTest, VisibilityIsReanalyzedAsItGrowsSoFiltersUseTheirIndex) {
  auto store = OpenOrDie();
  WriteBatch index;
  index.index_search_attributes = {"Team"};
  ASSERT_TRUE(store->CommitSync(std::move(index)).ok());
  const std::string plan_sql =
      "EXPLAIN QUERY PLAN SELECT info FROM visibility WHERE namespace_id = 'ns-1' AND "
      "json_extract(search_attributes, '$.\"Team\"') = 'team-7' "
      "ORDER BY coalesce(close_time, 9223372036854775807) DESC, start_time DESC, run_id DESC LIMIT 101";
  // The plan a fresh connection makes (it reads the statistics when it opens).
  auto plan = [&]() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, plan_sql.c_str(), -1, &st, nullptr), SQLITE_OK);
    std::string out;
    while (sqlite3_step(st) == SQLITE_ROW) out += std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 3))) + "\n";
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  };
  auto rows = [](int from, int n) {
    WriteBatch b;
    for (int i = from; i < from + n; ++i) {
      VisibilityRow r = NumberedVisibilityRow(i);
      r.search_attributes_json = "{\"Team\":\"team-" + std::to_string(i % 100) + "\"}";
      r.info = "i";
      b.upsert_visibility.push_back(r);
    }
    return b;
  };
  ASSERT_TRUE(store->CommitSync(rows(0, 900)).ok());
  EXPECT_EQ(RawQueryInt("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'visibility'"), 0);
  EXPECT_NE(plan().find("visibility_by_order"), std::string::npos) << plan();
  ASSERT_TRUE(store->CommitSync(rows(900, 200)).ok());
  // The analysis follows the transaction on the writer thread: one more commit waits for it.
  ASSERT_TRUE(store->CommitSync(rows(1100, 1)).ok());
  EXPECT_GT(RawQueryInt("SELECT count(*) FROM sqlite_stat1 WHERE idx = 'visibility_sa_Team'"), 0);
  const std::string after = plan();
  EXPECT_NE(after.find("visibility_sa_Team"), std::string::npos) << after;
}

}  // namespace
}  // namespace temporalite::persistence
