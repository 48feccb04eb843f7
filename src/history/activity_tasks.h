// The activity RPC family as a unit of its own over a narrow interface (the model: Temporal's
// service/history/api/recordactivitytaskstarted, respondactivitytaskcompleted/failed/canceled,
// recordactivitytaskheartbeat and their by-id variants in the frontend, with the activity timer
// and retry logic of workflow/activity.go and timer_queue_active_task_executor.go):
// - dispatch: an activity attempt offered to matching (sync match to a waiting poller, else the
//   backlog), a poll taking the first live backlog task, eager activities started for the worker
//   that completed the workflow task;
// - start: ActivityTaskStarted is written lazily, right before the attempt's close event
//   (protocol-notes §4); the task's token and fields go into the poll's response;
// - the worker's answers by token or by id: completed, failed (a retry per the retry policy, or
//   the final failure), canceled (only after a cancel request), heartbeats (which report the
//   cancel request back);
// - the four timeouts (schedule-to-start, schedule-to-close, start-to-close, heartbeat) and the
//   retry backoff, armed on the engine's timers and re-checked against the run's state when they
//   fire. Retries live in the run's state only (no event until the final attempt).
// The engine owns one (guarded by its mutex), keeps the activity task queues (DescribeTaskQueue
// reads them) and the thin RPC entry points (activity_engine.cc) that take the mutex and call here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/execution.h"
#include "history/state.pb.h"
#include "history/txn.h"
#include "matching/task_queues.h"
#include "temporal/api/failure/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

// What ActivityTasks sees of the engine besides EngineContext. Under the engine mutex.
class ActivityEngine {
 public:
  using Queues = matching::TaskQueues<::temporal::api::workflowservice::v1::PollActivityTaskQueueResponse>;
  virtual ~ActivityEngine() = default;
  // Matching's activity task queues (the engine's: DescribeTaskQueue and the poll expiry read them).
  virtual Queues& ActivityQueues() = 0;
  // A namespace that takes requests, by name (Temporal's errors for a missing or deleted one).
  virtual Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) = 0;
  // The open run (the current run when `run_id` is empty): from memory, an evicted one read back
  // with the engine mutex released (the caller holds no pointer into engine state across it).
  virtual Result<Execution*> FetchOpenRun(std::string ns_id, std::string workflow_id, std::string run_id) = 0;
  // A waiting poll's long-poll timeout: after `max_wait` it leaves `key`'s pollers, answered empty.
  virtual void ArmPollTimeout(const std::shared_ptr<matching::Waiter>& waiter, Duration max_wait,
                              matching::QueueKey key) = 0;
  // Submits `txn`; `done` once it is durable (null: nobody waits).
  virtual void Commit(Txn& txn, Done done) = 0;
};

class ActivityTasks {
 public:
  using Poller = std::shared_ptr<matching::PollWaiter<::temporal::api::workflowservice::v1::PollActivityTaskQueueResponse>>;
  struct Limits {
    size_t max_id_length = 1000;
    size_t blob_size_limit_error = 2 * 1024 * 1024;
    size_t blob_size_limit_warn = 512 * 1024;
  };
  // Temporal's ErrActivityTaskNotFound, and the by-id variant's answer for an unknown activity id.
  static constexpr char kTaskNotFound[] =
      "invalid activityID or activity already timed out or invoking workflow is completed";
  static constexpr char kByIdNotFound[] = "activity task not found";

  // `engine_mu`: the mutex of the engine that holds the unit; every call is made with it held, but
  // for the timers, which take it.
  ActivityTasks(Mutex& engine_mu, EngineContext& engine, ActivityEngine& host, Limits limits)
      : mu_(engine_mu), engine_(engine), host_(host), limits_(limits) {}
  ActivityTasks(const ActivityTasks&) = delete;
  ActivityTasks& operator=(const ActivityTasks&) = delete;

  // --- the RPCs, with the engine mutex held by `l`; released before an immediate answer ---
  // PollActivityTaskQueue: the first live backlog task, started in a transaction of its own and
  // answered after its commit; else the poll waits (its long-poll timeout armed).
  void Poll(MutexLock& l, const ::temporal::api::workflowservice::v1::PollActivityTaskQueueRequest& req, Poller waiter,
            Duration max_wait);
  void Complete(MutexLock& l, const ::temporal::api::workflowservice::v1::RespondActivityTaskCompletedRequest& req,
                Done done);
  void Complete(MutexLock& l, const ::temporal::api::workflowservice::v1::RespondActivityTaskCompletedByIdRequest& req,
                Done done);
  void Fail(MutexLock& l, const ::temporal::api::workflowservice::v1::RespondActivityTaskFailedRequest& req, Done done);
  void Fail(MutexLock& l, const ::temporal::api::workflowservice::v1::RespondActivityTaskFailedByIdRequest& req,
            Done done);
  void Cancel(MutexLock& l, const ::temporal::api::workflowservice::v1::RespondActivityTaskCanceledRequest& req,
              Done done);
  void Cancel(MutexLock& l, const ::temporal::api::workflowservice::v1::RespondActivityTaskCanceledByIdRequest& req,
              Done done);
  // RecordActivityTaskHeartbeat[ById]: `resp->cancel_requested` is set before `done` runs.
  void Heartbeat(MutexLock& l, const ::temporal::api::workflowservice::v1::RecordActivityTaskHeartbeatRequest& req,
                 ::temporal::api::workflowservice::v1::RecordActivityTaskHeartbeatResponse* resp, Done done);
  void Heartbeat(MutexLock& l, const ::temporal::api::workflowservice::v1::RecordActivityTaskHeartbeatByIdRequest& req,
                 ::temporal::api::workflowservice::v1::RecordActivityTaskHeartbeatByIdResponse* resp, Done done);

  // --- what the engine's other transitions use ---
  // (`ai` below is `ex`'s own pending entry, from FindActivity: the unit reads it and writes it
  // only through `ex`'s transitions.)
  // The attempt of pending activity `ai` of `ex` is offered to matching: a waiting poller takes it
  // in `txn` (sync match), else it joins the backlog.
  void Dispatch(Txn& txn, Execution& ex, const state::ActivityInfo& ai);
  // Arms the timer of the attempt's next deadline (a timeout, or a retry's backoff).
  void ArmTimers(Execution& ex, const state::ActivityInfo& ai);
  // Recovery and reset: every pending activity of `ex` gets its timers; those due now (`all`: every
  // one) are dispatched.
  void ResumeAll(Txn& txn, Execution& ex, bool all);
  // Eager activity execution: starts the still-pending activities of `scheduled_ids` (scheduled
  // by this completion with request_eager_execution, never queued) for the completing worker and
  // adds their tasks to `resp`; the commit that follows makes them durable before the reply.
  void StartEager(Txn& txn, Execution& ex, const std::vector<int64_t>& scheduled_ids, const std::string& identity,
                  TimePoint now, ::temporal::api::workflowservice::v1::RespondWorkflowTaskCompletedResponse* resp);
  // The activity attempt `t` still is (scheduled, unstarted) and its run, or nulls.
  std::pair<Execution*, const state::ActivityInfo*> LiveTask(const matching::PendingTask& t);

 private:
  using Target = Result<std::pair<Execution*, const state::ActivityInfo*>>;
  void Start(Txn& txn, Execution& ex, const state::ActivityInfo& ai, const Poller& waiter, TimePoint now);
  void OnTimer(const std::string& run_id, int64_t scheduled_id, int32_t attempt);
  // Records a final or retryable failure/timeout. Returns true if the activity will retry.
  bool FailAttempt(Txn& txn, Execution& ex, const state::ActivityInfo& ai,
                   const ::temporal::api::failure::v1::Failure& failure, bool is_timeout, int timeout_type,
                   const std::string& identity);
  // The final failure or timeout's events: [ActivityTaskStarted] + Failed / TimedOut.
  void RecordFinalFailure(Execution& ex, const state::ActivityInfo& ai,
                          const ::temporal::api::failure::v1::Failure& failure, bool is_timeout, int timeout_type,
                          ::temporal::api::enums::v1::RetryState retry_state, const std::string& identity);
  void Close(Txn& txn, Execution& ex, const state::ActivityInfo& ai);
  // Starts (by id) an attempt nobody polled, once the by-id call is accepted.
  void EnsureStartedById(Execution& ex, const state::ActivityInfo& ai, const std::string& identity);
  Target ByToken(const std::string& token);
  Target ById(const std::string& ns, const std::string& wid, const std::string& rid, const std::string& activity_id);
  // Each answers `done` itself (an immediate error, or after the commit).
  void CompleteTarget(Target target, const ::temporal::api::common::v1::Payloads* result, const std::string& identity,
                      Done done);
  void FailTarget(Target target, const ::temporal::api::failure::v1::Failure& failure,
                  const ::temporal::api::common::v1::Payloads* details, const std::string& identity, Done done);
  void CancelTarget(Target target, const ::temporal::api::common::v1::Payloads* details, const std::string& identity,
                    Done done);
  // `set_cancel_requested` runs before the commit (`done` may run at once).
  void HeartbeatTarget(Target target, const ::temporal::api::common::v1::Payloads* details,
                       const std::function<void(bool)>& set_cancel_requested, Done done);

  Mutex& mu_;
  EngineContext& engine_;
  ActivityEngine& host_;
  const Limits limits_;
};

}  // namespace temporalite::history
