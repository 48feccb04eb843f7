// The history engine as the scheduler's WorkflowRunner (scheduler/workflow_runner.h). Part of
// the composition root: it is the one place that knows both the engine and the scheduler.
#pragma once

#include "common/clock.h"
#include "history/engine.h"
#include "metrics/metrics.h"
#include "scheduler/workflow_runner.h"

namespace temporalite::server {

class EngineRunner final : public scheduler::WorkflowRunner {
 public:
  // `metrics` (nullable) counts schedule_action_success / schedule_action_errors by namespace.
  EngineRunner(history::Engine& engine, const Clock& clock, metrics::Registry* metrics = nullptr)
      : engine_(engine), clock_(clock), metrics_(metrics) {}

  Result<std::string> NamespaceId(const std::string& ns) override { return engine_.NamespaceIdOf(ns); }
  void Start(const temporal::api::workflowservice::v1::StartWorkflowExecutionRequest& req,
             std::function<void(Result<scheduler::StartedRun>)> done) override;
  void RequestCancel(const std::string& ns, const std::string& workflow_id, const std::string& run_id,
                     const std::string& reason, const std::string& identity,
                     std::function<void(const Status&)> done) override;
  void Terminate(const std::string& ns, const std::string& workflow_id, const std::string& run_id,
                 const std::string& reason, const std::string& identity,
                 std::function<void(const Status&)> done) override;
  void CurrentStatus(const std::string& ns, const std::string& workflow_id,
                     std::function<void(Result<scheduler::RunStatus>)> done) override;
  visibility::TypeMap SearchAttributeTypes(const std::string& ns) override { return engine_.SearchAttributeTypes(ns); }

 private:
  history::Engine& engine_;
  const Clock& clock_;
  metrics::Registry* metrics_;
};

}  // namespace temporalite::server
