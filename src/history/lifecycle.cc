// Workflow start and close: StartWorkflowExecution, terminate, cancel requests, run timeouts,
// start delays, user timers, and long-poll expiry.
#include <algorithm>

#include "common/ids.h"
#include "common/log.h"
#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"

namespace temporalite::history {

namespace cv1 = ::temporal::api::common::v1;


void Engine::ArmWorkflowTimersLocked(Execution& ex) {
  const auto& st = ex.st();
  const std::string run_id = st.run_id();
  TimePoint expiry{};
  if (!IsZero(st.run_expiration_time())) expiry = FromProto(st.run_expiration_time());
  if (!IsZero(st.execution_expiration_time())) {
    TimePoint e = FromProto(st.execution_expiration_time());
    if (expiry == TimePoint{} || e < expiry) expiry = e;
  }
  if (expiry != TimePoint{}) timers_.Schedule(expiry, [this, run_id] { OnWorkflowRunTimeout(run_id); });
  if (!IsZero(st.first_wft_due_time())) {
    timers_.Schedule(FromProto(st.first_wft_due_time()), [this, run_id] { OnFirstWorkflowTaskBackoff(run_id); });
  }
  for (const auto& [id, t] : st.timers()) {
    int64_t started = t.started_event_id();
    std::string timer_id = t.timer_id();
    timers_.Schedule(FromProto(t.expiry_time()), [this, run_id, timer_id, started] { OnUserTimer(run_id, timer_id, started); });
  }
}

std::optional<int64_t> Engine::IdleWake(const Execution& ex) {
  const auto& st = ex.st();
  if (!ex.open() || ex.wft_pending() || st.buffered_events_size() > 0 || st.activities_size() > 0) {
    return std::nullopt;
  }
  // The same times ArmWorkflowTimersLocked schedules.
  TimePoint earliest = TimePoint::max();
  auto consider = [&](const auto& proto) {
    if (!IsZero(proto)) earliest = std::min(earliest, FromProto(proto));
  };
  consider(st.run_expiration_time());
  consider(st.execution_expiration_time());
  consider(st.first_wft_due_time());
  for (const auto& [id, t] : st.timers()) earliest = std::min(earliest, FromProto(t.expiry_time()));
  if (earliest == TimePoint::max()) return persistence::kNoIdleTimer;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(earliest.time_since_epoch()).count();
}

void Engine::OnIdleRunWake(std::string run_id) {
  MutexLock l(mu_);
  if (!FetchForTimerLocked(run_id, [this, run_id] { OnIdleRunWake(run_id); })) return;
  auto it = runs_.find_loaded(run_id);
  if (it == runs_.end() || !it->second->open()) return;
  ArmWorkflowTimersLocked(*it->second);
}

bool Engine::FetchForTimerLocked(const std::string& run_id, std::function<void()> again) {
  if (FetchIfEvicted(run_id).ok()) return true;  // the store read without the mutex
  timers_.Schedule(clock_.Now() + std::chrono::seconds(1), std::move(again));
  return false;
}

void Engine::OnFirstWorkflowTaskBackoff(std::string run_id) {
  MutexLock l(mu_);
  if (!FetchForTimerLocked(run_id, [this, run_id] { OnFirstWorkflowTaskBackoff(run_id); })) return;
  auto it = runs_.find_loaded(run_id);
  if (it == runs_.end() || !it->second->open() || IsZero(it->second->st().first_wft_due_time())) return;
  Execution& ex = *it->second;
  Txn txn;
  ex.ClearFirstWorkflowTaskBackoff();
  txn.Touch(&ex);
  if (!ex.wft_pending()) ScheduleWorkflowTaskLocked(txn, ex);
  CommitLocked(txn, nullptr);
}

void Engine::OnUserTimer(std::string run_id, std::string timer_id, int64_t started_event_id) {
  MutexLock l(mu_);
  if (!FetchForTimerLocked(run_id, [=, this] { OnUserTimer(run_id, timer_id, started_event_id); })) return;
  auto it = runs_.find_loaded(run_id);
  if (it == runs_.end() || !it->second->open()) return;
  Execution& ex = *it->second;
  auto t = ex.st().timers().find(timer_id);
  if (t == ex.st().timers().end() || t->second.started_event_id() != started_event_id) return;
  TimePoint expiry = FromProto(t->second.expiry_time());
  if (expiry > clock_.Now()) {  // fired early (clock adjusted): re-arm
    timers_.Schedule(expiry, [this, run_id, timer_id, started_event_id] { OnUserTimer(run_id, timer_id, started_event_id); });
    return;
  }
  Txn txn;
  txn.Touch(&ex);
  auto* e = AddOrBufferEvent(ex, ev1::EVENT_TYPE_TIMER_FIRED, clock_.Now());
  e->mutable_timer_fired_event_attributes()->set_timer_id(timer_id);
  e->mutable_timer_fired_event_attributes()->set_started_event_id(started_event_id);
  ex.RemoveTimer(timer_id);
  if (!ex.wft_pending()) ScheduleWorkflowTaskLocked(txn, ex);
  CommitLocked(txn, nullptr);
}

void Engine::OnWorkflowRunTimeout(std::string run_id) {
  MutexLock l(mu_);
  if (!FetchForTimerLocked(run_id, [this, run_id] { OnWorkflowRunTimeout(run_id); })) return;
  auto it = runs_.find_loaded(run_id);
  if (it == runs_.end() || !it->second->open()) return;
  Execution& ex = *it->second;
  Txn txn;
  txn.Touch(&ex);
  if (ex.wft_started()) {
    FailWorkflowTaskLocked(txn, ex, ev1::WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND, nullptr, "", false, 0);
  }
  FlushBufferedEventsLocked(ex);
  // A run timeout is retryable (workflow retry policy) unless the execution timeout ran out.
  std::optional<StartFields> next_run;
  ev1::RetryState retry = ev1::RETRY_STATE_TIMEOUT;
  const bool execution_expired = !IsZero(ex.st().execution_expiration_time()) &&
                                 FromProto(ex.st().execution_expiration_time()) <= clock_.Now();
  if (!execution_expired) {
    retry = WorkflowRetryLocked(ex, nullptr, true, &next_run);
    if (!next_run) next_run = CronNextRunLocked(ex, nullptr, nullptr);
  }
  auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, clock_.Now());
  e->mutable_workflow_execution_timed_out_event_attributes()->set_retry_state(retry);
  if (next_run) e->mutable_workflow_execution_timed_out_event_attributes()->set_new_execution_run_id(next_run->run_id);
  ex.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT);
  OnRunClosedLocked(txn, ex, next_run.has_value());
  if (!ex.query_ids.empty()) queries_.Settle(ex, nullptr, false);
  if (next_run) starts_.CreateRun(txn, ex.st().namespace_id(), std::move(*next_run), nullptr);
  CommitLocked(txn, nullptr);
}

void Engine::OnRunClosedLocked(Txn& txn, Execution& ex, bool chain_continues) {
  const auto& st = ex.st();
  std::vector<state::ChildInfo> children = ex.MarkClosed();
  // Still the current run until a next one starts; the store learns of the close only at commit.
  const std::string key = ex.workflow_key();
  open_by_workflow_id_.erase(key);
  closing_by_workflow_id_[key] = st.run_id();
  // Fail the run's unfinished updates, accepted ones included (they are no longer in
  // `admitted_updates`): their waiters get AcceptedUpdateCompletedWorkflow now.
  updates_.SettleAfterTask(txn, ex, false);
  ex.visibility_dirty = true;
  txn.Touch(&ex);
  txn.closed_runs.push_back(st.run_id());
  if (run_closed_listener_) {
    RunClosed rc{st.namespace_id(), st.workflow_id(), st.run_id(), st.status(), chain_continues, {}, {}, {}, {}, {}};
    if (auto it = namespace_names_.find(st.namespace_id()); it != namespace_names_.end()) rc.namespace_name = it->second;
    rc.workflow_type = st.workflow_type();
    const auto* last = ex.events.empty() ? nullptr : &ex.events.back();
    if (last && last->has_workflow_execution_failed_event_attributes()) {
      rc.failure_message = last->workflow_execution_failed_event_attributes().failure().message();
    }
    // Copies only for scheduled runs, so other workflows pay nothing for them.
    if (last && !chain_continues && st.search_attributes().indexed_fields().contains("TemporalScheduledById")) {
      if (last->has_workflow_execution_completed_event_attributes() &&
          last->workflow_execution_completed_event_attributes().has_result()) {
        rc.result = std::make_shared<const cv1::Payloads>(last->workflow_execution_completed_event_attributes().result());
      } else if (last->has_workflow_execution_failed_event_attributes()) {
        rc.failure = std::make_shared<const temporal::api::failure::v1::Failure>(
            last->workflow_execution_failed_event_attributes().failure());
      }
    }
    txn.after_commit.push_back([this, rc = std::move(rc)] { run_closed_listener_(rc); });
  }
  if (!chain_continues && !st.parent_run_id().empty()) children_.ReportClosed(txn, ex);
  if (!children.empty()) children_.ApplyParentClosePolicy(txn, children);
}

void Engine::TerminateLocked(Txn& txn, Execution& ex, const std::string& reason, const cv1::Payloads* details,
                             const std::string& identity) {
  txn.Touch(&ex);
  if (ex.wft_started()) {
    FailWorkflowTaskLocked(txn, ex, ev1::WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND, nullptr, identity, false, 0);
  }
  FlushBufferedEventsLocked(ex);
  auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, clock_.Now());
  auto* a = e->mutable_workflow_execution_terminated_event_attributes();
  a->set_reason(reason);
  if (details) *a->mutable_details() = *details;
  a->set_identity(identity);
  ex.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  OnRunClosedLocked(txn, ex, false);
  if (!ex.query_ids.empty()) queries_.Settle(ex, nullptr, false);  // answered from the final history
}

void Engine::TerminateWorkflowExecution(const wsv1::TerminateWorkflowExecutionRequest& req, Done done) {
  MutexLock l(mu_);
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return ReplyNow(l, done, ns.status());
  if (req.workflow_execution().workflow_id().empty()) return ReplyNow(l, done, InvalidArgument("WorkflowId is not set on request."));
  Status s = CheckBlob(req.details().ByteSizeLong(), "Details");
  if (!s.ok()) return ReplyNow(l, done, s);
  auto r = FetchOpenRun(ns.value()->info().id(), req.workflow_execution().workflow_id(),
                        req.workflow_execution().run_id());
  if (!r.ok()) return ReplyNow(l, done, r.status());
  Execution& ex = *r.value();
  if (!req.first_execution_run_id().empty() && ex.st().first_execution_run_id() != req.first_execution_run_id()) {
    return ReplyNow(l, done, WorkflowNotFound(req.workflow_execution().workflow_id(), req.workflow_execution().run_id()));
  }
  Txn txn;
  TerminateLocked(txn, ex, req.reason(), req.has_details() ? &req.details() : nullptr, req.identity());
  CommitLocked(txn, std::move(done));
}

void Engine::RequestCancelWorkflowExecution(const wsv1::RequestCancelWorkflowExecutionRequest& req, Done done) {
  MutexLock l(mu_);
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return ReplyNow(l, done, ns.status());
  if (req.workflow_execution().workflow_id().empty()) return ReplyNow(l, done, InvalidArgument("WorkflowId is not set on request."));
  auto any = FetchRun(ns.value()->info().id(), req.workflow_execution().workflow_id(),
                      req.workflow_execution().run_id(), /*with_events=*/false);
  if (!any.ok()) return ReplyNow(l, done, any.status());
  Execution& ex = *any.value();
  if (!req.first_execution_run_id().empty() && ex.st().first_execution_run_id() != req.first_execution_run_id()) {
    return ReplyNow(l, done, WorkflowNotFound(req.workflow_execution().workflow_id(), req.workflow_execution().run_id()));
  }
  // Repeated requests and closed runs succeed without a new event (Temporal's behaviour).
  if (!ex.open() || ex.st().cancel_requested()) return ReplyWhenDurableLocked(std::move(done), Status::Ok());
  Txn txn;
  txn.Touch(&ex);
  ex.RequestCancel();
  auto* e = AddOrBufferEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, clock_.Now());
  e->mutable_workflow_execution_cancel_requested_event_attributes()->set_cause(req.reason());
  e->mutable_workflow_execution_cancel_requested_event_attributes()->set_identity(req.identity());
  if (!ex.wft_pending() && IsZero(ex.st().first_wft_due_time())) ScheduleWorkflowTaskLocked(txn, ex);
  CommitLocked(txn, std::move(done));
}

void Engine::DeleteWorkflowExecution(const wsv1::DeleteWorkflowExecutionRequest& req, Done done) {
  MutexLock l(mu_);
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return ReplyNow(l, done, ns.status());
  if (req.workflow_execution().workflow_id().empty()) return ReplyNow(l, done, InvalidArgument("WorkflowId is not set on request."));
  auto r = FetchRun(ns.value()->info().id(), req.workflow_execution().workflow_id(),
                    req.workflow_execution().run_id(), /*with_events=*/false);
  if (!r.ok()) return ReplyNow(l, done, r.status());
  Execution& ex = *r.value();
  Txn txn;
  // Temporal terminates a running execution before deleting it.
  if (ex.open()) TerminateLocked(txn, ex, "Delete workflow execution", nullptr, "history-service");
  // Applied after the batch's upserts: the run, its events and a current pointer naming it go.
  txn.batch.delete_runs.push_back(ex.st().run_id());
  CommitLocked(txn, std::move(done));
}

// --------------------------------------------------------------------------------------------
// Long polls

void Engine::ArmPollTimeoutLocked(const std::shared_ptr<matching::Waiter>& waiter, Duration max_wait,
                                  matching::QueueKey key) {
  std::weak_ptr<matching::Waiter> weak = waiter;
  timers_.Schedule(clock_.Now() + max_wait, [this, weak, key] {
    auto w = weak.lock();
    if (!w) return;
    {
      MutexLock l(mu_);
      if (w->completed(mu_)) return;
      w->Complete(mu_);
      if (key.type == matching::TaskType::kActivity) {
        activity_queues_.Expire(key, w.get());
      } else {
        workflow_queues_.Expire(key, w.get());
      }
    }
    w->finish(Status::Ok());  // empty response: the long poll expired
  });
}

void Engine::CancelPoll(const std::shared_ptr<matching::Waiter>& waiter) {
  {
    MutexLock l(mu_);
    if (waiter->completed(mu_)) return;
    waiter->Complete(mu_);  // stays in its queue's list; skipped when popped
  }
  waiter->finish(Status(Code::kCancelled, "poll cancelled by the caller"));
}

}  // namespace temporalite::history
