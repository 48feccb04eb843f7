// Scheduler: records, validation and the schedule RPCs. The time processing and actions are in
// processing.cc.
#include "scheduler/scheduler.h"

#include <algorithm>
#include <set>

#include "common/log.h"
#include "scheduler/list_query.h"
#include "scheduler/schedule_visibility.h"
#include "scheduler/time_util.h"

namespace temporalite::scheduler {

namespace ev1 = ::temporal::api::enums::v1;
namespace spv1 = ::temporal::api::schedule::v1;

namespace {

std::string EncodeConflictToken(int64_t token) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(token & 0xff);
    token >>= 8;
  }
  return out;
}

int64_t DecodeConflictToken(const std::string& bytes) {
  int64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

Status ScheduleNotFound() { return NotFound("schedule not found"); }

}  // namespace

Scheduler::Scheduler(persistence::Store& store, const Clock& clock, TimerService& timers, WorkflowRunner& runner,
                     SchedulerOptions options)
    : store_(store), clock_(clock), timers_(timers), runner_(runner), options_(std::move(options)) {}

Scheduler::~Scheduler() = default;

bool Scheduler::WaitNoneInFlight(Duration timeout) {
  std::unique_lock<std::mutex> l(idle_mu_);
  return idle_cv_.wait_for(l, timeout, [this] { return in_flight_.load() == 0; });
}

Result<std::string> Scheduler::NamespaceIdFor(const std::string& ns) {
  if (ns.empty()) return InvalidArgument("Namespace not set on request.");
  return runner_.NamespaceId(ns);
}

void Scheduler::Compile(Entry& e) const {
  auto compiled = CompiledSpec::Compile(e.rec.schedule().spec());
  if (compiled.ok()) {
    e.spec = std::make_shared<const CompiledSpec>(std::move(compiled).value());
    e.spec_error.clear();
    e.rec.mutable_info()->clear_invalid_schedule_error();
  } else {
    e.spec.reset();
    e.spec_error = compiled.status().message();
    e.rec.mutable_info()->set_invalid_schedule_error(e.spec_error);
  }
}

// Temporal's ensureFields: defaults are filled eagerly so describe shows them.
void Scheduler::EnsureDefaults(state::ScheduleRecord& rec) const {
  auto* pol = rec.mutable_schedule()->mutable_policies();
  if (pol->overlap_policy() == ev1::SCHEDULE_OVERLAP_POLICY_UNSPECIFIED) {
    pol->set_overlap_policy(ev1::SCHEDULE_OVERLAP_POLICY_SKIP);
  }
  Duration cw = pol->has_catchup_window() ? FromProto(pol->catchup_window()) : options_.default_catchup_window;
  if (cw < options_.min_catchup_window) cw = options_.min_catchup_window;
  *pol->mutable_catchup_window() = ToProtoDuration(cw);
  rec.mutable_schedule()->mutable_state();
  rec.mutable_schedule()->mutable_spec();
}

Status Scheduler::ValidateSchedule(const spv1::Schedule& s, std::shared_ptr<const CompiledSpec>* spec,
                                   spv1::ScheduleSpec* canonical) const {
  if (!s.has_action() || !s.action().has_start_workflow()) {
    return InvalidArgument("Schedule action is required: set action.start_workflow.");
  }
  const auto& wf = s.action().start_workflow();
  if (wf.workflow_id().empty()) return InvalidArgument("WorkflowId is not set on request.");
  // The appended "-2009-11-10T23:00:00Z" must still fit (Temporal checks the same).
  if (wf.workflow_id().size() + 21 > options_.max_id_length) return InvalidArgument("WorkflowId length exceeds limit.");
  if (wf.workflow_type().name().empty()) return InvalidArgument("WorkflowType is not set on request.");
  if (wf.task_queue().name().empty()) return InvalidArgument("TaskQueue is not set on request.");
  if (s.state().limited_actions() && s.state().remaining_actions() < 0) {
    return InvalidArgument("Invalid schedule state: remaining_actions must not be negative.");
  }
  auto canon = CanonicalizeSpec(s.spec());
  if (!canon.ok()) return InvalidArgument("Invalid schedule spec: " + canon.status().message());
  auto compiled = CompiledSpec::Compile(*canon);
  if (!compiled.ok()) return InvalidArgument("Invalid schedule spec: " + compiled.status().message());
  if (spec) *spec = std::make_shared<const CompiledSpec>(std::move(compiled).value());
  if (canonical) *canonical = *canon;
  return Status::Ok();
}

void Scheduler::PersistLocked(Entry& e, Done done) {
  persistence::WriteBatch batch;
  batch.upsert_schedules.push_back({e.rec.namespace_id(), e.rec.schedule_id(), e.rec.SerializeAsString()});
  persistence::VisibilityRow row = ScheduleVisibilityRow(e.rec, e.attrs_json);
  if (row.search_attributes_json != e.visible_written) {
    e.visible_written = row.search_attributes_json;
    batch.upsert_visibility.push_back(std::move(row));
  }
  store_.Commit(std::move(batch), [done = std::move(done)](const Status& s) {
    if (!s.ok()) TL_LOG_ERROR("schedule commit failed: %s", s.ToString().c_str());
    if (done) done(s);
  });
}

Status Scheduler::RecoverVisibility(std::vector<std::unique_ptr<Entry>>& entries) {
  std::map<std::string, visibility::TypeMap> types;  // by namespace name
  for (auto& e : entries) {
    const std::string& ns = e->rec.namespace_();
    auto it = types.find(ns);
    if (it == types.end()) it = types.emplace(ns, runner_.SearchAttributeTypes(ns)).first;
    e->attrs_json = ScheduleAttributesJson(e->rec.search_attributes(), it->second);
  }
  auto marker = store_.GetServerState(kScheduleVisibilityMarker);
  if (!marker.ok()) return marker.status();
  persistence::WriteBatch batch;
  for (auto& e : entries) {
    persistence::VisibilityRow row = ScheduleVisibilityRow(e->rec, e->attrs_json);
    e->visible_written = row.search_attributes_json;
    if (!marker->has_value()) batch.upsert_visibility.push_back(std::move(row));
  }
  if (marker->has_value()) return Status::Ok();
  batch.put_server_state.emplace_back(kScheduleVisibilityMarker, "1");
  TL_LOG_INFO("scheduler: indexing %zu schedules in visibility", entries.size());
  return store_.CommitSync(std::move(batch));
}

Status Scheduler::Recover() {
  auto rows = store_.LoadSchedules();
  if (!rows.ok()) return rows.status();
  std::vector<std::unique_ptr<Entry>> entries;
  for (const auto& row : *rows) {
    auto e = std::make_unique<Entry>();
    if (!e->rec.ParseFromString(row.data)) return Internal("corrupt schedule record " + row.schedule_id);
    entries.push_back(std::move(e));
  }
  TL_RETURN_IF_ERROR(RecoverVisibility(entries));  // the runner is called without mu_
  Ops ops;
  std::lock_guard<std::mutex> l(mu_);
  for (auto& e : entries) {
    const std::string ns_id = e->rec.namespace_id();
    Compile(*e);
    std::string key = Key(ns_id, e->rec.schedule_id());
    const std::string& ns = e->rec.namespace_();
    for (const auto& run : e->rec.info().running_workflows()) {
      Watch(ns_id, run.workflow_id(), key);
      // It may have closed while we were down: ask.
      Op op{Op::kCheck, key, ns, run.workflow_id(), run.run_id(), {}, {}};
      ops.push_back(std::move(op));
    }
    for (const auto& start : e->rec.starting()) {
      Op op = StartOpLocked(*e, start);
      if (ResolveOverlap(*e, start.overlap_policy()) != ev1::SCHEDULE_OVERLAP_POLICY_ALLOW_ALL) {
        Watch(ns_id, op.workflow_id, key);
      }
      ops.push_back(std::move(op));
    }
    schedules_.emplace(key, std::move(e));
  }
  for (auto& [key, e] : schedules_) {
    std::string k = key;
    Post([this, k] { OnTimer(k); });
  }
  TL_LOG_INFO("scheduler: recovered %zu schedules", schedules_.size());
  // Issued from the timer thread so that no result is handled before recovery finished.
  if (!ops.empty()) Post([this, ops = std::move(ops)]() mutable { Run(std::move(ops)); });
  return Status::Ok();
}

void Scheduler::CreateSchedule(const wsv1::CreateScheduleRequest& req, wsv1::CreateScheduleResponse* resp,
                               Done done) {
  auto ns_id = NamespaceIdFor(req.namespace_());
  if (!ns_id.ok()) return done(ns_id.status());
  if (req.schedule_id().empty()) return done(InvalidArgument("ScheduleId is not set on request."));
  if (req.schedule_id().size() > options_.max_id_length) return done(InvalidArgument("ScheduleId length exceeds limit."));
  std::shared_ptr<const CompiledSpec> spec;
  spv1::ScheduleSpec canonical;
  Status v = ValidateSchedule(req.schedule(), &spec, &canonical);
  if (!v.ok()) return done(v);
  std::string attrs_json = ScheduleAttributesJson(req.search_attributes(), runner_.SearchAttributeTypes(req.namespace_()));

  Ops ops;
  {
    std::lock_guard<std::mutex> l(mu_);
    std::string key = Key(*ns_id, req.schedule_id());
    auto it = schedules_.find(key);
    if (it != schedules_.end()) {
      if (!req.request_id().empty() && it->second->rec.create_request_id() == req.request_id()) {
        resp->set_conflict_token(EncodeConflictToken(it->second->rec.conflict_token()));
        PersistLocked(*it->second, std::move(done));  // a barrier: answer once it is durable
        return;
      }
      return done(AlreadyExists("schedule with this ID is already registered"));
    }
    auto e = std::make_unique<Entry>();
    auto& rec = e->rec;
    rec.set_namespace_id(*ns_id);
    rec.set_namespace_(req.namespace_());
    rec.set_schedule_id(req.schedule_id());
    *rec.mutable_schedule() = req.schedule();
    *rec.mutable_schedule()->mutable_spec() = canonical;
    *rec.mutable_memo() = req.memo();
    *rec.mutable_search_attributes() = req.search_attributes();
    rec.set_create_request_id(req.request_id());
    rec.set_conflict_token(1);
    TimePoint now = clock_.Now();
    *rec.mutable_info()->mutable_create_time() = ToProto(now);
    *rec.mutable_last_processed_time() = ToProto(now);
    EnsureDefaults(rec);
    e->spec = std::move(spec);
    e->attrs_json = std::move(attrs_json);
    if (req.has_initial_patch()) ApplyPatchLocked(*e, req.initial_patch());
    resp->set_conflict_token(EncodeConflictToken(rec.conflict_token()));
    Entry& ref = *e;
    schedules_.emplace(key, std::move(e));
    TickLocked(ref, &ops, std::move(done));
  }
  Run(std::move(ops));
}

void Scheduler::FillDescribeLocked(const Entry& e, wsv1::DescribeScheduleResponse* resp) const {
  *resp->mutable_schedule() = e.rec.schedule();
  *resp->mutable_info() = e.rec.info();
  auto* info = resp->mutable_info();
  for (TimePoint t : FutureActionTimesLocked(e, options_.future_action_count)) *info->add_future_action_times() = ToProto(t);
  info->set_buffer_size(e.rec.buffered_starts_size());
  *resp->mutable_memo() = e.rec.memo();
  *resp->mutable_search_attributes() = e.rec.search_attributes();
  resp->set_conflict_token(EncodeConflictToken(e.rec.conflict_token()));
}

void Scheduler::DescribeSchedule(const wsv1::DescribeScheduleRequest& req, wsv1::DescribeScheduleResponse* resp,
                                 Done done) {
  auto ns_id = NamespaceIdFor(req.namespace_());
  if (!ns_id.ok()) return done(ns_id.status());
  if (req.schedule_id().empty()) return done(InvalidArgument("ScheduleId is not set on request."));
  std::lock_guard<std::mutex> l(mu_);
  auto it = schedules_.find(Key(*ns_id, req.schedule_id()));
  if (it == schedules_.end()) return done(ScheduleNotFound());
  FillDescribeLocked(*it->second, resp);
  // Answer from memory only what is durable: wait for a barrier.
  store_.Commit(persistence::WriteBatch{}, std::move(done));
}

void Scheduler::UpdateSchedule(const wsv1::UpdateScheduleRequest& req, wsv1::UpdateScheduleResponse*, Done done) {
  auto ns_id = NamespaceIdFor(req.namespace_());
  if (!ns_id.ok()) return done(ns_id.status());
  if (req.schedule_id().empty()) return done(InvalidArgument("ScheduleId is not set on request."));
  std::shared_ptr<const CompiledSpec> spec;
  spv1::ScheduleSpec canonical;
  Status v = ValidateSchedule(req.schedule(), &spec, &canonical);
  if (!v.ok()) return done(v);
  std::string attrs_json;
  if (req.has_search_attributes()) {
    attrs_json = ScheduleAttributesJson(req.search_attributes(), runner_.SearchAttributeTypes(req.namespace_()));
  }
  Ops ops;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = schedules_.find(Key(*ns_id, req.schedule_id()));
    if (it == schedules_.end()) return done(ScheduleNotFound());
    Entry& e = *it->second;
    if (!req.conflict_token().empty() && DecodeConflictToken(req.conflict_token()) != e.rec.conflict_token()) {
      return done(FailedPrecondition("conflicting concurrent update: the schedule changed since the conflict token "
                                     "was read; describe it again and retry"));
    }
    CatchUpLocked(e);
    auto* sched = e.rec.mutable_schedule();
    *sched = req.schedule();
    *sched->mutable_spec() = canonical;
    if (req.has_search_attributes()) {
      *e.rec.mutable_search_attributes() = req.search_attributes();
      e.attrs_json = std::move(attrs_json);
    }
    EnsureDefaults(e.rec);
    e.spec = std::move(spec);
    e.rec.mutable_info()->clear_invalid_schedule_error();
    TimePoint now = clock_.Now();
    *e.rec.mutable_info()->mutable_update_time() = ToProto(now);
    e.rec.set_conflict_token(e.rec.conflict_token() + 1);
    // The new spec's times from now on (times before the update are discarded in processing).
    e.armed = TimePoint::max();
    TickLocked(e, &ops, std::move(done));
  }
  Run(std::move(ops));
}

void Scheduler::PatchSchedule(const wsv1::PatchScheduleRequest& req, wsv1::PatchScheduleResponse*, Done done) {
  auto ns_id = NamespaceIdFor(req.namespace_());
  if (!ns_id.ok()) return done(ns_id.status());
  if (req.schedule_id().empty()) return done(InvalidArgument("ScheduleId is not set on request."));
  for (const auto& b : req.patch().backfill_request()) {
    if (!b.has_start_time() || !b.has_end_time()) {
      return done(InvalidArgument("Invalid backfill request: start_time and end_time are required."));
    }
    if (FromProto(b.end_time()) < FromProto(b.start_time())) {
      return done(InvalidArgument("Invalid backfill request: end_time is before start_time."));
    }
  }
  Ops ops;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = schedules_.find(Key(*ns_id, req.schedule_id()));
    if (it == schedules_.end()) return done(ScheduleNotFound());
    Entry& e = *it->second;
    CatchUpLocked(e);
    ApplyPatchLocked(e, req.patch());
    TickLocked(e, &ops, std::move(done));
  }
  Run(std::move(ops));
}

void Scheduler::DeleteSchedule(const wsv1::DeleteScheduleRequest& req, wsv1::DeleteScheduleResponse*, Done done) {
  auto ns_id = NamespaceIdFor(req.namespace_());
  if (!ns_id.ok()) return done(ns_id.status());
  if (req.schedule_id().empty()) return done(InvalidArgument("ScheduleId is not set on request."));
  std::lock_guard<std::mutex> l(mu_);
  auto it = schedules_.find(Key(*ns_id, req.schedule_id()));
  if (it == schedules_.end()) return done(ScheduleNotFound());
  // Runs it started keep running (as in Temporal); we just stop watching them.
  for (const auto& run : it->second->rec.info().running_workflows()) Unwatch(*ns_id, run.workflow_id());
  persistence::WriteBatch batch;
  batch.delete_schedules.push_back({*ns_id, req.schedule_id(), {}});
  // Its visibility row: deleting the "run" of its key removes that row (and finds nothing else).
  batch.delete_runs.push_back(ScheduleVisibilityKey(*ns_id, req.schedule_id()));
  schedules_.erase(it);
  store_.Commit(std::move(batch), std::move(done));
}

void Scheduler::ListSchedules(const wsv1::ListSchedulesRequest& req, const visibility::TypeMap& custom,
                              wsv1::ListSchedulesResponse* resp, Done done) {
  auto ns_id = NamespaceIdFor(req.namespace_());
  if (!ns_id.ok()) return done(ns_id.status());
  auto filter = ScheduleFilter::Compile(req.query(), custom);
  if (!filter.ok()) return done(filter.status());
  const int32_t page = req.maximum_page_size() > 0 ? req.maximum_page_size() : options_.default_page_size;
  // The page's ids from the visibility store (no lock held), one more to know whether more follow.
  auto query = filter->Query(*ns_id, req.next_page_token(), int64_t{page} + 1);
  if (!query.ok()) return done(query.status());
  auto rows = store_.ListVisibility(*query);
  if (!rows.ok()) return done(rows.status());
  const bool more = rows->infos.size() > static_cast<size_t>(page);
  if (more) rows->infos.resize(page);
  std::lock_guard<std::mutex> l(mu_);
  for (const std::string& schedule_id : rows->infos) {
    auto it = schedules_.find(Key(*ns_id, schedule_id));
    if (it == schedules_.end()) continue;  // deleted since the read
    const Entry& e = *it->second;
    const auto& wf = e.rec.schedule().action().start_workflow();
    auto* out = resp->add_schedules();
    out->set_schedule_id(e.rec.schedule_id());
    *out->mutable_memo() = e.rec.memo();
    *out->mutable_search_attributes() = e.rec.search_attributes();
    auto* info = out->mutable_info();
    *info->mutable_spec() = e.rec.schedule().spec();
    *info->mutable_workflow_type() = wf.workflow_type();
    info->set_notes(e.rec.schedule().state().notes());
    info->set_paused(e.rec.schedule().state().paused());
    const auto& recent = e.rec.info().recent_actions();
    size_t n = std::min<size_t>(recent.size(), options_.list_recent_action_count);
    for (int i = recent.size() - static_cast<int>(n); i < recent.size(); ++i) *info->add_recent_actions() = recent[i];
    for (TimePoint t : FutureActionTimesLocked(e, options_.list_future_action_count)) {
      *info->add_future_action_times() = ToProto(t);
    }
  }
  if (more) resp->set_next_page_token(ScheduleFilter::PageToken(rows->cursors[page - 1], rows->infos.back()));
  store_.Commit(persistence::WriteBatch{}, std::move(done));  // what memory shows is durable first
}

void Scheduler::CountSchedules(const wsv1::CountSchedulesRequest& req, const visibility::TypeMap& custom,
                               wsv1::CountSchedulesResponse* resp, Done done) {
  auto ns_id = NamespaceIdFor(req.namespace_());
  if (!ns_id.ok()) return done(ns_id.status());
  auto filter = ScheduleFilter::Compile(req.query(), custom);
  if (!filter.ok()) return done(filter.status());
  auto query = filter->Query(*ns_id, "", 1);
  if (!query.ok()) return done(query.status());
  auto n = store_.CountVisibility(*query);
  if (!n.ok()) return done(n.status());
  resp->set_count(*n);
  done(Status::Ok());
}

void Scheduler::ListScheduleMatchingTimes(const wsv1::ListScheduleMatchingTimesRequest& req,
                                          wsv1::ListScheduleMatchingTimesResponse* resp, Done done) {
  auto ns_id = NamespaceIdFor(req.namespace_());
  if (!ns_id.ok()) return done(ns_id.status());
  if (req.schedule_id().empty()) return done(InvalidArgument("ScheduleId is not set on request."));
  if (!req.has_start_time() || !req.has_end_time()) return done(InvalidArgument("missing or invalid query"));
  std::shared_ptr<const CompiledSpec> spec;
  std::string seed;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = schedules_.find(Key(*ns_id, req.schedule_id()));
    if (it == schedules_.end()) return done(ScheduleNotFound());
    if (!it->second->spec) return done(InvalidArgument("invalid schedule: " + it->second->spec_error));
    spec = it->second->spec;
    seed = *ns_id + "-" + req.schedule_id();
  }
  auto times = spec->ListMatchingTimes(FromProto(req.start_time()), FromProto(req.end_time()), seed);
  if (!times.ok()) return done(times.status());
  for (TimePoint t : *times) *resp->add_start_time() = ToProto(t);
  done(Status::Ok());
}

std::vector<TimePoint> Scheduler::FutureActionTimesLocked(const Entry& e, size_t n) const {
  std::vector<TimePoint> out;
  if (!e.spec) return out;
  const auto& st = e.rec.schedule().state();
  if (st.limited_actions()) n = std::min<size_t>(n, std::max<int64_t>(st.remaining_actions(), 0));
  TimePoint update = e.rec.info().has_update_time() ? FromProto(e.rec.info().update_time()) : TimePoint::min();
  std::string seed = e.rec.namespace_id() + "-" + e.rec.schedule_id();
  TimePoint t = FromProto(e.rec.last_processed_time());
  for (int guard = 0; out.size() < n && guard < 10000; ++guard) {
    auto next = e.spec->GetNextTime(seed, t);
    if (!next.ok() || next->actual == TimePoint::max()) break;
    t = next->actual;
    if (update > t) continue;
    out.push_back(t);
  }
  return out;
}

}  // namespace temporalite::scheduler
