// Engine plumbing: commits, recovery, namespace lookups, and the read paths (describe, history).
#include "history/engine.h"

#include <algorithm>
#include <condition_variable>

#include "common/log.h"
#include "history/compat_fields.h"
#include "history/describe_workflow.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/run_id_in_memory.h"
#include "history/run_lookup.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;

Engine::Engine(persistence::Store& store, const Clock& clock, TimerService& timers, EngineOptions options)
    : EngineMutexAndStore(store), clock_(clock), created_at_(clock.Now()), timers_(timers), options_(std::move(options)) {}

Engine::~Engine() = default;

void Txn::Touch(Execution* ex) {
  if (std::find(touched.begin(), touched.end(), ex) == touched.end()) touched.push_back(ex);
}

void Engine::CommitLocked(Txn& txn, Done done) {
  std::vector<std::pair<std::string, bool>> notify;  // run id, closed
  std::vector<std::pair<std::string, int64_t>> evict;  // idle after this commit: run id, transitions
  for (Execution* ex : txn.touched) {
    const auto& st = ex->st();
    ex->CountStateTransition();
    for (size_t i = ex->persisted_events; i < ex->events.size(); ++i) {
      persistence::EventRow row{st.run_id(), ex->events[i].event_id(), ex->events[i].SerializeAsString()};
      ex->AddHistorySize(static_cast<int64_t>(row.data.size()));
      txn.batch.append_events.push_back(std::move(row));
    }
    bool new_events = ex->persisted_events != ex->events.size();
    ex->persisted_events = ex->events.size();
    persistence::ExecutionRow row;
    row.namespace_id = st.namespace_id();
    row.workflow_id = st.workflow_id();
    row.run_id = st.run_id();
    row.open = ex->open();
    row.close_time_unix_nanos = ex->open() ? 0 : FromProto(st.close_time()).time_since_epoch().count();
    row.state = st.SerializeAsString();
    row.idle_wake_unix_nanos = IdleWake(*ex);
    txn.batch.upsert_executions.push_back(std::move(row));
    if (ex->visibility_dirty) {
      txn.batch.upsert_visibility.push_back(VisibilityRowLocked(*ex));
      ex->visibility_dirty = false;
    }
    if (new_events) notify.emplace_back(st.run_id(), !ex->open());
    if (options_.evict_idle_runs && EvictableLocked(*ex)) evict.emplace_back(st.run_id(), st.state_transition_count());
  }
  auto after = std::move(txn.after_commit);
  auto closed = std::move(txn.closed_runs);
  txn.touched.clear();
  StoreCommit(std::move(txn.batch), [this, after = std::move(after), closed = std::move(closed),
                                     evict = std::move(evict), notify = std::move(notify),
                                     done = std::move(done)](const Status& s) {
    if (!s.ok()) {
      // Memory is now ahead of disk. The store has recorded a fatal error and refuses every later
      // write, so nothing more is acknowledged; the composition root sees the error and exits (a
      // restart recovers from disk). Deliveries and wake-ups of this transition never happen.
      if (done) done(s);
      return;
    }
    for (auto& f : after) f();
    if (!closed.empty() || !evict.empty()) {
      MutexLock l(mu_);
      for (const auto& run_id : closed) {
        auto it = runs_.find(run_id);
        if (it == runs_.end() || it->second->open()) continue;
        auto closing = closing_by_workflow_id_.find(it->second->workflow_key());
        if (closing != closing_by_workflow_id_.end() && closing->second == run_id) closing_by_workflow_id_.erase(closing);
        ++closed_left_memory_by_key_[std::hash<std::string>{}(it->second->workflow_key()) %
                                     closed_left_memory_by_key_.size()];
        runs_.erase(it);
        ++closed_runs_left_memory_;
      }
      // Durable now; a run changed since (a later commit in flight) is left to that commit.
      for (const auto& [run_id, transitions] : evict) {
        Execution* ex = runs_.FindLoaded(run_id);
        if (ex && ex->st().state_transition_count() == transitions && EvictableLocked(*ex)) runs_.Evict(run_id);
      }
    }
    for (const auto& [run_id, was_closed] : notify) history_commits_.Notify(run_id, was_closed);
    if (done) done(Status::Ok());
  });
}

void Engine::ReplyWhenDurableLocked(Done done, Status reply) {
  StoreCommit(persistence::WriteBatch{}, [done = std::move(done), reply = std::move(reply)](const Status& s) {
    done(s.ok() ? reply : s);
  });
}

void Engine::ScheduleWorkflowTask(Txn& txn, Execution& ex) {
  mu_.AssertHeld();  // EngineContext calls come from the units, which run under mu_
  wft_.Schedule(txn, ex);
}

void Engine::ReplyWhenDurable(Done done, Status reply) {
  mu_.AssertHeld();  // EngineContext calls come from the units, which run under mu_
  ReplyWhenDurableLocked(std::move(done), std::move(reply));
}

Status Engine::CheckBlob(size_t bytes, const char* what) const {
  return CheckBlobSize(bytes, what, options_.blob_size_limit_error, options_.blob_size_limit_warn);
}

Status Engine::CheckId(const std::string& id, const char* what) const {
  return CheckIdLength(id, what, options_.max_id_length);
}

// --------------------------------------------------------------------------------------------
// Recovery

Status Engine::Recover() {
  // Nothing else runs yet (no RPC served, no timer armed), but the store is read without the
  // engine mutex all the same: StoreReads() is never called under it (engine_store.h).
  auto ns = StoreReads().LoadNamespaces();
  if (!ns.ok()) return ns.status();
  {
    MutexLock l(mu_);
    // The stored namespaces, then `default` and the extra ones created where missing.
    auto created = namespace_rpcs_.Recover(ns.value());
    if (!created.ok()) return created.status();
    if (!created->empty()) TL_RETURN_IF_ERROR(StoreCommitSync(std::move(created).value()));
  }
  TL_RETURN_IF_ERROR(RecoverOpenRuns());
  auto steps = ReadDeferredSteps();
  if (!steps.ok()) return steps.status();
  MutexLock l(mu_);
  // Re-arm timers and re-queue scheduled tasks from durable state (the outbox is the state).
  Txn txn;  // dispatch writes nothing unless a poller is waiting, and none are yet
  std::vector<std::shared_ptr<Execution>> loaded;  // a lookup below may read an evicted run back
  for (auto& [run_id, ex] : runs_) loaded.push_back(ex);
  for (auto& ex : loaded) {
    ArmWorkflowTimersLocked(*ex);
    if (ex->wft_pending()) {
      if (ex->wft_started()) {
        wft_.ArmTimers(*ex);
      } else {
        // The sticky worker that held this task may be gone: fall back to the normal queue.
        ex->MoveWorkflowTaskToNormalQueue();
        wft_.Dispatch(txn, *ex);
      }
    }
    activities_.ResumeAll(txn, *ex, /*all=*/false);  // timers, and the attempts due now dispatched
  }
  std::vector<const state::NamespaceRecord*> records;
  for (const auto& [name, rec] : namespaces_) records.push_back(&rec);
  batch_.Resume(records);               // running batch jobs take their next step
  namespace_deletion_.Resume(records);  // deletions go on (once their delay is over)
  ScheduleDeferredStepsLocked(std::move(steps).value());  // closes' steps left by a crash
  return Status::Ok();
}

// Every open run's workflow id, then the runs: an idle one written with its wake-up time
// (schema 7) by that time alone, without reading its state; one written idle with nothing to
// arm, not at all; any other is parsed and, if idle, armed and left on disk as before (and its
// wake-up time written, once, so the next start skips it too), otherwise loaded with history.
// The rows and those histories are read with the mutex released (nothing else runs yet: the
// runs cannot change in between), and nothing is armed before the histories are in.
Status Engine::RecoverOpenRuns() {
  const auto started = std::chrono::steady_clock::now();
  auto open = StoreReads().LoadOpenExecutions(/*idle_states=*/!options_.evict_idle_runs);
  if (!open.ok()) return open.status();
  const auto loaded_rows = std::chrono::steady_clock::now();
  size_t n = 0, idle = 0, by_wake = 0;
  std::vector<std::shared_ptr<Execution>> parsed(open->size());
  std::vector<char> evictable(open->size(), 0);  // parsed, idle: armed and left on disk
  {
    MutexLock l(mu_);
    for (size_t i = 0; i < open->size(); ++i) {
      auto& row = open.value()[i];
      open_by_workflow_id_[WorkflowKey(row.namespace_id, row.workflow_id)] = row.run_id;
      if (row.idle_wake_unix_nanos && options_.evict_idle_runs) continue;
      auto& ex = parsed[i] = std::make_shared<Execution>();
      if (!ex->LoadState(row.state)) return Status(Code::kDataLoss, "corrupt execution record " + row.run_id);
      std::string().swap(row.state);
    }
    for (size_t i = 0; i < parsed.size(); ++i) {
      evictable[i] = parsed[i] && options_.evict_idle_runs && EvictableLocked(*parsed[i]);
    }
  }
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (parsed[i] && !evictable[i]) TL_RETURN_IF_ERROR(ReadHistoryInto(open.value()[i].run_id, *parsed[i]));
  }
  MutexLock l(mu_);
  persistence::WriteBatch wakes;  // idle runs of an older file (or written before they were idle)
  for (size_t i = 0; i < parsed.size(); ++i) {
    auto& row = open.value()[i];
    ++n;
    if (!parsed[i]) {
      if (*row.idle_wake_unix_nanos != persistence::kNoIdleTimer) {
        TimePoint wake{std::chrono::nanoseconds(*row.idle_wake_unix_nanos)};
        timers_.Schedule(wake, [this, run_id = row.run_id] { OnIdleRunWake(run_id); });
      }
      runs_.AddEvicted(std::move(row.run_id));
      ++idle, ++by_wake;
      continue;
    }
    std::shared_ptr<Execution> ex = std::move(parsed[i]);
    if (evictable[i]) {
      // Idle: only its timers are needed now; state and history are read back when one fires.
      ArmWorkflowTimersLocked(*ex);
      if (!row.idle_wake_unix_nanos && IdleWake(*ex)) {
        wakes.upsert_executions.push_back(
            {row.namespace_id, row.workflow_id, row.run_id, true, 0, ex->st().SerializeAsString(), IdleWake(*ex)});
      }
      runs_.AddEvicted(std::move(row.run_id));
      ++idle;
      continue;
    }
    if (static_cast<int64_t>(ex->events.size()) + 1 != ex->st().next_event_id()) {
      return Status(Code::kDataLoss, "run " + row.run_id + " has " + std::to_string(ex->events.size()) +
                                         " events but next event id " + std::to_string(ex->st().next_event_id()));
    }
    ex->persisted_events = ex->events.size();
    ex->RebuildIndexes();
    runs_[row.run_id] = ex;
  }
  const auto armed = std::chrono::steady_clock::now();
  const size_t rewritten = wakes.upsert_executions.size();
  if (!wakes.empty()) TL_RETURN_IF_ERROR(StoreCommitSync(std::move(wakes)));
  auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  TL_LOG_INFO("recovered %zu namespaces and %zu open workflow executions (%zu idle, not loaded; %zu of them by their "
              "wake-up time alone, %zu given one now); rows read in %.0f ms, runs set up in %.0f ms, wake-ups written "
              "in %.0f ms",
              namespaces_.size(), n, idle, by_wake, rewritten, ms(started, loaded_rows), ms(loaded_rows, armed),
              ms(armed, std::chrono::steady_clock::now()));
  return Status::Ok();
}

// --------------------------------------------------------------------------------------------
// Namespaces

Result<std::string> Engine::NamespaceIdOf(const std::string& name) {
  MutexLock l(mu_);
  auto r = NamespaceByNameLocked(name);
  if (!r.ok()) return r.status();
  return (*r)->info().id();
}

Result<const state::NamespaceRecord*> Engine::NamespaceByNameLocked(const std::string& name) const {
  if (name.empty()) return InvalidArgument("Namespace not set on request.");
  auto it = namespaces_.find(name);
  if (it == namespaces_.end()) return NamespaceNotFound(name);
  // A namespace being deleted (renamed "<name>-deleted-...") only describes.
  if (it->second.info().state() == ev1::NAMESPACE_STATE_DELETED) return NamespaceNotFound(name);
  return &it->second;
}

// --------------------------------------------------------------------------------------------
// Lookups

Result<Execution*> Engine::OpenExecutionLocked(const std::string& ns_id, const std::string& workflow_id,
                                               const std::string& run_id) {
  if (!run_id.empty()) {
    auto it = runs_.find(run_id);
    if (it != runs_.end() && it->second->open() && it->second->st().workflow_id() == workflow_id &&
        it->second->st().namespace_id() == ns_id) {
      return it->second.get();
    }
  } else {
    auto it = open_by_workflow_id_.find(WorkflowKey(ns_id, workflow_id));
    if (it != open_by_workflow_id_.end()) return runs_.at(it->second).get();
  }
  // Not open. Temporal tells a closed run apart from one that never existed (both NOT_FOUND).
  auto any = LoadAnyExecutionLocked(ns_id, workflow_id, run_id);
  if (any.ok() && !any.value()->open()) return NotFound("workflow execution already completed");
  if (!any.ok() && any.status().code() != Code::kNotFound) return any.status();  // a failed read
  return WorkflowNotFound(workflow_id, run_id);
}

Result<std::shared_ptr<Execution>> Engine::LoadAnyExecutionLocked(const std::string& ns_id,
                                                                  const std::string& workflow_id,
                                                                  const std::string& run_id) {
  const std::string rid =
      RunIdInMemory(open_by_workflow_id_, closing_by_workflow_id_, WorkflowKey(ns_id, workflow_id), run_id);
  if (!rid.empty()) {
    if (Execution* loaded = runs_.FindLoaded(rid)) {
      if (loaded->st().workflow_id() != workflow_id || loaded->st().namespace_id() != ns_id) {
        return WorkflowNotFound(workflow_id, run_id);
      }
      return runs_.at(rid);
    }
  }
  // Not in memory: a closed run (or none), read by PrefetchCommandTargets without the mutex; or
  // an evicted open run whose read back failed (CommandTargetKnownLocked).
  if (const PrefetchedRun* pre = PrefetchedLocked(ns_id, workflow_id, run_id)) {
    if (!pre->status.ok()) return pre->status;
    if (!pre->run) return WorkflowNotFound(workflow_id, run_id);
    const bool evicted = run_id.empty() != rid.empty() || (!rid.empty() && runs_.eviction_seq(rid) != 0);
    if (!evicted) return pre->run;
  }
  // Never read from the store here (the engine mutex is held): every lookup of a completion's
  // targets is prefetched. One that was not is a bug; it fails rather than block the engine.
  TL_LOG_ERROR("run lookup %s/%s/%s inside a transition was not read before it", ns_id.c_str(), workflow_id.c_str(),
               run_id.c_str());
  return Status(Code::kUnavailable, "workflow execution " + workflow_id + " was not read before the transition");
}

// --------------------------------------------------------------------------------------------
// Idle-run eviction

bool Engine::EvictableLocked(const Execution& ex) const {
  return ex.open() && !ex.wft_pending() && ex.st().buffered_events_size() == 0 && ex.st().activities_size() == 0 &&
         ex.query_ids.empty() && ex.admitted_updates.empty() && !ex.visibility_dirty &&
         ex.command_user_metadata == nullptr && ex.persisted_events == ex.events.size();
}

// A lookup that changes nothing (describe, history, a stale timer) leaves a run read back in
// memory: evict it again a little later unless a commit has taken it over by then.
void Engine::ArmReloadSweepLocked() {
  if (reload_sweep_armed_) return;
  reload_sweep_armed_ = true;
  timers_.Schedule(clock_.Now() + std::chrono::seconds(1), [this] { SweepReloadedRuns(); });
}

void Engine::SweepReloadedRuns() {
  MutexLock l(mu_);
  reload_sweep_armed_ = false;
  std::vector<std::pair<std::string, int64_t>> keep;
  for (auto& [run_id, transitions] : runs_.TakeReloaded()) {
    Execution* ex = runs_.FindLoaded(run_id);
    if (!ex || ex->st().state_transition_count() != transitions) continue;  // gone, or a commit owns it
    if (EvictableLocked(*ex)) {
      runs_.Evict(run_id);
    } else if (ex->open()) {
      keep.emplace_back(std::move(run_id), transitions);  // e.g. a query in flight: look again
    }
  }
  if (!keep.empty()) {
    for (auto& k : keep) runs_.KeepReloaded(std::move(k.first), k.second);
    reload_sweep_armed_ = true;
    timers_.Schedule(clock_.Now() + std::chrono::seconds(1), [this] { SweepReloadedRuns(); });
  }
}

Engine::RunCounts Engine::CountRuns() {
  MutexLock l(mu_);
  RunCounts c;
  c.evicted = runs_.evicted_size();
  c.evicted_lookups = runs_.evicted_lookups();
  for (const auto& [run_id, ex] : runs_) {
    if (!ex->open()) continue;
    ++c.in_memory;
    c.events_in_memory += ex->events.size();
  }
  return c;
}

// --------------------------------------------------------------------------------------------
// Describe

void Engine::DescribeWorkflowExecution(const wsv1::DescribeWorkflowExecutionRequest& req,
                                       wsv1::DescribeWorkflowExecutionResponse* resp, Done done) {
  MutexLock l(mu_);
  // The execution's check after the namespace, as Temporal's DescribeWorkflowExecution checks.
  auto r = LookUpRun(*this, req.namespace_(), req.execution(), /*with_events=*/false,
                     [&] { return ValidateExecution(req.has_execution() ? &req.execution() : nullptr); });
  if (!r.ok()) return ReplyNow(l, done, r.status());
  const Execution& ex = *r.value();
  DescribeRun(ex, ex.st().parent_workflow_id().empty() ? std::string() : NamespaceId(ex.st().parent_namespace()), resp);
  // Reply only once what we describe is durable.
  ReplyWhenDurableLocked(std::move(done), Status::Ok());
}

// --------------------------------------------------------------------------------------------
// History

size_t Engine::HistoryWaiterCount() { return history_commits_.Count(); }

Result<HistoryPosition> Engine::HistoryPositionOf(const std::string& ns_name, const cv1::WorkflowExecution& execution,
                                                  const std::string& page_token, bool forward) {
  MutexLock l(mu_);
  auto ns = NamespaceByNameLocked(ns_name);
  if (!ns.ok()) return ns.status();
  if (execution.workflow_id().empty()) return InvalidArgument("WorkflowId is not set on request.");
  if (!page_token.empty()) return ParseHistoryPageToken(page_token, forward);
  auto r = FetchRun(ns.value()->info().id(), execution.workflow_id(), execution.run_id(), /*with_events=*/false);
  if (!r.ok()) return r.status();
  return HistoryPosition{r.value()->st().run_id(), forward ? 1 : INT64_MAX};
}

void Engine::GetWorkflowExecutionHistory(const wsv1::GetWorkflowExecutionHistoryRequest& req,
                                         wsv1::GetWorkflowExecutionHistoryResponse* resp, Done done,
                                         std::shared_ptr<CancelHook> cancel) {
  Result<HistoryPosition> at = HistoryPositionOf(req.namespace_(), req.execution(), req.next_page_token(), true);
  if (!at.ok()) return done(at.status());
  history_pages_.Get(at.value(), req, resp, std::move(done), std::move(cancel));
}

void Engine::GetWorkflowExecutionHistoryReverse(const wsv1::GetWorkflowExecutionHistoryReverseRequest& req,
                                                wsv1::GetWorkflowExecutionHistoryReverseResponse* resp, Done done) {
  Result<HistoryPosition> at = HistoryPositionOf(req.namespace_(), req.execution(), req.next_page_token(), false);
  if (!at.ok()) return done(at.status());
  done(history_pages_.GetReverse(at.value(), req, resp));
}

}  // namespace temporalite::history

namespace temporalite::history {

size_t Engine::OpenWorkflowCount() {
  MutexLock l(mu_);
  return open_by_workflow_id_.size();
}

std::vector<Engine::TaskQueueGauge> Engine::TaskQueueGauges() {
  MutexLock l(mu_);
  std::vector<TaskQueueGauge> out;
  auto add = [&](const matching::QueueKey& key, const matching::QueueState& q, size_t pollers) {
    mu_.AssertHeld();  // called below, under this function's lock
    if (q.sticky) return;
    auto ns = namespace_names_.find(key.namespace_id);
    out.push_back({ns == namespace_names_.end() ? key.namespace_id : ns->second, key.name,
                   key.type == matching::TaskType::kActivity, q.backlog.size(), pollers});
  };
  for (const auto& [key, q] : workflow_queues_.all()) add(key, q, q.pollers.size());
  for (const auto& [key, q] : activity_queues_.all()) add(key, q, q.pollers.size());
  return out;
}

}  // namespace temporalite::history
