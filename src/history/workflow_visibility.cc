// The WorkflowVisibility unit (workflow_visibility.h): the visibility row, list/count/scan, the
// namespace-scoped custom search attributes, and retention.
#include "history/reply_now.h"
#include "history/workflow_visibility.h"

#include <nlohmann/json.hpp>

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <map>

#include "common/log.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"

namespace temporalite::history {

namespace wsv1 = ::temporal::api::workflowservice::v1;
namespace wfv1 = ::temporal::api::workflow::v1;
namespace osv1 = ::temporal::api::operatorservice::v1;
namespace ev1 = ::temporal::api::enums::v1;

namespace {
int64_t Nanos(const google::protobuf::Timestamp& t) { return t.seconds() * 1000000000LL + t.nanos(); }

// Page tokens: "c:<close_sort>:<start_time>:<run_id>" (default order) or "o:<offset>".
std::string CursorToken(const persistence::VisibilityCursor& c) {
  return "c:" + std::to_string(c.close_sort) + ":" + std::to_string(c.start_time) + ":" + c.run_id;
}

Status BadToken() { return InvalidArgument("Invalid NextPageToken."); }

// SQL string literal for the list-filter language (quotes doubled).
std::string Quote(const std::string& v) {
  std::string out = "'";
  for (char c : v) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string Rfc3339(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}

// The workflow id and type filters the legacy ListOpen/ListClosed requests share.
template <typename Req>
void AppendIdAndTypeFilters(const Req& req, std::string* q) {
  if (req.has_execution_filter()) *q += " AND WorkflowId = " + Quote(req.execution_filter().workflow_id());
  if (req.has_type_filter()) *q += " AND WorkflowType = " + Quote(req.type_filter().name());
}

// A page token into the query's cursor (default order) or offset (ORDER BY).
Status ParsePageToken(const std::string& tok, persistence::VisibilityQuery* q) {
  if (tok.empty()) return Status::Ok();
  try {
    if (q->order_by.empty()) {
      if (tok.rfind("c:", 0) != 0) return BadToken();
      size_t a = tok.find(':', 2), b = a == std::string::npos ? a : tok.find(':', a + 1);
      if (b == std::string::npos) return BadToken();
      q->after = persistence::VisibilityCursor{std::stoll(tok.substr(2, a - 2)), std::stoll(tok.substr(a + 1, b - a - 1)),
                                               tok.substr(b + 1)};
    } else {
      if (tok.rfind("o:", 0) != 0) return BadToken();
      q->offset = std::stoll(tok.substr(2));
      if (q->offset < 0) return BadToken();
    }
  } catch (const std::exception&) {
    return BadToken();
  }
  return Status::Ok();
}

}  // namespace

persistence::VisibilityRow VisibilityRowOf(const Execution& ex, const visibility::TypeMap& custom,
                                           const std::string& parent_namespace_id) {
  const auto& st = ex.st();
  persistence::VisibilityRow row;
  row.namespace_id = st.namespace_id();
  row.run_id = st.run_id();
  row.workflow_id = st.workflow_id();
  row.workflow_type = st.workflow_type();
  row.task_queue = st.task_queue();
  row.status = st.status();
  row.start_time = Nanos(st.start_time());
  row.execution_time = Nanos(st.execution_time());
  row.history_length = st.next_event_id() - 1;
  row.history_size_bytes = st.history_size_bytes();
  row.state_transition_count = st.state_transition_count();
  row.parent_workflow_id = st.parent_workflow_id();
  row.parent_run_id = st.parent_run_id();
  row.root_workflow_id = st.root_workflow_id().empty() ? st.workflow_id() : st.root_workflow_id();
  row.root_run_id = st.root_run_id().empty() ? st.run_id() : st.root_run_id();
  row.search_attributes_json = visibility::ToJsonColumn(st.search_attributes(), custom);

  wfv1::WorkflowExecutionInfo info;
  info.mutable_execution()->set_workflow_id(st.workflow_id());
  info.mutable_execution()->set_run_id(st.run_id());
  info.mutable_type()->set_name(st.workflow_type());
  *info.mutable_start_time() = st.start_time();
  *info.mutable_execution_time() = st.execution_time();
  info.set_status(st.status());
  info.set_history_length(row.history_length);
  info.set_task_queue(st.task_queue());
  info.set_state_transition_count(st.state_transition_count());
  info.set_history_size_bytes(st.history_size_bytes());
  info.set_first_run_id(st.first_execution_run_id());
  if (st.memo().fields_size() > 0) *info.mutable_memo() = st.memo();
  if (st.search_attributes().indexed_fields_size() > 0) *info.mutable_search_attributes() = st.search_attributes();
  if (!st.parent_workflow_id().empty()) {
    info.mutable_parent_execution()->set_workflow_id(st.parent_workflow_id());
    info.mutable_parent_execution()->set_run_id(st.parent_run_id());
    if (!parent_namespace_id.empty()) info.set_parent_namespace_id(parent_namespace_id);
  }
  info.mutable_root_execution()->set_workflow_id(row.root_workflow_id);
  info.mutable_root_execution()->set_run_id(row.root_run_id);
  if (!ex.open()) {
    row.close_time = Nanos(st.close_time());
    row.execution_duration = std::max<int64_t>(0, row.close_time - row.execution_time);
    *info.mutable_close_time() = st.close_time();
    *info.mutable_execution_duration() = ToProtoDuration(std::chrono::nanoseconds(row.execution_duration));
  }
  row.info = info.SerializeAsString();
  return row;
}

// --------------------------------------------------------------------------------------------
// Lists

Status WorkflowVisibility::ListPage(const std::string& ns_id, Result<visibility::CompiledQuery> compiled,
                                    int32_t page_size, const std::string& page_token, WorkflowInfos* out,
                                    std::string* next_token) {
  if (!compiled.ok()) return compiled.status();
  if (compiled->group_by_status) {
    return InvalidArgument("invalid query: operation is not supported: 'GROUP BY' clause is only supported in count query");
  }
  persistence::VisibilityQuery q;
  q.namespace_id = ns_id;
  q.where = compiled->where;
  q.args = compiled->args;
  q.order_by = compiled->order_by;
  int64_t page = page_size <= 0 ? options_.max_page_size : std::min<int64_t>(page_size, options_.max_page_size);
  q.limit = page + 1;  // one more tells whether another page exists
  TL_RETURN_IF_ERROR(ParsePageToken(page_token, &q));
  auto rows = host_.ListVisibility(q);
  if (!rows.ok()) return rows.status();
  size_t n = std::min<size_t>(rows->infos.size(), static_cast<size_t>(page));
  for (size_t i = 0; i < n; ++i) {
    if (!out->Add()->ParseFromString(rows->infos[i])) return Status(Code::kDataLoss, "corrupt visibility record");
  }
  if (rows->infos.size() > static_cast<size_t>(page)) {
    *next_token = q.order_by.empty() ? CursorToken(rows->cursors[n - 1]) : "o:" + std::to_string(q.offset + page);
  }
  return Status::Ok();
}

Status WorkflowVisibility::List(const ListArgs& args, WorkflowInfos* out, std::string* next_token) {
  std::string ns_id;
  Result<visibility::CompiledQuery> compiled = Internal("list query not compiled");
  {
    MutexLock l(mu_);
    auto ns = host_.NamespaceByName(args.namespace_name);
    if (!ns.ok()) return ns.status();
    ns_id = ns.value()->info().id();
    compiled = visibility::CompileQuery(args.query, host_.CustomSearchAttributes(ns_id));
  }
  // The store read needs no engine state.
  return ListPage(ns_id, std::move(compiled), args.page_size, args.page_token, out, next_token);
}

void WorkflowVisibility::ListWorkflowExecutions(const wsv1::ListWorkflowExecutionsRequest& req,
                                                wsv1::ListWorkflowExecutionsResponse* resp, Done done) {
  std::string token;
  Status s = List({req.namespace_(), req.query(), req.page_size(), req.next_page_token()},
                  resp->mutable_executions(), &token);
  resp->set_next_page_token(token);
  done(s);
}

void WorkflowVisibility::ScanWorkflowExecutions(const wsv1::ScanWorkflowExecutionsRequest& req,
                                                wsv1::ScanWorkflowExecutionsResponse* resp, Done done) {
  std::string token;
  Status s = List({req.namespace_(), req.query(), req.page_size(), req.next_page_token()},
                  resp->mutable_executions(), &token);
  resp->set_next_page_token(token);
  done(s);
}

void WorkflowVisibility::ListOpenWorkflowExecutions(const wsv1::ListOpenWorkflowExecutionsRequest& req,
                                                    wsv1::ListOpenWorkflowExecutionsResponse* resp, Done done) {
  std::string q = "ExecutionStatus = 'Running'";
  if (req.has_start_time_filter()) {
    const auto& f = req.start_time_filter();
    if (f.has_earliest_time()) q += " AND StartTime >= " + Quote(Rfc3339(f.earliest_time()));
    if (f.has_latest_time()) q += " AND StartTime <= " + Quote(Rfc3339(f.latest_time()));
  }
  AppendIdAndTypeFilters(req, &q);
  std::string token;
  Status s = List({req.namespace_(), q, req.maximum_page_size(), req.next_page_token()}, resp->mutable_executions(), &token);
  resp->set_next_page_token(token);
  done(s);
}

void WorkflowVisibility::ListClosedWorkflowExecutions(const wsv1::ListClosedWorkflowExecutionsRequest& req,
                                                      wsv1::ListClosedWorkflowExecutionsResponse* resp, Done done) {
  // As in Temporal's SQL visibility, the time filter of closed runs applies to the close time.
  std::string q = "ExecutionStatus != 'Running'";
  if (req.has_start_time_filter()) {
    const auto& f = req.start_time_filter();
    if (f.has_earliest_time()) q += " AND CloseTime >= " + Quote(Rfc3339(f.earliest_time()));
    if (f.has_latest_time()) q += " AND CloseTime <= " + Quote(Rfc3339(f.latest_time()));
  }
  AppendIdAndTypeFilters(req, &q);
  if (req.has_status_filter()) {
    q += " AND ExecutionStatus = " + std::to_string(static_cast<int>(req.status_filter().status()));
  }
  std::string token;
  Status s = List({req.namespace_(), q, req.maximum_page_size(), req.next_page_token()}, resp->mutable_executions(), &token);
  resp->set_next_page_token(token);
  done(s);
}

void WorkflowVisibility::CountWorkflowExecutions(const wsv1::CountWorkflowExecutionsRequest& req,
                                                 wsv1::CountWorkflowExecutionsResponse* resp, Done done) {
  MutexLock l(mu_);
  auto ns = host_.NamespaceByName(req.namespace_());
  if (!ns.ok()) return ReplyNow(l, done, ns.status());
  const std::string ns_id = ns.value()->info().id();
  auto compiled = visibility::CompileQuery(req.query(), host_.CustomSearchAttributes(ns_id));
  l.Unlock();
  if (!compiled.ok()) return done(compiled.status());
  persistence::VisibilityQuery q;
  q.namespace_id = ns_id;
  q.where = compiled->where;
  q.args = compiled->args;
  if (!compiled->group_by_status) {
    auto n = host_.CountVisibility(q);
    if (!n.ok()) return done(n.status());
    resp->set_count(*n);
    return done(Status::Ok());
  }
  auto groups = host_.CountVisibilityByStatus(q);
  if (!groups.ok()) return done(groups.status());
  int64_t total = 0;
  for (const auto& [status, count] : *groups) {
    auto* g = resp->add_groups();
    auto* p = g->add_group_values();
    (*p->mutable_metadata())["encoding"] = "json/plain";
    p->set_data(nlohmann::json(visibility::ExecutionStatusName(static_cast<int>(status))).dump());
    g->set_count(count);
    total += count;
  }
  resp->set_count(total);
  done(Status::Ok());
}

// --------------------------------------------------------------------------------------------
// Search attributes

void WorkflowVisibility::GetSearchAttributes(const wsv1::GetSearchAttributesRequest&,
                                             wsv1::GetSearchAttributesResponse* resp, Done done) {
  MutexLock l(mu_);
  auto& keys = *resp->mutable_keys();
  for (const auto& [n, t] : visibility::SystemAttributes()) keys[n] = t;
  for (const auto& [n, t] : visibility::PredefinedAttributes()) keys[n] = t;
  for (const state::NamespaceRecord* rec : host_.AllNamespaces()) {
    for (const auto& [n, t] : rec->custom_search_attributes()) keys[n] = static_cast<visibility::ValueType>(t);
  }
  ReplyNow(l, done, Status::Ok());
}

void WorkflowVisibility::AddSearchAttributes(const osv1::AddSearchAttributesRequest& req, Done done) {
  if (req.search_attributes().empty()) return done(InvalidArgument("SearchAttributes are not set on request."));
  std::map<std::string, int> sorted(req.search_attributes().begin(), req.search_attributes().end());
  for (const auto& [name, type] : sorted) {
    if (visibility::IsReserved(name)) return done(InvalidArgument("Search attribute " + name + " is reserved by system."));
    if (type <= 0 || !ev1::IndexedValueType_IsValid(type)) {
      return done(InvalidArgument("Unknown search attribute type: " + std::to_string(type) + "."));
    }
    if (!visibility::IsValidName(name)) {
      return done(InvalidArgument("Search attribute name " + name +
                                  " is not valid: use letters, digits, '_', '-' and '.', starting with a letter."));
    }
  }
  MutexLock l(mu_);
  if (req.namespace_().empty()) return ReplyNow(l, done, InvalidArgument("Namespace is not set on request."));
  state::NamespaceRecord* rec = host_.NamespaceNamed(req.namespace_());
  if (!rec) return ReplyNow(l, done, NamespaceNotFound(req.namespace_()));
  auto* custom = rec->mutable_custom_search_attributes();
  bool changed = false;
  // As Temporal's SQL visibility: a name that already exists is left alone (even with another type).
  for (const auto& [name, type] : sorted) {
    if (custom->count(name)) continue;
    (*custom)[name] = type;
    changed = true;
  }
  if (!changed) return ReplyNow(l, done, Status::Ok());
  Txn txn;
  txn.batch.upsert_namespaces.push_back({rec->info().id(), req.namespace_(), rec->SerializeAsString()});
  // Scalar attributes get an expression index (list membership goes through json_each).
  for (const auto& [name, type] : sorted) {
    if (type != ev1::INDEXED_VALUE_TYPE_KEYWORD_LIST) txn.batch.index_search_attributes.push_back(name);
  }
  host_.Commit(txn, std::move(done));
}

void WorkflowVisibility::RemoveSearchAttributes(const osv1::RemoveSearchAttributesRequest& req, Done done) {
  if (req.search_attributes().empty()) return done(InvalidArgument("SearchAttributes are not set on request."));
  MutexLock l(mu_);
  if (req.namespace_().empty()) return ReplyNow(l, done, InvalidArgument("Namespace is not set on request."));
  state::NamespaceRecord* rec = host_.NamespaceNamed(req.namespace_());
  if (!rec) return ReplyNow(l, done, NamespaceNotFound(req.namespace_()));
  auto* custom = rec->mutable_custom_search_attributes();
  for (const auto& name : req.search_attributes()) {
    if (custom->count(name)) continue;
    // As Temporal's SQL visibility: system names are refused, unknown names ignored.
    if (visibility::IsReserved(name)) {
      return ReplyNow(l, done, InvalidArgument("Unable to remove non-custom search attributes: " + name + "."));
    }
  }
  for (const auto& name : req.search_attributes()) custom->erase(name);
  Txn txn;
  txn.batch.upsert_namespaces.push_back({rec->info().id(), req.namespace_(), rec->SerializeAsString()});
  host_.Commit(txn, std::move(done));
}

void WorkflowVisibility::ListSearchAttributes(const osv1::ListSearchAttributesRequest& req,
                                              osv1::ListSearchAttributesResponse* resp, Done done) {
  MutexLock l(mu_);
  if (req.namespace_().empty()) return ReplyNow(l, done, InvalidArgument("Namespace is not set on request."));
  const state::NamespaceRecord* rec = host_.NamespaceNamed(req.namespace_());
  if (!rec) return ReplyNow(l, done, NamespaceNotFound(req.namespace_()));
  for (const auto& [n, t] : rec->custom_search_attributes()) {
    (*resp->mutable_custom_attributes())[n] = static_cast<visibility::ValueType>(t);
  }
  for (const auto& [n, t] : visibility::SystemAttributes()) (*resp->mutable_system_attributes())[n] = t;
  for (const auto& [n, t] : visibility::PredefinedAttributes()) (*resp->mutable_system_attributes())[n] = t;
  ReplyNow(l, done, Status::Ok());
}

// --------------------------------------------------------------------------------------------
// Retention

void WorkflowVisibility::StartRetention() {
  MutexLock l(mu_);
  engine_.timers().Schedule(engine_.Now() + options_.retention_sweep_interval, [this] { OnRetentionTimer(); });
}

void WorkflowVisibility::OnRetentionTimer() {
  RetentionSweep([this](int64_t deleted) {
    // A full batch means more may be due: continue soon, after this batch is durable.
    MutexLock l(mu_);
    Duration next = deleted >= options_.retention_batch ? Duration::zero() : options_.retention_sweep_interval;
    engine_.timers().Schedule(engine_.Now() + next, [this] { OnRetentionTimer(); });
  });
}

void WorkflowVisibility::RetentionSweep(std::function<void(int64_t)> done) {
  // Cutoffs under the lock; the store reads (indexed, up to `retention_batch` rows each) outside
  // it, so transitions do not wait for them.
  std::vector<std::pair<std::string, int64_t>> cutoffs;  // namespace id, close time before
  {
    MutexLock l(mu_);
    const TimePoint now = engine_.Now();
    for (const state::NamespaceRecord* rec : host_.AllNamespaces()) {
      Duration ttl = FromProto(rec->config().workflow_execution_retention_ttl());
      if (ttl <= Duration::zero()) continue;
      cutoffs.emplace_back(rec->info().id(),
                           std::chrono::duration_cast<std::chrono::nanoseconds>((now - ttl).time_since_epoch()).count());
    }
  }
  std::vector<std::string> expired;
  for (const auto& [ns_id, cutoff] : cutoffs) {
    auto runs = host_.ClosedRunsBefore(ns_id, cutoff, options_.retention_batch);
    if (!runs.ok()) {
      TL_LOG_WARN("retention: cannot read expired runs of namespace %s: %s", ns_id.c_str(), runs.status().ToString().c_str());
      continue;
    }
    for (auto& r : *runs) expired.push_back(std::move(r));
  }
  MutexLock l(mu_);
  Txn txn;
  for (auto& run_id : expired) {
    // Closed runs are only read from the store; one still in memory is closing right now.
    if (host_.RunInMemory(run_id)) continue;
    txn.batch.delete_runs.push_back(std::move(run_id));
  }
  int64_t deleted = static_cast<int64_t>(txn.batch.delete_runs.size());
  if (deleted == 0) {
    l.Unlock();
    return done(0);
  }
  TL_LOG_DEBUG("retention: deleting %lld closed runs", static_cast<long long>(deleted));
  host_.Commit(txn, [done = std::move(done), deleted](const Status& s) { done(s.ok() ? deleted : 0); });
}

}  // namespace temporalite::history
