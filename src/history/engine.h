// The history engine: per-execution mutable state plus append-only history, and the matching
// and timer plumbing it drives. Every input is one state transition:
//   lock -> load (memory) -> mutate in memory (events, state, dispatch decisions)
//        -> submit one WriteBatch to the store -> unlock -> (writer thread, or the RPC's own
//        thread for an inline commit: persistence/inline_commit.h) durable -> reply.
// Replies and task deliveries happen only after the batch is durable, so nothing acknowledged is
// ever lost. Batches are submitted under the engine mutex, so the store commits them in exactly
// the order the in-memory state evolved (the store groups them into few fsyncs).
//
// Open executions live in memory with their events; closed ones are read back from the store.
// Timeouts, retries and user timers go through the injected TimerService and are re-validated
// against mutable state when they fire.
//
// Thread-safety: all public methods are thread-safe. `done` callbacks run on the store's writer
// thread (or the calling thread for immediate errors) and must be quick.
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/cancel_hook.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/timer_service.h"
#include "history/activity_tasks.h"
#include "history/batch_operations.h"
#include "history/children.h"
#include "history/close_workflow.h"
#include "history/engine_context.h"
#include "history/engine_store.h"
#include "history/external.h"
#include "history/history_pages.h"
#include "history/namespace_deletion.h"
#include "history/namespaces.h"
#include "history/query_registry.h"
#include "history/reply_now.h"
#include "history/reset_workflow.h"
#include "history/run_cache.h"
#include "history/signal_workflow.h"
#include "history/start_workflow.h"
#include "history/state.pb.h"
#include "history/txn.h"
#include "history/update_registry.h"
#include "history/update_with_start.h"
#include "history/workflow_tasks.h"
#include "history/workflow_timers.h"
#include "history/workflow_visibility.h"
#include "matching/task_queues.h"
#include "persistence/store.h"
#include "temporal/api/command/v1/message.pb.h"
#include "temporal/api/protocol/v1/message.pb.h"
#include "temporal/api/query/v1/message.pb.h"
#include "temporal/api/sdk/v1/user_metadata.pb.h"
#include "temporal/api/update/v1/message.pb.h"
#include "temporal/api/operatorservice/v1/request_response.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"
#include "visibility/query.h"
#include "visibility/search_attributes.h"

namespace temporalite::history {

namespace wsv1 = ::temporal::api::workflowservice::v1;

struct EngineOptions {
  Duration default_workflow_task_timeout = std::chrono::seconds(10);
  Duration max_workflow_task_timeout = std::chrono::seconds(120);
  Duration sticky_fallback = std::chrono::seconds(10);
  // A query for a run whose task queue has had no poller for this long fails at once with
  // FAILED_PRECONDITION (Temporal's matching.queryPollerUnavailableWindow).
  Duration query_poller_unavailable_window = std::chrono::seconds(20);
  // Temporal's history.workflowIdReuseMinimalInterval / enableWorkflowIdReuseStartTimeValidation
  // (start_workflow.h, IdReuseInterval): off unless the validation is on, as in Temporal.
  Duration workflow_id_reuse_minimal_interval = std::chrono::seconds(1);
  bool workflow_id_reuse_start_time_validation = false;
  Duration default_retention = std::chrono::hours(24);
  size_t max_id_length = 1000;
  size_t blob_size_limit_error = 2 * 1024 * 1024;
  size_t blob_size_limit_warn = 512 * 1024;
  int64_t history_count_limit_error = 51200;
  int64_t history_size_limit_error = 50LL * 1024 * 1024;
  // WorkflowTaskStarted suggests continue-as-new from these (Temporal's dynamic config
  // limit.historyCount/historySize.suggestContinueAsNew; server --dynamic-config-value).
  int64_t history_count_suggest_continue_as_new = 4 * 1024;
  int64_t history_size_suggest_continue_as_new = 4LL * 1024 * 1024;
  // Temporal's history.maxInFlightUpdates / history.maxTotalUpdates (0: no limit).
  int64_t max_in_flight_updates = 10;
  int64_t max_total_updates = 2000;
  // Temporal's history.maxTotalUpdates.suggestContinueAsNewThreshold: WorkflowTaskStarted suggests
  // continue-as-new (reason TOO_MANY_UPDATES) once the run's distinct updates reach
  // ceil(max_total_updates * this); 0 turns the suggestion off.
  double max_total_updates_suggest_continue_as_new_threshold = 0.9;
  // Temporal's system.enableActivityEagerExecution: a ScheduleActivityTask command with
  // request_eager_execution is started in the completion's own transaction and its task returned
  // in the RespondWorkflowTaskCompleted reply. Temporal's default is off; on here.
  bool enable_activity_eager_execution = true;
  // Temporal's history.workflowTaskHeartbeatTimeout (seconds): how long a run may keep its
  // workflow task alive with heartbeats alone (completions with force_create_new_workflow_task
  // and no commands, as SDKs send while local activities run) before the task is timed out.
  int64_t workflow_task_heartbeat_timeout_seconds = 30 * 60;
  // Temporal's history.maxInFlightUpdatePayloads: bytes of in-flight update requests (0: no limit).
  int64_t max_in_flight_update_payloads = 20LL * 1024 * 1024;
  size_t pending_activities_limit = 2000;
  size_t pending_children_limit = 2000;
  size_t pending_signals_limit = 2000;          // external signals initiated, not yet resolved
  size_t pending_request_cancels_limit = 2000;  // external cancel requests initiated, not yet resolved
  Duration history_long_poll = std::chrono::seconds(20);
  std::vector<std::string> extra_namespaces;  // created at start (server --namespace)
  // Custom search attributes registered in `default` and the extra namespaces at start
  // (server --search-attribute), if not there yet.
  visibility::TypeMap startup_search_attributes;
  // Retention: how often closed runs past their namespace's retention are looked for, and how
  // many runs one transaction deletes (small, so writers never wait long).
  Duration retention_sweep_interval = std::chrono::minutes(1);
  int64_t retention_batch = 100;
  int64_t visibility_max_page_size = 1000;
  // Idle open runs (no workflow task, activity, buffered event, query or update in flight) leave
  // memory once durable and are read back from the store when something needs them (run_cache.h).
  bool evict_idle_runs = true;
  // How long a close's deferred step (deferred_steps.cc) waits after the close's commit before it
  // runs (0: at once, on the timer thread). Tests only (a window for a crash before the step).
  Duration deferred_step_delay{0};
};

struct Execution;            // history/execution.h
class EngineCommandContext;  // history/engine_command_context.h

class Engine : private EngineMutexAndStore,
               private ActivityEngine,
               private EngineContext,
               private BatchEngine,
               private CloseEngine,
               private NamespaceDeletionEngine,
               private ResetEngine,
               private SignalEngine,
               private StartEngine,
               private NamespacesEngine,
               private TimerEngine,
               private VisibilityEngine,
               private WorkflowTaskEngine {
 public:
  // A waiting RPC and its response message (matching/task_queues.h); the frontend creates it.
  template <typename Resp>
  using Waiting = std::shared_ptr<matching::PollWaiter<Resp>>;
  using WorkflowPoller = Waiting<wsv1::PollWorkflowTaskQueueResponse>;
  using ActivityPoller = Waiting<wsv1::PollActivityTaskQueueResponse>;

  Engine(persistence::Store& store, const Clock& clock, TimerService& timers, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Loads namespaces (creating `default` and the extra ones) and every open execution, then
  // re-arms timers and re-queues scheduled tasks. Call once before serving.
  Status Recover();

  // Namespaces (the Namespaces unit, namespaces.h; entry points in namespace_engine.cc).
  void RegisterNamespace(const wsv1::RegisterNamespaceRequest& req, Done done);
  void DescribeNamespace(const wsv1::DescribeNamespaceRequest& req, wsv1::DescribeNamespaceResponse* resp, Done done);
  void ListNamespaces(const wsv1::ListNamespacesRequest& req, wsv1::ListNamespacesResponse* resp, Done done);
  void UpdateNamespace(const wsv1::UpdateNamespaceRequest& req, wsv1::UpdateNamespaceResponse* resp, Done done);

  // Workflow lifecycle.
  void StartWorkflowExecution(const wsv1::StartWorkflowExecutionRequest& req,
                              wsv1::StartWorkflowExecutionResponse* resp, Done done);
  void SignalWithStartWorkflowExecution(const wsv1::SignalWithStartWorkflowExecutionRequest& req,
                                        wsv1::SignalWithStartWorkflowExecutionResponse* resp, Done done);
  // These four are also what a batch job applies to its targets (BatchEngine).
  void TerminateWorkflowExecution(const wsv1::TerminateWorkflowExecutionRequest& req, Done done) override;
  void DeleteWorkflowExecution(const wsv1::DeleteWorkflowExecutionRequest& req, Done done) override;
  void RequestCancelWorkflowExecution(const wsv1::RequestCancelWorkflowExecutionRequest& req, Done done) override;
  void SignalWorkflowExecution(const wsv1::SignalWorkflowExecutionRequest& req, Done done) override;
  // A new run from a prefix of a run's history (the ResetWorkflow unit, reset_workflow.h; entry
  // point in reset.cc); `resp->run_id()` is the new run.
  void ResetWorkflowExecution(const wsv1::ResetWorkflowExecutionRequest& req, wsv1::ResetWorkflowExecutionResponse* resp,
                              Done done);
  void DescribeWorkflowExecution(const wsv1::DescribeWorkflowExecutionRequest& req,
                                 wsv1::DescribeWorkflowExecutionResponse* resp, Done done);
  // `cancel` (optional): Cancel() ends a waiting long poll (wait_new_event) at once with CANCELLED
  // and drops its waiter, as when the client leaves; without it a poll waits for its deadline.
  void GetWorkflowExecutionHistory(const wsv1::GetWorkflowExecutionHistoryRequest& req,
                                   wsv1::GetWorkflowExecutionHistoryResponse* resp, Done done,
                                   std::shared_ptr<CancelHook> cancel = nullptr);
  // History long polls registered for a run's next commit now (a gauge; tests).
  size_t HistoryWaiterCount();
  void GetWorkflowExecutionHistoryReverse(const wsv1::GetWorkflowExecutionHistoryReverseRequest& req,
                                          wsv1::GetWorkflowExecutionHistoryReverseResponse* resp, Done done);

  // Visibility (the WorkflowVisibility unit, workflow_visibility.h; entry points in visibility.cc).
  // Queries use Temporal's list-filter language.
  void ListWorkflowExecutions(const wsv1::ListWorkflowExecutionsRequest& req,
                              wsv1::ListWorkflowExecutionsResponse* resp, Done done);
  void ScanWorkflowExecutions(const wsv1::ScanWorkflowExecutionsRequest& req,
                              wsv1::ScanWorkflowExecutionsResponse* resp, Done done);
  void CountWorkflowExecutions(const wsv1::CountWorkflowExecutionsRequest& req,
                               wsv1::CountWorkflowExecutionsResponse* resp, Done done);
  void ListOpenWorkflowExecutions(const wsv1::ListOpenWorkflowExecutionsRequest& req,
                                  wsv1::ListOpenWorkflowExecutionsResponse* resp, Done done);
  void ListClosedWorkflowExecutions(const wsv1::ListClosedWorkflowExecutionsRequest& req,
                                    wsv1::ListClosedWorkflowExecutionsResponse* resp, Done done);
  // Custom search attribute types of a namespace (empty if it does not exist); schedule_typing.
  visibility::TypeMap SearchAttributeTypes(const std::string& ns);
  void GetSearchAttributes(const wsv1::GetSearchAttributesRequest& req, wsv1::GetSearchAttributesResponse* resp,
                           Done done);
  // OperatorService search attributes (namespace-scoped, as Temporal does for SQL visibility).
  void AddSearchAttributes(const ::temporal::api::operatorservice::v1::AddSearchAttributesRequest& req, Done done);
  void RemoveSearchAttributes(const ::temporal::api::operatorservice::v1::RemoveSearchAttributesRequest& req, Done done);
  void ListSearchAttributes(const ::temporal::api::operatorservice::v1::ListSearchAttributesRequest& req,
                            ::temporal::api::operatorservice::v1::ListSearchAttributesResponse* resp, Done done);

  // OperatorService DeleteNamespace (the NamespaceDeletion unit, namespace_deletion.h): rename +
  // mark Deleted now, delete its workflows and then the namespace in the background.
  void DeleteNamespace(const ::temporal::api::operatorservice::v1::DeleteNamespaceRequest& req,
                       ::temporal::api::operatorservice::v1::DeleteNamespaceResponse* resp, Done done);

  // Batch operations (the BatchOperations unit, batch_operations.h): terminate/cancel/signal/
  // delete/reset by query or list, in the background at max_operations_per_second; jobs live in
  // their namespace's record.
  void StartBatchOperation(const wsv1::StartBatchOperationRequest& req, wsv1::StartBatchOperationResponse* resp,
                           Done done);
  void StopBatchOperation(const wsv1::StopBatchOperationRequest& req, wsv1::StopBatchOperationResponse* resp, Done done);
  void DescribeBatchOperation(const wsv1::DescribeBatchOperationRequest& req, wsv1::DescribeBatchOperationResponse* resp,
                              Done done);
  void ListBatchOperations(const wsv1::ListBatchOperationsRequest& req, wsv1::ListBatchOperationsResponse* resp,
                           Done done);

  // Retention: arms a TimerService timer that deletes closed runs older than their namespace's
  // retention, `retention_batch` runs per transaction. Call once after Recover().
  void StartRetention();
  // One sweep step: deletes up to `retention_batch` expired runs per namespace. `done` gets the
  // number of runs deleted once durable. Public for tests.
  void RetentionSweep(std::function<void(int64_t deleted)> done);

  // Workflow tasks (the WorkflowTasks unit, workflow_tasks.h; entry points in workflow_task_engine.cc).
  // `max_wait` bounds the long poll (the frontend derives it from the deadline).
  void PollWorkflowTaskQueue(const wsv1::PollWorkflowTaskQueueRequest& req, WorkflowPoller waiter, Duration max_wait);
  void RespondWorkflowTaskCompleted(const wsv1::RespondWorkflowTaskCompletedRequest& req,
                                    wsv1::RespondWorkflowTaskCompletedResponse* resp, Done done);
  void RespondWorkflowTaskFailed(const wsv1::RespondWorkflowTaskFailedRequest& req, Done done);
  void ResetStickyTaskQueue(const wsv1::ResetStickyTaskQueueRequest& req, Done done);
  void ShutdownWorker(const wsv1::ShutdownWorkerRequest& req, Done done);
  // Recent pollers (last 5 minutes) and backlog statistics of one task queue type.
  void DescribeTaskQueue(const wsv1::DescribeTaskQueueRequest& req, wsv1::DescribeTaskQueueResponse* resp,
                         Done done);

  // Activities.
  void PollActivityTaskQueue(const wsv1::PollActivityTaskQueueRequest& req, ActivityPoller waiter, Duration max_wait);
  void RespondActivityTaskCompleted(const wsv1::RespondActivityTaskCompletedRequest& req, Done done);
  void RespondActivityTaskCompletedById(const wsv1::RespondActivityTaskCompletedByIdRequest& req, Done done);
  void RespondActivityTaskFailed(const wsv1::RespondActivityTaskFailedRequest& req, Done done);
  void RespondActivityTaskFailedById(const wsv1::RespondActivityTaskFailedByIdRequest& req, Done done);
  void RespondActivityTaskCanceled(const wsv1::RespondActivityTaskCanceledRequest& req, Done done);
  void RespondActivityTaskCanceledById(const wsv1::RespondActivityTaskCanceledByIdRequest& req, Done done);
  void RecordActivityTaskHeartbeat(const wsv1::RecordActivityTaskHeartbeatRequest& req,
                                   wsv1::RecordActivityTaskHeartbeatResponse* resp, Done done);
  void RecordActivityTaskHeartbeatById(const wsv1::RecordActivityTaskHeartbeatByIdRequest& req,
                                       wsv1::RecordActivityTaskHeartbeatByIdResponse* resp, Done done);

  // Queries. `waiter->finish` ends the RPC.
  void QueryWorkflow(const wsv1::QueryWorkflowRequest& req, Waiting<wsv1::QueryWorkflowResponse> waiter);
  void RespondQueryTaskCompleted(const wsv1::RespondQueryTaskCompletedRequest& req, Done done);

  // Updates (update.cc).
  void UpdateWorkflowExecution(const wsv1::UpdateWorkflowExecutionRequest& req,
                               Waiting<wsv1::UpdateWorkflowExecutionResponse> waiter);
  void PollWorkflowExecutionUpdate(const wsv1::PollWorkflowExecutionUpdateRequest& req,
                                   Waiting<wsv1::PollWorkflowExecutionUpdateResponse> waiter);
  // Update-with-start: operations [StartWorkflow, UpdateWorkflow].
  void ExecuteMultiOperation(const wsv1::ExecuteMultiOperationRequest& req,
                             Waiting<wsv1::ExecuteMultiOperationResponse> waiter);

  // Ends a waiting poll (or query) whose RPC was cancelled. No-op if it already completed.
  void CancelPoll(const std::shared_ptr<matching::Waiter>& waiter);

  const EngineOptions& options() const { return options_; }

  // Open runs held in memory and open runs evicted to the store (run_cache.h); for tests and
  // benchmarks of memory per open workflow.
  struct RunCounts {
    size_t in_memory = 0;
    size_t evicted = 0;
    size_t events_in_memory = 0;
    // Lookups inside a transition that named a run evicted from memory since the engine started
    // (RunCache::evicted_lookups): none is expected, as RPCs and timers bring such runs back
    // before, with the mutex released; the run cache never reads the store under the mutex.
    uint64_t evicted_lookups = 0;
  };
  RunCounts CountRuns();

  // Next fire time of a cron string strictly after `after` (TimePoint::max() if none). Injected
  // by the composition root from the scheduler library; without it cron starts are refused.
  using CronNext = std::function<TimePoint(const std::string& cron, TimePoint after)>;
  void set_cron_next(CronNext fn) { cron_next_ = std::move(fn); }

  // A run closed. `chain_continues`: a retry, cron or continue-as-new run took over the workflow
  // id (the workflow as a whole is still running).
  struct RunClosed {
    std::string namespace_id;
    std::string workflow_id;
    std::string run_id;
    temporal::api::enums::v1::WorkflowExecutionStatus status;
    bool chain_continues = false;
    std::string failure_message;  // FAILED: the failure's message
    // Only for runs started by a Schedule (search attribute TemporalScheduledById), whose
    // scheduler passes them to the next run: the result (COMPLETED) or failure (FAILED).
    std::shared_ptr<const temporal::api::common::v1::Payloads> result;
    std::shared_ptr<const temporal::api::failure::v1::Failure> failure;
    std::string namespace_name;  // for metrics labels
    std::string workflow_type;
  };
  // Told about every close once it is durable, on the committing thread (the store's writer or an
  // RPC thread's inline commit) and without the
  // engine mutex; must be quick and must not call back into the engine synchronously (the
  // scheduler hands it to its own queue). Set once, before Recover.
  using RunClosedListener = std::function<void(const RunClosed&)>;
  // Open workflow executions now (for the open-workflows gauge; takes the engine mutex briefly).
  size_t OpenWorkflowCount();
  // Normal (not sticky) task queues now, for gauges: queued tasks (approximate: entries not yet
  // validated against mutable state) and polls waiting.
  struct TaskQueueGauge {
    std::string namespace_name;
    std::string name;
    bool activity = false;
    size_t backlog = 0;
    size_t waiting_polls = 0;
  };
  std::vector<TaskQueueGauge> TaskQueueGauges();
  void set_run_closed_listener(RunClosedListener fn) { run_closed_listener_ = std::move(fn); }

  // The id of namespace `name`, or Temporal's namespace-not-found error.
  Result<std::string> NamespaceIdOf(const std::string& name);

 private:
  // The workflow-task command handlers (history/commands/) reach the engine only through it.
  friend class EngineCommandContext;

  // One transition's writes and the replies that wait for them (txn.h).
  using Txn = history::Txn;

  // EngineContext (engine_context.h): what the RPC-family units (update_registry.h,
  // query_registry.h, children.h, external.h) see of the engine. Called under mu_ (the units are
  // members guarded by it).
  TimePoint Now() const override { return clock_.Now(); }
  TimerService& timers() override { return timers_; }
  void ScheduleWorkflowTask(Txn& txn, Execution& ex) override;
  void ReplyWhenDurable(Done done, Status reply) override;
  Execution* LoadedRun(const std::string& run_id) override;
  QueryTaskOffer OfferQueryTask(const Execution& ex, const std::string& query_id) override;  // query.cc
  // For children_ and external_ (engine_context_children.cc; DeliverSignal in signal.cc: the
  // signal unit's, signal_workflow.h).
  std::string NamespaceName(const std::string& ns_id) override;
  std::string NamespaceId(const std::string& name) override;
  Execution* FindRun(const std::string& run_id) override;
  Execution* OpenRunOf(const std::string& ns_id, const std::string& workflow_id) override;
  bool RunEvicted(const std::string& run_id) override;
  std::string OpenRunIdOf(const std::string& ns_id, const std::string& workflow_id) override;
  void DeferStep(Txn& txn, state::PendingStep step) override;  // deferred_steps.cc
  TimePoint NextCronTime(const std::string& cron, TimePoint after) override;
  Execution* StartChildRun(Txn& txn, const std::string& ns_id, ChildStart start) override;
  void TerminateRun(Txn& txn, Execution& ex, const std::string& reason, const std::string& identity) override;
  Result<Execution*> OpenRun(const std::string& ns_id, const std::string& workflow_id, const std::string& run_id) override;
  Result<std::shared_ptr<Execution>> AnyRun(const std::string& ns_id, const std::string& workflow_id,
                                            const std::string& run_id) override;
  Status DeliverSignal(Txn& txn, Execution& target, const std::string& name, const temporal::api::common::v1::Payloads& input,
                       const temporal::api::common::v1::Header& header, const std::string& identity,
                       const std::string& request_id, const temporal::api::common::v1::WorkflowExecution* external,
                       bool* duplicate) override;

  // BatchEngine (batch_operations.h; batch.cc), NamespaceDeletionEngine (namespace_deletion.h;
  // namespace_delete.cc), SignalEngine (signal_workflow.h: NamespaceByName, Commit, FetchRun) and
  // ResetEngine (reset_workflow.h: those three and AddResetRun, ResumePendingWork in reset.cc):
  // what the batch, namespace-deletion, signal and reset units see of the engine besides
  // EngineContext (and the public calls a batch job applies). Those up to Commit are called under
  // mu_ (the units are members guarded by it, or take it in their timers); the store reads below
  // without it.
  Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) override;
  state::NamespaceRecord* NamespaceById(const std::string& ns_id) override;
  state::NamespaceRecord* NamespaceNamed(const std::string& name) override;
  visibility::TypeMap CustomSearchAttributes(const std::string& ns_id) override;
  void ReplaceNamespace(const std::string& old_name, state::NamespaceRecord rec) override;
  void EraseNamespace(const std::string& ns_id) override;
  bool NamespaceRunsInMemory(const std::string& ns_id, size_t limit, std::vector<std::string>* open) override;
  uint64_t ClosedRunsLeftMemory() override;
  bool TerminateRun(Txn& txn, const std::string& run_id, const std::string& reason,
                    const std::string& identity) override;
  void Commit(Txn& txn, Done done) override;
  Execution& AddResetRun(Txn& txn, std::shared_ptr<Execution> ex) override;
  void ResumePendingWork(Txn& txn, Execution& ex) override;
  Result<int64_t> CountVisibility(const persistence::VisibilityQuery& q) override EXCLUDES(mu_);
  Result<persistence::VisibilityPage> ListVisibility(const persistence::VisibilityQuery& q) override EXCLUDES(mu_);
  Status ListWorkflows(const std::string& ns_id, Result<visibility::CompiledQuery> compiled, int32_t page_size,
                       const std::string& page_token, WorkflowInfos* out, std::string* next_token) override
      EXCLUDES(mu_);
  Result<std::vector<std::string>> ClosedRunsBefore(const std::string& ns_id, int64_t close_before,
                                                   int64_t limit) override EXCLUDES(mu_);
  // NamespacesEngine (namespaces.h; namespace_engine.cc) and VisibilityEngine
  // (workflow_visibility.h; visibility.cc): besides the namespace, commit and store calls above.
  std::vector<state::NamespaceRecord*> AllNamespaces() override;
  bool RunInMemory(const std::string& run_id) override;
  Result<std::vector<std::pair<int64_t, int64_t>>> CountVisibilityByStatus(const persistence::VisibilityQuery& q) override
      EXCLUDES(mu_);
  // StartEngine (start_workflow.h; start_engine.cc): what the start unit sees of the engine besides
  // EngineContext and the namespace, search-attribute and commit calls above. Under mu_.
  const NextCronTimeFn& CronParser() override;
  CurrentRunLookup CurrentRunForStart(const std::string& ns_id, const std::string& workflow_id,
                                      CurrentRunRead* pre) override;
  Execution* AddRun(std::shared_ptr<Execution> ex) override;
  void TerminateRunWithDetails(Txn& txn, Execution& ex, const std::string& reason,
                               const temporal::api::common::v1::Payloads& details, const std::string& identity) override;
  void ArmWorkflowTimers(Execution& ex) override;
  std::deque<WorkflowPoller> SetAsideWorkflowPollers(const std::string& ns_id, const std::string& task_queue) override;
  void RestoreWorkflowPollers(const std::string& ns_id, const std::string& task_queue,
                              std::deque<WorkflowPoller> aside) override;
  void StartEagerWorkflowTask(Txn& txn, Execution& ex, const std::string& identity,
                              wsv1::PollWorkflowTaskQueueResponse* out) override;
  // CloseEngine (close_workflow.h) and TimerEngine (workflow_timers.h; both in lifecycle.cc): what
  // the run-lifecycle and workflow-timer units see of the engine besides EngineContext and the
  // namespace, FetchRun and commit calls above. Under mu_.
  void ForceCloseWorkflowTask(Txn& txn, Execution& ex, const std::string& identity) override REQUIRES(mu_);
  void FinishClose(Txn& txn, Execution& ex, bool chain_continues) override REQUIRES(mu_);
  temporal::api::enums::v1::RetryState NextRunAfterTimeout(const Execution& ex,
                                                           std::optional<StartFields>* next_run) override
      REQUIRES(mu_);
  void StartNextRun(Txn& txn, const std::string& ns_id, StartFields next_run) override REQUIRES(mu_);
  // WorkflowTaskEngine (workflow_tasks.h; workflow_task_engine.cc): what the workflow-task unit sees
  // of the engine besides EngineContext and the namespace, FetchOpenRun, PrefetchCommandTargets and
  // commit calls. Under mu_.
  WorkflowQueues& workflow_queues() override;
  void ArmPollTimeout(const std::shared_ptr<matching::Waiter>& waiter, Duration max_wait,
                      matching::QueueKey key) override;
  std::unique_ptr<CompletionContext> NewCompletionContext(Txn& txn, Execution& ex) override;
  void OnRunClosed(Txn& txn, Execution& ex, bool chain_continues) override;
  void StartEagerActivities(Txn& txn, Execution& ex, const std::vector<int64_t>& scheduled_ids,
                            const std::string& identity, TimePoint now,
                            wsv1::RespondWorkflowTaskCompletedResponse* resp) override;

  // --- plumbing (engine.cc) ---
  // REQUIRES(mu_). Serializes touched executions into the batch and submits it. `done` runs
  // after the batch is durable.
  void CommitLocked(Txn& txn, Done done) REQUIRES(mu_);
  // The one way an RPC answers before any commit (validation errors, not found, answers that
  // reveal nothing undurable): ends the hold of the engine mutex, then replies. Replies after a
  // transition go through CommitLocked or ReplyWhenDurableLocked.
  static void ReplyNow(MutexLock& l, const Done& done, const Status& s) { history::ReplyNow(l, done, s); }
  void ReplyNow(MutexLock& l, matching::Waiter& waiter, const Status& s) { history::ReplyNow(l, mu_, waiter, s); }
  // The reply-after-commit helper: answers `reply` once everything submitted so far is durable,
  // or the store's error if that commit failed (a reply never reveals state that is not durable).
  void ReplyWhenDurableLocked(Done done, Status reply) REQUIRES(mu_);
  Result<const state::NamespaceRecord*> NamespaceByNameLocked(const std::string& name) const REQUIRES(mu_);
  Result<Execution*> OpenExecutionLocked(const std::string& ns_id, const std::string& workflow_id,
                                         const std::string& run_id) REQUIRES(mu_);
  // A run (open or closed; the current run when `run_id` is empty) inside a workflow-task
  // completion's transition: from memory or from the completion's PrefetchCommandTargets, never
  // from the store (a lookup nothing read before is answered UNAVAILABLE and logged).
  Result<std::shared_ptr<Execution>> LoadAnyExecutionLocked(const std::string& ns_id,
                                                            const std::string& workflow_id,
                                                            const std::string& run_id) REQUIRES(mu_);
  // A run as FetchRun(with_events=true) returns it holds its history: a closed run is read with
  // it (with the mutex released), a run in memory always has it. For the query and update RPCs,
  // which use it under the mutex: one without is a bug, answered INTERNAL and logged, never a
  // store read.
  static Status CheckHistoryHeld(const Execution& ex, const char* rpc);
  // --- idle-run eviction (run_cache.h; engine.cc) ---
  // Nothing in memory refers to `ex` but its durable state: it may leave memory once durable.
  bool EvictableLocked(const Execution& ex) const REQUIRES(mu_);
  void ArmReloadSweepLocked() REQUIRES(mu_);

  // --- store reads with the engine mutex released (run_reads.cc) ---
  // Each REQUIRES(mu_) and releases it while the store reads (other RPCs proceed), then takes it
  // again and checks that the read still tells what the store holds (eviction_seq, the workflow
  // key's generation); if not, it looks again. The caller holds no pointer or reference into
  // engine state across the call (string arguments are copied for that reason).
  //
  // A run by id, or the workflow's current run when `run_id` is empty: from memory when it is
  // there (an evicted open run comes back into memory), else a copy of the closed run's rows
  // (with its history when `with_events`). Errors as LoadAnyExecutionLocked.
  // Also RunLookupEngine's (run_lookup.h), for the signal, reset and close units and LookUpRun.
  Result<std::shared_ptr<Execution>> FetchRun(std::string ns_id, std::string workflow_id, std::string run_id,
                                              bool with_events) override REQUIRES(mu_);
  // As OpenExecutionLocked, with the reads of FetchRun. A failed store read is answered with its
  // error (INTERNAL "storage error: ..."), never as NOT_FOUND.
  // Also ActivityEngine's (activity_tasks.h) and WorkflowTaskEngine's (workflow_tasks.h).
  Result<Execution*> FetchOpenRun(std::string ns_id, std::string workflow_id, std::string run_id) override
      REQUIRES(mu_);
  // An evicted open run back into memory (a no-op for any other run id); the read's error if it
  // failed (the run stays evicted).
  Status FetchIfEvicted(const std::string& run_id) override REQUIRES(mu_);
  // The engine's store reads of runs, each EXCLUDES(mu_) so that the thread-safety analysis
  // refuses a call made with the engine mutex held. Store reads only: no engine state.
  // A run's state row, and with `with_events` its whole history (null: no row).
  Result<std::shared_ptr<Execution>> ReadRunRows(const std::string& run_id, bool with_events) EXCLUDES(mu_);
  // Run `run_id`'s whole history into `ex` (not yet shared with engine state: recovery, ReadRunRows).
  Status ReadHistoryInto(const std::string& run_id, Execution& ex) EXCLUDES(mu_);
  // The store's current run id of a workflow id (nullopt: none).
  Result<std::optional<std::string>> ReadCurrentRunId(const std::string& ns_id, const std::string& workflow_id)
      EXCLUDES(mu_);
  // The store's current run's state of a workflow id (null: none).
  Result<std::unique_ptr<state::ExecutionState>> ReadCurrentRunState(const std::string& ns_id,
                                                                     const std::string& workflow_id) EXCLUDES(mu_);
  // A start's read of its workflow id's current run (CurrentRunRead, start_workflow.h), without the
  // engine mutex before the start's transition: none when the id is open or closing in memory.
  CurrentRunRead ReadCurrentRun(const std::string& namespace_name, const std::string& workflow_id) EXCLUDES(mu_);
  // Reads `pre` again (with the mutex released, as ReadCurrentRun) while it is stale, so that the
  // start's id-conflict check is judged on memory or on a valid read, never on a read under the
  // mutex. REQUIRES(mu_); releases it while reading.
  void RereadCurrentRunIfStaleLocked(CurrentRunRead* pre, const std::string& namespace_name,
                                     const std::string& workflow_id) REQUIRES(mu_);
  // The runs a workflow-task completion's commands reach (a child's workflow id, an external
  // signal's or cancel's target), read before its transition with FetchRun (releasing the mutex)
  // and kept for the lookups inside it (LoadAnyExecutionLocked, the child's id-conflict check).
  // Reads again, still without the mutex, until every target is in memory or read validly, so the
  // transition that follows (which holds the mutex throughout) never needs the store.
  // REQUIRES(mu_); releases it while reading: call before taking pointers into engine state.
  // A target whose read failed (a storage error, not "no such run"): that error, which the
  // completion answers before any transition (never recorded as a target not found).
  // Also WorkflowTaskEngine's (workflow_tasks.h).
  Status PrefetchCommandTargets(const wsv1::RespondWorkflowTaskCompletedRequest& req, const std::string& run_id)
      override REQUIRES(mu_);
  struct PrefetchedRun {
    uint64_t generation = 0;  // WorkflowKeyGenerationLocked when read
    Status status;            // the read's error
    std::shared_ptr<Execution> run;  // null with an OK status: no such run
  };
  // The prefetched closed run (ns_id, workflow_id, run_id) of the completion whose transition runs
  // now, if it is still what the store holds; null otherwise. Not taken out: a completion's
  // commands may name one target twice.
  const PrefetchedRun* PrefetchedLocked(const std::string& ns_id, const std::string& workflow_id,
                                        const std::string& run_id) const REQUIRES(mu_);
  // Whether a completion's lookup of (ns_id, workflow_id, run_id) is answered without the store:
  // the run is in memory (loaded), or PrefetchedLocked has it.
  bool CommandTargetKnownLocked(const std::string& ns_id, const std::string& workflow_id,
                                const std::string& run_id) const REQUIRES(mu_);
  // Changes whenever a closed run of workflow key `key` leaves memory (its close durable): a store
  // read of the key's current run made while it stays the same is still what the store holds, as
  // long as the key is neither open nor closing in memory. Keys share counters by hash (a shared
  // one only makes a reader look again).
  uint64_t WorkflowKeyGenerationLocked(const std::string& key) const REQUIRES(mu_);
  // Evicts runs read back by lookups that changed nothing since (reads: describe, history, ...).
  void SweepReloadedRuns();
  // `chain_continues`: a next run (continue-as-new, retry, cron) takes over the workflow id, so
  // a parent is not told about this close.
  void OnRunClosedLocked(Txn& txn, Execution& ex, bool chain_continues) REQUIRES(mu_);
  Status CheckBlob(size_t bytes, const char* what) const;
  Status CheckId(const std::string& id, const char* what) const;

  // --- the commit's visibility row (visibility.cc; VisibilityRowOf, workflow_visibility.h) ---
  visibility::TypeMap CustomSearchAttributesLocked(const std::string& ns_id) const REQUIRES(mu_);
  persistence::VisibilityRow VisibilityRowLocked(const Execution& ex) const REQUIRES(mu_);
  // BatchEngine's reset of one run: the ResetWorkflow unit's ResetTo (reset.cc).
  void ResetToOptions(wsv1::ResetWorkflowExecutionRequest req, const temporal::api::common::v1::ResetOptions& options,
                      Done done) override EXCLUDES(mu_);

  // --- activities: the ActivityTasks unit (activity_tasks.h); the RPC entry points and the
  // engine's side of ActivityEngine in activity_engine.cc ---
  // ActivityEngine (activity_tasks.h): what the activity unit sees of the engine besides
  // EngineContext and Commit. Under mu_ (FetchOpenRun, NamespaceByName and ArmPollTimeout are the
  // ones above, shared with the other units' interfaces).
  ActivityEngine::Queues& ActivityQueues() override;

  // --- workflow close and timers (lifecycle.cc) ---
  void ArmWorkflowTimersLocked(Execution& ex) REQUIRES(mu_);
  // ExecutionRow::idle_wake_unix_nanos for the run as it stands: set when it is open with no
  // workflow task, activity or buffered event (recovery may then leave it on disk
  // without reading its state), to the earliest time ArmWorkflowTimersLocked would arm.
  static std::optional<int64_t> IdleWake(const Execution& ex);
  // An idle run's wake-up armed by recovery in place of its timers: reads it back and arms them
  // all (those already due fire at once; one armed twice fires once, as handlers re-check state).
  void OnIdleRunWake(std::string run_id);
  // Recovery of the open runs (Recover): idle ones by their wake-up, the others read in full.
  // Takes mu_ itself; the store reads (rows, then the histories of the runs that stay in memory)
  // are made with it released.
  Status RecoverOpenRuns() EXCLUDES(mu_);
  // --- a close's steps that reach runs not in memory (deferred_steps.cc) ---
  // Recovery: every step row left by a close whose step had not run (read without the mutex),
  // then each scheduled to run now, once the runs are set up.
  Result<std::vector<std::pair<std::string, state::PendingStep>>> ReadDeferredSteps() EXCLUDES(mu_);
  void ScheduleDeferredStepsLocked(std::vector<std::pair<std::string, state::PendingStep>> steps) REQUIRES(mu_);
  // Brings the step's other runs back into memory (FetchIfEvicted: the mutex released while the
  // store reads), then applies it and deletes its row in one transaction. A failed read tries
  // again a second later.
  void RunDeferredStep(std::string key, state::PendingStep step);
  // The runs `step` changes, as run ids that may be evicted (the open runs of the workflow ids).
  std::vector<std::string> DeferredStepTargetsLocked(const state::PendingStep& step) REQUIRES(mu_);
  void OnWorkflowRunTimeout(std::string run_id);
  // A timer's evicted run back into memory (without the mutex); false, with `again` scheduled a
  // second later, if the store read failed.
  bool FetchForTimerLocked(const std::string& run_id, std::function<void()> again) REQUIRES(mu_);
  void OnFirstWorkflowTaskBackoff(std::string run_id);
  void OnUserTimer(std::string run_id, std::string timer_id, int64_t started_event_id);
  void TerminateLocked(Txn& txn, Execution& ex, const std::string& reason,
                       const temporal::api::common::v1::Payloads* details, const std::string& identity) REQUIRES(mu_);
  void ArmPollTimeoutLocked(const std::shared_ptr<matching::Waiter>& waiter, Duration max_wait,
                            matching::QueueKey key) REQUIRES(mu_);
  // The history RPCs' run and position: the namespace, the execution's workflow id, then the
  // page token's position or the run (its first event forward, its last in reverse).
  Result<HistoryPosition> HistoryPositionOf(const std::string& ns_name,
                                            const temporal::api::common::v1::WorkflowExecution& execution,
                                            const std::string& page_token, bool forward) EXCLUDES(mu_);

  CronNext cron_next_;
  RunClosedListener run_closed_listener_;
  const Clock& clock_;
  const TimePoint created_at_;  // queues count as polled at start (workers reconnect after a restart)
  TimerService& timers_;
  const EngineOptions options_;

  // mu_ (the engine mutex) and the store: EngineMutexAndStore (engine_store.h).
  std::unordered_map<std::string, state::NamespaceRecord> namespaces_ GUARDED_BY(mu_);  // by name
  std::unordered_map<std::string, std::string> namespace_names_ GUARDED_BY(mu_);  // id -> name
  // Open (and just-closed, not yet durable) executions by run id; idle open ones may be evicted
  // to the store and are read back on lookup (run_cache.h).
  RunCache runs_ GUARDED_BY(mu_);
  bool reload_sweep_armed_ GUARDED_BY(mu_) = false;
  // namespace_id + '\n' + workflow_id -> run id of the open run.
  std::unordered_map<std::string, std::string> open_by_workflow_id_ GUARDED_BY(mu_);
  // Same key -> run id of the workflow's current run when that run has closed but its close is
  // not durable yet (the store's rows still say RUNNING, or do not exist yet). Erased with the
  // run's entry in runs_ once the close is durable; an open run of the key takes precedence.
  std::unordered_map<std::string, std::string> closing_by_workflow_id_ GUARDED_BY(mu_);
  // Closed runs erased from runs_ so far (their close durable): a generation that tells a store
  // read made without the mutex whether a workflow id's current run may have changed since.
  uint64_t closed_runs_left_memory_ GUARDED_BY(mu_) = 0;
  // The same per workflow key, by hash (WorkflowKeyGenerationLocked).
  std::array<uint64_t, 1024> closed_left_memory_by_key_ GUARDED_BY(mu_){};
  // PrefetchCommandTargets' reads by completion (its prefetch number) + '\n' + namespace id + '\n' +
  // workflow id + '\n' + run id. A completion's reads are dropped by the next prefetch that starts
  // after its transition (those of completions still reading are kept).
  std::unordered_map<std::string, PrefetchedRun> prefetched_runs_ GUARDED_BY(mu_);
  uint64_t prefetch_seq_ GUARDED_BY(mu_) = 0;
  std::vector<uint64_t> prefetching_ GUARDED_BY(mu_);  // completions between their reads
  uint64_t prefetch_owner_ GUARDED_BY(mu_) = 0;       // the completion whose transition runs now
  // Matching, one set of queues per task type (declared after options_: built from it).
  matching::TaskQueues<wsv1::PollWorkflowTaskQueueResponse> workflow_queues_ GUARDED_BY(mu_){options_.sticky_fallback};
  matching::TaskQueues<wsv1::PollActivityTaskQueueResponse> activity_queues_ GUARDED_BY(mu_){options_.sticky_fallback};
  // Activity dispatch, polls, answers, heartbeats, retries and timeouts (activity_tasks.h; the RPC
  // entry points in activity_engine.cc).
  ActivityTasks activities_ GUARDED_BY(mu_){mu_, *this, *this,
                                            ActivityTasks::Limits{
                                                .max_id_length = options_.max_id_length,
                                                .blob_size_limit_error = options_.blob_size_limit_error,
                                                .blob_size_limit_warn = options_.blob_size_limit_warn,
                                            }};
  // Queries waiting (query_registry.h; the RPC entry points in query.cc).
  QueryRegistry queries_ GUARDED_BY(mu_){mu_, *this};
  // Updates of all runs (update_registry.h; the RPC entry points in update.cc).
  UpdateRegistry updates_ GUARDED_BY(mu_){mu_, *this,
                                          UpdateRegistry::Limits{
                                              .long_poll = options_.history_long_poll,
                                              .max_in_flight = options_.max_in_flight_updates,
                                              .max_total = options_.max_total_updates,
                                              .max_in_flight_payloads = options_.max_in_flight_update_payloads,
                                              .max_id_length = options_.max_id_length,
                                              .blob_size_limit_error = options_.blob_size_limit_error,
                                              .blob_size_limit_warn = options_.blob_size_limit_warn,
                                          }};
  // Child workflows (children.h) and external commands (external.h), from workflow-task
  // completions and run closes.
  ChildWorkflows children_ GUARDED_BY(mu_){*this};
  ExternalCommands external_ GUARDED_BY(mu_){*this};
  // SignalWorkflowExecution and the delivery of every signal (signal_workflow.h; signal.cc).
  SignalWorkflow signals_ GUARDED_BY(mu_){*this, *this,
                                          SignalWorkflow::Limits{
                                              .max_id_length = options_.max_id_length,
                                              .blob_size_limit_error = options_.blob_size_limit_error,
                                              .blob_size_limit_warn = options_.blob_size_limit_warn,
                                          }};
  // StartWorkflowExecution, SignalWithStart and the creation of every new run (start_workflow.h;
  // the entry points and its side of StartEngine in start_engine.cc).
  StartWorkflow starts_ GUARDED_BY(mu_){*this, *this,
                                        StartWorkflow::Limits{
                                            .max_id_length = options_.max_id_length,
                                            .blob_size_limit_error = options_.blob_size_limit_error,
                                            .blob_size_limit_warn = options_.blob_size_limit_warn,
                                            .default_workflow_task_timeout = options_.default_workflow_task_timeout,
                                            .max_workflow_task_timeout = options_.max_workflow_task_timeout,
                                            .workflow_id_reuse_minimal_interval =
                                                options_.workflow_id_reuse_minimal_interval,
                                            .workflow_id_reuse_start_time_validation =
                                                options_.workflow_id_reuse_start_time_validation,
                                        }};
  // ExecuteMultiOperation's Update-with-Start over the two units above (update_with_start.h;
  // the entry point in update.cc).
  UpdateWithStart update_with_start_ GUARDED_BY(mu_){mu_, starts_, updates_, *this, *this};
  // Batch jobs and namespace deletion (batch_operations.h, namespace_deletion.h; the RPC entry
  // points in batch.cc, namespace_delete.cc). They hold no state: jobs and deletions live in the
  // namespace records.
  BatchOperations batch_ GUARDED_BY(mu_){mu_, *this, *this, options_.max_id_length};
  NamespaceDeletion namespace_deletion_ GUARDED_BY(mu_){mu_, *this, *this};
  // ResetWorkflowExecution and a batch job's reset of one run (reset_workflow.h; reset.cc).
  ResetWorkflow reset_ GUARDED_BY(mu_){*this, *this, ResetWorkflow::Limits{.max_id_length = options_.max_id_length}};
  // Terminate, RequestCancel and DeleteWorkflowExecution, and every termination of a run
  // (close_workflow.h; the entry points and its side of CloseEngine in lifecycle.cc).
  CloseWorkflow closes_ GUARDED_BY(mu_){*this, *this,
                                        CloseWorkflow::Limits{
                                            .blob_size_limit_error = options_.blob_size_limit_error,
                                            .blob_size_limit_warn = options_.blob_size_limit_warn,
                                        }};
  // The firing of user timers and run timeouts (workflow_timers.h; the timers in lifecycle.cc).
  WorkflowTimers workflow_timers_ GUARDED_BY(mu_){*this, *this};
  // Workflow tasks: scheduling, dispatch, polls, completion, failure, timeouts (workflow_tasks.h;
  // the entry points and its side of WorkflowTaskEngine in workflow_task_engine.cc).
  WorkflowTasks wft_ GUARDED_BY(mu_){
      mu_,
      *this,
      *this,
      queries_,
      updates_,
      WorkflowTasks::Limits{
          .max_id_length = options_.max_id_length,
          .history_count_suggest_continue_as_new = options_.history_count_suggest_continue_as_new,
          .history_size_suggest_continue_as_new = options_.history_size_suggest_continue_as_new,
          .max_total_updates = options_.max_total_updates,
          .max_total_updates_suggest_continue_as_new_threshold =
              options_.max_total_updates_suggest_continue_as_new_threshold,
          .workflow_task_heartbeat_timeout_seconds = options_.workflow_task_heartbeat_timeout_seconds,
          .history_count_limit_error = options_.history_count_limit_error,
          .history_size_limit_error = options_.history_size_limit_error,
      }};
  // RegisterNamespace, DescribeNamespace, ListNamespaces, UpdateNamespace and recovery's
  // namespaces (namespaces.h; namespace_engine.cc). No state: the records are namespaces_.
  Namespaces namespace_rpcs_ GUARDED_BY(mu_){*this, Namespaces::Options{
                                                        .max_id_length = options_.max_id_length,
                                                        .default_retention = options_.default_retention,
                                                        .blob_size_limit_error = options_.blob_size_limit_error,
                                                        .extra_namespaces = options_.extra_namespaces,
                                                        .startup_search_attributes = options_.startup_search_attributes,
                                                    }};
  // List, count and scan, search attributes and retention (workflow_visibility.h; visibility.cc).
  // No state; not guarded: its RPCs are called without mu_ and take it themselves (their store
  // reads are made with it released).
  WorkflowVisibility visibility_{mu_, *this, *this,
                                 WorkflowVisibility::Options{
                                     .max_page_size = options_.visibility_max_page_size,
                                     .retention_sweep_interval = options_.retention_sweep_interval,
                                     .retention_batch = options_.retention_batch,
                                 }};

  // History pages and long polls (history_pages.h; the entry points in engine.cc): reads from the
  // store without mu_, long polls woken by CommitLocked's notifications (own mutex: notified from
  // the committing thread).
  HistoryCommits history_commits_;
  StoreHistoryReads history_reads_{StoreReads()};
  HistoryPages history_pages_{history_reads_, history_commits_, timers_, clock_, options_.history_long_poll};
};

}  // namespace temporalite::history
