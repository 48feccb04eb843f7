// The workflow-task RPC family as a unit of its own (the model: Temporal's
// service/history/api/pollworkflowtaskqueue, respondworkflowtaskcompleted/api.go,
// respondworkflowtaskfailed, resetstickytaskqueue, and the workflow task state machine of its
// mutable state): scheduling and dispatch of a run's workflow task (normal and sticky queues, with
// matching's policy: matching/task_queues.h), polls (a sync match or the backlog), a started task's
// events and the poll response, RespondWorkflowTaskCompleted (the commands validated and applied by
// the command handlers, history/commands/, then the next task scheduled or returned in the reply),
// RespondWorkflowTaskFailed, the start-to-close and sticky schedule-to-start timeouts,
// transient tasks (attempt > 1), heartbeats, ResetStickyTaskQueue and ShutdownWorker. See
// shared/protocol-notes.md sections 1-3.
//
// The `WorkflowTasks` unit sees the engine through EngineContext (engine_context.h) and the
// narrow `WorkflowTaskEngine` (below); it holds no state of its own: a run's task is in its
// mutable state, queued tasks and pollers in matching. The engine owns one (guarded by its mutex);
// every call is made with the mutex held, except the timer callbacks, which take it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/execution.h"
#include "history/query_registry.h"
#include "history/reply_now.h"
#include "history/start_workflow.h"
#include "history/state.pb.h"
#include "history/txn.h"
#include "history/update_registry.h"
#include "matching/task_queues.h"
#include "temporal/api/failure/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

// The command handlers' context of one completion (commands::CommandContext, plus what the
// completion reads back after the commands): completion_context.h. The engine's is
// EngineCommandContext.
class CompletionContext;
namespace commands {
struct CommandPlan;
}  // namespace commands

// What the WorkflowTasks unit sees of the engine besides EngineContext. Under the engine mutex.
class WorkflowTaskEngine {
 public:
  using WorkflowQueues = matching::TaskQueues<::temporal::api::workflowservice::v1::PollWorkflowTaskQueueResponse>;
  virtual ~WorkflowTaskEngine() = default;
  // A namespace that takes requests, by name (Temporal's errors for a missing or deleted one).
  virtual Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) = 0;
  // Matching's workflow task queues (the queue policy: sync match, backlog, sticky liveness).
  virtual WorkflowQueues& workflow_queues() = 0;
  // Ends `waiter` with an empty response after `max_wait` unless matched first.
  virtual void ArmPollTimeout(const std::shared_ptr<matching::Waiter>& waiter, Duration max_wait,
                              matching::QueueKey key) = 0;
  // An open run (an evicted one read back, the mutex released while the store reads), or
  // Temporal's NOT_FOUND; a failed read is its error. The caller holds no pointer across it.
  virtual Result<Execution*> FetchOpenRun(std::string ns_id, std::string workflow_id, std::string run_id) = 0;
  // The runs a completion's commands reach, read before its transition (the mutex released while
  // the store reads): call before taking pointers into engine state. A failed read: its error.
  virtual Status PrefetchCommandTargets(const ::temporal::api::workflowservice::v1::RespondWorkflowTaskCompletedRequest& req,
                                        const std::string& run_id) = 0;
  // The command handlers' context for one completion of `ex`, inside `txn`.
  virtual std::unique_ptr<CompletionContext> NewCompletionContext(Txn& txn, Execution& ex) = 0;
  // A run closed by a completion's command (its parent, children, queries, visibility).
  // `chain_continues`: a next run takes over the workflow id.
  virtual void OnRunClosed(Txn& txn, Execution& ex, bool chain_continues) = 0;
  // Creates the next run of a chain (continue-as-new, retry, cron) planned by a closing command.
  virtual void StartNextRun(Txn& txn, const std::string& ns_id, StartFields next) = 0;
  // Eager activity execution: starts the activities `scheduled_ids` (scheduled by this completion
  // with request_eager_execution) for the completing worker and adds their tasks to `resp`.
  virtual void StartEagerActivities(Txn& txn, Execution& ex, const std::vector<int64_t>& scheduled_ids,
                                    const std::string& identity, TimePoint now,
                                    ::temporal::api::workflowservice::v1::RespondWorkflowTaskCompletedResponse* resp) = 0;
  // Submits `txn`; `done` (may be null) once it is durable.
  virtual void Commit(Txn& txn, Done done) = 0;
};

class WorkflowTasks {
 public:
  using WorkflowPoller = EngineContext::WorkflowPoller;
  struct Limits {
    size_t max_id_length = 1000;
    // WorkflowTaskStarted's suggest_continue_as_new (EngineOptions).
    int64_t history_count_suggest_continue_as_new = 4 * 1024;
    int64_t history_size_suggest_continue_as_new = 4LL * 1024 * 1024;
    int64_t max_total_updates = 2000;
    double max_total_updates_suggest_continue_as_new_threshold = 0.9;
    // Temporal's history.workflowTaskHeartbeatTimeout (seconds).
    int64_t workflow_task_heartbeat_timeout_seconds = 30 * 60;
    // Temporal's hard history limits: a completion past them terminates the run.
    int64_t history_count_limit_error = 51200;
    int64_t history_size_limit_error = 50LL * 1024 * 1024;
  };

  WorkflowTasks(Mutex& engine_mu, EngineContext& engine, WorkflowTaskEngine& host, QueryRegistry& queries,
                UpdateRegistry& updates, Limits limits)
      : mu_(engine_mu), engine_(engine), host_(host), queries_(queries), updates_(updates), limits_(limits) {}
  WorkflowTasks(const WorkflowTasks&) = delete;
  WorkflowTasks& operator=(const WorkflowTasks&) = delete;

  // --- the RPCs. Each gets the engine's MutexLock, released before it answers (an error at once,
  // a change after its commit). ---
  // A workflow task token (INVALID_ARGUMENT for a malformed one or another kind), decoded before
  // the mutex is taken.
  static Result<state::TaskToken> DecodeToken(const std::string& token);
  // PollWorkflowTaskQueue: a task waiting on the queue (backlog) or the next one offered (sync
  // match) until `max_wait`. `waiter->finish` ends the RPC.
  void Poll(MutexLock& l, const ::temporal::api::workflowservice::v1::PollWorkflowTaskQueueRequest& req,
            const WorkflowPoller& waiter, Duration max_wait);
  // RespondWorkflowTaskCompleted with the decoded token `tok`.
  void Complete(MutexLock& l, const state::TaskToken& tok,
                const ::temporal::api::workflowservice::v1::RespondWorkflowTaskCompletedRequest& req,
                ::temporal::api::workflowservice::v1::RespondWorkflowTaskCompletedResponse* resp, Done done);
  // RespondWorkflowTaskFailed with the decoded token `tok`: WorkflowTaskFailed, then the next task.
  void Fail(MutexLock& l, const state::TaskToken& tok,
            const ::temporal::api::workflowservice::v1::RespondWorkflowTaskFailedRequest& req, Done done);
  // ResetStickyTaskQueue: the run's next task goes to its normal queue.
  void ResetSticky(MutexLock& l, const ::temporal::api::workflowservice::v1::ResetStickyTaskQueueRequest& req,
                   Done done);
  // ShutdownWorker: the tasks waiting on the worker's sticky queue move to their normal queues now.
  void ShutdownWorker(MutexLock& l, const ::temporal::api::workflowservice::v1::ShutdownWorkerRequest& req, Done done);

  // --- what the engine and the other units do with a run's workflow task ---
  // Schedules the run's next task (sticky while matching says its sticky worker looks alive) and
  // dispatches it.
  void Schedule(Txn& txn, Execution& ex);
  // Offers the scheduled task to matching (a waiting poller starts it now; else it is queued);
  // on a sticky queue it arms the schedule-to-start timeout that moves it to the normal queue.
  void Dispatch(Txn& txn, Execution& ex);
  // Starts the scheduled task for `waiter` and fills its response. `request_id`: of the
  // WorkflowTaskStarted event (empty: a new uuid). `heartbeat`: started by a heartbeat completion.
  void Start(Txn& txn, Execution& ex, const WorkflowPoller& waiter, bool from_sticky, const std::string& request_id = {},
             bool heartbeat = false);
  // Arms the started task's start-to-close timeout.
  void ArmTimers(Execution& ex);
  // The execution whose workflow task `t` still is (scheduled, unstarted, on `queue`), or null.
  Execution* LiveTask(const matching::PendingTask& t, const std::string& queue);
  // Writes WorkflowTaskFailed/TimedOut, flushes buffered events and schedules the next task
  // (unless the cause is FORCE_CLOSE_COMMAND or `terminate_after`, when the caller closes the run).
  void FailTask(Txn& txn, Execution& ex, int cause, const ::temporal::api::failure::v1::Failure* failure,
                const std::string& identity, bool timed_out, int timeout_type, bool terminate_after = false);

 private:
  // The open run whose started task `tok` is, or null (Temporal's "Workflow task not found.").
  Execution* StartedTask(const state::TaskToken& tok);
  // Sets up the pending task (attempt, queue, timeout; its Scheduled event unless transient).
  void Prepare(Txn& txn, Execution& ex, bool sticky);
  // A poller takes backlog task `t` of `key` if it is still live; false: stale, dropped.
  bool Take(Txn& txn, const matching::QueueKey& key, const matching::PendingTask& t, const WorkflowPoller& waiter);
  // return_new_workflow_task: the next task scheduled and started for the completing worker in the
  // completion's transaction and returned in `out`.
  void StartReturned(Txn& txn, Execution& ex, const std::string& identity,
                     ::temporal::api::workflowservice::v1::PollWorkflowTaskQueueResponse* out, bool heartbeat);
  // WorkflowTaskCompleted (with a transient task's Scheduled/Started first) and stickiness.
  void RecordCompleted(Execution& ex, CompletionContext& ctx,
                       const ::temporal::api::workflowservice::v1::RespondWorkflowTaskCompletedRequest& req);
  // The validated commands applied, then the close, the history limits or the next task.
  void ApplyCompletion(Txn& txn, Execution& ex, CompletionContext& ctx, const commands::CommandPlan& plan,
                       const ::temporal::api::workflowservice::v1::RespondWorkflowTaskCompletedRequest& req,
                       std::optional<TimePoint> heartbeat_chain_start,
                       ::temporal::api::workflowservice::v1::RespondWorkflowTaskCompletedResponse* resp);
  // After a completion's commands: flush, settle queries, schedule (or return) the next task.
  void AfterCompleted(Txn& txn, Execution& ex,
                      const ::temporal::api::workflowservice::v1::RespondWorkflowTaskCompletedRequest& req,
                      bool need_wft, std::optional<TimePoint> heartbeat_chain_start,
                      ::temporal::api::workflowservice::v1::RespondWorkflowTaskCompletedResponse* resp);
  void OnTimeout(const std::string& run_id, int64_t scheduled_id, int32_t attempt, int64_t started_id);
  void OnStickyScheduleToStartTimeout(const std::string& run_id, int64_t scheduled_id, int32_t attempt);
  Mutex& mu_;
  EngineContext& engine_;
  WorkflowTaskEngine& host_;
  QueryRegistry& queries_;
  UpdateRegistry& updates_;
  const Limits limits_;
};

}  // namespace temporalite::history
