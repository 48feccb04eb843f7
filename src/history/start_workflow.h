// StartWorkflowExecution as a unit of its own (the model: Temporal's
// service/history/api/startworkflow/api.go with api/create_workflow_util.go's
// ResolveDuplicateWorkflowID, and signalwithstartworkflow/api.go):
// - its decisions, pure functions: the new run's fields from a request (one home for the fields
//   StartWorkflowExecution and SignalWithStartWorkflowExecution share, so neither start path drops
//   one the other keeps; the start delay or the cron schedule's first wait as the first workflow
//   task's backoff), the request's checks (ids, durations, payload sizes, search attributes,
//   priority, retry policy, cron schedule), and the id-conflict decision: given the workflow id's
//   current run (open or closed, its status, its start request id) and the reuse / conflict
//   policies, reject (ALREADY_EXISTS with a WorkflowExecutionAlreadyStartedFailure), answer with
//   the existing run (request-id dedupe, or USE_EXISTING), terminate the open run and start, or
//   start a new run;
// - the `StartWorkflow` unit over the narrow `StartEngine` interface (below): the RPCs
//   StartWorkflowExecution and SignalWithStartWorkflowExecution, the decision applied (the open run
//   terminated in the start's transaction), and the creation of every new run (a start, a child,
//   a retry, a cron run, continue-as-new, update-with-start's start): its first event, its state,
//   its first workflow task or that task's backoff, its visibility row, eager start.
// The engine finds the current run (memory, or a store read made before its mutex: run_reads.cc)
// and owns the run once created; the unit holds no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/execution.h"
#include "history/state.pb.h"
#include "history/txn.h"
#include "temporal/api/enums/v1/workflow.pb.h"
#include "temporal/api/history/v1/message.pb.h"
#include "temporal/api/sdk/v1/user_metadata.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"
#include "visibility/search_attributes.h"

namespace temporalite::history {

// A run to create (a start, a child, a retry, a cron run, continue-as-new).
struct StartFields {
  std::string workflow_id;
  std::string request_id;
  std::string run_id;  // empty: generate
  // Becomes event 1. first_workflow_task_backoff = start delay; workflow_execution_expiration_time
  // set = inherited deadline of the chain.
  ::temporal::api::history::v1::WorkflowExecutionStartedEventAttributes attrs;
  ::temporal::api::sdk::v1::UserMetadata user_metadata;  // event-level in Temporal (compat_fields.h)
};

// The next fire time of a cron string strictly after `after` (TimePoint::max() if none); null when
// the server has no cron parser (cron starts are then refused).
using NextCronTimeFn = std::function<TimePoint(const std::string& cron, TimePoint after)>;

// The new run's fields from the request, at `now`: type, queue, input, the timeouts that are set
// (an unset one stays unset, as in Temporal), identity, retry policy, cron, memo, search
// attributes, header, priority, user metadata; a start delay, or without one the wait until the
// cron schedule's first fire time (whole seconds), as the first workflow task's backoff.
// StartWorkflowExecution's also keeps continued_failure and last_completion_result.
StartFields StartFieldsFrom(const ::temporal::api::workflowservice::v1::StartWorkflowExecutionRequest& req,
                            TimePoint now, const NextCronTimeFn& next_cron);
StartFields StartFieldsFrom(const ::temporal::api::workflowservice::v1::SignalWithStartWorkflowExecutionRequest& req,
                            TimePoint now, const NextCronTimeFn& next_cron);

struct StartLimits {
  size_t max_id_length = 1000;
  size_t blob_size_limit_error = 2 * 1024 * 1024;
  size_t blob_size_limit_warn = 512 * 1024;
};
// The start's checks, INVALID_ARGUMENT with Temporal's messages (UNIMPLEMENTED for a cron schedule
// without `next_cron`); `custom` is the namespace's custom search attributes.
Status ValidateStart(const StartFields& f, const StartLimits& limits, const visibility::TypeMap& custom,
                     const NextCronTimeFn& next_cron, TimePoint now);

// The workflow id's current run, as the id-conflict decision sees it.
struct CurrentRun {
  bool open = false;  // running; else closed with `status`
  ::temporal::api::enums::v1::WorkflowExecutionStatus status{};
  std::string run_id;
  std::string start_request_id;
  std::string first_execution_run_id;
  TimePoint start_time{};  // the run's start (the minimal interval between starts counts from it)
  // Request ids later starts attached to the run (USE_EXISTING with attach_request_id).
  std::vector<std::string> attached_request_ids;
};

// Temporal's history.workflowIdReuseMinimalInterval and
// history.enableWorkflowIdReuseStartTimeValidation: with `validate`, a start that would terminate
// the open current run (TERMINATE_EXISTING, TERMINATE_IF_RUNNING) or start after a closed one, no
// more than `minimal` after that run's start, is refused: RESOURCE_EXHAUSTED (cause BUSY_WORKFLOW,
// scope NAMESPACE). Without `validate` (Temporal's default) there is no such check; `minimal` 0
// turns it off too.
struct IdReuseInterval {
  Duration minimal = std::chrono::seconds(1);
  bool validate = false;
  TimePoint now{};
};

struct StartDecision {
  enum class Action {
    kStartNew,           // no conflict: create the run
    kUseExisting,        // answer with the current run, start nothing
    kTerminateAndStart,  // terminate the open current run (kTerminateExistingReason), then create
    kReject,             // answer `rejection`
  };
  Action action = Action::kStartNew;
  bool deduped = false;  // kUseExisting because the current run was started by this request id
  // kUseExisting because this request id was attached to the current run (on_conflict_options).
  bool deduped_attached = false;
  Status rejection;      // kReject: ALREADY_EXISTS with a WorkflowExecutionAlreadyStartedFailure
};

// What a start that replaces an open run (TERMINATE_EXISTING / TERMINATE_IF_RUNNING) writes on
// its WorkflowExecutionTerminated, as Temporal's create_workflow_util.go does: this reason, the
// identity "history-service" (not the starter's), and as details one json/plain payload, the string
// "terminated by new runID: <the new run's id>" (TerminateExistingDetails).
inline constexpr char kTerminateExistingReason[] = "TerminateIfRunning WorkflowIdReusePolicy";
inline constexpr char kTerminateExistingIdentity[] = "history-service";
::temporal::api::common::v1::Payloads TerminateExistingDetails(const std::string& new_run_id);

// Temporal's resolution of a duplicate workflow id. `current` null: the id has no run. A request id
// that started the current run, or that a start attached to it, open or closed, answers with it (a
// client's retry). An open run: the conflict policy (USE_EXISTING answers with it;
// TERMINATE_EXISTING, or the reuse policy TERMINATE_IF_RUNNING, terminates it; FAIL or unspecified
// rejects: "already running"). A closed run: the reuse policy (REJECT_DUPLICATE rejects;
// ALLOW_DUPLICATE_FAILED_ONLY rejects unless the run failed, was terminated, canceled or timed
// out; ALLOW_DUPLICATE, TERMINATE_IF_RUNNING or unspecified start a new run). A terminate or a
// start after a closed run is then subject to `interval` ("Too many restarts ..." / "Too many
// starts ...").
StartDecision DecideStart(const std::string& workflow_id, const std::string& request_id, const CurrentRun* current,
                          ::temporal::api::enums::v1::WorkflowIdReusePolicy reuse,
                          ::temporal::api::enums::v1::WorkflowIdConflictPolicy conflict,
                          const IdReuseInterval& interval = {});

// The store's current run of a workflow id, read without the engine mutex before a start's
// transition (Engine::ReadCurrentRun, run_reads.cc). Used under the mutex only while still valid:
// no closed run has left memory since the read (`generation`, Engine::WorkflowKeyGenerationLocked)
// and the id is neither open nor closing in memory (every other change of a workflow id's current
// run is in memory until it is durable). Otherwise the start reads again
// (Engine::RereadCurrentRunIfStaleLocked). Opaque to the unit: it hands it to its StartEngine.
struct CurrentRunRead {
  bool done = false;  // false: not read (the id was in memory, or the namespace is unknown)
  std::string ns_id;
  std::string workflow_id;
  uint64_t generation = 0;
  Status status;                                 // the read's error
  std::unique_ptr<state::ExecutionState> state;  // null: no current run
};

// The workflow id's current run as the engine finds it for a start's id-conflict check.
struct CurrentRunLookup {
  Status status;  // non-OK: the lookup failed (the start fails with it)
  // Judged on a run whose close is not durable yet: a rejection waits for that durability.
  bool judged_on_undurable_close = false;
  std::optional<CurrentRun> current;  // none: the workflow id has no run
  Execution* open = nullptr;          // the current run when it is open (in memory)
};

// What the StartWorkflow unit sees of the engine besides EngineContext. Under the engine mutex.
class StartEngine {
 public:
  virtual ~StartEngine() = default;
  // A namespace that takes requests, by name (Temporal's errors for a missing or deleted one).
  virtual Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) = 0;
  // The namespace's custom search attributes (their types go into the run's search attributes).
  virtual visibility::TypeMap CustomSearchAttributes(const std::string& ns_id) = 0;
  // The server's cron parser; null: none (cron starts are refused).
  virtual const NextCronTimeFn& CronParser() = 0;
  // The workflow id's current run, never read from the store here: the open run, a run whose
  // close is not durable yet, `pre` while it is still valid (null: none, as for a child), or a
  // child's run read before its parent's transition. One read nowhere is UNAVAILABLE.
  virtual CurrentRunLookup CurrentRunForStart(const std::string& ns_id, const std::string& workflow_id,
                                              CurrentRunRead* pre) = 0;
  // Takes new open run `ex` into the engine (by run id, and as its workflow id's open run).
  virtual Execution* AddRun(std::shared_ptr<Execution> ex) = 0;
  // Terminates open run `ex` in `txn` with `details` (its close reaches its parent and children).
  virtual void TerminateRunWithDetails(Txn& txn, Execution& ex, const std::string& reason,
                                       const ::temporal::api::common::v1::Payloads& details,
                                       const std::string& identity) = 0;
  // Arms the run's timers (run and execution timeouts, the first workflow task's backoff).
  virtual void ArmWorkflowTimers(Execution& ex) = 0;
  // Eager start: the waiting pollers of a workflow task queue step aside while the run is created
  // (so none takes its first task), then come back ahead of any that arrived meanwhile.
  virtual std::deque<EngineContext::WorkflowPoller> SetAsideWorkflowPollers(const std::string& ns_id,
                                                                            const std::string& task_queue) = 0;
  virtual void RestoreWorkflowPollers(const std::string& ns_id, const std::string& task_queue,
                                      std::deque<EngineContext::WorkflowPoller> aside) = 0;
  // Starts `ex`'s scheduled (unstarted) workflow task in `txn` for the caller `identity` and fills
  // `out` with it; its queue entry is withdrawn.
  virtual void StartEagerWorkflowTask(Txn& txn, Execution& ex, const std::string& identity,
                                      ::temporal::api::workflowservice::v1::PollWorkflowTaskQueueResponse* out) = 0;
  // Submits `txn`; `done` once it is durable.
  virtual void Commit(Txn& txn, Done done) = 0;
};

// The id-conflict check of a start, applied (StartWorkflow::ResolveIdConflict).
struct IdConflict {
  Status status;  // non-OK: reject the start
  // Judged on a run whose close is not durable yet: a rejection waits for that durability.
  bool judged_on_undurable_close = false;
  std::optional<CurrentRun> existing;  // set: answer with this run, start nothing
  Execution* existing_open = nullptr;  // `existing` when it is open (in memory)
  bool deduped = false;                // `existing` because the request id started it (a retry)
  bool deduped_attached = false;       // `existing` because the request id was attached to it
};

// The engine owns one (guarded by its mutex); every call is made with the mutex held. The RPCs
// get the engine's MutexLock, released before they answer: an error at once; a start after its
// commit; an existing run (dedupe, USE_EXISTING) once everything submitted so far is durable; a
// rejection judged on a close not yet durable once that close is.
class StartWorkflow {
 public:
  struct Limits {
    size_t max_id_length = 1000;
    size_t blob_size_limit_error = 2 * 1024 * 1024;
    size_t blob_size_limit_warn = 512 * 1024;
    Duration default_workflow_task_timeout = std::chrono::seconds(10);
    Duration max_workflow_task_timeout = std::chrono::seconds(120);
    // Temporal's history.workflowIdReuseMinimalInterval / enableWorkflowIdReuseStartTimeValidation
    // (IdReuseInterval): starts, signal-with-starts and update-with-starts, not children.
    Duration workflow_id_reuse_minimal_interval = std::chrono::seconds(1);
    bool workflow_id_reuse_start_time_validation = false;
  };

  StartWorkflow(EngineContext& engine, StartEngine& host, Limits limits)
      : engine_(engine), host_(host), limits_(limits) {}
  StartWorkflow(const StartWorkflow&) = delete;
  StartWorkflow& operator=(const StartWorkflow&) = delete;

  // StartWorkflowExecution. `pre`: the current run's store read made before the mutex.
  // request_eager_execution: the first workflow task is started in the start's own transaction
  // and returned in `resp` (none while the first task waits for a start delay or a cron time).
  void Start(MutexLock& l, const ::temporal::api::workflowservice::v1::StartWorkflowExecutionRequest& req,
             ::temporal::api::workflowservice::v1::StartWorkflowExecutionResponse* resp, Done done,
             CurrentRunRead* pre);
  // SignalWithStartWorkflowExecution: an open run is signalled (unless the conflict policy is
  // TERMINATE_EXISTING); else a new run starts with the signal before its first workflow task.
  void SignalWithStart(MutexLock& l,
                       const ::temporal::api::workflowservice::v1::SignalWithStartWorkflowExecutionRequest& req,
                       ::temporal::api::workflowservice::v1::SignalWithStartWorkflowExecutionResponse* resp, Done done,
                       CurrentRunRead* pre);

  // The pieces ExecuteMultiOperation's start (update.cc) and a child's start use.
  // StartFieldsFrom at the engine's clock and cron parser.
  template <class Req>
  StartFields FieldsFrom(const Req& req) {
    return StartFieldsFrom(req, engine_.Now(), host_.CronParser());
  }
  // ValidateStart with the unit's limits and the namespace's custom search attributes.
  Status Validate(const StartFields& f, const std::string& ns_id);
  // A start answered with open run `ex` by USE_EXISTING, with on_conflict_options: a
  // WorkflowExecutionOptionsUpdated (worker_may_ignore) in `txn` with the request id when
  // attach_request_id (remembered: a later start with it is a retry) and the request's links when
  // attach_links. False, writing nothing, without on_conflict_options.
  bool AttachOnConflict(Txn& txn, Execution& ex,
                        const ::temporal::api::workflowservice::v1::StartWorkflowExecutionRequest& req);
  // DecideStart on the workflow id's current run, applied: a terminate decision picks the new
  // run's id (`f.run_id`, unless set) and terminates the open run in `txn` (kTerminateExistingReason).
  // The minimal interval between starts applies (Limits), except to a child's start.
  IdConflict ResolveIdConflict(Txn& txn, StartFields& f, const std::string& ns_id,
                               ::temporal::api::enums::v1::WorkflowIdReusePolicy reuse,
                               ::temporal::api::enums::v1::WorkflowIdConflictPolicy conflict,
                               CurrentRunRead* pre = nullptr);
  // Creates the run in `txn`: WorkflowExecutionStarted (event 1), its state (timeouts per
  // Temporal: the run timeout defaults to the execution timeout, the task timeout to the default,
  // capped at the maximum and at the run timeout), its visibility row, the workflow id's current
  // run; `before_first_wft` (may be null) adds events before the first workflow task, which is
  // scheduled now or, with a backoff, armed as a timer.
  Execution* CreateRun(Txn& txn, const std::string& ns_id, StartFields f,
                       const std::function<void(Execution&)>& before_first_wft);
  // A child's start (EngineContext::StartChildRun): conflict policy FAIL; null, starting nothing,
  // when the workflow id is running or its reuse policy refuses a new run.
  Execution* StartChild(Txn& txn, const std::string& ns_id, EngineContext::ChildStart start);

 private:
  IdConflict ResolveIdConflictWith(Txn& txn, StartFields& f, const std::string& ns_id,
                                   ::temporal::api::enums::v1::WorkflowIdReusePolicy reuse,
                                   ::temporal::api::enums::v1::WorkflowIdConflictPolicy conflict, CurrentRunRead* pre,
                                   const IdReuseInterval& interval);
  // The run's ExecutionState from its fields at `now` (timeouts, deadlines, ids, links).
  std::shared_ptr<Execution> NewRun(const std::string& ns_id, StartFields& f, TimePoint now);
  // Eager start's first workflow task into `resp` (only when it is scheduled and unstarted).
  void StartEager(Txn& txn, Execution& ex, const std::string& identity,
                  ::temporal::api::workflowservice::v1::StartWorkflowExecutionResponse* resp);

  EngineContext& engine_;
  StartEngine& host_;
  const Limits limits_;
};

}  // namespace temporalite::history
