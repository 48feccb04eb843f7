// Batch operations (StartBatchOperation and friends) as a unit of their own over a narrow
// interface (the model: Temporal's service/frontend batch handlers and its batcher worker): a job
// terminates, cancels, signals, deletes or resets every workflow a visibility query (or an
// explicit list) selects, at a bounded rate, in the background. A job is a record in its
// namespace (state.proto BatchJob), so the unit owns no state: it reads and changes the engine's
// namespace records through BatchEngine and drives the job with the engine's timers
// (EngineContext). The engine calls the RPCs with its mutex held (a MutexLock the unit may
// release: for a store read, and before it answers); the unit's timers take the mutex themselves.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/state.pb.h"
#include "history/txn.h"
#include "persistence/store.h"
#include "temporal/api/common/v1/message.pb.h"
#include "temporal/api/workflow/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"
#include "visibility/query.h"
#include "visibility/search_attributes.h"

namespace temporalite::history {

// What BatchOperations sees of the engine besides EngineContext.
class BatchEngine {
 public:
  using WorkflowInfos = google::protobuf::RepeatedPtrField<temporal::api::workflow::v1::WorkflowExecutionInfo>;
  virtual ~BatchEngine() = default;

  // Under the engine mutex.
  // A namespace that takes requests, by name (Temporal's errors for a missing or deleted one).
  virtual Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) = 0;
  // A namespace by id, in any state (a deleted one is renamed); null once it is gone.
  virtual state::NamespaceRecord* NamespaceById(const std::string& ns_id) = 0;
  virtual visibility::TypeMap CustomSearchAttributes(const std::string& ns_id) = 0;
  // Submits `txn` (its namespace rows); `done` (may be null) once it is durable.
  virtual void Commit(Txn& txn, Done done) = 0;

  // Without the engine mutex: store reads, and the public calls a job applies to its targets.
  virtual Result<int64_t> CountVisibility(const persistence::VisibilityQuery& q) = 0;
  virtual Result<persistence::VisibilityPage> ListVisibility(const persistence::VisibilityQuery& q) = 0;
  // A page of a compiled list query in the default order (ListWorkflowExecutions' paging).
  virtual Status ListWorkflows(const std::string& ns_id, Result<visibility::CompiledQuery> compiled, int32_t page_size,
                               const std::string& page_token, WorkflowInfos* out, std::string* next_token) = 0;
  virtual void TerminateWorkflowExecution(const ::temporal::api::workflowservice::v1::TerminateWorkflowExecutionRequest& req,
                                          Done done) = 0;
  virtual void RequestCancelWorkflowExecution(
      const ::temporal::api::workflowservice::v1::RequestCancelWorkflowExecutionRequest& req, Done done) = 0;
  virtual void SignalWorkflowExecution(const ::temporal::api::workflowservice::v1::SignalWorkflowExecutionRequest& req,
                                       Done done) = 0;
  virtual void DeleteWorkflowExecution(const ::temporal::api::workflowservice::v1::DeleteWorkflowExecutionRequest& req,
                                       Done done) = 0;
  // A reset of the run `req` names to `options`' target (first/last workflow task or an event id).
  virtual void ResetToOptions(::temporal::api::workflowservice::v1::ResetWorkflowExecutionRequest req,
                              const temporal::api::common::v1::ResetOptions& options, Done done) = 0;
};

class BatchOperations {
 public:
  // `engine_mu`: the mutex of the engine that holds the unit.
  BatchOperations(Mutex& engine_mu, EngineContext& engine, BatchEngine& host, size_t max_id_length)
      : mu_(engine_mu), engine_(engine), host_(host), max_id_length_(max_id_length) {}
  BatchOperations(const BatchOperations&) = delete;
  BatchOperations& operator=(const BatchOperations&) = delete;

  // The RPCs, called with the engine mutex held by `l`; each releases it before it answers.
  // Start: the job's total (the query's matches now) is counted with the mutex released, between
  // two checks of the request (a job started meanwhile, or the namespace deleted, is seen by the
  // second); the job's first step follows its commit.
  void Start(MutexLock& l, const ::temporal::api::workflowservice::v1::StartBatchOperationRequest& req, Done done);
  void Stop(MutexLock& l, const ::temporal::api::workflowservice::v1::StopBatchOperationRequest& req, Done done);
  void Describe(MutexLock& l, const ::temporal::api::workflowservice::v1::DescribeBatchOperationRequest& req,
                ::temporal::api::workflowservice::v1::DescribeBatchOperationResponse* resp, Done done);
  void List(MutexLock& l, const ::temporal::api::workflowservice::v1::ListBatchOperationsRequest& req,
            ::temporal::api::workflowservice::v1::ListBatchOperationsResponse* resp, Done done);
  // Recovery, under the engine mutex: a step for every running job of `namespaces`.
  void Resume(const std::vector<const state::NamespaceRecord*>& namespaces);

 private:
  // One chunk of job `job_id`: takes the engine mutex itself (a timer).
  void Step(const std::string& ns_id, const std::string& job_id);
  // A start's checks against the request and the namespace's jobs; `count` is set to the
  // visibility count of its query (unless it names executions). Under the engine mutex.
  Status ValidateStart(const ::temporal::api::workflowservice::v1::StartBatchOperationRequest& req,
                       persistence::VisibilityQuery* count);
  // Records a chunk's counts and cursor (one commit) and schedules the next step. Under the mutex.
  void FinishChunk(const std::string& ns_id, const std::string& job_id, int64_t ok, int64_t failed,
                   const std::string& cursor, int64_t next_index, bool last, int final_state,
                   TimePoint next_step_at = TimePoint{});
  // A chunk of a query job's targets after its cursor (reset jobs in their own order). Unlocked.
  Status ListChunk(const state::BatchJob& job, const std::string& ns_id, int chunk,
                   Result<visibility::CompiledQuery> compiled,
                   std::vector<temporal::api::common::v1::WorkflowExecution>* targets, std::string* next_cursor);
  // Apply with a failure retried as Temporal's batcher does. Unlocked.
  void ApplyWithRetries(std::shared_ptr<const state::BatchJob> job, std::string ns_id, std::string ns_name,
                        temporal::api::common::v1::WorkflowExecution target, int attempt, Duration spacing,
                        Done done);
  // Applies the job's operation to one target through the public calls. Unlocked.
  void Apply(const state::BatchJob& job, const std::string& ns_name,
             const temporal::api::common::v1::WorkflowExecution& target, const Done& done);

  Mutex& mu_;
  EngineContext& engine_;
  BatchEngine& host_;
  const size_t max_id_length_;
};

}  // namespace temporalite::history
