#include "server/engine_runner.h"

#include <memory>

namespace temporalite::server {

namespace wsv1 = ::temporal::api::workflowservice::v1;

void EngineRunner::Start(const wsv1::StartWorkflowExecutionRequest& req,
                         std::function<void(Result<scheduler::StartedRun>)> done) {
  auto resp = std::make_shared<wsv1::StartWorkflowExecutionResponse>();
  engine_.StartWorkflowExecution(req, resp.get(), [this, ns = req.namespace_(), resp, done = std::move(done)](const Status& s) {
    if (metrics_) {
      metrics_->counter(s.ok() ? "schedule_action_success" : "schedule_action_errors",
                        s.ok() ? "Workflows started by schedules" : "Schedule starts the server refused", {{"namespace", ns}})
          .Inc();
    }
    if (!s.ok()) return done(s);
    done(scheduler::StartedRun{resp->run_id(), resp->started(), clock_.Now(), resp->status()});
  });
}

void EngineRunner::RequestCancel(const std::string& ns, const std::string& workflow_id, const std::string& run_id,
                                 const std::string& reason, const std::string& identity,
                                 std::function<void(const Status&)> done) {
  wsv1::RequestCancelWorkflowExecutionRequest req;
  req.set_namespace_(ns);
  req.mutable_workflow_execution()->set_workflow_id(workflow_id);
  req.mutable_workflow_execution()->set_run_id(run_id);
  req.set_reason(reason);
  req.set_identity(identity);
  engine_.RequestCancelWorkflowExecution(req, std::move(done));
}

void EngineRunner::Terminate(const std::string& ns, const std::string& workflow_id, const std::string& run_id,
                             const std::string& reason, const std::string& identity,
                             std::function<void(const Status&)> done) {
  wsv1::TerminateWorkflowExecutionRequest req;
  req.set_namespace_(ns);
  req.mutable_workflow_execution()->set_workflow_id(workflow_id);
  req.mutable_workflow_execution()->set_run_id(run_id);
  req.set_reason(reason);
  req.set_identity(identity);
  engine_.TerminateWorkflowExecution(req, std::move(done));
}

void EngineRunner::CurrentStatus(const std::string& ns, const std::string& workflow_id,
                                 std::function<void(Result<scheduler::RunStatus>)> done) {
  wsv1::DescribeWorkflowExecutionRequest req;
  req.set_namespace_(ns);
  req.mutable_execution()->set_workflow_id(workflow_id);
  auto resp = std::make_shared<wsv1::DescribeWorkflowExecutionResponse>();
  engine_.DescribeWorkflowExecution(req, resp.get(), [resp, done = std::move(done)](const Status& s) {
    if (!s.ok()) return done(s);
    const auto& info = resp->workflow_execution_info();
    done(scheduler::RunStatus{info.execution().run_id(), info.status()});
  });
}

}  // namespace temporalite::server
