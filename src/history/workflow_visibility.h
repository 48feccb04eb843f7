// Visibility and search attributes as a unit of their own over a narrow interface (the model:
// Temporal's frontend list/count handlers over its SQL visibility store, operator_handler.go's
// search-attribute RPCs, and the retention that deletes closed runs):
// - ListWorkflowExecutions, ScanWorkflowExecutions, the legacy ListOpen/ListClosed and
//   CountWorkflowExecutions: a query in Temporal's list-filter language, compiled against the
//   namespace's custom search attributes under the engine mutex, then read from the store
//   without it (pages by cursor in the default order, by offset with an ORDER BY);
// - the namespace-scoped custom search attributes (as Temporal does for SQL visibility): get (all
//   namespaces'), add, remove, list;
// - retention: a TimerService-driven sweep deleting closed runs past their namespace's retention,
//   `retention_batch` runs per transaction;
// - VisibilityRowOf: a run's visibility row, which the engine's commit writes with each visible
//   state change.
// The unit owns no state: namespace records and runs are the engine's (VisibilityEngine), rows
// the store's. Its RPCs are called without the engine mutex and take it themselves (mu_) for the
// part that needs engine state; every store read is made with it released.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/state.pb.h"
#include "history/txn.h"
#include "persistence/store.h"
#include "temporal/api/operatorservice/v1/request_response.pb.h"
#include "temporal/api/workflow/v1/message.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"
#include "visibility/query.h"
#include "visibility/search_attributes.h"

namespace temporalite::history {

struct Execution;  // history/execution.h

// What WorkflowVisibility sees of the engine besides EngineContext.
class VisibilityEngine {
 public:
  virtual ~VisibilityEngine() = default;

  // Under the engine mutex (the namespace calls are the other units' too).
  // A namespace that takes requests, by name (Temporal's errors for a missing or deleted one).
  virtual Result<state::NamespaceRecord*> NamespaceByName(const std::string& name) = 0;
  // A namespace by name in any state (null: none); every namespace, in no particular order.
  virtual state::NamespaceRecord* NamespaceNamed(const std::string& name) = 0;
  virtual std::vector<state::NamespaceRecord*> AllNamespaces() = 0;
  virtual visibility::TypeMap CustomSearchAttributes(const std::string& ns_id) = 0;
  // Whether run `run_id` is in memory (a closed run still there is closing right now).
  virtual bool RunInMemory(const std::string& run_id) = 0;
  // Submits `txn`; `done` (may be null) once it is durable.
  virtual void Commit(Txn& txn, Done done) = 0;

  // Without the engine mutex: the store's visibility reads (CountVisibility and ListVisibility
  // are BatchEngine's, ClosedRunsBefore NamespaceDeletionEngine's: one seam to the store).
  virtual Result<int64_t> CountVisibility(const persistence::VisibilityQuery& q) = 0;
  // (status, count) of the rows `q` matches, by ExecutionStatus.
  virtual Result<std::vector<std::pair<int64_t, int64_t>>> CountVisibilityByStatus(
      const persistence::VisibilityQuery& q) = 0;
  virtual Result<persistence::VisibilityPage> ListVisibility(const persistence::VisibilityQuery& q) = 0;
  virtual Result<std::vector<std::string>> ClosedRunsBefore(const std::string& ns_id, int64_t close_before,
                                                           int64_t limit) = 0;
};

// The visibility row of run `ex` as it stands: its columns, the custom search attributes (typed by
// `custom`, the namespace's) as the JSON column, and the WorkflowExecutionInfo the list RPCs
// return (close time and execution duration once closed; `parent_namespace_id` for a child).
persistence::VisibilityRow VisibilityRowOf(const Execution& ex, const visibility::TypeMap& custom,
                                           const std::string& parent_namespace_id);

class WorkflowVisibility {
 public:
  using WorkflowInfos = google::protobuf::RepeatedPtrField<temporal::api::workflow::v1::WorkflowExecutionInfo>;
  struct Options {
    int64_t max_page_size = 1000;  // a list page's size when the request's is 0 or larger
    Duration retention_sweep_interval = std::chrono::minutes(1);
    int64_t retention_batch = 100;  // runs deleted per transaction
  };

  // `engine_mu`: the mutex of the engine that holds the unit.
  WorkflowVisibility(Mutex& engine_mu, EngineContext& engine, VisibilityEngine& host, Options options)
      : mu_(engine_mu), engine_(engine), host_(host), options_(options) {}
  WorkflowVisibility(const WorkflowVisibility&) = delete;
  WorkflowVisibility& operator=(const WorkflowVisibility&) = delete;

  // The RPCs, called without the engine mutex.
  void ListWorkflowExecutions(const ::temporal::api::workflowservice::v1::ListWorkflowExecutionsRequest& req,
                              ::temporal::api::workflowservice::v1::ListWorkflowExecutionsResponse* resp, Done done)
      EXCLUDES(mu_);
  void ScanWorkflowExecutions(const ::temporal::api::workflowservice::v1::ScanWorkflowExecutionsRequest& req,
                              ::temporal::api::workflowservice::v1::ScanWorkflowExecutionsResponse* resp, Done done)
      EXCLUDES(mu_);
  // Running runs (start time filter), and closed ones (the time filter applies to the close time,
  // as in Temporal's SQL visibility); both by workflow id or type.
  void ListOpenWorkflowExecutions(const ::temporal::api::workflowservice::v1::ListOpenWorkflowExecutionsRequest& req,
                                  ::temporal::api::workflowservice::v1::ListOpenWorkflowExecutionsResponse* resp,
                                  Done done) EXCLUDES(mu_);
  void ListClosedWorkflowExecutions(
      const ::temporal::api::workflowservice::v1::ListClosedWorkflowExecutionsRequest& req,
      ::temporal::api::workflowservice::v1::ListClosedWorkflowExecutionsResponse* resp, Done done) EXCLUDES(mu_);
  // The count, or with GROUP BY ExecutionStatus the count of each status (json/plain status names).
  void CountWorkflowExecutions(const ::temporal::api::workflowservice::v1::CountWorkflowExecutionsRequest& req,
                               ::temporal::api::workflowservice::v1::CountWorkflowExecutionsResponse* resp, Done done)
      EXCLUDES(mu_);
  // System, predefined and every namespace's custom search attributes.
  void GetSearchAttributes(const ::temporal::api::workflowservice::v1::GetSearchAttributesRequest& req,
                           ::temporal::api::workflowservice::v1::GetSearchAttributesResponse* resp, Done done)
      EXCLUDES(mu_);
  // OperatorService: a namespace's custom search attributes. Add refuses a reserved name, an
  // unknown type or an invalid name (INVALID_ARGUMENT, Temporal's messages) and leaves a name that
  // exists alone (Temporal's SQL visibility); a new scalar attribute gets an index. Remove refuses
  // a system name and ignores an unknown one.
  void AddSearchAttributes(const ::temporal::api::operatorservice::v1::AddSearchAttributesRequest& req, Done done)
      EXCLUDES(mu_);
  void RemoveSearchAttributes(const ::temporal::api::operatorservice::v1::RemoveSearchAttributesRequest& req,
                              Done done) EXCLUDES(mu_);
  void ListSearchAttributes(const ::temporal::api::operatorservice::v1::ListSearchAttributesRequest& req,
                            ::temporal::api::operatorservice::v1::ListSearchAttributesResponse* resp, Done done)
      EXCLUDES(mu_);

  // A page of a compiled list query of namespace `ns_id` in ListWorkflowExecutions' paging
  // (BatchEngine::ListWorkflows). A store read: without the engine mutex.
  Status ListPage(const std::string& ns_id, Result<visibility::CompiledQuery> compiled, int32_t page_size,
                  const std::string& page_token, WorkflowInfos* out, std::string* next_token) EXCLUDES(mu_);

  // Retention: arms the sweep's timer (every retention_sweep_interval; at once again after a full
  // batch, once it is durable).
  void StartRetention() EXCLUDES(mu_);
  // One sweep step: deletes up to `retention_batch` expired closed runs per namespace (cutoffs
  // under the mutex, the store reads without it, the deletes in one transaction). `done` gets the
  // number deleted once durable.
  void RetentionSweep(std::function<void(int64_t deleted)> done) EXCLUDES(mu_);

 private:
  struct ListArgs {
    std::string namespace_name;
    std::string query;
    int32_t page_size = 0;
    std::string page_token;
  };
  // A list query: compiled under the engine mutex, read from the store without it.
  Status List(const ListArgs& args, WorkflowInfos* out, std::string* next_token) EXCLUDES(mu_);
  void OnRetentionTimer() EXCLUDES(mu_);

  Mutex& mu_;
  EngineContext& engine_;
  VisibilityEngine& host_;
  const Options options_;
};

}  // namespace temporalite::history
