// The Namespaces unit (namespaces.h): the namespace RPCs and recovery's namespaces.
#include "history/namespaces.h"

#include <algorithm>

#include "common/ids.h"
#include "common/namespace_name.h"
#include "history/errors.h"
#include "history/proto_time.h"
#include "history/reply_now.h"

namespace temporalite::history {

namespace wsv1 = ::temporal::api::workflowservice::v1;
namespace ev1 = ::temporal::api::enums::v1;

namespace {

// Temporal's validateRetentionDuration: seconds and nanos of one sign, not negative, at least the
// minimum retention of a local namespace (system.namespaceMinRetentionLocal, 1 h); longer than
// 250 years is capped (the proto is modified, as Temporal does).
Status ValidateRetention(google::protobuf::Duration* d) {
  static const Status kInvalid = InvalidArgument("A valid retention period is not set on request.");
  constexpr int64_t kMinSeconds = 3600;
  constexpr int64_t kMaxSeconds = 250LL * 365 * 24 * 3600;
  if ((d->seconds() > 0 && d->nanos() < 0) || (d->seconds() < 0 && d->nanos() > 0)) return kInvalid;
  if (d->seconds() < kMinSeconds) return kInvalid;  // also negative, 0 and sub-second
  if (d->seconds() > kMaxSeconds) {
    d->set_seconds(kMaxSeconds);
    d->set_nanos(0);
  }
  return Status::Ok();
}

void FillNamespace(const state::NamespaceRecord& rec, size_t blob_size_limit_error,
                   ::temporal::api::namespace_::v1::NamespaceInfo* info,
                   ::temporal::api::namespace_::v1::NamespaceConfig* config, bool* is_global) {
  *info = rec.info();
  // Honest capabilities: only what this server implements.
  auto* caps = info->mutable_capabilities();
  caps->set_eager_workflow_start(true);  // start_workflow.cc: request_eager_execution
  caps->set_sync_update(true);
  caps->set_async_update(true);
  info->mutable_limits()->set_blob_size_limit_error(static_cast<int64_t>(blob_size_limit_error));
  info->mutable_limits()->set_memo_size_limit_error(static_cast<int64_t>(blob_size_limit_error));
  *config = rec.config();
  // Records written before archival states were filled in: report them as Temporal does.
  if (config->history_archival_state() == ev1::ARCHIVAL_STATE_UNSPECIFIED) config->set_history_archival_state(ev1::ARCHIVAL_STATE_DISABLED);
  if (config->visibility_archival_state() == ev1::ARCHIVAL_STATE_UNSPECIFIED) config->set_visibility_archival_state(ev1::ARCHIVAL_STATE_DISABLED);
  *is_global = rec.is_global();
}

}  // namespace

void Namespaces::Register(MutexLock& l, const wsv1::RegisterNamespaceRequest& req, Done done) {
  if (Status valid = ValidateNamespaceName(req.namespace_(), options_.max_id_length); !valid.ok()) {
    return ReplyNow(l, done, valid);
  }
  if (host_.NamespaceNamed(req.namespace_())) return ReplyNow(l, done, NamespaceAlreadyExists(req.namespace_()));
  state::NamespaceRecord rec;
  auto* info = rec.mutable_info();
  info->set_name(req.namespace_());
  info->set_id(NewUuid());
  info->set_state(ev1::NAMESPACE_STATE_REGISTERED);
  info->set_description(req.description());
  info->set_owner_email(req.owner_email());
  info->mutable_data()->insert(req.data().begin(), req.data().end());
  auto* cfg = rec.mutable_config();
  if (req.has_workflow_execution_retention_period()) {
    *cfg->mutable_workflow_execution_retention_ttl() = req.workflow_execution_retention_period();
    Status valid = ValidateRetention(cfg->mutable_workflow_execution_retention_ttl());
    if (!valid.ok()) return ReplyNow(l, done, valid);
  } else {
    *cfg->mutable_workflow_execution_retention_ttl() = ToProtoDuration(options_.default_retention);
  }
  // Archival is not supported: disabled unless asked for (then still disabled, as on the dev server).
  cfg->set_history_archival_state(ev1::ARCHIVAL_STATE_DISABLED);
  cfg->set_visibility_archival_state(ev1::ARCHIVAL_STATE_DISABLED);
  rec.set_is_global(req.is_global_namespace());
  Txn txn;
  txn.batch.upsert_namespaces.push_back({info->id(), info->name(), rec.SerializeAsString()});
  host_.ReplaceNamespace(req.namespace_(), std::move(rec));
  host_.Commit(txn, std::move(done));
}

void Namespaces::Describe(MutexLock& l, const wsv1::DescribeNamespaceRequest& req,
                          wsv1::DescribeNamespaceResponse* resp, Done done) {
  const state::NamespaceRecord* rec = nullptr;
  if (!req.id().empty()) {
    rec = host_.NamespaceById(req.id());
    if (!rec) return ReplyNow(l, done, NamespaceNotFound(req.id()));
  } else {
    const state::NamespaceRecord* named = host_.NamespaceNamed(req.namespace_());
    if (named && named->info().state() == ev1::NAMESPACE_STATE_DELETED) {
      rec = named;  // still describes (state Deleted) until its workflows are reclaimed
    } else {
      auto r = host_.NamespaceByName(req.namespace_());
      if (!r.ok()) return ReplyNow(l, done, r.status());
      rec = r.value();
    }
  }
  bool global = false;
  FillNamespace(*rec, options_.blob_size_limit_error, resp->mutable_namespace_info(), resp->mutable_config(), &global);
  resp->set_is_global_namespace(global);
  ReplyNow(l, done, Status::Ok());
}

void Namespaces::List(MutexLock& l, const wsv1::ListNamespacesRequest& req, wsv1::ListNamespacesResponse* resp,
                      Done done) {
  std::vector<const state::NamespaceRecord*> listed;
  for (const state::NamespaceRecord* rec : host_.AllNamespaces()) {
    if (rec->info().state() == ev1::NAMESPACE_STATE_DELETED && !req.namespace_filter().include_deleted()) continue;
    listed.push_back(rec);
  }
  std::sort(listed.begin(), listed.end(), [](const auto* a, const auto* b) { return a->info().name() < b->info().name(); });
  for (const state::NamespaceRecord* rec : listed) {
    auto* out = resp->add_namespaces();
    bool global = false;
    FillNamespace(*rec, options_.blob_size_limit_error, out->mutable_namespace_info(), out->mutable_config(), &global);
    out->set_is_global_namespace(global);
  }
  ReplyNow(l, done, Status::Ok());
}

void Namespaces::Update(MutexLock& l, const wsv1::UpdateNamespaceRequest& req, wsv1::UpdateNamespaceResponse* resp,
                        Done done) {
  auto r = host_.NamespaceByName(req.namespace_());
  if (!r.ok()) return ReplyNow(l, done, r.status());
  state::NamespaceRecord rec = *r.value();
  if (req.has_update_info()) {
    const auto& u = req.update_info();
    if (!u.description().empty()) rec.mutable_info()->set_description(u.description());
    if (!u.owner_email().empty()) rec.mutable_info()->set_owner_email(u.owner_email());
    for (const auto& [k, v] : u.data()) (*rec.mutable_info()->mutable_data())[k] = v;
    if (u.state() != ev1::NAMESPACE_STATE_UNSPECIFIED) rec.mutable_info()->set_state(u.state());
  }
  if (req.has_config() && req.config().has_workflow_execution_retention_ttl()) {
    *rec.mutable_config()->mutable_workflow_execution_retention_ttl() = req.config().workflow_execution_retention_ttl();
    Status valid = ValidateRetention(rec.mutable_config()->mutable_workflow_execution_retention_ttl());
    if (!valid.ok()) return ReplyNow(l, done, valid);
  }
  bool global = false;
  FillNamespace(rec, options_.blob_size_limit_error, resp->mutable_namespace_info(), resp->mutable_config(), &global);
  resp->set_is_global_namespace(global);
  Txn txn;
  txn.batch.upsert_namespaces.push_back({rec.info().id(), rec.info().name(), rec.SerializeAsString()});
  host_.ReplaceNamespace(req.namespace_(), std::move(rec));
  host_.Commit(txn, std::move(done));
}

Result<persistence::WriteBatch> Namespaces::Recover(const std::vector<persistence::NamespaceRow>& rows) {
  for (const auto& row : rows) {
    state::NamespaceRecord rec;
    if (!rec.ParseFromString(row.data)) return Status(Code::kDataLoss, "corrupt namespace record " + row.name);
    host_.ReplaceNamespace(row.name, std::move(rec));
  }
  std::vector<std::string> wanted = {"default"};
  for (const auto& n : options_.extra_namespaces) wanted.push_back(n);
  const auto& startup = options_.startup_search_attributes;
  persistence::WriteBatch created;
  for (const auto& name : wanted) {
    if (state::NamespaceRecord* existing = host_.NamespaceNamed(name)) {
      // --search-attribute: register what is missing (types of existing ones are kept).
      bool changed = false;
      auto* custom = existing->mutable_custom_search_attributes();
      for (const auto& [sa, type] : startup) {
        if (custom->count(sa) == 0) (*custom)[sa] = type, changed = true;
      }
      if (changed) created.upsert_namespaces.push_back({existing->info().id(), name, existing->SerializeAsString()});
      for (const auto& [sa, type] : startup) {
        if (changed && type != ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST) created.index_search_attributes.push_back(sa);
      }
      continue;
    }
    state::NamespaceRecord rec;
    rec.mutable_info()->set_name(name);
    rec.mutable_info()->set_id(NewUuid());
    rec.mutable_info()->set_state(ev1::NAMESPACE_STATE_REGISTERED);
    *rec.mutable_config()->mutable_workflow_execution_retention_ttl() = ToProtoDuration(options_.default_retention);
    rec.mutable_config()->set_history_archival_state(ev1::ARCHIVAL_STATE_DISABLED);
    rec.mutable_config()->set_visibility_archival_state(ev1::ARCHIVAL_STATE_DISABLED);
    for (const auto& [sa, type] : startup) {
      (*rec.mutable_custom_search_attributes())[sa] = type;
      if (type != ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST) created.index_search_attributes.push_back(sa);
    }
    created.upsert_namespaces.push_back({rec.info().id(), name, rec.SerializeAsString()});
    host_.ReplaceNamespace(name, std::move(rec));
  }
  return created;
}

}  // namespace temporalite::history
