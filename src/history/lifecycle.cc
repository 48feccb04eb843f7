// Workflow timers (run timeouts, start delays, user timers), a run's close, the entry points of the
// run-lifecycle RPCs (terminate, cancel requests, delete: close_workflow.h), and long-poll expiry.
#include <algorithm>

#include "common/ids.h"
#include "common/log.h"
#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/run_chain.h"

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
  if (!ex.wft_pending()) wft_.Schedule(txn, ex);
  CommitLocked(txn, nullptr);
}

void Engine::OnUserTimer(std::string run_id, std::string timer_id, int64_t started_event_id) {
  MutexLock l(mu_);
  if (!FetchForTimerLocked(run_id, [=, this] { OnUserTimer(run_id, timer_id, started_event_id); })) return;
  auto it = runs_.find_loaded(run_id);
  if (it == runs_.end() || !it->second->open()) return;
  Execution& ex = *it->second;
  Txn txn;
  switch (workflow_timers_.FireUserTimer(txn, ex, timer_id, started_event_id)) {
    case WorkflowTimers::Firing::kStale:
      return;
    case WorkflowTimers::Firing::kEarly:  // fired early (clock adjusted): re-arm
      timers_.Schedule(FromProto(ex.st().timers().at(timer_id).expiry_time()),
                       [this, run_id, timer_id, started_event_id] { OnUserTimer(run_id, timer_id, started_event_id); });
      return;
    case WorkflowTimers::Firing::kFired:
      CommitLocked(txn, nullptr);
      return;
  }
}

void Engine::OnWorkflowRunTimeout(std::string run_id) {
  MutexLock l(mu_);
  if (!FetchForTimerLocked(run_id, [this, run_id] { OnWorkflowRunTimeout(run_id); })) return;
  auto it = runs_.find_loaded(run_id);
  if (it == runs_.end() || !it->second->open()) return;
  Txn txn;
  workflow_timers_.TimeOutRun(txn, *it->second);
  CommitLocked(txn, nullptr);
}

ev1::RetryState Engine::NextRunAfterTimeout(const Execution& ex, std::optional<StartFields>* next_run) {
  return history::NextRunAfterTimeout(ex, clock_.Now(), cron_next_, next_run);
}

void Engine::StartNextRun(Txn& txn, const std::string& ns_id, StartFields next_run) {
  starts_.CreateRun(txn, ns_id, std::move(next_run), nullptr);
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

// The run-lifecycle RPCs: entry points into the CloseWorkflow unit (close_workflow.h), and its
// side of CloseEngine.

void Engine::TerminateLocked(Txn& txn, Execution& ex, const std::string& reason, const cv1::Payloads* details,
                             const std::string& identity) {
  closes_.TerminateRun(txn, ex, reason, details, identity);
}

void Engine::TerminateWorkflowExecution(const wsv1::TerminateWorkflowExecutionRequest& req, Done done) {
  MutexLock l(mu_);
  closes_.Terminate(l, req, std::move(done));
}

void Engine::RequestCancelWorkflowExecution(const wsv1::RequestCancelWorkflowExecutionRequest& req, Done done) {
  MutexLock l(mu_);
  closes_.RequestCancel(l, req, std::move(done));
}

void Engine::DeleteWorkflowExecution(const wsv1::DeleteWorkflowExecutionRequest& req, Done done) {
  MutexLock l(mu_);
  closes_.Delete(l, req, std::move(done));
}

void Engine::ForceCloseWorkflowTask(Txn& txn, Execution& ex, const std::string& identity) {
  if (ex.wft_started()) {
    wft_.FailTask(txn, ex, ev1::WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND, nullptr, identity, false, 0);
  }
  ex.FlushBufferedEvents();
}

void Engine::FinishClose(Txn& txn, Execution& ex, bool chain_continues) {
  OnRunClosedLocked(txn, ex, chain_continues);
  if (!ex.query_ids.empty()) queries_.Settle(ex, nullptr, false);  // answered from the final history
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
