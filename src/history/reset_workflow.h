// ResetWorkflowExecution as a unit of its own over a narrow interface (the model: Temporal's
// service/history/api/resetworkflow/api.go and ndc/workflow_resetter.go), and the per-run reset
// of a batch reset job (`ResetTo`, Temporal's batcher: the reset point from ResetOptions).
//
// The new run's history is a copy of the base run's events up to and including the workflow task
// started before `workflow_task_finish_event_id` (a WorkflowTaskStarted is added if the prefix
// ends at a scheduled task), then WorkflowTaskFailed (cause RESET_WORKFLOW, the reason, base and
// new run ids), then the signals and updates after the reset point (in the base run and the later
// runs of its continue-as-new chain) reapplied as new events (unless excluded by the reapply type
// or exclude types; updates as UpdateAdmitted), then the post-reset signals, then a new
// WorkflowTaskScheduled. Its mutable state is rebuilt from the copied prefix (replay.h): a started
// activity attempt fails (ActivityTaskFailed), the other pending activities are rescheduled as
// fresh attempts, pending timers re-armed, run and execution expirations refreshed from now. The
// current run, if still running, is terminated first (reason = the reset reason, identity
// "history-resetter", its children left to the new run), and the new run becomes current. All of
// it is one transaction. A retry (the current run carries the request's id) answers that run.
//
// The unit owns no state. The engine holds one (guarded by its mutex) and calls Reset / ResetTo
// with its mutex held (a MutexLock the unit releases before it answers; the engine releases it
// inside FetchRun while a store read is made).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/execution.h"
#include "history/run_lookup.h"
#include "history/state.pb.h"
#include "history/txn.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

// What ResetWorkflow sees of the engine besides EngineContext and the run lookup (run_lookup.h).
// Under the engine mutex.
class ResetEngine : public virtual RunLookupEngine {
 public:
  // Makes `ex` (a new open run, unknown to the engine so far) the current run of its workflow id
  // in `txn`: in memory, its current-run row and its visibility row written by the commit.
  virtual Execution& AddResetRun(Txn& txn, std::shared_ptr<Execution> ex) = 0;
  // The rebuilt run's pending work goes live in `txn`: its activities on their queues with their
  // timeouts, its user timers and run/execution expirations armed.
  virtual void ResumePendingWork(Txn& txn, Execution& ex) = 0;
  // Submits `txn`; `done` once it is durable.
  virtual void Commit(Txn& txn, Done done) = 0;
};

class ResetWorkflow {
 public:
  struct Limits {
    size_t max_id_length = 1000;
  };
  // Temporal's identities of the events a reset writes.
  static constexpr const char* kHistoryServiceIdentity = "history-service";
  static constexpr const char* kResetterIdentity = "history-resetter";

  ResetWorkflow(EngineContext& engine, ResetEngine& host, Limits limits) : engine_(engine), host_(host), limits_(limits) {}
  ResetWorkflow(const ResetWorkflow&) = delete;
  ResetWorkflow& operator=(const ResetWorkflow&) = delete;

  // ResetWorkflowExecution, with the engine mutex held by `l`; released before it answers: an
  // error at once, a reset after its commit (`resp->run_id()` the new run), a retry once
  // everything submitted so far is durable (`resp->run_id()` the run the first attempt made).
  void Reset(MutexLock& l, const ::temporal::api::workflowservice::v1::ResetWorkflowExecutionRequest& req,
             ::temporal::api::workflowservice::v1::ResetWorkflowExecutionResponse* resp, Done done);
  // A batch reset of one run, as Reset: resolves `options`' target (first/last workflow task or an
  // event id: ResetPointOf, reset_point.h) in the history of the run `req` names, pins that run
  // (the event id belongs to its history, even if another run became current), then resets it.
  // A run whose history cannot be read for a first/last target is INTERNAL ("GetWorkflowExecution
  // History failed: ..."), as Temporal's batcher reports it (retried, then counted as failed).
  void ResetTo(MutexLock& l, ::temporal::api::workflowservice::v1::ResetWorkflowExecutionRequest req,
               const ::temporal::api::common::v1::ResetOptions& options, Done done);

 private:
  // A run whose events from index `from` on are reapplied.
  using ReapplySource = std::pair<std::shared_ptr<Execution>, size_t>;
  // The request's own checks (Temporal's frontend), before any read.
  Status CheckRequest(const ::temporal::api::workflowservice::v1::ResetWorkflowExecutionRequest& req) const;
  // The runs a reset reads (each read may release the engine mutex): the rest of the base run and
  // the later runs of its continue-as-new chain in `sources`, and the current run (null: none).
  Status ReadRuns(const std::string& ns_id, const std::string& workflow_id, std::shared_ptr<Execution> base,
                  int64_t finish_id, std::vector<ReapplySource>* sources, std::shared_ptr<Execution>* current);
  // The transition: the current run terminated, the new run built and made current, one commit.
  void Apply(const ::temporal::api::workflowservice::v1::ResetWorkflowExecutionRequest& req, Txn& txn,
             const std::vector<ReapplySource>& sources, Execution* current, std::shared_ptr<Execution> ex);

  EngineContext& engine_;
  ResetEngine& host_;
  const Limits limits_;
};

}  // namespace temporalite::history
