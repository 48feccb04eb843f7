// The workflow timers unit (workflow_timers.h): a user timer's firing and the run timeout.
#include "history/workflow_timers.h"

#include <utility>

#include "history/proto_time.h"

namespace temporalite::history {

WorkflowTimers::Firing WorkflowTimers::FireUserTimer(Txn& txn, Execution& ex, const std::string& timer_id,
                                                     int64_t started_event_id) {
  auto t = ex.st().timers().find(timer_id);
  if (t == ex.st().timers().end() || t->second.started_event_id() != started_event_id) return Firing::kStale;
  const TimePoint now = engine_.Now();
  if (FromProto(t->second.expiry_time()) > now) return Firing::kEarly;
  txn.Touch(&ex);
  auto* a = ex.AddOrBufferEvent(ev1::EVENT_TYPE_TIMER_FIRED, now)->mutable_timer_fired_event_attributes();
  a->set_timer_id(timer_id);
  a->set_started_event_id(started_event_id);
  ex.RemoveTimer(timer_id);
  if (!ex.wft_pending()) engine_.ScheduleWorkflowTask(txn, ex);
  return Firing::kFired;
}

void WorkflowTimers::TimeOutRun(Txn& txn, Execution& ex) {
  txn.Touch(&ex);
  host_.ForceCloseWorkflowTask(txn, ex, "");
  const TimePoint now = engine_.Now();
  // A run timeout is retryable (workflow retry policy) unless the execution timeout ran out.
  std::optional<StartFields> next_run;
  ev1::RetryState retry = ev1::RETRY_STATE_TIMEOUT;
  const bool execution_expired = !IsZero(ex.st().execution_expiration_time()) &&
                                 FromProto(ex.st().execution_expiration_time()) <= now;
  if (!execution_expired) retry = host_.NextRunAfterTimeout(ex, &next_run);
  auto* a = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, now)
                ->mutable_workflow_execution_timed_out_event_attributes();
  a->set_retry_state(retry);
  if (next_run) a->set_new_execution_run_id(next_run->run_id);
  ex.SetCloseStatus(ev1::WORKFLOW_EXECUTION_STATUS_TIMED_OUT);
  host_.FinishClose(txn, ex, next_run.has_value());
  if (next_run) host_.StartNextRun(txn, ex.st().namespace_id(), std::move(*next_run));
}

}  // namespace temporalite::history
