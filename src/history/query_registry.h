// Queries (protocol-notes §6) as a unit of their own over a narrow interface (the model: Temporal's
// service/history/api/queryworkflow and its query registry). Not persisted, as in Temporal: a query
// lives while its RPC waits. A query rides on the next workflow task when one is pending
// (`queries` / `query_results`); otherwise, and for closed runs, it goes out as a legacy query
// task on the workflow task queue and is answered through RespondQueryTaskCompleted. The engine
// owns one registry for all runs (guarded by its mutex) and calls it from its RPCs and
// workflow-task transitions; the registry reaches the engine only through EngineContext.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/execution.h"
#include "matching/task_queues.h"
#include "temporal/api/query/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

class QueryRegistry {
 public:
  using Waiter = std::shared_ptr<matching::PollWaiter<::temporal::api::workflowservice::v1::QueryWorkflowResponse>>;
  using WorkflowPoller = EngineContext::WorkflowPoller;
  struct Pending {
    std::string id;
    std::string run_id;
    temporal::api::query::v1::WorkflowQuery query;
    Waiter waiter;
    int64_t delivered_in_wft = 0;  // started event id of the workflow task carrying it
    bool legacy = false;           // dispatched as a legacy query task
    // A closed run is not in memory: its history and identity travel with the query.
    std::shared_ptr<const Execution> closed_run;
  };

  // `engine_mu`: the mutex of the engine that holds the registry; every call is made with it held.
  QueryRegistry(Mutex& engine_mu, EngineContext& engine) : mu_(engine_mu), engine_(engine) {}
  QueryRegistry(const QueryRegistry&) = delete;
  QueryRegistry& operator=(const QueryRegistry&) = delete;

  // QueryWorkflow on run `ex` (a closed run with its events), once the engine has checked the
  // request and the run's state: a closed run's query and a quiescent open run's go out as
  // legacy query tasks now; otherwise the query rides on the run's next workflow task.
  void Start(const std::shared_ptr<Execution>& ex, const temporal::api::query::v1::WorkflowQuery& query,
             Waiter waiter);
  // RespondQueryTaskCompleted for query `query_id` (NOT_FOUND once answered or given up).
  Status RespondTaskCompleted(const std::string& query_id,
                              const ::temporal::api::workflowservice::v1::RespondQueryTaskCompletedRequest& req);

  // Workflow-task transitions.
  // Attaches undelivered queries of `ex` to a workflow task being started.
  void AttachToTask(Execution& ex, int64_t started_event_id,
                    ::temporal::api::workflowservice::v1::PollWorkflowTaskQueueResponse* resp);
  // After a workflow task of `ex` closed: answer from `results`, re-queue or dispatch the rest.
  void Settle(Execution& ex, const google::protobuf::Map<std::string, temporal::api::query::v1::WorkflowQueryResult>* results,
              bool new_wft_scheduled);
  // A poller of queue `queue_name` takes legacy query task `query_id` from the backlog; false if
  // the query is gone (answered, given up, or its run left memory).
  bool TakeLegacyTask(const std::string& query_id, const std::string& queue_name, const WorkflowPoller& poller);

  // Queries waiting now.
  size_t size() const { return queries_.size(); }

 private:
  void DispatchLegacy(Pending& q, const Execution& ex);
  void FillLegacyTask(const Pending& q, const Execution& ex, bool sticky,
                      ::temporal::api::workflowservice::v1::PollWorkflowTaskQueueResponse* resp);
  // Answers the caller (unless it gave up) and forgets the query; `q` dangles afterwards.
  void Answer(Pending& q, const Status& status, const temporal::api::common::v1::Payloads* result);

  Mutex& mu_;
  EngineContext& engine_;
  std::unordered_map<std::string, std::shared_ptr<Pending>> queries_;  // by id
};

}  // namespace temporalite::history
