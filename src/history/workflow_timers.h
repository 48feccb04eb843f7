// The firing of a run's workflow timers as a unit of its own over a narrow interface (the model:
// Temporal's timer queue task executors, service/history/timer_queue_active_task_executor.go): a
// user timer's TimerFired (buffered while a workflow task runs) and the workflow task it
// schedules, and the run timeout's close (WorkflowExecutionTimedOut, after a started workflow
// task is failed; a retry or cron run takes over the workflow id unless the execution timeout ran
// out). The engine keeps the timers themselves (ArmWorkflowTimersLocked, lifecycle.cc): it takes
// its mutex, brings an evicted run back, calls the unit in a transaction and commits it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "history/engine_context.h"
#include "history/execution.h"
#include "history/start_workflow.h"
#include "history/txn.h"

namespace temporalite::history {

// What WorkflowTimers sees of the engine besides EngineContext. Under the engine mutex.
class TimerEngine {
 public:
  virtual ~TimerEngine() = default;
  // As CloseEngine's (close_workflow.h): before the close event, a started workflow task fails and
  // buffered events are flushed; after it, the run's close and the answer of its queries.
  virtual void ForceCloseWorkflowTask(Txn& txn, Execution& ex, const std::string& identity) = 0;
  virtual void FinishClose(Txn& txn, Execution& ex, bool chain_continues) = 0;
  // The run that follows a timed-out run: its workflow retry policy's next attempt, else its cron
  // schedule's next run (`next_run` stays empty when neither applies). Returns the retry state of
  // the close event.
  virtual ::temporal::api::enums::v1::RetryState NextRunAfterTimeout(const Execution& ex,
                                                                    std::optional<StartFields>* next_run) = 0;
  // Creates the run that takes over the workflow id (a retry or a cron run) in `txn`.
  virtual void StartNextRun(Txn& txn, const std::string& ns_id, StartFields next_run) = 0;
};

class WorkflowTimers {
 public:
  WorkflowTimers(EngineContext& engine, TimerEngine& host) : engine_(engine), host_(host) {}
  WorkflowTimers(const WorkflowTimers&) = delete;
  WorkflowTimers& operator=(const WorkflowTimers&) = delete;

  enum class Firing {
    kFired,  // TimerFired added, the timer dropped, a workflow task scheduled unless one is pending
    kStale,  // the timer is gone, or was started again (another started event id): nothing to do
    kEarly,  // its expiry is still ahead (the clock was adjusted): the caller arms it again
  };
  // User timer `timer_id` of open run `ex`, armed for its TimerStarted event `started_event_id`,
  // fires now in `txn`.
  Firing FireUserTimer(Txn& txn, Execution& ex, const std::string& timer_id, int64_t started_event_id);
  // Open run `ex` reached its run or execution deadline: it closes as timed out in `txn`.
  void TimeOutRun(Txn& txn, Execution& ex);

 private:
  EngineContext& engine_;
  TimerEngine& host_;
};

}  // namespace temporalite::history
