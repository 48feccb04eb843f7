// A worker: polls one task queue for workflow and activity tasks and runs the registered
// workflows (on deterministic executors, replayed from history) and activities (on a thread
// pool).
//
//   auto client = Client::Connect(ClientOptions::FromEnvironment());
//   Worker worker(client, {.task_queue = "hello"});
//   worker.RegisterWorkflow("Greet", Greet);
//   worker.RegisterActivity("Hello", Hello);
//   worker.Start();  ... worker.Shutdown();
//
// Register everything before Start(). Start/Shutdown may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "temporalite/sdk/activity.h"
#include "temporalite/sdk/client.h"
#include "temporalite/sdk/workflow.h"

namespace temporalite::sdk {

namespace internal {
class WorkflowCache;
struct LocalActivityRequest;
struct LocalActivityOutcome;
struct LocalActivityNotifier;
class LocalActivityExecution;
struct LocalActivitySlots;
}  // namespace internal

struct WorkerOptions {
  std::string task_queue;  // REQUIRED
  int max_concurrent_activities = 100;
  // Also the number of workflow pollers on each queue (the normal one and the sticky one).
  int max_concurrent_workflow_tasks = 4;
  int activity_pollers = 2;
  std::string identity;  // default: the client's
  // Shutdown waits this long for running activities and local activities (those abandoned by
  // their workflow included), then cancels them (IsCancelled()) and returns: a local activity's
  // function that ignores the cancellation runs on on its own thread until it returns.
  std::chrono::milliseconds graceful_shutdown_timeout{10000};
  // Sticky cache: up to this many running workflow instances stay in memory between workflow
  // tasks (least recently used evicted first); the server then sends their next tasks to this
  // worker's sticky queue with only the new events. 0 disables it (every task replays the run).
  int max_cached_workflows = 1000;
  // How long the server keeps a task on the sticky queue before giving it to any worker.
  std::chrono::milliseconds sticky_schedule_to_start_timeout{5000};
  // Eager activity execution (as the official SDKs): an activity scheduled on this worker's task
  // queue while an activity slot is free is requested with request_eager_execution, and the
  // server hands its task back in the workflow task's completion reply (no activity poll).
  // Servers without it ignore the request and queue the task as usual.
  bool eager_activities = true;
  // The first eager activity of a completion reply runs on the workflow thread that received it,
  // once that thread has given back its workflow-task slot (no hand-off to an activity thread),
  // while enough workflow threads stay free to poll and to take an eager start (at most
  // threads - max_concurrent_workflow_tasks - 2 at once: max_concurrent_workflow_tasks >= 2 with
  // the sticky cache, >= 3 without); false: it is handed to the activity pool like the others.
  bool run_eager_activity_on_workflow_thread = true;
  // Local activities run at once by this worker (over all its workflow tasks).
  int max_concurrent_local_activities = 100;
};

// Counters of a worker's workflow-task processing (for monitoring and tests).
struct WorkerStats {
  int64_t workflow_tasks = 0;     // workflow tasks run (legacy query tasks excluded)
  int64_t sticky_hits = 0;        // tasks applied to a cached instance: only the new events
  int64_t full_replays = 0;       // tasks that replayed the run from its first event
  int64_t history_fetches = 0;    // sticky tasks not in the cache: full history fetched
  int64_t evictions = 0;          // cached instances dropped (cache full, failure, full history)
  int64_t events_applied = 0;     // history events fed to workflow instances
  int64_t cached_workflows = 0;   // instances in the cache now
  int64_t eager_tasks = 0;        // first workflow tasks handed over by eager starts
  int64_t eager_activities = 0;   // activity tasks received in workflow-task completion replies
  int64_t activity_slots_available = 0;  // activity slots free now (neither polling nor running;
                                         // Temporal's worker_task_slots_available)
};

class Worker : private EagerWorkflowExecutor {
 public:
  Worker(std::shared_ptr<Client> client, WorkerOptions options);
  ~Worker();  // shuts down
  Worker(const Worker&) = delete;

  template <class F>
  void RegisterWorkflow(const std::string& name, F fn) {
    workflows_[name] = internal::MakeWorkflowFn(fn);
  }
  void RegisterWorkflowPayloads(const std::string& name, internal::WorkflowFn fn) { workflows_[name] = std::move(fn); }
  template <class F>
  void RegisterActivity(const std::string& name, F fn) {
    activities_[name] = internal::MakeActivityFn(fn);
  }

  void Start();
  // Stops polling, finishes in-flight workflow tasks (one waiting on a local activity past the grace period
  // fails), waits for activities and local activities up to the grace period, then cancels them. Idempotent.
  void Shutdown();
  // Start(), then block until SIGINT or SIGTERM (or Shutdown() from another thread), then Shutdown().
  void RunUntilSignal();

  const WorkerOptions& options() const { return options_; }
  WorkerStats stats() const;
  // This worker's sticky task queue ("" when the cache is disabled).
  const std::string& sticky_task_queue() const { return sticky_queue_; }

 private:
  bool TryReserveEagerSlot() override;
  void ReleaseEagerSlot() override;
  void RunEagerTask(wsv1::PollWorkflowTaskQueueResponse task) override;
  // The workflow-task threads: one pool whose threads poll the normal and the sticky queue
  // (max_concurrent_workflow_tasks polls each) and run the tasks they get, and the tasks eager
  // starts hand over, all through RunWorkflowTask and the same slots.
  void WorkflowThreadLoop();
  // With `l` held: waits for a slot for a polled task, running eager tasks handed over meanwhile.
  void WaitForSlotRunningEagerTasks(std::unique_lock<std::mutex>& l);
  bool PollWorkflowTask(bool sticky, wsv1::PollWorkflowTaskQueueResponse* resp, std::chrono::milliseconds* backoff);
  void RunWorkflowTask(wsv1::PollWorkflowTaskQueueResponse& task, bool eager,
                       wsv1::PollActivityTaskQueueResponse* keep);
  std::vector<HistoryEvent> FullHistory(const wsv1::PollWorkflowTaskQueueResponse& task);
  bool PollActivityTask(wsv1::PollActivityTaskQueueResponse* resp, std::chrono::milliseconds* backoff);
  void ActivityThreadLoop();
  // What a waiting activity-pool thread waits for, act_mu_ held (worker.cc).
  bool PoolThreadHasWork() const;
  // Runs a workflow task. An eager activity its completion brought may be left in `keep` for the
  // calling thread to run once it has given back its workflow-task slot (RunKeptActivity).
  void HandleWorkflowTask(wsv1::PollWorkflowTaskQueueResponse& task, wsv1::PollActivityTaskQueueResponse* keep);
  void RunKeptActivity(wsv1::PollActivityTaskQueueResponse& task);
  void AnswerLegacyQuery(const wsv1::PollWorkflowTaskQueueResponse& task, const std::vector<HistoryEvent>& events,
                         const internal::WorkflowFn* fn);
  void FailWorkflowTask(const wsv1::PollWorkflowTaskQueueResponse& task,
                        temporal::api::enums::v1::WorkflowTaskFailedCause cause, const std::string& error,
                        const std::string& error_type);
  void RunActivity(wsv1::PollActivityTaskQueueResponse& task);
  int ReserveEagerActivities(wsv1::RespondWorkflowTaskCompletedRequest* req);
  void TakeEagerActivities(wsv1::RespondWorkflowTaskCompletedResponse* resp, int reserved,
                           wsv1::PollActivityTaskQueueResponse* keep);
  // Local activities (worker_local_activities.cc): each attempt on a thread of its own, at most
  // max_concurrent_local_activities at once; none of them holds a workflow-task thread once its
  // workflow stops waiting for it.
  std::shared_ptr<internal::LocalActivityExecution> StartLocalActivity(
      internal::LocalActivityRequest request, std::shared_ptr<internal::LocalActivityNotifier> notifier);
  // Shutdown: waits until `deadline` for the running local-activity attempts, then cancels them.
  void StopLocalActivities(std::chrono::steady_clock::time_point deadline);
  // Shutdown, once the grace period is over: the workflow tasks still waiting on local
  // activities stop waiting and fail; the attempts (and waits for a slot) are cancelled.
  void AbandonLocalActivities();
  // Shutdown: waits until `deadline` for the workflow tasks in flight; false if some still run.
  bool WaitForWorkflowTasks(std::chrono::steady_clock::time_point deadline);

  std::shared_ptr<Client> client_;
  WorkerOptions options_;
  std::map<std::string, internal::WorkflowFn> workflows_;
  std::map<std::string, internal::ActivityFn> activities_;

  std::unique_ptr<internal::WorkflowCache> cache_;
  std::string sticky_queue_;
  // Workflow tasks run at once (polled and eager ones share max_concurrent_workflow_tasks slots).
  std::mutex wft_mu_;
  std::condition_variable wft_cv_;    // a slot came free, a thread ended
  std::condition_variable idle_cv_;   // work for an idle workflow thread: an eager task, a poll, the stop
  int wft_free_ = 0;
  int wft_loops_ = 0;                 // workflow threads not yet ended
  int wft_polling_[2] = {0, 0};       // threads polling the normal, the sticky queue
  // Eager starts: slots reserved by this client's Start calls, and the tasks they handed over
  // (waiting for an idle workflow thread).
  int eager_reserved_ = 0;
  std::deque<wsv1::PollWorkflowTaskQueueResponse> eager_tasks_;
  std::atomic<int64_t> n_tasks_{0}, n_hits_{0}, n_full_{0}, n_fetches_{0}, n_evictions_{0}, n_events_{0}, n_eager_{0},
      n_eager_activities_{0};

  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::vector<std::thread> threads_;
  std::mutex poll_mu_;
  std::set<grpc::ClientContext*> polls_;  // in-flight long polls, cancelled on shutdown

  // Activity pool: max_concurrent_activities threads; up to activity_pollers of them poll at a
  // time, each holding a slot, and run the task they get. Eager tasks wait in act_queue_ with
  // the slot reserved for them.
  mutable std::mutex act_mu_;
  std::condition_variable act_cv_;       // work for a pool thread: a queued task, a poll to take up, the stop
  std::condition_variable act_idle_cv_;  // while stopping: a task or a poll ended
  int free_slots_ = 0;
  int act_polling_ = 0;  // pool threads in a poll
  int act_active_ = 0;   // pool threads running a task, and workflow threads running a kept one
  // Eager activities run by the workflow thread that received them: at most kept_max_ at once
  // (the workflow threads less max_concurrent_workflow_tasks less 2), so that with every slot
  // taken a thread is still free to poll and one to take an eager start.
  int kept_running_ = 0;
  int kept_max_ = 0;
  std::vector<wsv1::PollActivityTaskQueueResponse> act_queue_;
  std::set<ActivityContext*> running_;
  std::vector<std::thread> act_threads_;
  bool pool_stop_ = false;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;
  std::shared_ptr<internal::LocalActivitySlots> la_;  // shared with the attempts' threads
};

}  // namespace temporalite::sdk
