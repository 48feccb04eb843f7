// The WorkflowVisibility unit (history/workflow_visibility.h) over a test VisibilityEngine: namespace
// records by name, runs built by hand whose rows (VisibilityRowOf, and the execution rows retention
// reads) are written straight into an in-memory SQLite store, commits applied to that store and
// made durable when the test says so, a SimClock and the EngineContext of test_engine_context.h for
// the retention timer. No engine. Every store read checks that the engine mutex is free. The
// engine-level behaviour (rows written by real transitions, restarts) is engine_visibility_test.cc's.
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/workflow_visibility.h"
#include "persistence/sqlite_store.h"
#include "execution_test_util.h"
#include "test_engine_context.h"
#include "test_namespaces.h"

namespace temporalite::history {
namespace {

namespace wsv1 = ::temporal::api::workflowservice::v1;
namespace osv1 = ::temporal::api::operatorservice::v1;

constexpr char kNs[] = "orders";
constexpr char kNsId[] = "orders-id";
constexpr int64_t kT0 = 1704067200;  // 2024-01-01T00:00:00Z

class TestVisibilityEngine : public VisibilityEngine {
 public:
  TestVisibilityEngine(Mutex& mu, persistence::Store& store) : mu_(mu), store_(store) {}
  ~TestVisibilityEngine() override {
    for (auto& t : probes_) t.join();
  }

  Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) override {
    return testing::TestNamespaceByName(mu_, by_name, name);
  }
  state::NamespaceRecord* NamespaceNamed(const std::string& name) override {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : &it->second;
  }
  std::vector<state::NamespaceRecord*> AllNamespaces() override {
    std::vector<state::NamespaceRecord*> out;
    for (auto& [name, rec] : by_name) out.push_back(&rec);
    return out;
  }
  visibility::TypeMap CustomSearchAttributes(const std::string& ns_id) override {
    visibility::TypeMap out;
    for (const auto& [name, rec] : by_name) {
      if (rec.info().id() != ns_id) continue;
      for (const auto& [n, t] : rec.custom_search_attributes()) out[n] = static_cast<visibility::ValueType>(t);
    }
    return out;
  }
  bool RunInMemory(const std::string& run_id) override { return in_memory.count(run_id) > 0; }
  // Applied to the store now; `done` once the test makes it durable (as the engine's writer
  // thread would, without the engine mutex).
  void Commit(Txn& txn, Done done) override {
    mu_.AssertHeld();
    ++commits;
    for (const auto& id : txn.batch.delete_runs) deleted_runs.push_back(id);
    for (const auto& row : txn.batch.upsert_namespaces) namespace_rows[row.name] = row.data;
    for (const auto& name : txn.batch.index_search_attributes) indexed.push_back(name);
    EXPECT_TRUE(store_.CommitSync(std::move(txn.batch)).ok());
    if (done) pending_.push_back(std::move(done));
  }
  void MakeDurable() {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& d : pending) d(Status::Ok());
  }

  Result<int64_t> CountVisibility(const persistence::VisibilityQuery& q) override {
    CheckMutexFree();
    return store_.CountVisibility(q);
  }
  Result<std::vector<std::pair<int64_t, int64_t>>> CountVisibilityByStatus(const persistence::VisibilityQuery& q) override {
    CheckMutexFree();
    return store_.CountVisibilityByStatus(q);
  }
  Result<persistence::VisibilityPage> ListVisibility(const persistence::VisibilityQuery& q) override {
    CheckMutexFree();
    return store_.ListVisibility(q);
  }
  Result<std::vector<std::string>> ClosedRunsBefore(const std::string& ns_id, int64_t close_before,
                                                   int64_t limit) override {
    CheckMutexFree();
    return store_.ClosedRunsBefore(ns_id, close_before, limit);
  }

  std::map<std::string, state::NamespaceRecord> by_name;
  std::set<std::string> in_memory;  // RunInMemory's answers
  std::map<std::string, std::string> namespace_rows;  // committed, by name
  std::vector<std::string> deleted_runs, indexed;
  int commits = 0, store_reads = 0, reads_under_mutex = 0;

 private:
  // Another thread takes the engine mutex within 2 s: the read is made without it.
  void CheckMutexFree() {
    ++store_reads;
    auto taken = std::make_shared<std::promise<void>>();
    auto f = taken->get_future();
    probes_.emplace_back([this, taken] {
      MutexLock l(mu_);
      taken->set_value();
    });
    if (f.wait_for(std::chrono::seconds(2)) != std::future_status::ready) ++reads_under_mutex;
  }

  Mutex& mu_;
  persistence::Store& store_;
  std::vector<Done> pending_;
  std::vector<std::thread> probes_;  // joined at the end (one may wait for the mutex until then)
};

class WorkflowVisibilityUnitTest : public ::testing::Test {
 protected:
  WorkflowVisibilityUnitTest()
      : clock_(TimePoint(std::chrono::seconds(kT0))),
        store_(persistence::OpenSqliteStore({.path = ":memory:"}).value()),
        context_(clock_, mu_),
        host_(mu_, *store_),
        unit_(mu_, context_, host_,
              WorkflowVisibility::Options{.max_page_size = 100,
                                          .retention_sweep_interval = std::chrono::minutes(1),
                                          .retention_batch = 10}) {
    state::NamespaceRecord rec;
    rec.mutable_info()->set_name(kNs);
    rec.mutable_info()->set_id(kNsId);
    *rec.mutable_config()->mutable_workflow_execution_retention_ttl() = ToProtoDuration(std::chrono::hours(24));
    (*rec.mutable_custom_search_attributes())["Customer"] = ev1::INDEXED_VALUE_TYPE_KEYWORD;
    host_.by_name[kNs] = rec;
  }

  // A run of `type` started at `start` (seconds after kT0), closed with `status` at `close` when
  // not running, with search attribute Customer = `customer`; its visibility and execution rows
  // written to the store.
  void AddRun(const std::string& workflow_id, const std::string& type, int64_t start,
              ev1::WorkflowExecutionStatus status = ev1::WORKFLOW_EXECUTION_STATUS_RUNNING, int64_t close = 0,
              const std::string& customer = "") {
    Execution ex;
    testing::InitRun(ex, kNsId, workflow_id, workflow_id + "-run", TimePoint(std::chrono::seconds(kT0 + start)));
    EditState(ex, [&](state::ExecutionState& st) {
      st.set_workflow_type(type);
      st.set_next_event_id(2);
      *st.mutable_start_time() = ToProto(TimePoint(std::chrono::seconds(kT0 + start)));
      *st.mutable_execution_time() = st.start_time();
      if (!customer.empty()) {
        auto& p = (*st.mutable_search_attributes()->mutable_indexed_fields())["Customer"];
        (*p.mutable_metadata())["encoding"] = "json/plain";
        p.set_data("\"" + customer + "\"");
      }
      st.set_status(status);
      if (status != ev1::WORKFLOW_EXECUTION_STATUS_RUNNING) {
        *st.mutable_close_time() = ToProto(TimePoint(std::chrono::seconds(kT0 + close)));
      }
    });
    const state::ExecutionState& st = ex.st();
    persistence::WriteBatch b;
    b.upsert_visibility.push_back(VisibilityRowOf(ex, host_.CustomSearchAttributes(kNsId), ""));
    b.upsert_executions.push_back({kNsId, workflow_id, st.run_id(), ex.open(),
                                   ex.open() ? 0 : (int64_t{kT0} + close) * 1000000000LL, st.SerializeAsString(),
                                   std::nullopt});
    ASSERT_TRUE(store_->CommitSync(std::move(b)).ok());
  }
  template <typename Resp>
  std::vector<std::string> Ids(const Resp& resp) {
    std::vector<std::string> out;
    for (const auto& e : resp.executions()) out.push_back(e.execution().workflow_id());
    return out;
  }
  Status List(const std::string& query, wsv1::ListWorkflowExecutionsResponse* resp, int32_t page_size = 0,
              const std::string& token = "") {
    wsv1::ListWorkflowExecutionsRequest req;
    req.set_namespace_(kNs);
    req.set_query(query);
    req.set_page_size(page_size);
    req.set_next_page_token(token);
    Status out = Internal("no answer");
    unit_.ListWorkflowExecutions(req, resp, [&](const Status& s) { out = s; });
    return out;
  }
  Status Add(const std::map<std::string, ev1::IndexedValueType>& attrs) {
    osv1::AddSearchAttributesRequest req;
    req.set_namespace_(kNs);
    for (const auto& [n, t] : attrs) (*req.mutable_search_attributes())[n] = t;
    Status out = Internal("no answer");
    unit_.AddSearchAttributes(req, [&](const Status& s) { out = s; });
    host_.MakeDurable();
    return out;
  }
  Status Remove(const std::vector<std::string>& names) {
    osv1::RemoveSearchAttributesRequest req;
    req.set_namespace_(kNs);
    for (const auto& n : names) req.add_search_attributes(n);
    Status out = Internal("no answer");
    unit_.RemoveSearchAttributes(req, [&](const Status& s) { out = s; });
    host_.MakeDurable();
    return out;
  }
  void Advance(Duration d) {
    clock_.Advance(d);
    while (context_.timers().RunDue() > 0) host_.MakeDurable();
    host_.MakeDurable();
  }

  SimClock clock_;
  Mutex mu_;
  std::unique_ptr<persistence::Store> store_;
  testing::TestEngineContext context_;
  TestVisibilityEngine host_;
  WorkflowVisibility unit_;
};

TEST_F(WorkflowVisibilityUnitTest, ListsByQueryInPagesAndABadQueryIsInvalidArgument) {
  AddRun("a1", "Charge", 10, ev1::WORKFLOW_EXECUTION_STATUS_RUNNING, 0, "acme");
  AddRun("a2", "Charge", 20, ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED, 30, "acme");
  AddRun("b1", "Refund", 30, ev1::WORKFLOW_EXECUTION_STATUS_RUNNING, 0, "globex");
  wsv1::ListWorkflowExecutionsResponse resp;
  ASSERT_TRUE(List("WorkflowType = 'Charge'", &resp).ok());
  EXPECT_EQ(Ids(resp), (std::vector<std::string>{"a1", "a2"}));  // open first, then by start time
  EXPECT_TRUE(resp.next_page_token().empty());
  // The namespace's custom attribute, typed by its record.
  wsv1::ListWorkflowExecutionsResponse by_customer;
  ASSERT_TRUE(List("Customer = 'globex'", &by_customer).ok());
  EXPECT_EQ(Ids(by_customer), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(by_customer.executions(0).type().name(), "Refund");
  EXPECT_EQ(by_customer.executions(0).status(), ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);

  // Pages of one: a cursor token, then the rest.
  wsv1::ListWorkflowExecutionsResponse page1, page2, page3;
  ASSERT_TRUE(List("", &page1, 2).ok());
  EXPECT_EQ(Ids(page1), (std::vector<std::string>{"b1", "a1"}));
  ASSERT_FALSE(page1.next_page_token().empty());
  ASSERT_TRUE(List("", &page2, 2, page1.next_page_token()).ok());
  EXPECT_EQ(Ids(page2), (std::vector<std::string>{"a2"}));
  EXPECT_TRUE(page2.next_page_token().empty());
  Status bad_token = List("", &page3, 2, "garbage");
  EXPECT_EQ(bad_token.code(), Code::kInvalidArgument);
  EXPECT_EQ(bad_token.message(), "Invalid NextPageToken.");

  // Temporal's INVALID_ARGUMENT messages for a bad query.
  wsv1::ListWorkflowExecutionsResponse none;
  Status s = List("NoSuchAttribute = 1", &none);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "invalid query: invalid expression: column name 'NoSuchAttribute' is not a valid search attribute");
  s = List("GROUP BY ExecutionStatus", &none);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "invalid query: operation is not supported: 'GROUP BY' clause is only supported in count query");
  // An unknown namespace, before any read.
  wsv1::ListWorkflowExecutionsRequest other;
  other.set_namespace_("nope");
  Status missing = Internal("no answer");
  unit_.ListWorkflowExecutions(other, &none, [&](const Status& st) { missing = st; });
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_EQ(missing.message(), "Namespace nope is not found.");

  EXPECT_EQ(host_.store_reads, 4);  // the bad query, GROUP BY, bad token and namespace never read
  EXPECT_EQ(host_.reads_under_mutex, 0);
}

TEST_F(WorkflowVisibilityUnitTest, CountsAndGroupsByExecutionStatus) {
  AddRun("r1", "T", 1);
  AddRun("r2", "T", 2);
  AddRun("c1", "T", 3, ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED, 4);
  AddRun("f1", "T", 5, ev1::WORKFLOW_EXECUTION_STATUS_FAILED, 6);
  auto count = [&](const std::string& query, wsv1::CountWorkflowExecutionsResponse* resp) {
    wsv1::CountWorkflowExecutionsRequest req;
    req.set_namespace_(kNs);
    req.set_query(query);
    Status out = Internal("no answer");
    unit_.CountWorkflowExecutions(req, resp, [&](const Status& s) { out = s; });
    return out;
  };
  wsv1::CountWorkflowExecutionsResponse all, running, grouped, bad;
  ASSERT_TRUE(count("", &all).ok());
  EXPECT_EQ(all.count(), 4);
  EXPECT_EQ(all.groups_size(), 0);
  ASSERT_TRUE(count("ExecutionStatus = 'Running'", &running).ok());
  EXPECT_EQ(running.count(), 2);
  ASSERT_TRUE(count("GROUP BY ExecutionStatus", &grouped).ok());
  EXPECT_EQ(grouped.count(), 4);
  std::map<std::string, int64_t> groups;
  for (const auto& g : grouped.groups()) {
    ASSERT_EQ(g.group_values_size(), 1);
    EXPECT_EQ(g.group_values(0).metadata().at("encoding"), "json/plain");
    groups[g.group_values(0).data()] = g.count();
  }
  EXPECT_EQ(groups, (std::map<std::string, int64_t>{{"\"Running\"", 2}, {"\"Completed\"", 1}, {"\"Failed\"", 1}}));
  Status s = count("Bogus = 'x'", &bad);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "invalid query: invalid expression: column name 'Bogus' is not a valid search attribute");
  EXPECT_EQ(host_.store_reads, 3);
  EXPECT_EQ(host_.reads_under_mutex, 0);
}

TEST_F(WorkflowVisibilityUnitTest, OpenAndClosedListsFilterByStatusTimeIdAndType) {
  AddRun("open-early", "A", 10);
  AddRun("open-late", "B", 500);
  AddRun("done", "A", 20, ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED, 100);
  AddRun("failed", "A", 30, ev1::WORKFLOW_EXECUTION_STATUS_FAILED, 1000);
  wsv1::ListOpenWorkflowExecutionsRequest open;
  open.set_namespace_(kNs);
  wsv1::ListOpenWorkflowExecutionsResponse open_all, open_before;
  Status s = Internal("no answer");
  unit_.ListOpenWorkflowExecutions(open, &open_all, [&](const Status& st) { s = st; });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Ids(open_all), (std::vector<std::string>{"open-late", "open-early"}));
  *open.mutable_start_time_filter()->mutable_latest_time() = ToProto(TimePoint(std::chrono::seconds(kT0 + 100)));
  unit_.ListOpenWorkflowExecutions(open, &open_before, [&](const Status& st) { s = st; });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Ids(open_before), (std::vector<std::string>{"open-early"}));

  wsv1::ListClosedWorkflowExecutionsRequest closed;
  closed.set_namespace_(kNs);
  wsv1::ListClosedWorkflowExecutionsResponse closed_all, failed, closed_early, by_id;
  unit_.ListClosedWorkflowExecutions(closed, &closed_all, [&](const Status& st) { s = st; });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Ids(closed_all), (std::vector<std::string>{"failed", "done"}));  // latest close first
  EXPECT_TRUE(closed_all.executions(1).has_close_time());
  EXPECT_EQ(FromProto(closed_all.executions(1).execution_duration()), std::chrono::seconds(80));
  auto status_req = closed;
  status_req.mutable_status_filter()->set_status(ev1::WORKFLOW_EXECUTION_STATUS_FAILED);
  unit_.ListClosedWorkflowExecutions(status_req, &failed, [&](const Status& st) { s = st; });
  EXPECT_EQ(Ids(failed), (std::vector<std::string>{"failed"}));
  // The time filter of closed runs is on the close time.
  auto time_req = closed;
  *time_req.mutable_start_time_filter()->mutable_latest_time() = ToProto(TimePoint(std::chrono::seconds(kT0 + 500)));
  unit_.ListClosedWorkflowExecutions(time_req, &closed_early, [&](const Status& st) { s = st; });
  EXPECT_EQ(Ids(closed_early), (std::vector<std::string>{"done"}));
  auto id_req = closed;
  id_req.mutable_execution_filter()->set_workflow_id("done");
  unit_.ListClosedWorkflowExecutions(id_req, &by_id, [&](const Status& st) { s = st; });
  EXPECT_EQ(Ids(by_id), (std::vector<std::string>{"done"}));
  EXPECT_EQ(host_.reads_under_mutex, 0);
}

TEST_F(WorkflowVisibilityUnitTest, AddSearchAttributesWithTemporalsChecks) {
  Status reserved = Add({{"WorkflowId", ev1::INDEXED_VALUE_TYPE_KEYWORD}});
  EXPECT_EQ(reserved.code(), Code::kInvalidArgument);
  EXPECT_EQ(reserved.message(), "Search attribute WorkflowId is reserved by system.");
  Status bad_type = Add({{"Amount", static_cast<ev1::IndexedValueType>(99)}});
  EXPECT_EQ(bad_type.code(), Code::kInvalidArgument);
  EXPECT_EQ(bad_type.message(), "Unknown search attribute type: 99.");
  Status unspecified = Add({{"Amount", ev1::INDEXED_VALUE_TYPE_UNSPECIFIED}});
  EXPECT_EQ(unspecified.message(), "Unknown search attribute type: 0.");
  Status empty = Add({});
  EXPECT_EQ(empty.message(), "SearchAttributes are not set on request.");
  EXPECT_EQ(host_.commits, 0);

  // New ones: recorded and committed, the scalar one indexed.
  ASSERT_TRUE(Add({{"Amount", ev1::INDEXED_VALUE_TYPE_DOUBLE}, {"Labels", ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST}}).ok());
  const auto& custom = host_.by_name.at(kNs).custom_search_attributes();
  EXPECT_EQ(custom.at("Amount"), ev1::INDEXED_VALUE_TYPE_DOUBLE);
  EXPECT_EQ(custom.at("Labels"), ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST);
  EXPECT_EQ(host_.commits, 1);
  EXPECT_EQ(host_.indexed, (std::vector<std::string>{"Amount"}));
  state::NamespaceRecord committed;
  ASSERT_TRUE(committed.ParseFromString(host_.namespace_rows.at(kNs)));
  EXPECT_EQ(committed.custom_search_attributes().size(), 3u);

  // A duplicate (as Temporal's SQL visibility): OK, its type kept, nothing written.
  ASSERT_TRUE(Add({{"Customer", ev1::INDEXED_VALUE_TYPE_INT}}).ok());
  EXPECT_EQ(custom.at("Customer"), ev1::INDEXED_VALUE_TYPE_KEYWORD);
  EXPECT_EQ(host_.commits, 1);

  // Listed per namespace, with the system ones; a query can use the new one at once.
  osv1::ListSearchAttributesRequest list;
  list.set_namespace_(kNs);
  osv1::ListSearchAttributesResponse listed;
  Status s = Internal("no answer");
  unit_.ListSearchAttributes(list, &listed, [&](const Status& st) { s = st; });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(listed.custom_attributes().size(), 3u);
  EXPECT_EQ(listed.system_attributes().at("WorkflowId"), ev1::INDEXED_VALUE_TYPE_KEYWORD);
  wsv1::ListWorkflowExecutionsResponse resp;
  EXPECT_TRUE(List("Amount > 10", &resp).ok());
  wsv1::GetSearchAttributesResponse all;
  unit_.GetSearchAttributes({}, &all, [&](const Status& st) { s = st; });
  EXPECT_EQ(all.keys().at("Amount"), ev1::INDEXED_VALUE_TYPE_DOUBLE);
  EXPECT_EQ(all.keys().at("ExecutionStatus"), ev1::INDEXED_VALUE_TYPE_KEYWORD);

  // An unknown namespace.
  osv1::AddSearchAttributesRequest other;
  other.set_namespace_("nope");
  (*other.mutable_search_attributes())["X"] = ev1::INDEXED_VALUE_TYPE_INT;
  unit_.AddSearchAttributes(other, [&](const Status& st) { s = st; });
  EXPECT_EQ(s.code(), Code::kNotFound);
}

TEST_F(WorkflowVisibilityUnitTest, RemoveIgnoresAnUnknownNameAndRefusesASystemOne) {
  Status system = Remove({"WorkflowType"});
  EXPECT_EQ(system.code(), Code::kInvalidArgument);
  EXPECT_EQ(system.message(), "Unable to remove non-custom search attributes: WorkflowType.");
  EXPECT_EQ(host_.commits, 0);
  // Unknown: ignored (Temporal's SQL visibility); the known one goes.
  ASSERT_TRUE(Remove({"NoSuchThing", "Customer"}).ok());
  EXPECT_EQ(host_.by_name.at(kNs).custom_search_attributes().size(), 0u);
  EXPECT_EQ(host_.commits, 1);
  state::NamespaceRecord committed;
  ASSERT_TRUE(committed.ParseFromString(host_.namespace_rows.at(kNs)));
  EXPECT_EQ(committed.custom_search_attributes().count("Customer"), 0u);
  wsv1::ListWorkflowExecutionsResponse resp;
  EXPECT_EQ(List("Customer = 'acme'", &resp).code(), Code::kInvalidArgument);
}

TEST_F(WorkflowVisibilityUnitTest, RetentionSweepDeletesOnlyClosedRunsPastRetention) {
  // Retention 24 h. Now is kT0 + 1 h; the clock moves 25 h on before the sweep.
  clock_.Advance(std::chrono::hours(1));
  AddRun("old", "T", 0, ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED, 60);            // closed at +1 min
  AddRun("recent", "T", 0, ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED, 3 * 3600);  // closed at +3 h
  AddRun("open", "T", 0);
  AddRun("closing", "T", 0, ev1::WORKFLOW_EXECUTION_STATUS_FAILED, 120);  // old, but still in memory
  host_.in_memory.insert("closing-run");
  unit_.StartRetention();
  Advance(std::chrono::minutes(30));  // the timer fires: nothing is 24 h past its close yet
  EXPECT_TRUE(host_.deleted_runs.empty());
  EXPECT_EQ(host_.commits, 0);
  Advance(std::chrono::hours(24));  // kT0 + 25.5 h: "old" (+1 min) and "closing" (+2 min) are past
  EXPECT_EQ(host_.deleted_runs, (std::vector<std::string>{"old-run"}));
  EXPECT_EQ(host_.commits, 1);
  wsv1::ListWorkflowExecutionsResponse resp;
  ASSERT_TRUE(List("", &resp).ok());
  EXPECT_EQ(Ids(resp), (std::vector<std::string>{"open", "recent", "closing"}));
  // Once it has left memory, the next sweep takes it; "recent" goes 24 h after its close.
  host_.in_memory.clear();
  Advance(std::chrono::minutes(1));
  EXPECT_EQ(host_.deleted_runs, (std::vector<std::string>{"old-run", "closing-run"}));
  Advance(std::chrono::hours(2));
  EXPECT_EQ(host_.deleted_runs, (std::vector<std::string>{"old-run", "closing-run", "recent-run"}));
  wsv1::ListWorkflowExecutionsResponse left;
  ASSERT_TRUE(List("", &left).ok());
  EXPECT_EQ(Ids(left), (std::vector<std::string>{"open"}));
  EXPECT_EQ(host_.reads_under_mutex, 0);
}

}  // namespace
}  // namespace temporalite::history
