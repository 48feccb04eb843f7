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

namespace {
bool IsClosedFailedLike(ev1::WorkflowExecutionStatus s) {
  return s == ev1::WORKFLOW_EXECUTION_STATUS_FAILED || s == ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED ||
         s == ev1::WORKFLOW_EXECUTION_STATUS_CANCELED || s == ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT;
}

Status CheckDuration(const google::protobuf::Duration& d, const char* what) {
  if (d.seconds() < 0 || d.nanos() < 0) return InvalidArgument(std::string("Invalid ") + what + ".");
  return Status::Ok();
}
}  // namespace

void Engine::StartWorkflowExecution(const wsv1::StartWorkflowExecutionRequest& req,
                                    wsv1::StartWorkflowExecutionResponse* resp, Done done) {
  std::unique_lock<std::mutex> l(mu_);
  auto fail = [&](Status s) {
    l.unlock();
    done(s);
  };
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  const std::string ns_id = ns.value()->info().id();
  Status s = CheckId(req.workflow_id(), "WorkflowId");
  if (s.ok()) s = CheckId(req.workflow_type().name(), "WorkflowType");
  if (s.ok()) s = CheckId(req.task_queue().name(), "TaskQueue");
  if (s.ok() && req.request_id().size() > options_.max_id_length) s = InvalidArgument("RequestId exceeds length limit.");
  if (s.ok()) s = CheckDuration(req.workflow_execution_timeout(), "WorkflowExecutionTimeout");
  if (s.ok()) s = CheckDuration(req.workflow_run_timeout(), "WorkflowRunTimeout");
  if (s.ok()) s = CheckDuration(req.workflow_task_timeout(), "WorkflowTaskTimeout");
  if (s.ok()) s = CheckDuration(req.workflow_start_delay(), "WorkflowStartDelay");
  if (s.ok()) s = CheckBlob(req.input().ByteSizeLong(), "Input");
  if (s.ok()) s = CheckBlob(req.memo().ByteSizeLong(), "Memo");
  if (s.ok()) s = CheckBlob(req.header().ByteSizeLong(), "Header");
  if (s.ok() && !req.cron_schedule().empty()) s = Status(Code::kUnimplemented, "cron schedules are not supported yet");
  if (!s.ok()) return fail(s);

  const std::string key = WorkflowKey(ns_id, req.workflow_id());
  Txn txn;
  auto open_it = open_by_workflow_id_.find(key);
  if (open_it != open_by_workflow_id_.end()) {
    Execution& cur = *runs_.at(open_it->second);
    if (!req.request_id().empty() && cur.st.start_request_id() == req.request_id()) {
      resp->set_run_id(cur.st.run_id());
      resp->set_started(false);
      resp->set_status(cur.st.status());
      AfterDurableLocked([done] { done(Status::Ok()); });
      return;
    }
    auto conflict = req.workflow_id_conflict_policy();
    bool terminate = conflict == ev1::WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING ||
                     req.workflow_id_reuse_policy() == ev1::WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING;
    if (conflict == ev1::WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING) {
      resp->set_run_id(cur.st.run_id());
      resp->set_started(false);
      resp->set_status(cur.st.status());
      AfterDurableLocked([done] { done(Status::Ok()); });
      return;
    }
    if (!terminate) return fail(WorkflowAlreadyStarted(req.workflow_id(), cur.st.start_request_id(), cur.st.run_id()));
    TerminateLocked(txn, cur, "TerminateIfRunning WorkflowIdReusePolicy Policy", nullptr, req.identity());
  } else {
    auto cur_id = store_.GetCurrentRunId(ns_id, req.workflow_id());
    if (!cur_id.ok()) return fail(cur_id.status());
    if (cur_id.value()) {
      auto row = store_.GetExecution(*cur_id.value());
      if (!row.ok()) return fail(row.status());
      if (row.value()) {
        state::ExecutionState prev;
        prev.ParseFromString(row.value()->state);
        if (!req.request_id().empty() && prev.start_request_id() == req.request_id()) {
          resp->set_run_id(prev.run_id());
          resp->set_started(false);
          resp->set_status(prev.status());
          return l.unlock(), done(Status::Ok());
        }
        auto reuse = req.workflow_id_reuse_policy();
        if (reuse == ev1::WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE ||
            (reuse == ev1::WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY && !IsClosedFailedLike(prev.status()))) {
          return fail(Status(WorkflowAlreadyStarted(req.workflow_id(), prev.start_request_id(), prev.run_id()).code(),
                             "Workflow execution already finished and its WorkflowIdReusePolicy forbids starting a "
                             "new one. WorkflowId: " + req.workflow_id() + ", RunId: " + prev.run_id() + ".",
                             WorkflowAlreadyStarted(req.workflow_id(), prev.start_request_id(), prev.run_id()).details()));
        }
      }
    }
  }

  // Timeouts per Temporal: run timeout defaults to the execution timeout (min of both when set);
  // task timeout defaults to 10 s, capped at 120 s and at the run timeout.
  const TimePoint now = clock_.Now();
  Duration exec_to = FromProto(req.workflow_execution_timeout());
  Duration run_to = FromProto(req.workflow_run_timeout());
  if (run_to == Duration::zero() || (exec_to > Duration::zero() && exec_to < run_to)) run_to = exec_to;
  Duration task_to = FromProto(req.workflow_task_timeout());
  if (task_to == Duration::zero()) task_to = options_.default_workflow_task_timeout;
  task_to = std::min(task_to, options_.max_workflow_task_timeout);
  if (run_to > Duration::zero()) task_to = std::min(task_to, run_to);
  Duration delay = FromProto(req.workflow_start_delay());

  auto ex = std::make_shared<Execution>();
  auto& st = ex->st;
  const std::string run_id = NewTimeOrderedUuid(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  st.set_namespace_id(ns_id);
  st.set_workflow_id(req.workflow_id());
  st.set_run_id(run_id);
  st.set_workflow_type(req.workflow_type().name());
  st.set_task_queue(req.task_queue().name());
  st.set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  st.set_next_event_id(1);
  *st.mutable_start_time() = ToProto(now);
  *st.mutable_execution_time() = ToProto(now + delay);
  *st.mutable_workflow_task_timeout() = ToProtoDuration(task_to);
  *st.mutable_run_timeout() = ToProtoDuration(run_to);
  *st.mutable_execution_timeout() = ToProtoDuration(exec_to);
  if (run_to > Duration::zero()) *st.mutable_run_expiration_time() = ToProto(now + delay + run_to);
  if (exec_to > Duration::zero()) *st.mutable_execution_expiration_time() = ToProto(now + delay + exec_to);
  st.set_start_request_id(req.request_id().empty() ? NewUuid() : req.request_id());
  *st.mutable_memo() = req.memo();
  *st.mutable_search_attributes() = req.search_attributes();
  st.set_first_execution_run_id(run_id);
  st.set_attempt(1);
  if (req.has_retry_policy()) *st.mutable_retry_policy() = req.retry_policy();

  auto* e = AddEvent(*ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, now);
  auto* a = e->mutable_workflow_execution_started_event_attributes();
  *a->mutable_workflow_type() = req.workflow_type();
  a->mutable_task_queue()->set_name(req.task_queue().name());
  a->mutable_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
  *a->mutable_input() = req.input();
  *a->mutable_workflow_execution_timeout() = st.execution_timeout();
  *a->mutable_workflow_run_timeout() = st.run_timeout();
  *a->mutable_workflow_task_timeout() = st.workflow_task_timeout();
  a->set_original_execution_run_id(run_id);
  a->set_identity(req.identity());
  a->set_first_execution_run_id(run_id);
  if (req.has_retry_policy()) *a->mutable_retry_policy() = req.retry_policy();
  a->set_attempt(1);
  if (exec_to > Duration::zero()) *a->mutable_workflow_execution_expiration_time() = st.execution_expiration_time();
  if (delay > Duration::zero()) *a->mutable_first_workflow_task_backoff() = ToProtoDuration(delay);
  *a->mutable_memo() = req.memo();
  *a->mutable_search_attributes() = req.search_attributes();
  *a->mutable_header() = req.header();
  a->set_workflow_id(req.workflow_id());
  if (req.has_priority()) *a->mutable_priority() = req.priority();

  Execution* raw = ex.get();
  runs_[run_id] = ex;
  open_by_workflow_id_[key] = run_id;
  txn.Touch(raw);
  txn.batch.upsert_current.push_back({ns_id, req.workflow_id(), run_id});
  if (delay > Duration::zero()) {
    *st.mutable_first_wft_due_time() = ToProto(now + delay);
  } else {
    ScheduleWorkflowTaskLocked(txn, *raw);
  }
  ArmWorkflowTimersLocked(*raw);
  resp->set_run_id(run_id);
  resp->set_started(true);
  resp->set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  CommitLocked(txn, std::move(done));
}

void Engine::ArmWorkflowTimersLocked(Execution& ex) {
  const auto& st = ex.st;
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

void Engine::OnFirstWorkflowTaskBackoff(std::string run_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end() || !it->second->open() || IsZero(it->second->st.first_wft_due_time())) return;
  Execution& ex = *it->second;
  Txn txn;
  ex.st.clear_first_wft_due_time();
  txn.Touch(&ex);
  if (!ex.wft_pending()) ScheduleWorkflowTaskLocked(txn, ex);
  CommitLocked(txn, nullptr);
}

void Engine::OnUserTimer(std::string run_id, std::string timer_id, int64_t started_event_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end() || !it->second->open()) return;
  Execution& ex = *it->second;
  auto t = ex.st.timers().find(timer_id);
  if (t == ex.st.timers().end() || t->second.started_event_id() != started_event_id) return;
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
  ex.st.mutable_timers()->erase(timer_id);
  if (!ex.wft_pending()) ScheduleWorkflowTaskLocked(txn, ex);
  CommitLocked(txn, nullptr);
}

void Engine::OnWorkflowRunTimeout(std::string run_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end() || !it->second->open()) return;
  Execution& ex = *it->second;
  Txn txn;
  txn.Touch(&ex);
  if (ex.wft_started()) {
    FailWorkflowTaskLocked(txn, ex, ev1::WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND, nullptr, "", false, 0);
  }
  FlushBufferedEventsLocked(ex);
  auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, clock_.Now());
  e->mutable_workflow_execution_timed_out_event_attributes()->set_retry_state(ev1::RETRY_STATE_TIMEOUT);
  ex.st.set_status(ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT);
  OnRunClosedLocked(txn, ex);
  CommitLocked(txn, nullptr);
}

void Engine::OnRunClosedLocked(Txn& txn, Execution& ex) {
  auto& st = ex.st;
  st.set_completion_event_id(st.next_event_id() - 1);
  *st.mutable_close_time() = ex.events.back().event_time();
  st.clear_wft();
  st.clear_activities();
  st.clear_timers();
  st.clear_buffered_events();
  st.clear_sticky_task_queue();
  ex.activity_ids.clear();
  open_by_workflow_id_.erase(ex.workflow_key());
  txn.Touch(&ex);
  txn.closed_runs.push_back(st.run_id());
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
  ex.st.set_status(ev1::WORKFLOW_EXECUTION_STATUS_TERMINATED);
  OnRunClosedLocked(txn, ex);
}

void Engine::TerminateWorkflowExecution(const wsv1::TerminateWorkflowExecutionRequest& req, Done done) {
  std::unique_lock<std::mutex> l(mu_);
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return l.unlock(), done(ns.status());
  if (req.workflow_execution().workflow_id().empty()) return l.unlock(), done(InvalidArgument("WorkflowId is not set on request."));
  Status s = CheckBlob(req.details().ByteSizeLong(), "Details");
  if (!s.ok()) return l.unlock(), done(s);
  auto r = OpenExecutionLocked(ns.value()->info().id(), req.workflow_execution().workflow_id(),
                               req.workflow_execution().run_id());
  if (!r.ok()) return l.unlock(), done(r.status());
  Execution& ex = *r.value();
  if (!req.first_execution_run_id().empty() && ex.st.first_execution_run_id() != req.first_execution_run_id()) {
    return l.unlock(), done(WorkflowNotFound(req.workflow_execution().workflow_id(), req.workflow_execution().run_id()));
  }
  Txn txn;
  TerminateLocked(txn, ex, req.reason(), req.has_details() ? &req.details() : nullptr, req.identity());
  CommitLocked(txn, std::move(done));
}

void Engine::RequestCancelWorkflowExecution(const wsv1::RequestCancelWorkflowExecutionRequest& req, Done done) {
  std::unique_lock<std::mutex> l(mu_);
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return l.unlock(), done(ns.status());
  if (req.workflow_execution().workflow_id().empty()) return l.unlock(), done(InvalidArgument("WorkflowId is not set on request."));
  auto any = LoadAnyExecutionLocked(ns.value()->info().id(), req.workflow_execution().workflow_id(),
                                    req.workflow_execution().run_id());
  if (!any.ok()) return l.unlock(), done(any.status());
  Execution& ex = *any.value();
  if (!req.first_execution_run_id().empty() && ex.st.first_execution_run_id() != req.first_execution_run_id()) {
    return l.unlock(), done(WorkflowNotFound(req.workflow_execution().workflow_id(), req.workflow_execution().run_id()));
  }
  // Repeated requests and closed runs succeed without a new event (Temporal's behaviour).
  if (!ex.open() || ex.st.cancel_requested()) return AfterDurableLocked([done] { done(Status::Ok()); });
  Txn txn;
  txn.Touch(&ex);
  ex.st.set_cancel_requested(true);
  auto* e = AddOrBufferEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, clock_.Now());
  e->mutable_workflow_execution_cancel_requested_event_attributes()->set_cause(req.reason());
  e->mutable_workflow_execution_cancel_requested_event_attributes()->set_identity(req.identity());
  if (!ex.wft_pending() && IsZero(ex.st.first_wft_due_time())) ScheduleWorkflowTaskLocked(txn, ex);
  CommitLocked(txn, std::move(done));
}

// --------------------------------------------------------------------------------------------
// Long polls

void Engine::ArmPollTimeoutLocked(const std::shared_ptr<matching::PollWaiter>& waiter, Duration max_wait,
                                  matching::QueueKey key) {
  std::weak_ptr<matching::PollWaiter> weak = waiter;
  timers_.Schedule(clock_.Now() + max_wait, [this, weak, key] {
    auto w = weak.lock();
    if (!w) return;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (w->completed) return;
      w->completed = true;
      if (auto* q = queues_.Find(key)) matching::TaskQueues::RemovePoller(*q, w.get());
    }
    w->finish(Status::Ok());  // empty response: the long poll expired
  });
}

void Engine::CancelPoll(const std::shared_ptr<matching::PollWaiter>& waiter) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (waiter->completed) return;
    waiter->completed = true;  // stays in its queue's list; skipped when popped
  }
  waiter->finish(Status(Code::kCancelled, "poll cancelled by the caller"));
}

}  // namespace temporalite::history
