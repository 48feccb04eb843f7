// The run-lifecycle RPCs as a unit of their own over a narrow interface (the model: Temporal's
// service/history/api/terminateworkflow, requestcancelworkflow and deleteworkflow): the requests'
// checks, the target run (the workflow's current run when the request names none), and the
// transitions on it: termination (a WorkflowExecutionTerminated event after a started workflow
// task is failed and buffered events are flushed; also how a child, a reset, a namespace
// deletion, a batch job and a start's TERMINATE_EXISTING end a run), a cancel request (one
// WorkflowExecutionCancelRequested per run; a repeat or a closed run is answered OK without an
// event) and deletion (an open run is terminated first). The engine owns one (guarded by its
// mutex) and calls the RPCs with its mutex held (a MutexLock the unit releases before it answers;
// the engine releases it inside FetchRun while a store read is made).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

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

// What CloseWorkflow sees of the engine besides EngineContext and the run lookup (run_lookup.h).
// Under the engine mutex.
class CloseEngine : public virtual RunLookupEngine {
 public:
  // Submits `txn`; `done` once it is durable.
  virtual void Commit(Txn& txn, Done done) = 0;
  // Before a close event is appended to open run `ex`: a started workflow task fails
  // (FORCE_CLOSE_COMMAND, by `identity`) and buffered events are flushed into history.
  virtual void ForceCloseWorkflowTask(Txn& txn, Execution& ex, const std::string& identity) = 0;
  // After the close event and the close status: the run's close (MarkClosed, the current-run
  // pointer, its updates, its parent and children, the close listener) and the answer of queries
  // waiting on it, from its final history.
  virtual void FinishClose(Txn& txn, Execution& ex, bool chain_continues) = 0;
};

class CloseWorkflow {
 public:
  struct Limits {
    size_t blob_size_limit_error = 2 * 1024 * 1024;
    size_t blob_size_limit_warn = 512 * 1024;
  };
  // The identity and reason Temporal's DeleteWorkflowExecution terminates an open run with.
  static constexpr const char* kDeleteReason = "Delete workflow execution";
  static constexpr const char* kHistoryServiceIdentity = "history-service";

  CloseWorkflow(EngineContext& engine, CloseEngine& host, Limits limits) : engine_(engine), host_(host), limits_(limits) {}
  CloseWorkflow(const CloseWorkflow&) = delete;
  CloseWorkflow& operator=(const CloseWorkflow&) = delete;

  // The RPCs, each with the engine mutex held by `l`; released before it answers: an error at
  // once, else after the transition's commit (or, for an answer without a transition, once
  // everything submitted so far is durable).
  // TerminateWorkflowExecution: an open run only ("workflow execution already completed"
  // otherwise); a first_execution_run_id that is not the run's chain's: NOT_FOUND.
  void Terminate(MutexLock& l, const ::temporal::api::workflowservice::v1::TerminateWorkflowExecutionRequest& req,
                 Done done);
  // RequestCancelWorkflowExecution: a repeated request and a closed run succeed without an event
  // (Temporal's behaviour).
  void RequestCancel(MutexLock& l,
                     const ::temporal::api::workflowservice::v1::RequestCancelWorkflowExecutionRequest& req, Done done);
  // DeleteWorkflowExecution: an open run is terminated first; the run, its events and a current
  // pointer naming it are deleted in the same commit.
  void Delete(MutexLock& l, const ::temporal::api::workflowservice::v1::DeleteWorkflowExecutionRequest& req, Done done);

  // Terminates open run `ex` in `txn`: a started workflow task fails, buffered events are flushed,
  // WorkflowExecutionTerminated (reason, details when given, identity) closes the run.
  void TerminateRun(Txn& txn, Execution& ex, const std::string& reason,
                    const ::temporal::api::common::v1::Payloads* details, const std::string& identity);

 private:
  // The run a request names: its namespace (Temporal's errors), a workflow id, the request's own
  // `request_check`, then the run (LookUpRun, run_lookup.h).
  Result<std::shared_ptr<Execution>> Target(const std::string& ns_name,
                                            const ::temporal::api::common::v1::WorkflowExecution& target,
                                            const Status& request_check = Status::Ok());

  EngineContext& engine_;
  CloseEngine& host_;
  const Limits limits_;
};

}  // namespace temporalite::history
