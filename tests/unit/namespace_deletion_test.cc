// The namespace deletion unit (history/namespace_deletion.h) over its narrow interfaces: a test
// NamespaceDeletionEngine with namespace records, runs (open in memory, open but evicted, closed
// in the store) and commits that are durable at once, a SimClock, and the EngineContext of
// test_engine_context.h for the timers. The engine-level behaviour (real runs, restarts, requests
// to a deleted namespace) is engine_batch_test.cc's EngineNamespaceDeleteTest.
#include <algorithm>
#include <functional>
#include <utility>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "history/execution.h"
#include "history/namespace_deletion.h"
#include "history/proto_time.h"
#include "test_engine_context.h"

namespace temporalite::history {
namespace {

namespace osv1 = ::temporal::api::operatorservice::v1;

class TestNamespaceEngine : public NamespaceDeletionEngine {
 public:
  struct Run {
    std::string ns_id;
    bool open = true;
    bool evicted = false;
  };

  explicit TestNamespaceEngine(Mutex& mu) : mu_(mu) {}

  state::NamespaceRecord* NamespaceNamed(const std::string& name) override {
    mu_.AssertHeld();
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : &it->second;
  }
  state::NamespaceRecord* NamespaceById(const std::string& ns_id) override {
    for (auto& [name, rec] : by_name) {
      if (rec.info().id() == ns_id) return &rec;
    }
    return nullptr;
  }
  void ReplaceNamespace(const std::string& old_name, state::NamespaceRecord rec) override {
    by_name.erase(old_name);
    by_name[rec.info().name()] = std::move(rec);
  }
  void EraseNamespace(const std::string& ns_id) override {
    for (auto it = by_name.begin(); it != by_name.end(); ++it) {
      if (it->second.info().id() == ns_id) {
        by_name.erase(it);
        return;
      }
    }
  }
  bool NamespaceRunsInMemory(const std::string& ns_id, size_t limit, std::vector<std::string>* open) override {
    bool any = false;
    for (const auto& [id, r] : runs) {
      if (r.ns_id != ns_id) continue;
      any = true;
      if (r.open && open->size() < limit) open->push_back(id);
    }
    return any;
  }
  uint64_t ClosedRunsLeftMemory() override { return generation; }
  Status FetchIfEvicted(const std::string& run_id) override {
    auto it = runs.find(run_id);
    if (it != runs.end() && it->second.evicted) {
      it->second.evicted = false;
      ++fetches;
    }
    return Status::Ok();
  }
  bool TerminateRun(Txn&, const std::string& run_id, const std::string& reason, const std::string&) override {
    mu_.AssertHeld();
    auto it = runs.find(run_id);
    if (it == runs.end() || it->second.evicted || !it->second.open) return false;
    EXPECT_EQ(reason, "Delete namespace");
    it->second.open = false;
    terminated.push_back(run_id);
    return true;
  }
  void Commit(Txn& txn, Done done) override {
    ++commits;
    for (const auto& row : txn.batch.upsert_namespaces) namespace_rows[row.id] = row.name;
    for (const auto& id : txn.batch.delete_runs) {
      deleted_runs.push_back(id);
      // A terminated run's close is durable with this commit: it leaves memory.
      if (runs.erase(id)) ++generation;
      closed_in_store.erase(std::remove(closed_in_store.begin(), closed_in_store.end(), id), closed_in_store.end());
    }
    for (const auto& id : txn.batch.delete_namespaces) deleted_namespaces.push_back(id);
    for (auto& f : txn.after_commit) f();
    if (done) done(Status::Ok());
  }
  // Made without the engine mutex; `after_read` runs once the rows are read (a close made durable
  // meanwhile by another thread).
  Result<std::vector<std::string>> ClosedRunsBefore(const std::string& ns_id, int64_t, int64_t limit) override {
    ++store_reads;
    if (fail_reads > 0) {
      --fail_reads;
      return Status(Code::kUnavailable, "disk busy");
    }
    std::vector<std::string> out;
    for (const auto& id : closed_in_store) {
      if (id.rfind(ns_id + ":", 0) == 0 && static_cast<int64_t>(out.size()) < limit) out.push_back(id);
    }
    if (auto f = std::exchange(after_read, nullptr)) {
      MutexLock l(mu_);  // the engine's close takes the mutex: this would deadlock if the unit held it
      f();
    }
    return out;
  }
  std::function<void()> after_read;

  std::map<std::string, state::NamespaceRecord> by_name;
  std::map<std::string, Run> runs;             // in memory (or evicted), by run id
  std::vector<std::string> closed_in_store;    // "<ns id>:<run>"
  std::map<std::string, std::string> namespace_rows;  // id -> name, as committed
  std::vector<std::string> terminated, deleted_runs, deleted_namespaces;
  uint64_t generation = 0;
  int commits = 0, fetches = 0, store_reads = 0, fail_reads = 0;

 private:
  Mutex& mu_;
};

class NamespaceDeletionTest : public ::testing::Test {
 protected:
  NamespaceDeletionTest()
      : clock_(TimePoint(std::chrono::seconds(1704067200))),
        context_(clock_, mu_),
        host_(mu_),
        deletion_(mu_, context_, host_) {
    AddNamespace("ns-abcdef-1", "orders");
    AddNamespace("ns-zzzzzz-2", "billing");
    host_.runs["ns-abcdef-1:open-a"] = {"ns-abcdef-1"};
    host_.runs["ns-abcdef-1:open-b"] = {"ns-abcdef-1", true, /*evicted=*/true};
    host_.runs["ns-zzzzzz-2:other"] = {"ns-zzzzzz-2"};
    host_.closed_in_store = {"ns-abcdef-1:closed-1", "ns-abcdef-1:closed-2", "ns-zzzzzz-2:closed-x"};
  }
  void AddNamespace(const std::string& id, const std::string& name) {
    state::NamespaceRecord rec;
    rec.mutable_info()->set_id(id);
    rec.mutable_info()->set_name(name);
    rec.mutable_info()->set_state(ev1::NAMESPACE_STATE_REGISTERED);
    auto* job = rec.add_batch_jobs();
    job->mutable_request()->set_job_id("running-job");
    job->set_state(ev1::BATCH_OPERATION_STATE_RUNNING);
    host_.by_name[name] = rec;
  }
  Status Delete(const std::string& name, Duration delay, osv1::DeleteNamespaceResponse* resp = nullptr) {
    osv1::DeleteNamespaceRequest req;
    req.set_namespace_(name);
    if (delay != Duration::zero()) *req.mutable_namespace_delete_delay() = ToProtoDuration(delay);
    osv1::DeleteNamespaceResponse unused;
    Status out = Internal("no answer");
    MutexLock l(mu_);
    deletion_.Delete(l, req, resp ? resp : &unused, [&](const Status& s) { out = s; });
    return out;
  }
  void Advance(Duration d) {
    clock_.Advance(d);
    while (context_.timers().RunDue() > 0) {
    }
  }

  SimClock clock_;
  Mutex mu_;
  testing::TestEngineContext context_;
  TestNamespaceEngine host_;
  NamespaceDeletion deletion_;
};

TEST_F(NamespaceDeletionTest, MarksDeletedAtOnceThenReclaimsItsRunsAndTheNamespace) {
  osv1::DeleteNamespaceResponse resp;
  ASSERT_TRUE(Delete("orders", std::chrono::seconds(30), &resp).ok());
  // Renamed and marked Deleted in one commit; the old name is free at once.
  EXPECT_EQ(resp.deleted_namespace(), "orders-deleted-ns-ab");
  EXPECT_EQ(host_.by_name.count("orders"), 0u);
  ASSERT_EQ(host_.by_name.count("orders-deleted-ns-ab"), 1u);
  const state::NamespaceRecord& rec = host_.by_name.at("orders-deleted-ns-ab");
  EXPECT_EQ(rec.info().state(), ev1::NAMESPACE_STATE_DELETED);
  EXPECT_EQ(rec.batch_jobs(0).state(), ev1::BATCH_OPERATION_STATE_FAILED);  // its running job stops
  EXPECT_EQ(host_.namespace_rows.at("ns-abcdef-1"), "orders-deleted-ns-ab");
  // A delete of the old name now finds nothing (Temporal: invalid argument).
  EXPECT_EQ(Delete("orders", Duration::zero()).code(), Code::kInvalidArgument);

  Advance(std::chrono::seconds(29));  // the delay: nothing is reclaimed yet
  EXPECT_TRUE(host_.terminated.empty());
  EXPECT_TRUE(host_.deleted_runs.empty());
  EXPECT_EQ(host_.store_reads, 0);

  Advance(std::chrono::seconds(1));
  for (int i = 0; i < 20 && host_.deleted_namespaces.empty(); ++i) Advance(std::chrono::milliseconds(100));
  // Open runs are terminated then deleted (the evicted one brought back first), closed ones deleted.
  EXPECT_EQ(host_.fetches, 1);
  std::vector<std::string> terminated = host_.terminated;
  std::sort(terminated.begin(), terminated.end());
  EXPECT_EQ(terminated, (std::vector<std::string>{"ns-abcdef-1:open-a", "ns-abcdef-1:open-b"}));
  std::vector<std::string> deleted = host_.deleted_runs;
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"ns-abcdef-1:closed-1", "ns-abcdef-1:closed-2", "ns-abcdef-1:open-a",
                                               "ns-abcdef-1:open-b"}));
  EXPECT_EQ(host_.deleted_namespaces, (std::vector<std::string>{"ns-abcdef-1"}));
  EXPECT_EQ(host_.by_name.count("orders-deleted-ns-ab"), 0u);
  // The other namespace is untouched.
  EXPECT_EQ(host_.runs.count("ns-zzzzzz-2:other"), 1u);
  EXPECT_TRUE(host_.runs.at("ns-zzzzzz-2:other").open);
  EXPECT_EQ(host_.by_name.count("billing"), 1u);
  EXPECT_EQ(std::count(host_.closed_in_store.begin(), host_.closed_in_store.end(), "ns-zzzzzz-2:closed-x"), 1);
}

TEST_F(NamespaceDeletionTest, ACloseThatLeftMemoryDuringTheReadKeepsTheNamespace) {
  host_.runs.clear();
  host_.closed_in_store = {};
  host_.runs["ns-abcdef-1:closing"] = {"ns-abcdef-1", /*open=*/false};
  // While the step reads the store (which does not have the run yet), the run's close becomes
  // durable and it leaves memory: the read missed it and memory no longer has it.
  host_.after_read = [this] {
    host_.runs.clear();
    host_.closed_in_store.push_back("ns-abcdef-1:closing");
    ++host_.generation;
  };
  ASSERT_TRUE(Delete("orders", Duration::zero()).ok());
  Advance(Duration::zero());
  // The generation tells: the namespace is not taken for empty, and the next step deletes the run.
  EXPECT_TRUE(host_.deleted_namespaces.empty());
  EXPECT_TRUE(host_.deleted_runs.empty());
  for (int i = 0; i < 20 && host_.deleted_namespaces.empty(); ++i) Advance(std::chrono::milliseconds(100));
  EXPECT_EQ(host_.deleted_runs, (std::vector<std::string>{"ns-abcdef-1:closing"}));
  EXPECT_EQ(host_.deleted_namespaces, (std::vector<std::string>{"ns-abcdef-1"}));
}

TEST_F(NamespaceDeletionTest, AFailedStoreReadIsMadeAgainAndOpenRunsStillEnd) {
  host_.fail_reads = 1;
  ASSERT_TRUE(Delete("orders", Duration::zero()).ok());
  Advance(Duration::zero());
  // The terminations of that step are committed; the closed runs wait for the read again.
  EXPECT_EQ(host_.terminated.size(), 2u);  // open-a, and open-b once brought back
  EXPECT_TRUE(host_.deleted_namespaces.empty());
  for (int i = 0; i < 40 && host_.deleted_namespaces.empty(); ++i) Advance(std::chrono::milliseconds(100));
  EXPECT_EQ(host_.deleted_namespaces, (std::vector<std::string>{"ns-abcdef-1"}));
  EXPECT_EQ(host_.deleted_runs.size(), 4u);
}

TEST_F(NamespaceDeletionTest, ResumeContinuesADeletionAfterItsRemainingDelay) {
  ASSERT_TRUE(Delete("orders", std::chrono::seconds(60)).ok());
  // As after a restart: the record is all there is (the first unit's timers are never run).
  testing::TestEngineContext restarted(clock_, mu_);
  NamespaceDeletion resumed(mu_, restarted, host_);
  auto advance = [&](Duration d) {
    clock_.Advance(d);
    while (restarted.timers().RunDue() > 0) {
    }
  };
  {
    MutexLock l(mu_);
    std::vector<const state::NamespaceRecord*> records;
    for (const auto& [name, rec] : host_.by_name) records.push_back(&rec);
    resumed.Resume(records);
  }
  advance(Duration::zero());
  advance(std::chrono::seconds(59));  // the remaining delay
  EXPECT_TRUE(host_.terminated.empty());
  EXPECT_EQ(host_.store_reads, 0);
  advance(std::chrono::seconds(1));
  for (int i = 0; i < 20 && host_.deleted_namespaces.empty(); ++i) advance(std::chrono::milliseconds(100));
  EXPECT_EQ(host_.deleted_namespaces, (std::vector<std::string>{"ns-abcdef-1"}));
  EXPECT_EQ(host_.terminated.size(), 2u);
}

TEST_F(NamespaceDeletionTest, Validation) {
  EXPECT_EQ(Delete("", Duration::zero()).code(), Code::kInvalidArgument);
  EXPECT_EQ(Delete("temporal-system", Duration::zero()).code(), Code::kFailedPrecondition);
  EXPECT_EQ(Delete("orders", -std::chrono::seconds(1)).code(), Code::kInvalidArgument);
  EXPECT_EQ(host_.by_name.at("orders").info().state(), ev1::NAMESPACE_STATE_REGISTERED);
  EXPECT_EQ(host_.commits, 0);
}

}  // namespace
}  // namespace temporalite::history
