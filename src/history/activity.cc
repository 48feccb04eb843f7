// Activities: dispatch and polls, completion/failure/cancellation, heartbeats, retries and the
// four timeouts. Retries live in mutable state only; ActivityTaskStarted is written lazily, right
// before the close event (protocol-notes §4).
#include <cmath>

#include "common/ids.h"
#include "common/log.h"
#include "history/compat_fields.h"
#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/task_token.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;
namespace fv1 = ::temporal::api::failure::v1;

void Engine::DispatchActivityLocked(Txn& txn, Execution& ex, state::ActivityInfo& ai) {
  matching::QueueKey key{ex.st().namespace_id(), ai.task_queue(), matching::TaskType::kActivity};
  ai.set_dispatched(true);
  if (auto poller = activity_queues_.Offer(mu_, key, {ex.st().run_id(), ai.scheduled_event_id(), ai.attempt(), {}}, clock_.Now())) {
    StartActivityLocked(txn, ex, ai, poller, clock_.Now());
  }
}

void Engine::StartEagerActivitiesLocked(Txn& txn, Execution& ex, const std::vector<int64_t>& scheduled_ids,
                                        const std::string& identity, TimePoint now,
                                        wsv1::RespondWorkflowTaskCompletedResponse* resp) {
  if (!ex.open()) return;  // the completion also closed the run
  for (int64_t sid : scheduled_ids) {
    state::ActivityInfo* ai = ex.FindActivity(sid);
    // Cancelled by a later command of the same completion: nothing to hand out.
    if (!ai || ai->started()) continue;
    // The reply carries the task: a waiter of our own whose finish has nothing to do.
    auto waiter = std::make_shared<matching::PollWaiter<wsv1::PollActivityTaskQueueResponse>>(resp->add_activity_tasks());
    waiter->identity = identity;
    waiter->finish = [](const Status&) {};
    StartActivityLocked(txn, ex, *ai, waiter, now);
  }
}

void Engine::StartActivityLocked(Txn& txn, Execution& ex, state::ActivityInfo& ai, const ActivityPoller& waiter,
                                 TimePoint now) {
  txn.Touch(&ex);
  ai.set_started(true);
  *ai.mutable_started_time() = ToProto(now);
  ai.set_started_identity(waiter->identity);
  ai.set_started_request_id(NewUuid());
  ai.set_last_worker_identity(waiter->identity);
  ai.clear_last_heartbeat_time();
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
  resp->set_workflow_namespace(namespace_names_.at(st.namespace_id()));
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
  ::temporal::api::common::v1::Priority priority;
  if (MergePriority(st.has_priority() ? &st.priority() : nullptr, sched.has_priority() ? &sched.priority() : nullptr, &priority)) {
    *resp->mutable_priority() = std::move(priority);
  }
  waiter->Complete(mu_);
  txn.after_commit.push_back([waiter] { waiter->finish(Status::Ok()); });
  ArmActivityTimersLocked(ex, ai);
}

std::pair<Execution*, state::ActivityInfo*> Engine::LiveActivityTaskLocked(const matching::PendingTask& t) {
  auto it = runs_.find_loaded(t.run_id);
  if (it == runs_.end() || !it->second->open()) return {nullptr, nullptr};
  state::ActivityInfo* ai = it->second->FindActivity(t.scheduled_event_id);
  if (!ai || ai->attempt() != t.attempt || ai->started()) return {nullptr, nullptr};
  return {it->second.get(), ai};
}

void Engine::PollActivityTaskQueue(const wsv1::PollActivityTaskQueueRequest& req, ActivityPoller waiter,
                                   Duration max_wait) {
  MutexLock l(mu_);
  if (waiter->completed(mu_)) return;  // cancelled while it waited for its rate-limit token
  auto ns = NamespaceByNameLocked(req.namespace_());
  Status s = ns.ok() ? CheckId(req.task_queue().name(), "TaskQueue") : ns.status();
  if (!s.ok()) {
    return ReplyNow(l, *waiter, s);
  }
  matching::QueueKey key{ns.value()->info().id(), req.task_queue().name(), matching::TaskType::kActivity};
  double rps = req.task_queue_metadata().has_max_tasks_per_second() ? req.task_queue_metadata().max_tasks_per_second().value() : 0;
  Txn txn;
  auto take = [&](const matching::PendingTask& t) {
    mu_.AssertHeld();  // called by Poll below, under this function's lock
    auto [ex, ai] = LiveActivityTaskLocked(t);
    if (!ai) return false;  // stale: started, retried or closed meanwhile
    StartActivityLocked(txn, *ex, *ai, waiter, clock_.Now());
    return true;
  };
  if (activity_queues_.Poll(key, waiter, {req.identity(), {}, rps}, false, clock_.Now(), take)) {
    CommitLocked(txn, nullptr);
    return;
  }
  ArmPollTimeoutLocked(waiter, max_wait, key);
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

const char* TimeoutName(ev1::TimeoutType t) {
  switch (t) {
    case ev1::TIMEOUT_TYPE_START_TO_CLOSE: return "StartToClose";
    case ev1::TIMEOUT_TYPE_SCHEDULE_TO_START: return "ScheduleToStart";
    case ev1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE: return "ScheduleToClose";
    case ev1::TIMEOUT_TYPE_HEARTBEAT: return "Heartbeat";
    default: return "Unspecified";
  }
}
}  // namespace

void Engine::ArmActivityTimersLocked(Execution& ex, const state::ActivityInfo& ai) {
  TimePoint due = NextActivityDeadline(ai);
  if (due == TimePoint::max()) return;
  std::string run_id = ex.st().run_id();
  int64_t sid = ai.scheduled_event_id();
  int32_t attempt = ai.attempt();
  timers_.Schedule(due, [this, run_id, sid, attempt] { OnActivityTimer(run_id, sid, attempt); });
}

void Engine::OnActivityTimer(std::string run_id, int64_t scheduled_id, int32_t attempt) {
  MutexLock l(mu_);
  auto it = runs_.find_loaded(run_id);
  if (it == runs_.end() || !it->second->open()) return;
  Execution& ex = *it->second;
  state::ActivityInfo* found = ex.FindActivity(scheduled_id);
  if (!found || found->attempt() != attempt) return;
  state::ActivityInfo& ai = *found;
  const TimePoint now = clock_.Now();
  Txn txn;
  ev1::TimeoutType expired = ev1::TIMEOUT_TYPE_UNSPECIFIED;
  // A task no worker picked up reports SCHEDULE_TO_START even when schedule-to-close ends at the
  // same moment (schedule-to-start defaults to schedule-to-close), as Temporal does.
  if (!ai.started() && ai.dispatched() && !IsZero(ai.schedule_to_start_timeout()) &&
      FromProto(ai.current_attempt_scheduled_time()) + FromProto(ai.schedule_to_start_timeout()) <= now) {
    expired = ev1::TIMEOUT_TYPE_SCHEDULE_TO_START;
  } else if (!IsZero(ai.schedule_to_close_timeout()) &&
      FromProto(ai.scheduled_time()) + FromProto(ai.schedule_to_close_timeout()) <= now) {
    expired = ev1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE;
  } else if (ai.started()) {
    TimePoint hb_base = FromProto(ai.started_time());
    if (!IsZero(ai.last_heartbeat_time())) hb_base = std::max(hb_base, FromProto(ai.last_heartbeat_time()));
    if (!IsZero(ai.start_to_close_timeout()) && FromProto(ai.started_time()) + FromProto(ai.start_to_close_timeout()) <= now) {
      expired = ev1::TIMEOUT_TYPE_START_TO_CLOSE;
    } else if (!IsZero(ai.heartbeat_timeout()) && hb_base + FromProto(ai.heartbeat_timeout()) <= now) {
      expired = ev1::TIMEOUT_TYPE_HEARTBEAT;
    }
  } else if (!ai.dispatched()) {
    if (FromProto(ai.current_attempt_scheduled_time()) <= now) {
      DispatchActivityLocked(txn, ex, ai);
      ArmActivityTimersLocked(ex, ai);
      txn.Touch(&ex);
      CommitLocked(txn, nullptr);
      return;
    }
  } else if (!IsZero(ai.schedule_to_start_timeout()) &&
             FromProto(ai.current_attempt_scheduled_time()) + FromProto(ai.schedule_to_start_timeout()) <= now) {
    expired = ev1::TIMEOUT_TYPE_SCHEDULE_TO_START;
  }
  if (expired == ev1::TIMEOUT_TYPE_UNSPECIFIED) {
    ArmActivityTimersLocked(ex, ai);  // woke early (a heartbeat moved the deadline): re-arm
    return;
  }
  fv1::Failure f;
  f.set_message(std::string("activity ") + TimeoutName(expired) + " timeout");
  f.mutable_timeout_failure_info()->set_timeout_type(expired);
  *f.mutable_timeout_failure_info()->mutable_last_heartbeat_details() = ai.heartbeat_details();
  FailActivityAttemptLocked(txn, ex, ai, f, true, expired, "");
  CommitLocked(txn, nullptr);
}

bool Engine::FailActivityAttemptLocked(Txn& txn, Execution& ex, state::ActivityInfo& ai, const fv1::Failure& failure,
                                       bool is_timeout, int timeout_type, const std::string& identity) {
  txn.Touch(&ex);
  const TimePoint now = clock_.Now();
  const auto& policy = ai.retry_policy();
  ev1::RetryState retry_state = ev1::RETRY_STATE_IN_PROGRESS;
  Duration backoff{};
  if (timeout_type == ev1::TIMEOUT_TYPE_SCHEDULE_TO_START || timeout_type == ev1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE) {
    retry_state = ev1::RETRY_STATE_TIMEOUT;
  } else if (ai.cancel_requested()) {
    retry_state = ev1::RETRY_STATE_CANCEL_REQUESTED;
  } else {
    std::string type;
    bool non_retryable = false;
    if (failure.has_application_failure_info()) {
      type = failure.application_failure_info().type();
      non_retryable = failure.application_failure_info().non_retryable();
    } else if (failure.has_canceled_failure_info() || failure.has_terminated_failure_info()) {
      non_retryable = true;
    } else if (is_timeout) {
      type = std::string("TemporalTimeout:") +
             (timeout_type == ev1::TIMEOUT_TYPE_HEARTBEAT ? "Heartbeat" : "StartToClose");
    }
    for (const auto& t : policy.non_retryable_error_types()) {
      if (!type.empty() && t == type) non_retryable = true;
    }
    if (non_retryable) {
      retry_state = ev1::RETRY_STATE_NON_RETRYABLE_FAILURE;
    } else if (policy.maximum_attempts() > 0 && ai.attempt() >= policy.maximum_attempts()) {
      retry_state = ev1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED;
    } else {
      if (failure.has_application_failure_info() && failure.application_failure_info().has_next_retry_delay()) {
        backoff = FromProto(failure.application_failure_info().next_retry_delay());
      } else {
        double coeff = policy.backoff_coefficient() > 0 ? policy.backoff_coefficient() : 2.0;
        double ns = static_cast<double>(FromProto(policy.initial_interval()).count()) * std::pow(coeff, ai.attempt() - 1);
        Duration max = FromProto(policy.maximum_interval());
        backoff = (max > Duration::zero() && ns > static_cast<double>(max.count())) ? max : Duration(static_cast<int64_t>(ns));
      }
      if (!IsZero(ai.schedule_to_close_timeout()) &&
          now + backoff > FromProto(ai.scheduled_time()) + FromProto(ai.schedule_to_close_timeout())) {
        retry_state = ev1::RETRY_STATE_TIMEOUT;
      }
    }
  }
  if (retry_state == ev1::RETRY_STATE_IN_PROGRESS) {
    *ai.mutable_last_failure() = failure;
    ai.set_attempt(ai.attempt() + 1);
    ai.set_started(false);
    ai.clear_started_time();
    ai.clear_started_identity();
    ai.clear_started_request_id();
    ai.clear_last_heartbeat_time();
    ai.set_dispatched(false);
    if (!identity.empty()) ai.set_last_worker_identity(identity);
    *ai.mutable_last_attempt_complete_time() = ToProto(now);
    *ai.mutable_current_attempt_scheduled_time() = ToProto(now + backoff);
    if (backoff <= Duration::zero()) DispatchActivityLocked(txn, ex, ai);
    ArmActivityTimersLocked(ex, ai);
    return true;
  }
  // Final: [Started] + Failed/TimedOut.
  int64_t started_id = 0;
  if (ai.started()) {
    auto* s = AddOrBufferEvent(ex, ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED, FromProto(ai.started_time()));
    auto* a = s->mutable_activity_task_started_event_attributes();
    a->set_scheduled_event_id(ai.scheduled_event_id());
    a->set_identity(ai.started_identity());
    a->set_request_id(ai.started_request_id());
    a->set_attempt(ai.attempt());
    if (ai.has_last_failure()) *a->mutable_last_failure() = ai.last_failure();
    started_id = s->event_id() == 0 ? kBufferedStartedEventId : s->event_id();
  }
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
    auto* e = AddOrBufferEvent(ex, ev1::EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, clock_.Now());
    auto* a = e->mutable_activity_task_timed_out_event_attributes();
    *a->mutable_failure() = f;
    a->set_scheduled_event_id(ai.scheduled_event_id());
    a->set_started_event_id(started_id);
    a->set_retry_state(retry_state);
  } else {
    auto* e = AddOrBufferEvent(ex, ev1::EVENT_TYPE_ACTIVITY_TASK_FAILED, clock_.Now());
    auto* a = e->mutable_activity_task_failed_event_attributes();
    *a->mutable_failure() = failure;
    a->set_scheduled_event_id(ai.scheduled_event_id());
    a->set_started_event_id(started_id);
    a->set_identity(identity);
    a->set_retry_state(retry_state);
  }
  CloseActivityLocked(txn, ex, ai);
  return false;
}

void Engine::CloseActivityLocked(Txn& txn, Execution& ex, state::ActivityInfo& ai) {
  ex.RemoveActivity(ai.scheduled_event_id());  // `ai` is dangling from here on
  if (!ex.wft_pending()) ScheduleWorkflowTaskLocked(txn, ex);
}

// --------------------------------------------------------------------------------------------
// Worker responses

void Engine::EnsureStartedByIdLocked(Execution& ex, state::ActivityInfo& ai, const std::string& identity) {
  if (ai.started()) return;
  // Acting by id on an attempt nobody polled: it starts now, with its timeouts.
  ai.set_started(true);
  *ai.mutable_started_time() = ToProto(clock_.Now());
  ai.set_started_request_id(NewUuid());
  ai.set_started_identity(identity);
  ai.set_last_worker_identity(identity);
  ArmActivityTimersLocked(ex, ai);
}

using ActivityTarget = Result<std::pair<Execution*, state::ActivityInfo*>>;

ActivityTarget Engine::ActivityByTokenLocked(const std::string& token) {
  auto tok = DecodeTaskToken(token);
  if (!tok.ok()) return tok.status();
  if (tok->kind() != state::TaskToken::ACTIVITY_TASK) return InvalidArgument("task token is not an activity task token");
  // An evicted run has no activity (EvictableLocked): answered without reading it back.
  auto it = runs_.find_loaded(tok->run_id());
  if (it == runs_.end() && runs_.eviction_seq(tok->run_id()) != 0) {
    return NotFound("invalid activityID or activity already timed out or invoking workflow is completed");
  }
  if (it == runs_.end() || !it->second->open() || it->second->st().workflow_id() != tok->workflow_id()) {
    return NotFound("workflow execution already completed");
  }
  Execution& ex = *it->second;
  state::ActivityInfo* ai = ex.FindActivity(tok->scheduled_event_id());
  if (!ai || ai->attempt() != tok->attempt() || !ai->started()) {
    // Temporal's ErrActivityTaskNotFound.
    return NotFound("invalid activityID or activity already timed out or invoking workflow is completed");
  }
  return std::make_pair(&ex, ai);
}

ActivityTarget Engine::ActivityByIdLocked(const std::string& ns, const std::string& wid, const std::string& rid,
                                          const std::string& activity_id) {
  auto n = NamespaceByNameLocked(ns);
  if (!n.ok()) return n.status();
  if (wid.empty()) return InvalidArgument("WorkflowId is not set on request.");
  if (activity_id.empty()) return InvalidArgument("ActivityId is not set on request.");
  auto r = FetchOpenRun(n.value()->info().id(), wid, rid);  // an evicted run read without the mutex
  if (!r.ok()) return r.status();
  Execution& ex = *r.value();
  auto id = ex.activity_ids.find(activity_id);
  if (id == ex.activity_ids.end()) return NotFound("activity task not found");
  state::ActivityInfo& ai = *ex.FindActivity(id->second);
  return std::make_pair(&ex, &ai);
}

namespace {
void AppendStarted(Execution& ex, const state::ActivityInfo& ai, int64_t* started_id) {
  auto* s = AddOrBufferEvent(ex, ev1::EVENT_TYPE_ACTIVITY_TASK_STARTED, FromProto(ai.started_time()));
  auto* a = s->mutable_activity_task_started_event_attributes();
  a->set_scheduled_event_id(ai.scheduled_event_id());
  a->set_identity(ai.started_identity());
  a->set_request_id(ai.started_request_id());
  a->set_attempt(ai.attempt());
  if (ai.has_last_failure()) *a->mutable_last_failure() = ai.last_failure();
  *started_id = s->event_id() == 0 ? kBufferedStartedEventId : s->event_id();
}
}  // namespace

void Engine::CompleteActivity(ActivityTarget target, const cv1::Payloads* result, const std::string& identity, Done done) {
  // REQUIRES(mu_) held by the caller's lock, released before `done` for immediate errors.
  if (!target.ok()) return done(target.status());
  auto [ex, ai] = target.value();
  if (result) {
    Status s = CheckBlob(result->ByteSizeLong(), "Result");
    if (!s.ok()) return done(s);
  }
  EnsureStartedByIdLocked(*ex, *ai, identity);
  Txn txn;
  txn.Touch(ex);
  int64_t started_id = 0;
  AppendStarted(*ex, *ai, &started_id);
  auto* e = AddOrBufferEvent(*ex, ev1::EVENT_TYPE_ACTIVITY_TASK_COMPLETED, clock_.Now());
  auto* a = e->mutable_activity_task_completed_event_attributes();
  if (result) *a->mutable_result() = *result;
  a->set_scheduled_event_id(ai->scheduled_event_id());
  a->set_started_event_id(started_id);
  a->set_identity(identity);
  CloseActivityLocked(txn, *ex, *ai);
  CommitLocked(txn, std::move(done));
}

void Engine::FailActivity(ActivityTarget target, const fv1::Failure& failure, const cv1::Payloads* details,
                          const std::string& identity, Done done) {
  if (!target.ok()) return done(target.status());
  auto [ex, ai] = target.value();
  Status s = CheckBlob(failure.ByteSizeLong(), "Failure");
  if (!s.ok()) return done(s);
  EnsureStartedByIdLocked(*ex, *ai, identity);
  Txn txn;
  if (details) *ai->mutable_heartbeat_details() = *details;
  FailActivityAttemptLocked(txn, *ex, *ai, failure, false, 0, identity);
  CommitLocked(txn, std::move(done));
}

void Engine::CancelActivity(ActivityTarget target, const cv1::Payloads* details, const std::string& identity, Done done) {
  if (!target.ok()) return done(target.status());
  auto [ex, ai] = target.value();
  if (!ai->cancel_requested()) return done(InvalidArgument("activity cancellation was not requested"));
  EnsureStartedByIdLocked(*ex, *ai, identity);
  Txn txn;
  txn.Touch(ex);
  int64_t started_id = 0;
  AppendStarted(*ex, *ai, &started_id);
  auto* e = AddOrBufferEvent(*ex, ev1::EVENT_TYPE_ACTIVITY_TASK_CANCELED, clock_.Now());
  auto* a = e->mutable_activity_task_canceled_event_attributes();
  if (details) *a->mutable_details() = *details;
  a->set_latest_cancel_requested_event_id(ai->cancel_requested_event_id());
  a->set_scheduled_event_id(ai->scheduled_event_id());
  a->set_started_event_id(started_id);
  a->set_identity(identity);
  CloseActivityLocked(txn, *ex, *ai);
  CommitLocked(txn, std::move(done));
}

void Engine::HeartbeatActivity(ActivityTarget target, const cv1::Payloads* details,
                               const std::function<void(bool)>& set_cancel_requested, Done done) {
  if (!target.ok()) return done(target.status());
  auto [ex, ai] = target.value();
  if (details) {
    Status s = CheckBlob(details->ByteSizeLong(), "Details");
    if (!s.ok()) return done(s);
    *ai->mutable_heartbeat_details() = *details;
  }
  EnsureStartedByIdLocked(*ex, *ai, "");
  *ai->mutable_last_heartbeat_time() = ToProto(clock_.Now());
  set_cancel_requested(ai->cancel_requested());  // before the commit: `done` may run at once
  Txn txn;
  txn.Touch(ex);
  CommitLocked(txn, std::move(done));
}

// Public entry points: lock, resolve the target, delegate. Immediate errors may be reported
// under the lock; `done` only finishes the RPC and never re-enters the engine.
void Engine::RespondActivityTaskCompleted(const wsv1::RespondActivityTaskCompletedRequest& req, Done done) {
  MutexLock l(mu_);
  auto t = ActivityByTokenLocked(req.task_token());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  CompleteActivity(std::move(t), req.has_result() ? &req.result() : nullptr, req.identity(), std::move(done));
}

void Engine::RespondActivityTaskCompletedById(const wsv1::RespondActivityTaskCompletedByIdRequest& req, Done done) {
  MutexLock l(mu_);
  auto t = ActivityByIdLocked(req.namespace_(), req.workflow_id(), req.run_id(), req.activity_id());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  CompleteActivity(std::move(t), req.has_result() ? &req.result() : nullptr, req.identity(), std::move(done));
}

void Engine::RespondActivityTaskFailed(const wsv1::RespondActivityTaskFailedRequest& req, Done done) {
  MutexLock l(mu_);
  auto t = ActivityByTokenLocked(req.task_token());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  FailActivity(std::move(t), req.failure(), req.has_last_heartbeat_details() ? &req.last_heartbeat_details() : nullptr,
               req.identity(), std::move(done));
}

void Engine::RespondActivityTaskFailedById(const wsv1::RespondActivityTaskFailedByIdRequest& req, Done done) {
  MutexLock l(mu_);
  auto t = ActivityByIdLocked(req.namespace_(), req.workflow_id(), req.run_id(), req.activity_id());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  FailActivity(std::move(t), req.failure(), req.has_last_heartbeat_details() ? &req.last_heartbeat_details() : nullptr,
               req.identity(), std::move(done));
}

void Engine::RespondActivityTaskCanceled(const wsv1::RespondActivityTaskCanceledRequest& req, Done done) {
  MutexLock l(mu_);
  auto t = ActivityByTokenLocked(req.task_token());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  CancelActivity(std::move(t), req.has_details() ? &req.details() : nullptr, req.identity(), std::move(done));
}

void Engine::RespondActivityTaskCanceledById(const wsv1::RespondActivityTaskCanceledByIdRequest& req, Done done) {
  MutexLock l(mu_);
  auto t = ActivityByIdLocked(req.namespace_(), req.workflow_id(), req.run_id(), req.activity_id());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  CancelActivity(std::move(t), req.has_details() ? &req.details() : nullptr, req.identity(), std::move(done));
}

void Engine::RecordActivityTaskHeartbeat(const wsv1::RecordActivityTaskHeartbeatRequest& req,
                                         wsv1::RecordActivityTaskHeartbeatResponse* resp, Done done) {
  MutexLock l(mu_);
  auto t = ActivityByTokenLocked(req.task_token());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  HeartbeatActivity(std::move(t), req.has_details() ? &req.details() : nullptr,
                    [resp](bool cancel) { resp->set_cancel_requested(cancel); }, std::move(done));
}

void Engine::RecordActivityTaskHeartbeatById(const wsv1::RecordActivityTaskHeartbeatByIdRequest& req,
                                             wsv1::RecordActivityTaskHeartbeatByIdResponse* resp, Done done) {
  MutexLock l(mu_);
  auto t = ActivityByIdLocked(req.namespace_(), req.workflow_id(), req.run_id(), req.activity_id());
  if (!t.ok()) return ReplyNow(l, done, t.status());
  HeartbeatActivity(std::move(t), req.has_details() ? &req.details() : nullptr,
                    [resp](bool cancel) { resp->set_cancel_requested(cancel); }, std::move(done));
}

}  // namespace temporalite::history
