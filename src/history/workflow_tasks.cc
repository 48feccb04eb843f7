// The WorkflowTasks unit (workflow_tasks.h): scheduling and dispatch (normal and sticky queues),
// polls, a started task's events and response, failure and timeouts, ResetStickyTaskQueue and
// ShutdownWorker. The completion is workflow_task_completion.cc. See shared/protocol-notes.md
// sections 1-3.
#include "history/workflow_tasks.h"

#include "common/ids.h"
#include "common/log.h"
#include "history/compat_fields.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/task_token.h"
#include "history/update_limits.h"

namespace temporalite::history {

namespace wsv1 = ::temporal::api::workflowservice::v1;
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
void FillWorkflowTaskStarted(Execution& ex, int64_t id, const WorkflowTasks::Limits& o, hv1::HistoryEvent* e) {
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

// The WorkflowTaskScheduled and WorkflowTaskStarted of a transient task, written by its
// completion (workflow_task_completion.cc).
void FillTransientWorkflowTaskEvents(Execution& ex, const WorkflowTasks::Limits& limits, hv1::HistoryEvent* scheduled,
                                     hv1::HistoryEvent* started) {
  FillWorkflowTaskScheduled(ex.st(), scheduled, ex.st().wft().scheduled_event_id());
  FillWorkflowTaskStarted(ex, ex.st().wft().started_event_id(), limits, started);
}

Result<state::TaskToken> WorkflowTasks::DecodeToken(const std::string& token) {
  auto tok = DecodeTaskToken(token);
  if (!tok.ok()) return tok.status();
  if (tok->kind() != state::TaskToken::WORKFLOW_TASK) return InvalidArgument("task token is not a workflow task token");
  return tok;
}

Execution* WorkflowTasks::StartedTask(const state::TaskToken& tok) {
  Execution* ex = engine_.LoadedRun(tok.run_id());
  if (!ex || !ex->open()) return nullptr;
  const auto& wft = ex->st().wft();
  if (wft.scheduled_event_id() != tok.scheduled_event_id() || wft.started_event_id() != tok.started_event_id() ||
      wft.attempt() != tok.attempt() || wft.started_event_id() == 0) {
    return nullptr;
  }
  return ex;
}

// Transient workflow tasks (Temporal's IsTransientWorkflowTask: attempt > 1 after a failure or a
// timeout): their Scheduled and Started events are not written to history. The mutable state
// holds the ids they would take (next_event_id, + 1); a poll appends them to the history it
// returns; completion writes them just before WorkflowTaskCompleted; failure and timeout write
// nothing. A continuously failing task therefore leaves one WorkflowTaskFailed in history.
void WorkflowTasks::Schedule(Txn& txn, Execution& ex) {
  const auto& st = ex.st();
  // Sticky only while matching says the sticky worker looks alive.
  bool sticky = false;
  if (!st.sticky_task_queue().empty()) {
    sticky = host_.workflow_queues().StickyAlive(
        {st.namespace_id(), st.sticky_task_queue(), matching::TaskType::kWorkflow}, engine_.Now());
    if (!sticky) ex.ClearStickyTaskQueue();
  }
  Prepare(txn, ex, sticky);
  Dispatch(txn, ex);
}

void WorkflowTasks::Prepare(Txn& txn, Execution& ex, bool sticky) {
  txn.Touch(&ex);
  const auto& st = ex.st();
  int32_t attempt = std::max(1, st.wft().attempt());
  const TimePoint now = engine_.Now();
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

void WorkflowTasks::Dispatch(Txn& txn, Execution& ex) {
  mu_.AssertHeld();  // the engine calls the unit under its mutex (its member GUARDED_BY it)
  if (!ex.st().wft().on_sticky_queue()) ex.MoveWorkflowTaskToNormalQueue();
  const auto& wft = ex.st().wft();
  const TimePoint now = engine_.Now();
  if (wft.on_sticky_queue()) {  // unstarted by then, it falls back to the normal queue
    Duration s2s = host_.workflow_queues().StickyScheduleToStart(FromProto(ex.st().sticky_schedule_to_start_timeout()));
    std::string run_id = ex.st().run_id();
    int64_t sid = wft.scheduled_event_id();
    int32_t attempt = wft.attempt();
    engine_.timers().Schedule(now + s2s,
                              [this, run_id, sid, attempt] { OnStickyScheduleToStartTimeout(run_id, sid, attempt); });
  }
  matching::QueueKey key{ex.st().namespace_id(), wft.task_queue(), matching::TaskType::kWorkflow};
  if (auto poller = host_.workflow_queues().Offer(mu_, key, {ex.st().run_id(), wft.scheduled_event_id(), wft.attempt(), {}}, now)) {
    Start(txn, ex, poller, wft.on_sticky_queue());
  }
}

void WorkflowTasks::Start(Txn& txn, Execution& ex, const WorkflowPoller& waiter, bool from_sticky,
                          const std::string& request_id, bool heartbeat) {
  mu_.AssertHeld();
  txn.Touch(&ex);
  const auto& st = ex.st();
  const TimePoint now = engine_.Now();
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
    FillWorkflowTaskStarted(ex, wft->started_event_id(), limits_, &transient_events[1]);
  } else {
    auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_TASK_STARTED, now);
    FillWorkflowTaskStarted(ex, e->event_id(), limits_, e);
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
  ArmTimers(ex);
}

void WorkflowTasks::ArmTimers(Execution& ex) {
  const auto& wft = ex.st().wft();
  std::string run_id = ex.st().run_id();
  int64_t sid = wft.scheduled_event_id(), started = wft.started_event_id();
  int32_t attempt = wft.attempt();
  TimePoint due = FromProto(wft.started_time()) + FromProto(wft.start_to_close_timeout());
  engine_.timers().Schedule(due, [this, run_id, sid, attempt, started] { OnTimeout(run_id, sid, attempt, started); });
}

Execution* WorkflowTasks::LiveTask(const matching::PendingTask& t, const std::string& queue) {
  Execution* ex = engine_.LoadedRun(t.run_id);
  if (!ex || !ex->open()) return nullptr;
  const auto& wft = ex->st().wft();
  if (wft.scheduled_event_id() != t.scheduled_event_id || wft.started_event_id() != 0 ||
      wft.attempt() != t.attempt || wft.task_queue() != queue) {
    return nullptr;
  }
  return ex;
}

bool WorkflowTasks::Take(Txn& txn, const matching::QueueKey& key, const matching::PendingTask& t,
                         const WorkflowPoller& waiter) {
  if (!t.query_id.empty()) {  // a legacy query task: no state change, nothing to commit
    return queries_.TakeLegacyTask(t.query_id, key.name, waiter);
  }
  Execution* ex = LiveTask(t, key.name);
  if (!ex) return false;  // stale: already started elsewhere, timed out, or moved queues
  Start(txn, *ex, waiter, ex->st().wft().on_sticky_queue());
  return true;
}

void WorkflowTasks::Poll(MutexLock& l, const wsv1::PollWorkflowTaskQueueRequest& req, const WorkflowPoller& waiter,
                         Duration max_wait) {
  mu_.AssertHeld();
  if (waiter->completed(mu_)) return;  // cancelled while it waited for its rate-limit token
  auto ns = host_.NamespaceByName(req.namespace_());
  Status s = ns.ok() ? CheckIdLength(req.task_queue().name(), "TaskQueue", limits_.max_id_length) : ns.status();
  if (!s.ok()) {
    waiter->Complete(mu_);
    return ReplyNow(l, [&waiter](const Status& st) { waiter->finish(st); }, s);
  }
  const bool sticky = req.task_queue().kind() == ev1::TASK_QUEUE_KIND_STICKY;
  matching::QueueKey key{ns.value()->info().id(), req.task_queue().name(), matching::TaskType::kWorkflow};
  Txn txn;
  bool matched = host_.workflow_queues().Poll(key, waiter, {req.identity(), {}, 0}, sticky, engine_.Now(),
                                              [&](const matching::PendingTask& t) {
                                                mu_.AssertHeld();  // called by Poll, under the engine's lock
                                                return Take(txn, key, t, waiter);
                                              });
  if (matched) {
    host_.Commit(txn, nullptr);
    return;
  }
  host_.ArmPollTimeout(waiter, max_wait, key);
}

void WorkflowTasks::FailTask(Txn& txn, Execution& ex, int cause, const fv1::Failure* failure,
                             const std::string& identity, bool timed_out, int timeout_type, bool terminate_after) {
  txn.Touch(&ex);
  const auto& st = ex.st();
  const auto wft = st.wft();
  const TimePoint now = engine_.Now();
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
  if (reschedule) Schedule(txn, ex);
  if (!ex.query_ids.empty() && reschedule) queries_.Settle(ex, nullptr, true);  // ride the next task
}

void WorkflowTasks::OnTimeout(const std::string& run_id, int64_t scheduled_id, int32_t attempt, int64_t started_id) {
  MutexLock l(mu_);
  Execution* ex = engine_.LoadedRun(run_id);
  if (!ex || !ex->open()) return;
  const auto& wft = ex->st().wft();
  if (wft.scheduled_event_id() != scheduled_id || wft.started_event_id() != started_id || wft.attempt() != attempt ||
      started_id == 0) {
    return;
  }
  Txn txn;
  FailTask(txn, *ex, 0, nullptr, "", true, ev1::TIMEOUT_TYPE_START_TO_CLOSE);
  host_.Commit(txn, nullptr);
}

void WorkflowTasks::OnStickyScheduleToStartTimeout(const std::string& run_id, int64_t scheduled_id, int32_t attempt) {
  MutexLock l(mu_);
  Execution* ex = engine_.LoadedRun(run_id);
  if (!ex || !ex->open()) return;
  const auto& wft = ex->st().wft();
  if (wft.scheduled_event_id() != scheduled_id || wft.started_event_id() != 0 || wft.attempt() != attempt ||
      !wft.on_sticky_queue()) {
    return;
  }
  Txn txn;
  FailTask(txn, *ex, 0, nullptr, "", true, ev1::TIMEOUT_TYPE_SCHEDULE_TO_START);
  host_.Commit(txn, nullptr);
}

void WorkflowTasks::Fail(MutexLock& l, const state::TaskToken& tok, const wsv1::RespondWorkflowTaskFailedRequest& req,
                         Done done) {
  Execution* ex = StartedTask(tok);
  if (!ex) return ReplyNow(l, done, NotFound("Workflow task not found."));
  Txn txn;
  FailTask(txn, *ex, req.cause(), req.has_failure() ? &req.failure() : nullptr, req.identity(), false, 0);
  host_.Commit(txn, std::move(done));
}

void WorkflowTasks::ResetSticky(MutexLock& l, const wsv1::ResetStickyTaskQueueRequest& req, Done done) {
  auto ns = host_.NamespaceByName(req.namespace_());
  if (!ns.ok()) return ReplyNow(l, done, ns.status());
  auto r = host_.FetchOpenRun(ns.value()->info().id(), req.execution().workflow_id(), req.execution().run_id());
  if (!r.ok()) return ReplyNow(l, done, r.status());
  Txn txn;
  r.value()->ClearStickyTaskQueue();
  txn.Touch(r.value());
  host_.Commit(txn, std::move(done));
}

void WorkflowTasks::ShutdownWorker(MutexLock& l, const wsv1::ShutdownWorkerRequest& req, Done done) {
  auto ns = host_.NamespaceByName(req.namespace_());
  if (!ns.ok()) return ReplyNow(l, done, ns.status());
  if (!req.sticky_task_queue().empty()) {
    matching::QueueKey key{ns.value()->info().id(), req.sticky_task_queue(), matching::TaskType::kWorkflow};
    // Move its waiting tasks to their normal queues now rather than after the sticky timeout.
    Txn txn;
    auto backlog = host_.workflow_queues().Shutdown(key);
    for (const auto& t : backlog) {
      Execution* ex = engine_.LoadedRun(t.run_id);
      if (!ex || !ex->open()) continue;
      const auto& wft = ex->st().wft();
      if (wft.scheduled_event_id() != t.scheduled_event_id || wft.started_event_id() != 0) continue;
      ex->ClearStickyTaskQueue();
      ex->MoveWorkflowTaskToNormalQueue();
      txn.Touch(ex);
      Dispatch(txn, *ex);
    }
    host_.Commit(txn, std::move(done));
    return;
  }
  ReplyNow(l, done, Status::Ok());
}

}  // namespace temporalite::history
