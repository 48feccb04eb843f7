// Workflow tasks: scheduling and dispatch (normal and sticky queues), polls, completion with
// commands, failure and timeouts. See shared/protocol-notes.md sections 1-3.
#include "common/ids.h"
#include "common/log.h"
#include "history/compat_fields.h"
#include "history/engine.h"
#include "history/engine_command_context.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/task_token.h"
#include "history/update_limits.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;
namespace fv1 = ::temporal::api::failure::v1;

namespace {

// Temporal's slow-down for a failing workflow task (its workflow task state machine): attempts
// after the third get their start-to-close timeout extended by an exponential backoff, 5 s
// doubling, capped at 10 minutes (history.workflowTaskRetryMaxInterval's default), with
// Temporal's jitter (its exponential retry policy: 80 % of the interval plus up to 20 % more) so
// that many workflows failing together do not retry in step. SDKs do not report failures of
// attempts after the first; those attempts time out, so this is their backoff. The jitter is
// drawn from the run id and the attempt (FNV-1a), not a random generator: the same run and
// attempt always get the same backoff (reproducible in tests and across a restart), different
// runs spread over the window.
constexpr int32_t kWftRetryBackoffMinAttempts = 3;
constexpr Duration kWftRetryInitialInterval = std::chrono::seconds(5);
constexpr Duration kWftRetryMaxInterval = std::chrono::minutes(10);

Duration WorkflowTaskRetryBackoff(int32_t attempt, std::string_view run_id) {
  if (attempt <= kWftRetryBackoffMinAttempts) return Duration::zero();
  Duration d = kWftRetryInitialInterval;
  for (int32_t i = kWftRetryBackoffMinAttempts + 1; i < attempt && d < kWftRetryMaxInterval; ++i) d *= 2;
  d = std::min(d, kWftRetryMaxInterval);
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](uint8_t b) { h = (h ^ b) * 1099511628211ull; };
  for (char c : run_id) mix(static_cast<uint8_t>(c));
  for (int i = 0; i < 4; ++i) mix(static_cast<uint8_t>(static_cast<uint32_t>(attempt) >> (8 * i)));
  const auto window = d.count() / 5;  // 20 %
  return Duration(d.count() - window + static_cast<Duration::rep>((h >> 11) % static_cast<uint64_t>(window)));
}

// The WorkflowTaskScheduled event of the pending task (written, or shown to a worker while the
// task is transient). `id`: its event id.
void FillWorkflowTaskScheduled(const state::ExecutionState& st, hv1::HistoryEvent* e, int64_t id) {
  const auto& wft = st.wft();
  e->set_event_id(id);
  e->set_event_type(ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
  *e->mutable_event_time() = wft.scheduled_time();
  auto* a = e->mutable_workflow_task_scheduled_event_attributes();
  if (wft.on_sticky_queue()) {
    a->mutable_task_queue()->set_name(st.sticky_task_queue());
    a->mutable_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_STICKY);
    a->mutable_task_queue()->set_normal_name(st.task_queue());
  } else {
    a->mutable_task_queue()->set_name(st.task_queue());
    a->mutable_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
  }
  *a->mutable_start_to_close_timeout() = wft.start_to_close_timeout();
  a->set_attempt(wft.attempt());
}

// The WorkflowTaskStarted event of the started task (see FillWorkflowTaskScheduled).
void FillWorkflowTaskStarted(Execution& ex, int64_t id, const EngineOptions& o, hv1::HistoryEvent* e) {
  const auto& st = ex.st();
  const auto& wft = st.wft();
  e->set_event_id(id);
  e->set_event_type(ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED);
  *e->mutable_event_time() = wft.started_time();
  auto* a = e->mutable_workflow_task_started_event_attributes();
  a->set_scheduled_event_id(wft.scheduled_event_id());
  a->set_identity(wft.identity());
  a->set_request_id(wft.request_id());
  a->set_history_size_bytes(st.history_size_bytes());
  SuggestContinueAsNew(id, o.history_count_suggest_continue_as_new, o.history_size_suggest_continue_as_new,
                       TooManyUpdatesForSuggestion(ex, o.max_total_updates, o.max_total_updates_suggest_continue_as_new_threshold),
                       a);
}

}  // namespace

void Engine::FlushBufferedEventsLocked(Execution& ex) { FlushBufferedEvents(ex); }

// Transient workflow tasks (Temporal's IsTransientWorkflowTask: attempt > 1 after a failure or a
// timeout): their Scheduled and Started events are not written to history. The mutable state
// holds the ids they would take (next_event_id, + 1); a poll appends them to the history it
// returns; completion writes them just before WorkflowTaskCompleted; failure and timeout write
// nothing. A continuously failing task therefore leaves one WorkflowTaskFailed in history.
void Engine::ScheduleWorkflowTaskLocked(Txn& txn, Execution& ex) {
  const auto& st = ex.st();
  // Sticky only while matching says the sticky worker looks alive.
  bool sticky = false;
  if (!st.sticky_task_queue().empty()) {
    sticky = workflow_queues_.StickyAlive({st.namespace_id(), st.sticky_task_queue(), matching::TaskType::kWorkflow},
                                          clock_.Now());
    if (!sticky) ex.ClearStickyTaskQueue();
  }
  PrepareWorkflowTaskLocked(txn, ex, sticky);
  DispatchWorkflowTaskLocked(txn, ex);
}

void Engine::PrepareWorkflowTaskLocked(Txn& txn, Execution& ex, bool sticky) {
  txn.Touch(&ex);
  const auto& st = ex.st();
  int32_t attempt = std::max(1, st.wft().attempt());
  const TimePoint now = clock_.Now();
  // A failure clears stickiness, so a retried task is never sticky; still, only a normal-queue
  // retry is transient.
  const bool transient = attempt > 1 && !sticky;
  ex.ScheduleWorkflowTask(
      attempt, now, ToProtoDuration(FromProto(st.workflow_task_timeout()) + WorkflowTaskRetryBackoff(attempt, st.run_id())),
      sticky ? st.sticky_task_queue() : st.task_queue(), sticky, transient);
  if (!transient) {
    auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, now);
    FillWorkflowTaskScheduled(st, e, e->event_id());
    ex.SetWorkflowTaskScheduledEventId(e->event_id());
  }
}

void Engine::DispatchWorkflowTaskLocked(Txn& txn, Execution& ex) {
  if (!ex.st().wft().on_sticky_queue()) ex.MoveWorkflowTaskToNormalQueue();
  const auto& wft = ex.st().wft();
  const TimePoint now = clock_.Now();
  if (wft.on_sticky_queue()) {  // unstarted by then, it falls back to the normal queue
    Duration s2s = workflow_queues_.StickyScheduleToStart(FromProto(ex.st().sticky_schedule_to_start_timeout()));
    std::string run_id = ex.st().run_id();
    int64_t sid = wft.scheduled_event_id();
    int32_t attempt = wft.attempt();
    timers_.Schedule(now + s2s, [this, run_id, sid, attempt] { OnStickyScheduleToStartTimeout(run_id, sid, attempt); });
  }
  matching::QueueKey key{ex.st().namespace_id(), wft.task_queue(), matching::TaskType::kWorkflow};
  if (auto poller = workflow_queues_.Offer(mu_, key, {ex.st().run_id(), wft.scheduled_event_id(), wft.attempt(), {}}, now)) {
    StartWorkflowTaskLocked(txn, ex, poller, wft.on_sticky_queue());
  }
}

void Engine::StartWorkflowTaskLocked(Txn& txn, Execution& ex, const WorkflowPoller& waiter, bool from_sticky,
                                     const std::string& request_id, bool heartbeat) {
  txn.Touch(&ex);
  const auto& st = ex.st();
  const TimePoint now = clock_.Now();
  // A sticky workflow's task taken from the normal queue: the sticky worker is gone.
  if (!from_sticky) ex.ClearStickyTaskQueue();
  const auto* wft = &st.wft();
  if (wft->transient() && wft->scheduled_event_id() != st.next_event_id()) {
    // Events arrived since the transient task was scheduled: it becomes a normal task, attempt 1,
    // and its Scheduled event is written now (as Temporal does).
    ex.ConvertTransientWorkflowTaskToNormal(now);
    auto* se = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, now);
    FillWorkflowTaskScheduled(st, se, se->event_id());
    ex.SetWorkflowTaskScheduledEventId(se->event_id());
  }
  ex.StartWorkflowTask(now, waiter->identity, request_id.empty() ? NewUuid() : request_id);
  hv1::HistoryEvent transient_events[2];
  if (wft->transient()) {
    ex.SetWorkflowTaskStartedEventId(wft->scheduled_event_id() + 1);
    FillWorkflowTaskScheduled(st, &transient_events[0], wft->scheduled_event_id());
    FillWorkflowTaskStarted(ex, wft->started_event_id(), options_, &transient_events[1]);
  } else {
    auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, now);
    FillWorkflowTaskStarted(ex, e->event_id(), options_, e);
    ex.SetWorkflowTaskStartedEventId(e->event_id());
  }

  wsv1::PollWorkflowTaskQueueResponse* resp = waiter->response;
  state::TaskToken tok;
  tok.set_kind(state::TaskToken::WORKFLOW_TASK);
  tok.set_namespace_id(st.namespace_id());
  tok.set_workflow_id(st.workflow_id());
  tok.set_run_id(st.run_id());
  tok.set_scheduled_event_id(wft->scheduled_event_id());
  tok.set_started_event_id(wft->started_event_id());
  tok.set_attempt(wft->attempt());
  resp->set_task_token(EncodeTaskToken(tok));
  resp->mutable_workflow_execution()->set_workflow_id(st.workflow_id());
  resp->mutable_workflow_execution()->set_run_id(st.run_id());
  resp->mutable_workflow_type()->set_name(st.workflow_type());
  resp->set_previous_started_event_id(st.last_completed_wft_started_id());
  resp->set_started_event_id(wft->started_event_id());
  resp->set_attempt(wft->attempt());
  resp->mutable_workflow_execution_task_queue()->set_name(st.task_queue());
  resp->mutable_workflow_execution_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
  *resp->mutable_scheduled_time() = wft->scheduled_time();
  *resp->mutable_started_time() = wft->started_time();
  // Sticky polls get the events since the last completed task; others the whole history.
  size_t first = 0;
  if (from_sticky && st.last_completed_wft_started_id() > 0) first = static_cast<size_t>(st.last_completed_wft_started_id());
  auto* hist = resp->mutable_history();
  hist->mutable_events()->Reserve(static_cast<int>(ex.events.size() - first));
  for (size_t i = first; i < ex.events.size(); ++i) *hist->add_events() = ex.events[i];
  if (wft->transient()) {
    for (auto& te : transient_events) *hist->add_events() = std::move(te);
  }
  queries_.AttachToTask(ex, wft->started_event_id(), resp);
  updates_.AttachToTask(ex, wft->started_event_id(), resp, heartbeat);
  waiter->Complete(mu_);
  txn.after_commit.push_back([waiter] { waiter->finish(Status::Ok()); });
  ArmWorkflowTaskTimersLocked(ex);
}

void Engine::ArmWorkflowTaskTimersLocked(Execution& ex) {
  const auto& wft = ex.st().wft();
  std::string run_id = ex.st().run_id();
  int64_t sid = wft.scheduled_event_id(), started = wft.started_event_id();
  int32_t attempt = wft.attempt();
  TimePoint due = FromProto(wft.started_time()) + FromProto(wft.start_to_close_timeout());
  timers_.Schedule(due, [this, run_id, sid, attempt, started] { OnWorkflowTaskTimeout(run_id, sid, attempt, started); });
}

Execution* Engine::LiveWorkflowTaskLocked(const matching::PendingTask& t, const std::string& queue) {
  auto it = runs_.find_loaded(t.run_id);
  if (it == runs_.end() || !it->second->open()) return nullptr;
  const auto& wft = it->second->st().wft();
  if (wft.scheduled_event_id() != t.scheduled_event_id || wft.started_event_id() != 0 ||
      wft.attempt() != t.attempt || wft.task_queue() != queue) {
    return nullptr;
  }
  return it->second.get();
}

bool Engine::TakeWorkflowTaskLocked(Txn& txn, const matching::QueueKey& key, const matching::PendingTask& t,
                                    const WorkflowPoller& waiter) {
  if (!t.query_id.empty()) {  // a legacy query task: no state change, nothing to commit
    return queries_.TakeLegacyTask(t.query_id, key.name, waiter);
  }
  Execution* ex = LiveWorkflowTaskLocked(t, key.name);
  if (!ex) return false;  // stale: already started elsewhere, timed out, or moved queues
  StartWorkflowTaskLocked(txn, *ex, waiter, ex->st().wft().on_sticky_queue());
  return true;
}

void Engine::PollWorkflowTaskQueue(const wsv1::PollWorkflowTaskQueueRequest& req, WorkflowPoller waiter,
                                   Duration max_wait) {
  MutexLock l(mu_);
  if (waiter->completed(mu_)) return;  // cancelled while it waited for its rate-limit token
  auto ns = NamespaceByNameLocked(req.namespace_());
  Status s = ns.ok() ? CheckId(req.task_queue().name(), "TaskQueue") : ns.status();
  if (!s.ok()) {
    return ReplyNow(l, *waiter, s);
  }
  const bool sticky = req.task_queue().kind() == ev1::TASK_QUEUE_KIND_STICKY;
  matching::QueueKey key{ns.value()->info().id(), req.task_queue().name(), matching::TaskType::kWorkflow};
  Txn txn;
  bool matched = workflow_queues_.Poll(key, waiter, {req.identity(), {}, 0}, sticky, clock_.Now(),
                                       [&](const matching::PendingTask& t) {
                                         mu_.AssertHeld();  // called by Poll, under this function's lock
                                         return TakeWorkflowTaskLocked(txn, key, t, waiter);
                                       });
  if (matched) {
    CommitLocked(txn, nullptr);
    return;
  }
  ArmPollTimeoutLocked(waiter, max_wait, key);
}

void Engine::FailWorkflowTaskLocked(Txn& txn, Execution& ex, int cause, const fv1::Failure* failure,
                                    const std::string& identity, bool timed_out, int timeout_type,
                                    bool terminate_after) {
  txn.Touch(&ex);
  const auto& st = ex.st();
  const auto wft = st.wft();
  const TimePoint now = clock_.Now();
  if (wft.transient()) {
    // A transient attempt's failure or timeout is not written (its task events never were).
  } else if (timed_out) {
    auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, now);
    auto* a = e->mutable_workflow_task_timed_out_event_attributes();
    a->set_scheduled_event_id(wft.scheduled_event_id());
    a->set_started_event_id(wft.started_event_id());
    a->set_timeout_type(static_cast<ev1::TimeoutType>(timeout_type));
  } else {
    auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_TASK_FAILED, now);
    auto* a = e->mutable_workflow_task_failed_event_attributes();
    a->set_scheduled_event_id(wft.scheduled_event_id());
    a->set_started_event_id(wft.started_event_id());
    a->set_cause(static_cast<ev1::WorkflowTaskFailedCause>(cause));
    if (failure) *a->mutable_failure() = *failure;
    a->set_identity(identity);
  }
  // A task that failed on a sticky queue is retried from scratch on the normal queue with the
  // same attempt (the full-history task reports its own failure); otherwise attempt + 1.
  const bool was_sticky = wft.on_sticky_queue() || !st.sticky_task_queue().empty();
  ex.ClearStickyTaskQueue();
  int32_t next_attempt = was_sticky ? wft.attempt() : wft.attempt() + 1;
  if (timeout_type == ev1::TIMEOUT_TYPE_SCHEDULE_TO_START) next_attempt = wft.attempt();
  // New events (flushed now) make the next task a fresh one: attempt 1 (protocol-notes §1.6).
  if (FlushBufferedEvents(ex) > 0) next_attempt = 1;
  ex.ClearWorkflowTask(next_attempt);
  const bool reschedule = cause != ev1::WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND && !terminate_after;
  if (!ex.admitted_updates.empty()) updates_.SettleAfterTask(txn, ex, false);  // re-deliver next time
  if (reschedule) ScheduleWorkflowTaskLocked(txn, ex);
  if (!ex.query_ids.empty() && reschedule) queries_.Settle(ex, nullptr, true);  // ride the next task
}

void Engine::OnWorkflowTaskTimeout(std::string run_id, int64_t scheduled_id, int32_t attempt, int64_t started_id) {
  MutexLock l(mu_);
  auto it = runs_.find_loaded(run_id);
  if (it == runs_.end() || !it->second->open()) return;
  Execution& ex = *it->second;
  const auto& wft = ex.st().wft();
  if (wft.scheduled_event_id() != scheduled_id || wft.started_event_id() != started_id || wft.attempt() != attempt ||
      started_id == 0) {
    return;
  }
  Txn txn;
  FailWorkflowTaskLocked(txn, ex, 0, nullptr, "", true, ev1::TIMEOUT_TYPE_START_TO_CLOSE);
  CommitLocked(txn, nullptr);
}

void Engine::OnStickyScheduleToStartTimeout(std::string run_id, int64_t scheduled_id, int32_t attempt) {
  MutexLock l(mu_);
  auto it = runs_.find_loaded(run_id);
  if (it == runs_.end() || !it->second->open()) return;
  Execution& ex = *it->second;
  const auto& wft = ex.st().wft();
  if (wft.scheduled_event_id() != scheduled_id || wft.started_event_id() != 0 || wft.attempt() != attempt ||
      !wft.on_sticky_queue()) {
    return;
  }
  Txn txn;
  FailWorkflowTaskLocked(txn, ex, 0, nullptr, "", true, ev1::TIMEOUT_TYPE_SCHEDULE_TO_START);
  CommitLocked(txn, nullptr);
}

void Engine::RespondWorkflowTaskFailed(const wsv1::RespondWorkflowTaskFailedRequest& req, Done done) {
  auto tok = DecodeTaskToken(req.task_token());
  if (!tok.ok()) return done(tok.status());
  if (tok->kind() != state::TaskToken::WORKFLOW_TASK) return done(InvalidArgument("task token is not a workflow task token"));
  MutexLock l(mu_);
  auto it = runs_.find_loaded(tok->run_id());
  if (it == runs_.end() || !it->second->open()) return ReplyNow(l, done, NotFound("Workflow task not found."));
  Execution& ex = *it->second;
  const auto& wft = ex.st().wft();
  if (wft.scheduled_event_id() != tok->scheduled_event_id() || wft.started_event_id() != tok->started_event_id() ||
      wft.attempt() != tok->attempt() || wft.started_event_id() == 0) {
    return ReplyNow(l, done, NotFound("Workflow task not found."));
  }
  Txn txn;
  FailWorkflowTaskLocked(txn, ex, req.cause(), req.has_failure() ? &req.failure() : nullptr, req.identity(), false, 0);
  CommitLocked(txn, std::move(done));
}

void Engine::RecordWorkflowTaskCompletedLocked(Execution& ex, EngineCommandContext& ctx,
                                               const wsv1::RespondWorkflowTaskCompletedRequest& req) {
  const auto& st = ex.st();
  if (st.wft().transient()) {
    // The transient task's Scheduled and Started events go into history now, with the ids and
    // contents the worker saw (nothing was appended since: events were buffered).
    if (st.next_event_id() != st.wft().scheduled_event_id()) {
      TL_LOG_ERROR("transient workflow task of run %s: expected next event id %lld, have %lld", st.run_id().c_str(),
                   static_cast<long long>(st.wft().scheduled_event_id()), static_cast<long long>(st.next_event_id()));
    }
    ex.SetWorkflowTaskEventIds(st.next_event_id(), st.next_event_id() + 1);
    const auto* w = &st.wft();
    hv1::HistoryEvent scheduled, started;
    FillWorkflowTaskScheduled(st, &scheduled, w->scheduled_event_id());
    FillWorkflowTaskStarted(ex, w->started_event_id(), options_, &started);
    started.mutable_workflow_task_started_event_attributes()->set_identity(req.identity());
    *AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, FromProto(w->scheduled_time())) = std::move(scheduled);
    *AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, FromProto(w->started_time())) = std::move(started);
    ex.ClearWorkflowTaskTransient();
  }
  auto* e = ctx.AddEvent(ev1::EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  auto* a = e->mutable_workflow_task_completed_event_attributes();
  a->set_scheduled_event_id(st.wft().scheduled_event_id());
  a->set_started_event_id(st.wft().started_event_id());
  a->set_identity(req.identity());
  a->set_binary_checksum(req.binary_checksum());
  if (req.has_sdk_metadata()) *a->mutable_sdk_metadata() = req.sdk_metadata();
  if (req.has_metering_metadata()) *a->mutable_metering_metadata() = req.metering_metadata();
  // Temporal drops a versioned stamp of a workflow without an assigned build id (none here).
  if (req.has_worker_version_stamp() && !req.worker_version_stamp().use_versioning()) {
    *a->mutable_worker_version() = req.worker_version_stamp();
  }
  ex.RecordWorkerVersion(a->has_worker_version() ? &a->worker_version() : nullptr);
  ctx.set_completed_event_id(e->event_id());
  ex.CompleteWorkflowTask();
  if (req.has_sticky_attributes() && !req.sticky_attributes().worker_task_queue().name().empty()) {
    ex.SetStickyTaskQueue(req.sticky_attributes().worker_task_queue().name(),
                          req.sticky_attributes().schedule_to_start_timeout());
  } else {
    ex.ClearStickyTaskQueue();
  }
}

void Engine::ResetStickyTaskQueue(const wsv1::ResetStickyTaskQueueRequest& req, Done done) {
  MutexLock l(mu_);
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return ReplyNow(l, done, ns.status());
  auto r = FetchOpenRun(ns.value()->info().id(), req.execution().workflow_id(), req.execution().run_id());
  if (!r.ok()) return ReplyNow(l, done, r.status());
  Txn txn;
  r.value()->ClearStickyTaskQueue();
  txn.Touch(r.value());
  CommitLocked(txn, std::move(done));
}

void Engine::ShutdownWorker(const wsv1::ShutdownWorkerRequest& req, Done done) {
  MutexLock l(mu_);
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return ReplyNow(l, done, ns.status());
  if (!req.sticky_task_queue().empty()) {
    matching::QueueKey key{ns.value()->info().id(), req.sticky_task_queue(), matching::TaskType::kWorkflow};
    // Move its waiting tasks to their normal queues now rather than after the sticky timeout.
    Txn txn;
    auto backlog = workflow_queues_.Shutdown(key);
    for (const auto& t : backlog) {
      auto it = runs_.find_loaded(t.run_id);
      if (it == runs_.end() || !it->second->open()) continue;
      Execution& ex = *it->second;
      const auto& wft = ex.st().wft();
      if (wft.scheduled_event_id() != t.scheduled_event_id || wft.started_event_id() != 0) continue;
      ex.ClearStickyTaskQueue();
      ex.MoveWorkflowTaskToNormalQueue();
      txn.Touch(&ex);
      DispatchWorkflowTaskLocked(txn, ex);
    }
    CommitLocked(txn, std::move(done));
    return;
  }
  ReplyNow(l, done, Status::Ok());
}

}  // namespace temporalite::history
