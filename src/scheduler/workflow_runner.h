// The scheduler's view of the workflow engine: the few operations a Schedule's actions need.
// Implemented over history::Engine by the composition root (server/engine_runner.h), so the
// scheduler depends on no engine code; tests may implement it too.
//
// Callbacks may run on any thread, including synchronously on the calling thread; the caller
// must not hold a lock the callback needs.
#pragma once

#include <functional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "temporal/api/enums/v1/workflow.pb.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"
#include "visibility/search_attributes.h"

namespace temporalite::scheduler {

struct StartedRun {
  std::string run_id;
  bool started = true;  // false: a run that another request started (the start's conflict policy)
  TimePoint start_time{};
  // The run's status when the engine answered: RUNNING for a new run; a start repeated with the
  // request id of one made before a restart names that run, which may have closed since.
  temporal::api::enums::v1::WorkflowExecutionStatus status = temporal::api::enums::v1::WORKFLOW_EXECUTION_STATUS_RUNNING;
};

// The state of a workflow id's current run (following retries, cron and continue-as-new).
struct RunStatus {
  std::string run_id;
  temporal::api::enums::v1::WorkflowExecutionStatus status{};
};

class WorkflowRunner {
 public:
  virtual ~WorkflowRunner() = default;

  // The namespace's id; NOT_FOUND if it does not exist. Synchronous and quick.
  virtual Result<std::string> NamespaceId(const std::string& ns) = 0;

  virtual void Start(const temporal::api::workflowservice::v1::StartWorkflowExecutionRequest& req,
                     std::function<void(Result<StartedRun>)> done) = 0;
  virtual void RequestCancel(const std::string& ns, const std::string& workflow_id, const std::string& run_id,
                             const std::string& reason, const std::string& identity,
                             std::function<void(const Status&)> done) = 0;
  virtual void Terminate(const std::string& ns, const std::string& workflow_id, const std::string& run_id,
                         const std::string& reason, const std::string& identity,
                         std::function<void(const Status&)> done) = 0;
  virtual void CurrentStatus(const std::string& ns, const std::string& workflow_id,
                             std::function<void(Result<RunStatus>)> done) = 0;

  // The namespace's custom search attributes (name -> type), to index a schedule's own ones in
  // visibility. Synchronous and quick; never called with the scheduler's lock held.
  virtual visibility::TypeMap SearchAttributeTypes(const std::string& /*ns*/) { return {}; }
};

}  // namespace temporalite::scheduler
