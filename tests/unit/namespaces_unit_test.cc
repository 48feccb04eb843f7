// The Namespaces unit (history/namespaces.h) over a test NamespacesEngine: namespace records by name
// and id, commits recorded (durable at once). No engine, no store: what the unit writes is the
// records it hands back and the rows of its transactions. The engine-level behaviour (the RPCs
// through the frontend, restarts) is engine_test.cc's and the node tests' (tests/compat).
#include <google/protobuf/any.pb.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/thread_annotations.h"
#include "history/errors.h"
#include "history/namespaces.h"
#include "history/proto_time.h"
#include "temporal/api/errordetails/v1/message.pb.h"
#include "test_namespaces.h"

namespace temporalite::history {
namespace {

namespace wsv1 = ::temporal::api::workflowservice::v1;
namespace ev1 = ::temporal::api::enums::v1;

class TestNamespacesEngine : public NamespacesEngine {
 public:
  explicit TestNamespacesEngine(Mutex& mu) : mu_(mu) {}

  Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) override {
    return testing::TestNamespaceByName(mu_, by_name, name);
  }
  state::NamespaceRecord* NamespaceNamed(const std::string& name) override {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : &it->second;
  }
  state::NamespaceRecord* NamespaceById(const std::string& ns_id) override {
    for (auto& [name, rec] : by_name) {
      if (rec.info().id() == ns_id) return &rec;
    }
    return nullptr;
  }
  std::vector<state::NamespaceRecord*> AllNamespaces() override {
    std::vector<state::NamespaceRecord*> out;
    // Not in name order (the engine's map is unordered): the unit sorts.
    for (auto it = by_name.rbegin(); it != by_name.rend(); ++it) out.push_back(&it->second);
    return out;
  }
  void ReplaceNamespace(const std::string& old_name, state::NamespaceRecord rec) override {
    mu_.AssertHeld();
    by_name.erase(old_name);
    by_name[rec.info().name()] = std::move(rec);
  }
  void Commit(Txn& txn, Done done) override {
    ++commits;
    for (const auto& row : txn.batch.upsert_namespaces) rows[row.name] = row;
    if (done) done(Status::Ok());
  }

  std::map<std::string, state::NamespaceRecord> by_name;
  std::map<std::string, persistence::NamespaceRow> rows;  // committed, by name
  int commits = 0;

 private:
  Mutex& mu_;
};

class NamespacesUnitTest : public ::testing::Test {
 protected:
  NamespacesUnitTest() : host_(mu_), unit_(host_, Options()) {}
  static Namespaces::Options Options() {
    Namespaces::Options o;
    o.default_retention = std::chrono::hours(72);
    o.blob_size_limit_error = 1234;
    o.extra_namespaces = {"extra"};
    o.startup_search_attributes = {{"CustomerId", visibility::ValueType::INDEXED_VALUE_TYPE_KEYWORD},
                                   {"Tags", visibility::ValueType::INDEXED_VALUE_TYPE_KEYWORD_LIST}};
    return o;
  }
  Status Register(const wsv1::RegisterNamespaceRequest& req) {
    Status out = Internal("no answer");
    MutexLock l(mu_);
    unit_.Register(l, req, [&](const Status& s) { out = s; });
    return out;
  }
  Status Register(const std::string& name) {
    wsv1::RegisterNamespaceRequest req;
    req.set_namespace_(name);
    return Register(req);
  }
  Status Describe(const wsv1::DescribeNamespaceRequest& req, wsv1::DescribeNamespaceResponse* resp) {
    Status out = Internal("no answer");
    MutexLock l(mu_);
    unit_.Describe(l, req, resp, [&](const Status& s) { out = s; });
    return out;
  }
  Status Update(const wsv1::UpdateNamespaceRequest& req, wsv1::UpdateNamespaceResponse* resp) {
    Status out = Internal("no answer");
    MutexLock l(mu_);
    unit_.Update(l, req, resp, [&](const Status& s) { out = s; });
    return out;
  }
  std::vector<std::string> List(bool include_deleted, wsv1::ListNamespacesResponse* resp) {
    wsv1::ListNamespacesRequest req;
    req.set_page_size(1);
    req.mutable_namespace_filter()->set_include_deleted(include_deleted);
    Status out = Internal("no answer");
    {
      MutexLock l(mu_);
      unit_.List(l, req, resp, [&](const Status& s) { out = s; });
    }
    EXPECT_TRUE(out.ok()) << out.ToString();
    std::vector<std::string> names;
    for (const auto& ns : resp->namespaces()) names.push_back(ns.namespace_info().name());
    return names;
  }

  Mutex mu_;
  TestNamespacesEngine host_;
  Namespaces unit_;
};

TEST_F(NamespacesUnitTest, RegisterCreatesTheRecordAndADuplicateIsAlreadyExists) {
  wsv1::RegisterNamespaceRequest req;
  req.set_namespace_("orders");
  req.set_description("order workflows");
  req.set_owner_email("ops@example.com");
  (*req.mutable_data())["team"] = "payments";
  *req.mutable_workflow_execution_retention_period() = ToProtoDuration(std::chrono::hours(48));
  ASSERT_TRUE(Register(req).ok());
  ASSERT_EQ(host_.by_name.count("orders"), 1u);
  const state::NamespaceRecord& rec = host_.by_name.at("orders");
  EXPECT_EQ(rec.info().name(), "orders");
  EXPECT_EQ(rec.info().id().size(), 36u);  // a uuid
  EXPECT_EQ(rec.info().state(), ev1::NAMESPACE_STATE_REGISTERED);
  EXPECT_EQ(rec.info().description(), "order workflows");
  EXPECT_EQ(rec.info().owner_email(), "ops@example.com");
  EXPECT_EQ(rec.info().data().at("team"), "payments");
  EXPECT_EQ(FromProto(rec.config().workflow_execution_retention_ttl()), std::chrono::hours(48));
  EXPECT_EQ(rec.config().history_archival_state(), ev1::ARCHIVAL_STATE_DISABLED);
  EXPECT_EQ(rec.config().visibility_archival_state(), ev1::ARCHIVAL_STATE_DISABLED);
  // Written in one commit, under its id.
  EXPECT_EQ(host_.commits, 1);
  ASSERT_EQ(host_.rows.count("orders"), 1u);
  EXPECT_EQ(host_.rows.at("orders").id, rec.info().id());

  // Temporal's AlreadyExists, with its NamespaceAlreadyExistsFailure detail; nothing written.
  Status dup = Register("orders");
  EXPECT_EQ(dup.code(), Code::kAlreadyExists);
  EXPECT_EQ(dup.message(), "Namespace already exists.");
  google::protobuf::Any any;
  ASSERT_TRUE(any.ParseFromString(dup.details()));
  EXPECT_TRUE(any.Is<::temporal::api::errordetails::v1::NamespaceAlreadyExistsFailure>());
  EXPECT_EQ(host_.commits, 1);

  // Without a retention: the server's default. A retention under an hour is refused.
  ASSERT_TRUE(Register("billing").ok());
  EXPECT_EQ(FromProto(host_.by_name.at("billing").config().workflow_execution_retention_ttl()), std::chrono::hours(72));
  wsv1::RegisterNamespaceRequest short_retention;
  short_retention.set_namespace_("short");
  *short_retention.mutable_workflow_execution_retention_period() = ToProtoDuration(std::chrono::minutes(30));
  Status s = Register(short_retention);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "A valid retention period is not set on request.");
  EXPECT_EQ(host_.by_name.count("short"), 0u);
}

TEST_F(NamespacesUnitTest, DescribeUnknownIsNamespaceNotFoundAndADeletedOneStillDescribes) {
  ASSERT_TRUE(Register("orders").ok());
  wsv1::DescribeNamespaceRequest req;
  req.set_namespace_("nope");
  wsv1::DescribeNamespaceResponse resp;
  Status s = Describe(req, &resp);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "Namespace nope is not found.");
  google::protobuf::Any any;
  ASSERT_TRUE(any.ParseFromString(s.details()));
  ::temporal::api::errordetails::v1::NamespaceNotFoundFailure failure;
  ASSERT_TRUE(any.UnpackTo(&failure));
  EXPECT_EQ(failure.namespace_(), "nope");

  // By id; the limits and capabilities this server has.
  const std::string id = host_.by_name.at("orders").info().id();
  wsv1::DescribeNamespaceRequest by_id;
  by_id.set_id(id);
  wsv1::DescribeNamespaceResponse found;
  ASSERT_TRUE(Describe(by_id, &found).ok());
  EXPECT_EQ(found.namespace_info().name(), "orders");
  EXPECT_EQ(found.namespace_info().limits().blob_size_limit_error(), 1234);
  EXPECT_TRUE(found.namespace_info().capabilities().eager_workflow_start());
  by_id.set_id("no-such-id");
  EXPECT_EQ(Describe(by_id, &found).code(), Code::kNotFound);

  // A namespace being deleted: only describe finds it by name (state Deleted).
  host_.by_name.at("orders").mutable_info()->set_state(ev1::NAMESPACE_STATE_DELETED);
  req.set_namespace_("orders");
  wsv1::DescribeNamespaceResponse deleted;
  ASSERT_TRUE(Describe(req, &deleted).ok());
  EXPECT_EQ(deleted.namespace_info().state(), ev1::NAMESPACE_STATE_DELETED);
  wsv1::UpdateNamespaceRequest update;
  update.set_namespace_("orders");
  wsv1::UpdateNamespaceResponse unused;
  EXPECT_EQ(Update(update, &unused).code(), Code::kNotFound);
}

TEST_F(NamespacesUnitTest, UpdateChangesRetentionAndDescriptionAndMergesData) {
  wsv1::RegisterNamespaceRequest reg;
  reg.set_namespace_("orders");
  reg.set_description("old");
  (*reg.mutable_data())["team"] = "payments";
  ASSERT_TRUE(Register(reg).ok());
  const std::string id = host_.by_name.at("orders").info().id();

  wsv1::UpdateNamespaceRequest req;
  req.set_namespace_("orders");
  req.mutable_update_info()->set_description("new");
  (*req.mutable_update_info()->mutable_data())["tier"] = "gold";
  *req.mutable_config()->mutable_workflow_execution_retention_ttl() = ToProtoDuration(std::chrono::hours(240));
  wsv1::UpdateNamespaceResponse resp;
  ASSERT_TRUE(Update(req, &resp).ok());
  // The response is the updated record; so is the engine's and the committed row.
  EXPECT_EQ(resp.namespace_info().description(), "new");
  EXPECT_EQ(FromProto(resp.config().workflow_execution_retention_ttl()), std::chrono::hours(240));
  const state::NamespaceRecord& rec = host_.by_name.at("orders");
  EXPECT_EQ(rec.info().id(), id);
  EXPECT_EQ(rec.info().description(), "new");
  EXPECT_EQ(rec.info().data().at("team"), "payments");
  EXPECT_EQ(rec.info().data().at("tier"), "gold");
  EXPECT_EQ(FromProto(rec.config().workflow_execution_retention_ttl()), std::chrono::hours(240));
  EXPECT_EQ(host_.commits, 2);
  state::NamespaceRecord committed;
  ASSERT_TRUE(committed.ParseFromString(host_.rows.at("orders").data));
  EXPECT_EQ(committed.info().description(), "new");

  // A bad retention changes nothing.
  *req.mutable_config()->mutable_workflow_execution_retention_ttl() = ToProtoDuration(std::chrono::seconds(-5));
  req.mutable_update_info()->set_description("never");
  Status s = Update(req, &resp);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(host_.by_name.at("orders").info().description(), "new");
  EXPECT_EQ(host_.commits, 2);
}

TEST_F(NamespacesUnitTest, ListIsOnePageByNameWithDeletedOnesOnlyWhenAsked) {
  for (const char* name : {"zeta", "alpha", "mid"}) ASSERT_TRUE(Register(name).ok());
  host_.by_name.at("mid").mutable_info()->set_state(ev1::NAMESPACE_STATE_DELETED);
  // Every namespace in one page (page_size is not applied; no next page token), by name.
  wsv1::ListNamespacesResponse resp;
  EXPECT_EQ(List(false, &resp), (std::vector<std::string>{"alpha", "zeta"}));
  EXPECT_TRUE(resp.next_page_token().empty());
  wsv1::ListNamespacesResponse with_deleted;
  EXPECT_EQ(List(true, &with_deleted), (std::vector<std::string>{"alpha", "mid", "zeta"}));
  EXPECT_EQ(with_deleted.namespaces(1).namespace_info().state(), ev1::NAMESPACE_STATE_DELETED);
  EXPECT_EQ(with_deleted.namespaces(0).config().history_archival_state(), ev1::ARCHIVAL_STATE_DISABLED);
}

TEST_F(NamespacesUnitTest, RecoverLoadsTheStoredOnesAndCreatesTheMissingOnes) {
  // `default` is stored with one of the startup attributes already (another type: kept).
  state::NamespaceRecord stored;
  stored.mutable_info()->set_name("default");
  stored.mutable_info()->set_id("default-id");
  (*stored.mutable_custom_search_attributes())["CustomerId"] = ev1::INDEXED_VALUE_TYPE_TEXT;
  std::vector<persistence::NamespaceRow> rows = {{"default-id", "default", stored.SerializeAsString()}};
  Result<persistence::WriteBatch> created = Internal("not run");
  {
    MutexLock l(mu_);
    created = unit_.Recover(rows);
  }
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(host_.by_name.size(), 2u);
  const auto& def = host_.by_name.at("default");
  EXPECT_EQ(def.info().id(), "default-id");
  EXPECT_EQ(def.custom_search_attributes().at("CustomerId"), ev1::INDEXED_VALUE_TYPE_TEXT);
  EXPECT_EQ(def.custom_search_attributes().at("Tags"), ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST);
  // `extra` created with the server's retention and both attributes.
  const auto& extra = host_.by_name.at("extra");
  EXPECT_EQ(extra.info().state(), ev1::NAMESPACE_STATE_REGISTERED);
  EXPECT_EQ(FromProto(extra.config().workflow_execution_retention_ttl()), std::chrono::hours(72));
  EXPECT_EQ(extra.custom_search_attributes().size(), 2u);
  // Both rows written; scalar attributes indexed (a keyword list is not).
  ASSERT_EQ(created->upsert_namespaces.size(), 2u);
  EXPECT_EQ(created->upsert_namespaces[0].name, "default");
  EXPECT_EQ(created->upsert_namespaces[1].name, "extra");
  EXPECT_EQ(created->index_search_attributes, (std::vector<std::string>{"CustomerId", "CustomerId"}));
  EXPECT_EQ(host_.commits, 0);  // the engine commits what Recover returns

  // A corrupt record is DATA_LOSS.
  rows = {{"bad-id", "bad", "\xff\xff\xff"}};
  MutexLock l(mu_);
  Result<persistence::WriteBatch> bad = unit_.Recover(rows);
  EXPECT_EQ(bad.status().code(), Code::kDataLoss);
  EXPECT_EQ(bad.status().message(), "corrupt namespace record bad");
}

}  // namespace
}  // namespace temporalite::history
