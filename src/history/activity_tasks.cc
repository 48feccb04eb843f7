// The ActivityTasks unit (activity_tasks.h): dispatch and polls, completion/failure/cancellation,
// heartbeats, retries and the four timeouts. Retries live in mutable state only;
// ActivityTaskStarted is written lazily, right before the close event (protocol-notes §4).
#include "history/activity_tasks.h"

#include <algorithm>
#include <cmath>

#include "common/ids.h"
#include "history/compat_fields.h"
#include "history/errors.h"
#include "history/proto_time.h"
#include "history/reply_now.h"
#include "history/task_token.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;
namespace fv1 = ::temporal::api::failure::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

void ActivityTasks::Dispatch(Txn& txn, Execution& ex, const state::ActivityInfo& ai) {
  mu_.AssertHeld();  // the engine calls the unit under its mutex (its member GUARDED_BY it)
  matching::QueueKey key{ex.st().namespace_id(), ai.task_queue(), matching::TaskType::kActivity};
  ex.SetActivityDispatched(ai.scheduled_event_id(), true);
  const TimePoint now = engine_.Now();
  if (auto poller = host_.ActivityQueues().Offer(mu_, key, {ex.st().run_id(), ai.scheduled_event_id(), ai.attempt(), {}}, now)) {
    Start(txn, ex, ai, poller, now);
  }
}

void ActivityTasks::ResumeAll(Txn& txn, Execution& ex, bool all) {
  std::vector<int64_t> activities;
  for (const auto& [sid, ai] : ex.st().activities()) activities.push_back(sid);
  for (int64_t sid : activities) {
    const state::ActivityInfo& ai = *ex.FindActivity(sid);
    ArmTimers(ex, ai);
    if (all || (!ai.started() && FromProto(ai.current_attempt_scheduled_time()) <= engine_.Now())) {
      Dispatch(txn, ex, ai);
    }
  }
}

void ActivityTasks::StartEager(Txn& txn, Execution& ex, const std::vector<int64_t>& scheduled_ids,
                               const std::string& identity, TimePoint now,
                               wsv1::RespondWorkflowTaskCompletedResponse* resp) {
  if (!ex.open()) return;  // the completion also closed the run
  for (int64_t sid : scheduled_ids) {
    const state::ActivityInfo* ai = ex.FindActivity(sid);
    // Cancelled by a later command of the same completion: nothing to hand out.
    if (!ai || ai->started()) continue;
    // The reply carries the task: a waiter of our own whose finish has nothing to do.
    auto waiter = std::make_shared<matching::PollWaiter<wsv1::PollActivityTaskQueueResponse>>(resp->add_activity_tasks());
    waiter->identity = identity;
    waiter->finish = [](const Status&) {};
    Start(txn, ex, *ai, waiter, now);
  }
}

void ActivityTasks::Start(Txn& txn, Execution& ex, const state::ActivityInfo& ai, const Poller& waiter, TimePoint now) {
  mu_.AssertHeld();
  txn.Touch(&ex);
  ex.StartActivityAttempt(ai.scheduled_event_id(), now, waiter->identity, NewUuid());
  const auto& st = ex.st();
  const auto& sched = ex.events.at(static_cast<size_t>(ai.scheduled_event_id() - 1)).activity_task_scheduled_event_attributes();
  wsv1::PollActivityTaskQueueResponse* resp = waiter->response;
  state::TaskToken tok;
  tok.set_kind(state::TaskToken::ACTIVITY_TASK);
  tok.set_namespace_id(st.namespace_id());
  tok.set_workflow_id(st.workflow_id());
  tok.set_run_id(st.run_id());
  tok.set_scheduled_event_id(ai.scheduled_event_id());
  tok.set_attempt(ai.attempt());
  tok.set_activity_id(ai.activity_id());
  tok.set_workflow_type(st.workflow_type());
  tok.set_activity_type(ai.activity_type());
  resp->set_task_token(EncodeTaskToken(tok));
  resp->set_workflow_namespace(engine_.NamespaceName(st.namespace_id()));
  resp->mutable_workflow_type()->set_name(st.workflow_type());
  resp->mutable_workflow_execution()->set_workflow_id(st.workflow_id());
  resp->mutable_workflow_execution()->set_run_id(st.run_id());
  resp->mutable_activity_type()->set_name(ai.activity_type());
  resp->set_activity_id(ai.activity_id());
  *resp->mutable_header() = sched.header();
  *resp->mutable_input() = sched.input();
  *resp->mutable_heartbeat_details() = ai.heartbeat_details();
  *resp->mutable_scheduled_time() = ai.scheduled_time();
  *resp->mutable_current_attempt_scheduled_time() = ai.current_attempt_scheduled_time();
  *resp->mutable_started_time() = ai.started_time();
  resp->set_attempt(ai.attempt());
  *resp->mutable_schedule_to_close_timeout() = ai.schedule_to_close_timeout();
  *resp->mutable_start_to_close_timeout() = ai.start_to_close_timeout();
  *resp->mutable_heartbeat_timeout() = ai.heartbeat_timeout();
  *resp->mutable_retry_policy() = ai.retry_policy();
  // Temporal's merge: the activity's own priority fields, the workflow's for the unset ones.
  cv1::Priority priority;
  if (MergePriority(st.has_priority() ? &st.priority() : nullptr, sched.has_priority() ? &sched.priority() : nullptr, &priority)) {
    *resp->mutable_priority() = std::move(priority);
  }
  waiter->Complete(mu_);
  txn.after_commit.push_back([waiter] { waiter->finish(Status::Ok()); });
  ArmTimers(ex, ai);
}

std::pair<Execution*, const state::ActivityInfo*> ActivityTasks::LiveTask(const matching::PendingTask& t) {
  Execution* ex = engine_.LoadedRun(t.run_id);
  if (!ex || !ex->open()) return {nullptr, nullptr};
  const state::ActivityInfo* ai = ex->FindActivity(t.scheduled_event_id);
  if (!ai || ai->attempt() != t.attempt || ai->started()) return {nullptr, nullptr};
  return {ex, ai};
}

void ActivityTasks::Poll(MutexLock& l, const wsv1::PollActivityTaskQueueRequest& req, Poller waiter, Duration max_wait) {
  mu_.AssertHeld();
  auto reply_now = [&](const Status& s) { ReplyNow(l, mu_, *waiter, s); };
  if (waiter->completed(mu_)) return;  // cancelled while it waited for its rate-limit token
  auto ns = host_.NamespaceByName(req.namespace_());
  Status s = ns.ok() ? CheckIdLength(req.task_queue().name(), "TaskQueue", limits_.max_id_length) : ns.status();
  if (!s.ok()) return reply_now(s);
  matching::QueueKey key{ns.value()->info().id(), req.task_queue().name(), matching::TaskType::kActivity};
  double rps = req.task_queue_metadata().has_max_tasks_per_second() ? req.task_queue_metadata().max_tasks_per_second().value() : 0;
  Txn txn;
  auto take = [&](const matching::PendingTask& t) {
    mu_.AssertHeld();  // called by Poll below, under this function's lock
    auto [ex, ai] = LiveTask(t);
    if (!ai) return false;  // stale: started, retried or closed meanwhile
    Start(txn, *ex, *ai, waiter, engine_.Now());
    return true;
  };
  if (host_.ActivityQueues().Poll(key, waiter, {req.identity(), {}, rps}, false, engine_.Now(), take)) {
    host_.Commit(txn, nullptr);
    return;
  }
  host_.ArmPollTimeout(waiter, max_wait, key);
}

// --------------------------------------------------------------------------------------------
// Timeouts and retries

namespace {
// Earliest moment something must happen to this attempt (or TimePoint::max()).
TimePoint NextActivityDeadline(const state::ActivityInfo& ai) {
  TimePoint next = TimePoint::max();
  auto consider = [&next](TimePoint t) { next = std::min(next, t); };
  if (!IsZero(ai.schedule_to_close_timeout())) consider(FromProto(ai.scheduled_time()) + FromProto(ai.schedule_to_close_timeout()));
  if (ai.started()) {
    if (!IsZero(ai.start_to_close_timeout())) consider(FromProto(ai.started_time()) + FromProto(ai.start_to_close_timeout()));
    if (!IsZero(ai.heartbeat_timeout())) {
      TimePoint base = FromProto(ai.started_time());
      if (!IsZero(ai.last_heartbeat_time())) base = std::max(base, FromProto(ai.last_heartbeat_time()));
      consider(base + FromProto(ai.heartbeat_timeout()));
    }
  } else if (!ai.dispatched()) {
    consider(FromProto(ai.current_attempt_scheduled_time()));
  } else if (!IsZero(ai.schedule_to_start_timeout())) {
    consider(FromProto(ai.current_attempt_scheduled_time()) + FromProto(ai.schedule_to_start_timeout()));
  }
  return next;
}

// The timeout that has expired at `now`, or TIMEOUT_TYPE_UNSPECIFIED (none: a retry's backoff is
// over when the attempt is neither started nor dispatched, or the timer woke early).
ev1::TimeoutType ExpiredTimeout(const state::ActivityInfo& ai, TimePoint now) {
  // A task no worker picked up reports SCHEDULE_TO_START even when schedule-to-close ends at the
  // same moment (schedule-to-start defaults to schedule-to-close), as Temporal does.
  if (!ai.started() && ai.dispatched() && !IsZero(ai.schedule_to_start_timeout()) &&
      FromProto(ai.current_attempt_scheduled_time()) + FromProto(ai.schedule_to_start_timeout()) <= now) {
    return ev1::TIMEOUT_TYPE_SCHEDULE_TO_START;
  }
  if (!IsZero(ai.schedule_to_close_timeout()) &&
      FromProto(ai.scheduled_time()) + FromProto(ai.schedule_to_close_timeout()) <= now) {
    return ev1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE;
  }
  if (ai.started()) {
    TimePoint hb_base = FromProto(ai.started_time());
    if (!IsZero(ai.last_heartbeat_time())) hb_base = std::max(hb_base, FromProto(ai.last_heartbeat_time()));
    if (!IsZero(ai.start_to_close_timeout()) && FromProto(ai.started_time()) + FromProto(ai.start_to_close_timeout()) <= now) {
      return ev1::TIMEOUT_TYPE_START_TO_CLOSE;
    }
    if (!IsZero(ai.heartbeat_timeout()) && hb_base + FromProto(ai.heartbeat_timeout()) <= now) {
      return ev1::TIMEOUT_TYPE_HEARTBEAT;
    }
  }
  return ev1::TIMEOUT_TYPE_UNSPECIFIED;
}

const char* TimeoutName(ev1::TimeoutType t) {
  switch (t) {
    case ev1::TIMEOUT_TYPE_START_TO_CLOSE: return "StartToClose";
    case ev1::TIMEOUT_TYPE_SCHEDULE_TO_START: return "ScheduleToStart";
    case ev1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE: return "ScheduleToClose";
    case ev1::TIMEOUT_TYPE_HEARTBEAT: return "Heartbeat";
    default: return "Unspecified";
  }
}

// Temporal's retry decision for a failed attempt (no retry left: the final RetryState; else
// RETRY_STATE_IN_PROGRESS with the backoff before the next attempt).
ev1::RetryState DecideRetry(const state::ActivityInfo& ai, const fv1::Failure& failure, bool is_timeout,
                            int timeout_type, TimePoint now, Duration* backoff) {
  const auto& policy = ai.retry_policy();
  if (timeout_type == ev1::TIMEOUT_TYPE_SCHEDULE_TO_START || timeout_type == ev1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE) {
    return ev1::RETRY_STATE_TIMEOUT;
  }
  if (ai.cancel_requested()) return ev1::RETRY_STATE_CANCEL_REQUESTED;
  std::string type;
  bool non_retryable = false;
  if (failure.has_application_failure_info()) {
    type = failure.application_failure_info().type();
    non_retryable = failure.application_failure_info().non_retryable();
  } else if (failure.has_canceled_failure_info() || failure.has_terminated_failure_info()) {
    non_retryable = true;
  } else if (is_timeout) {
    type = std::string("TemporalTimeout:") + (timeout_type == ev1::TIMEOUT_TYPE_HEARTBEAT ? "Heartbeat" : "StartToClose");
  }
  for (const auto& t : policy.non_retryable_error_types()) {
    if (!type.empty() && t == type) non_retryable = true;
  }
  if (non_retryable) return ev1::RETRY_STATE_NON_RETRYABLE_FAILURE;
  if (policy.maximum_attempts() > 0 && ai.attempt() >= policy.maximum_attempts()) {
    return ev1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED;
  }
  if (failure.has_application_failure_info() && failure.application_failure_info().has_next_retry_delay()) {
    *backoff = FromProto(failure.application_failure_info().next_retry_delay());
  } else {
    double coeff = policy.backoff_coefficient() > 0 ? policy.backoff_coefficient() : 2.0;
    double ns = static_cast<double>(FromProto(policy.initial_interval()).count()) * std::pow(coeff, ai.attempt() - 1);
    Duration max = FromProto(policy.maximum_interval());
    *backoff = (max > Duration::zero() && ns > static_cast<double>(max.count())) ? max : Duration(static_cast<int64_t>(ns));
  }
  if (!IsZero(ai.schedule_to_close_timeout()) &&
      now + *backoff > FromProto(ai.scheduled_time()) + FromProto(ai.schedule_to_close_timeout())) {
    return ev1::RETRY_STATE_TIMEOUT;
  }
  return ev1::RETRY_STATE_IN_PROGRESS;
}

// ActivityTaskStarted, written lazily before the attempt's close event; its id (or the buffered
// placeholder) in `*started_id`.
void AppendStarted(Execution& ex, const state::ActivityInfo& ai, int64_t* started_id) {
  auto* s = ex.AddOrBufferEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED, FromProto(ai.started_time()));
  auto* a = s->mutable_activity_task_started_event_attributes();
  a->set_scheduled_event_id(ai.scheduled_event_id());
  a->set_identity(ai.started_identity());
  a->set_request_id(ai.started_request_id());
  a->set_attempt(ai.attempt());
  if (ai.has_last_failure()) *a->mutable_last_failure() = ai.last_failure();
  *started_id = s->event_id() == 0 ? kBufferedStartedEventId : s->event_id();
}
}  // namespace

void ActivityTasks::ArmTimers(Execution& ex, const state::ActivityInfo& ai) {
  TimePoint due = NextActivityDeadline(ai);
  if (due == TimePoint::max()) return;
  std::string run_id = ex.st().run_id();
  int64_t sid = ai.scheduled_event_id();
  int32_t attempt = ai.attempt();
  engine_.timers().Schedule(due, [this, run_id, sid, attempt] { OnTimer(run_id, sid, attempt); });
}

void ActivityTasks::OnTimer(const std::string& run_id, int64_t scheduled_id, int32_t attempt) {
  MutexLock l(mu_);
  Execution* run = engine_.LoadedRun(run_id);
  if (!run || !run->open()) return;
  Execution& ex = *run;
  const state::ActivityInfo* found = ex.FindActivity(scheduled_id);
  if (!found || found->attempt() != attempt) return;
  const state::ActivityInfo& ai = *found;
  const TimePoint now = engine_.Now();
  Txn txn;
  ev1::TimeoutType expired = ExpiredTimeout(ai, now);
  if (expired == ev1::TIMEOUT_TYPE_UNSPECIFIED && !ai.started() && !ai.dispatched() &&
      FromProto(ai.current_attempt_scheduled_time()) <= now) {
    // A retry's backoff is over: the next attempt goes to matching.
    Dispatch(txn, ex, ai);
    ArmTimers(ex, ai);
    txn.Touch(&ex);
    host_.Commit(txn, nullptr);
    return;
  }
  if (expired == ev1::TIMEOUT_TYPE_UNSPECIFIED) {
    ArmTimers(ex, ai);  // woke early (a heartbeat moved the deadline): re-arm
    return;
  }
  fv1::Failure f;
  f.set_message(std::string("activity ") + TimeoutName(expired) + " timeout");
  f.mutable_timeout_failure_info()->set_timeout_type(expired);
  *f.mutable_timeout_failure_info()->mutable_last_heartbeat_details() = ai.heartbeat_details();
  FailAttempt(txn, ex, ai, f, true, expired, "");
  host_.Commit(txn, nullptr);
}

bool ActivityTasks::FailAttempt(Txn& txn, Execution& ex, const state::ActivityInfo& ai, const fv1::Failure& failure,
                                bool is_timeout, int timeout_type, const std::string& identity) {
  txn.Touch(&ex);
  const TimePoint now = engine_.Now();
  Duration backoff{};
  const ev1::RetryState retry_state = DecideRetry(ai, failure, is_timeout, timeout_type, now, &backoff);
  if (retry_state == ev1::RETRY_STATE_IN_PROGRESS) {
    ex.RetryActivity(ai.scheduled_event_id(), failure, now, now + backoff, identity);
    if (backoff <= Duration::zero()) Dispatch(txn, ex, ai);
    ArmTimers(ex, ai);
    return true;
  }
  RecordFinalFailure(ex, ai, failure, is_timeout, timeout_type, retry_state, identity);
  Close(txn, ex, ai);
  return false;
}

void ActivityTasks::RecordFinalFailure(Execution& ex, const state::ActivityInfo& ai, const fv1::Failure& failure,
                                       bool is_timeout, int timeout_type, ev1::RetryState retry_state,
                                       const std::string& identity) {
  int64_t started_id = 0;
  if (ai.started()) AppendStarted(ex, ai, &started_id);
  if (is_timeout) {
    fv1::Failure f = failure;
    ev1::TimeoutType reported = static_cast<ev1::TimeoutType>(timeout_type);
    if (retry_state == ev1::RETRY_STATE_TIMEOUT && (reported == ev1::TIMEOUT_TYPE_START_TO_CLOSE || reported == ev1::TIMEOUT_TYPE_HEARTBEAT)) {
      // Final only because no time is left to retry: Temporal reports ScheduleToClose.
      reported = ev1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE;
      f.set_message("activity ScheduleToClose timeout: not enough time to retry");
      f.mutable_timeout_failure_info()->set_timeout_type(reported);
    }
    if (ai.has_last_failure()) *f.mutable_cause() = ai.last_failure();
    auto* e = ex.AddOrBufferEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, engine_.Now());
    auto* a = e->mutable_activity_task_timed_out_event_attributes();
    *a->mutable_failure() = f;
    a->set_scheduled_event_id(ai.scheduled_event_id());
    a->set_started_event_id(started_id);
    a->set_retry_state(retry_state);
  } else {
    auto* e = ex.AddOrBufferEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_FAILED, engine_.Now());
    auto* a = e->mutable_activity_task_failed_event_attributes();
    *a->mutable_failure() = failure;
    a->set_scheduled_event_id(ai.scheduled_event_id());
    a->set_started_event_id(started_id);
    a->set_identity(identity);
    a->set_retry_state(retry_state);
  }
}

void ActivityTasks::Close(Txn& txn, Execution& ex, const state::ActivityInfo& ai) {
  ex.RemoveActivity(ai.scheduled_event_id());  // `ai` is dangling from here on
  if (!ex.wft_pending()) engine_.ScheduleWorkflowTask(txn, ex);
}

// --------------------------------------------------------------------------------------------
// Worker responses

void ActivityTasks::EnsureStartedById(Execution& ex, const state::ActivityInfo& ai, const std::string& identity) {
  if (ai.started()) return;
  // Acting by id on an attempt nobody polled: it starts now, with its timeouts.
  ex.StartActivityAttempt(ai.scheduled_event_id(), engine_.Now(), identity, NewUuid());
  ArmTimers(ex, ai);
}

ActivityTasks::Target ActivityTasks::ByToken(const std::string& token) {
  auto tok = DecodeTaskToken(token);
  if (!tok.ok()) return tok.status();
  if (tok->kind() != state::TaskToken::ACTIVITY_TASK) return InvalidArgument("task token is not an activity task token");
  // An evicted run has no activity (the engine evicts only runs without one): answered without
  // reading it back.
  Execution* ex = engine_.LoadedRun(tok->run_id());
  if (!ex && engine_.RunEvicted(tok->run_id())) return NotFound(kTaskNotFound);
  if (!ex || !ex->open() || ex->st().workflow_id() != tok->workflow_id()) {
    return NotFound("workflow execution already completed");
  }
  const state::ActivityInfo* ai = ex->FindActivity(tok->scheduled_event_id());
  // Temporal's ErrActivityTaskNotFound.
  if (!ai || ai->attempt() != tok->attempt() || !ai->started()) return NotFound(kTaskNotFound);
  return std::make_pair(ex, ai);
}

ActivityTasks::Target ActivityTasks::ById(const std::string& ns, const std::string& wid, const std::string& rid,
                                          const std::string& activity_id) {
  auto n = host_.NamespaceByName(ns);
  if (!n.ok()) return n.status();
  if (wid.empty()) return InvalidArgument("WorkflowId is not set on request.");
  if (activity_id.empty()) return InvalidArgument("ActivityId is not set on request.");
  auto r = host_.FetchOpenRun(n.value()->info().id(), wid, rid);  // an evicted run read without the mutex
  if (!r.ok()) return r.status();
  Execution& ex = *r.value();
  const state::ActivityInfo* ai = ex.FindActivityById(activity_id);
  if (!ai) return NotFound(kByIdNotFound);
  return std::make_pair(&ex, ai);
}

void ActivityTasks::CompleteTarget(Target target, const cv1::Payloads* result, const std::string& identity, Done done) {
  mu_.AssertHeld();
  if (!target.ok()) return done(target.status());
  auto [ex, ai] = target.value();
  if (result) {
    Status s = CheckBlobSize(result->ByteSizeLong(), "Result", limits_.blob_size_limit_error, limits_.blob_size_limit_warn);
    if (!s.ok()) return done(s);
  }
  EnsureStartedById(*ex, *ai, identity);
  Txn txn;
  txn.Touch(ex);
  int64_t started_id = 0;
  AppendStarted(*ex, *ai, &started_id);
  auto* e = ex->AddOrBufferEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED, engine_.Now());
  auto* a = e->mutable_activity_task_completed_event_attributes();
  if (result) *a->mutable_result() = *result;
  a->set_scheduled_event_id(ai->scheduled_event_id());
  a->set_started_event_id(started_id);
  a->set_identity(identity);
  Close(txn, *ex, *ai);
  host_.Commit(txn, std::move(done));
}

void ActivityTasks::FailTarget(Target target, const fv1::Failure& failure, const cv1::Payloads* details,
                               const std::string& identity, Done done) {
  mu_.AssertHeld();
  if (!target.ok()) return done(target.status());
  auto [ex, ai] = target.value();
  Status s = CheckBlobSize(failure.ByteSizeLong(), "Failure", limits_.blob_size_limit_error, limits_.blob_size_limit_warn);
  if (!s.ok()) return done(s);
  EnsureStartedById(*ex, *ai, identity);
  Txn txn;
  if (details) ex->SetActivityHeartbeatDetails(ai->scheduled_event_id(), *details);
  FailAttempt(txn, *ex, *ai, failure, false, 0, identity);
  host_.Commit(txn, std::move(done));
}

void ActivityTasks::CancelTarget(Target target, const cv1::Payloads* details, const std::string& identity, Done done) {
  mu_.AssertHeld();
  if (!target.ok()) return done(target.status());
  auto [ex, ai] = target.value();
  if (!ai->cancel_requested()) return done(InvalidArgument("activity cancellation was not requested"));
  EnsureStartedById(*ex, *ai, identity);
  Txn txn;
  txn.Touch(ex);
  int64_t started_id = 0;
  AppendStarted(*ex, *ai, &started_id);
  auto* e = ex->AddOrBufferEvent(ev1::EVENT_TYPE_ACTIVITY_TASK_CANCELED, engine_.Now());
  auto* a = e->mutable_activity_task_canceled_event_attributes();
  if (details) *a->mutable_details() = *details;
  a->set_latest_cancel_requested_event_id(ai->cancel_requested_event_id());
  a->set_scheduled_event_id(ai->scheduled_event_id());
  a->set_started_event_id(started_id);
  a->set_identity(identity);
  Close(txn, *ex, *ai);
  host_.Commit(txn, std::move(done));
}

void ActivityTasks::HeartbeatTarget(Target target, const cv1::Payloads* details,
                                    const std::function<void(bool)>& set_cancel_requested, Done done) {
  mu_.AssertHeld();
  if (!target.ok()) return done(target.status());
  auto [ex, ai] = target.value();
  if (details) {
    Status s = CheckBlobSize(details->ByteSizeLong(), "Details", limits_.blob_size_limit_error, limits_.blob_size_limit_warn);
    if (!s.ok()) return done(s);
    ex->SetActivityHeartbeatDetails(ai->scheduled_event_id(), *details);
  }
  EnsureStartedById(*ex, *ai, "");
  ex->RecordActivityHeartbeat(ai->scheduled_event_id(), engine_.Now());
  set_cancel_requested(ai->cancel_requested());  // before the commit: `done` may run at once
  Txn txn;
  txn.Touch(ex);
  host_.Commit(txn, std::move(done));
}

// The RPCs: resolve the target, then act. Immediate errors may be reported under the lock; `done`
// only finishes the RPC and never re-enters the engine.

void ActivityTasks::Complete(MutexLock& l, const wsv1::RespondActivityTaskCompletedRequest& req, Done done) {
  auto t = ByToken(req.task_token());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  CompleteTarget(std::move(t), req.has_result() ? &req.result() : nullptr, req.identity(), std::move(done));
}

void ActivityTasks::Complete(MutexLock& l, const wsv1::RespondActivityTaskCompletedByIdRequest& req, Done done) {
  auto t = ById(req.namespace_(), req.workflow_id(), req.run_id(), req.activity_id());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  CompleteTarget(std::move(t), req.has_result() ? &req.result() : nullptr, req.identity(), std::move(done));
}

void ActivityTasks::Fail(MutexLock& l, const wsv1::RespondActivityTaskFailedRequest& req, Done done) {
  auto t = ByToken(req.task_token());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  FailTarget(std::move(t), req.failure(), req.has_last_heartbeat_details() ? &req.last_heartbeat_details() : nullptr,
             req.identity(), std::move(done));
}

void ActivityTasks::Fail(MutexLock& l, const wsv1::RespondActivityTaskFailedByIdRequest& req, Done done) {
  auto t = ById(req.namespace_(), req.workflow_id(), req.run_id(), req.activity_id());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  FailTarget(std::move(t), req.failure(), req.has_last_heartbeat_details() ? &req.last_heartbeat_details() : nullptr,
             req.identity(), std::move(done));
}

void ActivityTasks::Cancel(MutexLock& l, const wsv1::RespondActivityTaskCanceledRequest& req, Done done) {
  auto t = ByToken(req.task_token());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  CancelTarget(std::move(t), req.has_details() ? &req.details() : nullptr, req.identity(), std::move(done));
}

void ActivityTasks::Cancel(MutexLock& l, const wsv1::RespondActivityTaskCanceledByIdRequest& req, Done done) {
  auto t = ById(req.namespace_(), req.workflow_id(), req.run_id(), req.activity_id());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  CancelTarget(std::move(t), req.has_details() ? &req.details() : nullptr, req.identity(), std::move(done));
}

void ActivityTasks::Heartbeat(MutexLock& l, const wsv1::RecordActivityTaskHeartbeatRequest& req,
                              wsv1::RecordActivityTaskHeartbeatResponse* resp, Done done) {
  auto t = ByToken(req.task_token());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  HeartbeatTarget(std::move(t), req.has_details() ? &req.details() : nullptr,
                  [resp](bool cancel) { resp->set_cancel_requested(cancel); }, std::move(done));
}

void ActivityTasks::Heartbeat(MutexLock& l, const wsv1::RecordActivityTaskHeartbeatByIdRequest& req,
                              wsv1::RecordActivityTaskHeartbeatByIdResponse* resp, Done done) {
  auto t = ById(req.namespace_(), req.workflow_id(), req.run_id(), req.activity_id());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  HeartbeatTarget(std::move(t), req.has_details() ? &req.details() : nullptr,
                  [resp](bool cancel) { resp->set_cancel_requested(cancel); }, std::move(done));
}

}  // namespace temporalite::history
