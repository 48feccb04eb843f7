// The WorkflowService frontend: stateless handlers on gRPC's callback API. Each handler
// validates nothing engine-specific itself; it hands the request to the engine and finishes the
// RPC from the engine's completion callback, so no thread waits on a commit or a long poll.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/timer_service.h"
#include "history/engine.h"
#include "scheduler/scheduler.h"
#include "temporal/api/workflowservice/v1/service.grpc.pb.h"

namespace temporalite::frontend {

namespace wsv1 = ::temporal::api::workflowservice::v1;

struct ServerInfo {
  std::string version;
  // The Temporal server version reported by GetClusterInfo: the web UI switches features on by
  // it (gates at 1.23, 1.24, 1.25, 1.27.1).
  std::string temporal_version = "1.25.0";
};

class WorkflowServiceImpl final : public wsv1::WorkflowService::CallbackService {
 public:
  // `timers`: runs the polls that wait for a rate-limit token (frontend/rate_limit.h PollDelay);
  // without it they start at once.
  WorkflowServiceImpl(history::Engine& engine, scheduler::Scheduler& scheduler, const Clock& clock, ServerInfo info,
                      TimerService* timers = nullptr)
      : engine_(engine), scheduler_(scheduler), clock_(clock), info_(std::move(info)), timers_(timers) {}

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;

  Reactor* GetSystemInfo(Ctx*, const wsv1::GetSystemInfoRequest*, wsv1::GetSystemInfoResponse*) override;
  Reactor* GetClusterInfo(Ctx*, const wsv1::GetClusterInfoRequest*, wsv1::GetClusterInfoResponse*) override;
  Reactor* RegisterNamespace(Ctx*, const wsv1::RegisterNamespaceRequest*, wsv1::RegisterNamespaceResponse*) override;
  Reactor* DescribeNamespace(Ctx*, const wsv1::DescribeNamespaceRequest*, wsv1::DescribeNamespaceResponse*) override;
  Reactor* ListNamespaces(Ctx*, const wsv1::ListNamespacesRequest*, wsv1::ListNamespacesResponse*) override;
  Reactor* UpdateNamespace(Ctx*, const wsv1::UpdateNamespaceRequest*, wsv1::UpdateNamespaceResponse*) override;
  Reactor* StartWorkflowExecution(Ctx*, const wsv1::StartWorkflowExecutionRequest*,
                                  wsv1::StartWorkflowExecutionResponse*) override;
  Reactor* TerminateWorkflowExecution(Ctx*, const wsv1::TerminateWorkflowExecutionRequest*,
                                      wsv1::TerminateWorkflowExecutionResponse*) override;
  Reactor* RequestCancelWorkflowExecution(Ctx*, const wsv1::RequestCancelWorkflowExecutionRequest*,
                                          wsv1::RequestCancelWorkflowExecutionResponse*) override;
  Reactor* SignalWorkflowExecution(Ctx*, const wsv1::SignalWorkflowExecutionRequest*,
                                   wsv1::SignalWorkflowExecutionResponse*) override;
  Reactor* SignalWithStartWorkflowExecution(Ctx*, const wsv1::SignalWithStartWorkflowExecutionRequest*,
                                            wsv1::SignalWithStartWorkflowExecutionResponse*) override;
  Reactor* QueryWorkflow(Ctx*, const wsv1::QueryWorkflowRequest*, wsv1::QueryWorkflowResponse*) override;
  Reactor* RespondQueryTaskCompleted(Ctx*, const wsv1::RespondQueryTaskCompletedRequest*,
                                     wsv1::RespondQueryTaskCompletedResponse*) override;
  Reactor* UpdateWorkflowExecution(Ctx*, const wsv1::UpdateWorkflowExecutionRequest*,
                                   wsv1::UpdateWorkflowExecutionResponse*) override;
  Reactor* PollWorkflowExecutionUpdate(Ctx*, const wsv1::PollWorkflowExecutionUpdateRequest*,
                                       wsv1::PollWorkflowExecutionUpdateResponse*) override;
  Reactor* ExecuteMultiOperation(Ctx*, const wsv1::ExecuteMultiOperationRequest*,
                                 wsv1::ExecuteMultiOperationResponse*) override;
  Reactor* DeleteWorkflowExecution(Ctx*, const wsv1::DeleteWorkflowExecutionRequest*,
                                   wsv1::DeleteWorkflowExecutionResponse*) override;
  Reactor* ResetWorkflowExecution(Ctx*, const wsv1::ResetWorkflowExecutionRequest*,
                                  wsv1::ResetWorkflowExecutionResponse*) override;
  Reactor* DescribeWorkflowExecution(Ctx*, const wsv1::DescribeWorkflowExecutionRequest*,
                                     wsv1::DescribeWorkflowExecutionResponse*) override;
  Reactor* GetWorkflowExecutionHistory(Ctx*, const wsv1::GetWorkflowExecutionHistoryRequest*,
                                       wsv1::GetWorkflowExecutionHistoryResponse*) override;
  Reactor* GetWorkflowExecutionHistoryReverse(Ctx*, const wsv1::GetWorkflowExecutionHistoryReverseRequest*,
                                              wsv1::GetWorkflowExecutionHistoryReverseResponse*) override;
  Reactor* ListWorkflowExecutions(Ctx*, const wsv1::ListWorkflowExecutionsRequest*,
                                  wsv1::ListWorkflowExecutionsResponse*) override;
  Reactor* ScanWorkflowExecutions(Ctx*, const wsv1::ScanWorkflowExecutionsRequest*,
                                  wsv1::ScanWorkflowExecutionsResponse*) override;
  Reactor* CountWorkflowExecutions(Ctx*, const wsv1::CountWorkflowExecutionsRequest*,
                                   wsv1::CountWorkflowExecutionsResponse*) override;
  Reactor* ListOpenWorkflowExecutions(Ctx*, const wsv1::ListOpenWorkflowExecutionsRequest*,
                                      wsv1::ListOpenWorkflowExecutionsResponse*) override;
  Reactor* ListClosedWorkflowExecutions(Ctx*, const wsv1::ListClosedWorkflowExecutionsRequest*,
                                        wsv1::ListClosedWorkflowExecutionsResponse*) override;
  Reactor* GetSearchAttributes(Ctx*, const wsv1::GetSearchAttributesRequest*,
                               wsv1::GetSearchAttributesResponse*) override;
  Reactor* PollWorkflowTaskQueue(Ctx*, const wsv1::PollWorkflowTaskQueueRequest*,
                                 wsv1::PollWorkflowTaskQueueResponse*) override;
  Reactor* RespondWorkflowTaskCompleted(Ctx*, const wsv1::RespondWorkflowTaskCompletedRequest*,
                                        wsv1::RespondWorkflowTaskCompletedResponse*) override;
  Reactor* RespondWorkflowTaskFailed(Ctx*, const wsv1::RespondWorkflowTaskFailedRequest*,
                                     wsv1::RespondWorkflowTaskFailedResponse*) override;
  Reactor* ResetStickyTaskQueue(Ctx*, const wsv1::ResetStickyTaskQueueRequest*,
                                wsv1::ResetStickyTaskQueueResponse*) override;
  Reactor* ShutdownWorker(Ctx*, const wsv1::ShutdownWorkerRequest*, wsv1::ShutdownWorkerResponse*) override;
  Reactor* DescribeTaskQueue(Ctx*, const wsv1::DescribeTaskQueueRequest*, wsv1::DescribeTaskQueueResponse*) override;
  Reactor* StartBatchOperation(Ctx*, const wsv1::StartBatchOperationRequest*, wsv1::StartBatchOperationResponse*) override;
  Reactor* StopBatchOperation(Ctx*, const wsv1::StopBatchOperationRequest*, wsv1::StopBatchOperationResponse*) override;
  Reactor* DescribeBatchOperation(Ctx*, const wsv1::DescribeBatchOperationRequest*, wsv1::DescribeBatchOperationResponse*) override;
  Reactor* ListBatchOperations(Ctx*, const wsv1::ListBatchOperationsRequest*, wsv1::ListBatchOperationsResponse*) override;
  Reactor* PollActivityTaskQueue(Ctx*, const wsv1::PollActivityTaskQueueRequest*,
                                 wsv1::PollActivityTaskQueueResponse*) override;
  Reactor* RespondActivityTaskCompleted(Ctx*, const wsv1::RespondActivityTaskCompletedRequest*,
                                        wsv1::RespondActivityTaskCompletedResponse*) override;
  Reactor* RespondActivityTaskCompletedById(Ctx*, const wsv1::RespondActivityTaskCompletedByIdRequest*,
                                            wsv1::RespondActivityTaskCompletedByIdResponse*) override;
  Reactor* RespondActivityTaskFailed(Ctx*, const wsv1::RespondActivityTaskFailedRequest*,
                                     wsv1::RespondActivityTaskFailedResponse*) override;
  Reactor* RespondActivityTaskFailedById(Ctx*, const wsv1::RespondActivityTaskFailedByIdRequest*,
                                         wsv1::RespondActivityTaskFailedByIdResponse*) override;
  Reactor* RespondActivityTaskCanceled(Ctx*, const wsv1::RespondActivityTaskCanceledRequest*,
                                       wsv1::RespondActivityTaskCanceledResponse*) override;
  Reactor* RespondActivityTaskCanceledById(Ctx*, const wsv1::RespondActivityTaskCanceledByIdRequest*,
                                           wsv1::RespondActivityTaskCanceledByIdResponse*) override;
  Reactor* RecordActivityTaskHeartbeat(Ctx*, const wsv1::RecordActivityTaskHeartbeatRequest*,
                                       wsv1::RecordActivityTaskHeartbeatResponse*) override;
  Reactor* RecordActivityTaskHeartbeatById(Ctx*, const wsv1::RecordActivityTaskHeartbeatByIdRequest*,
                                           wsv1::RecordActivityTaskHeartbeatByIdResponse*) override;
  // Schedules (scheduler/scheduler.h).
  Reactor* CreateSchedule(Ctx*, const wsv1::CreateScheduleRequest*, wsv1::CreateScheduleResponse*) override;
  Reactor* DescribeSchedule(Ctx*, const wsv1::DescribeScheduleRequest*, wsv1::DescribeScheduleResponse*) override;
  Reactor* UpdateSchedule(Ctx*, const wsv1::UpdateScheduleRequest*, wsv1::UpdateScheduleResponse*) override;
  Reactor* PatchSchedule(Ctx*, const wsv1::PatchScheduleRequest*, wsv1::PatchScheduleResponse*) override;
  Reactor* DeleteSchedule(Ctx*, const wsv1::DeleteScheduleRequest*, wsv1::DeleteScheduleResponse*) override;
  Reactor* ListSchedules(Ctx*, const wsv1::ListSchedulesRequest*, wsv1::ListSchedulesResponse*) override;
  Reactor* CountSchedules(Ctx*, const wsv1::CountSchedulesRequest*, wsv1::CountSchedulesResponse*) override;
  Reactor* ListScheduleMatchingTimes(Ctx*, const wsv1::ListScheduleMatchingTimesRequest*,
                                     wsv1::ListScheduleMatchingTimesResponse*) override;
  // Worker versioning and deployments are not implemented: UNIMPLEMENTED with the text Temporal's
  // server answers when the feature is disabled on a namespace (versioning_unimplemented below).
#define TL_VERSIONING_DECL(M) Reactor* M(Ctx*, const wsv1::M##Request*, wsv1::M##Response*) override;
  TL_VERSIONING_DECL(UpdateWorkerBuildIdCompatibility)
  TL_VERSIONING_DECL(GetWorkerBuildIdCompatibility)
  TL_VERSIONING_DECL(GetWorkerTaskReachability)
  TL_VERSIONING_DECL(UpdateWorkerVersioningRules)
  TL_VERSIONING_DECL(GetWorkerVersioningRules)
  TL_VERSIONING_DECL(DescribeDeployment)
  TL_VERSIONING_DECL(ListDeployments)
  TL_VERSIONING_DECL(GetDeploymentReachability)
  TL_VERSIONING_DECL(GetCurrentDeployment)
  TL_VERSIONING_DECL(SetCurrentDeployment)
  TL_VERSIONING_DECL(DescribeWorkerDeploymentVersion)
  TL_VERSIONING_DECL(SetWorkerDeploymentCurrentVersion)
  TL_VERSIONING_DECL(DescribeWorkerDeployment)
  TL_VERSIONING_DECL(DeleteWorkerDeployment)
  TL_VERSIONING_DECL(DeleteWorkerDeploymentVersion)
  TL_VERSIONING_DECL(SetWorkerDeploymentRampingVersion)
  TL_VERSIONING_DECL(ListWorkerDeployments)
  TL_VERSIONING_DECL(CreateWorkerDeployment)
  TL_VERSIONING_DECL(CreateWorkerDeploymentVersion)
  TL_VERSIONING_DECL(UpdateWorkerDeploymentVersionComputeConfig)
  TL_VERSIONING_DECL(ValidateWorkerDeploymentVersionComputeConfig)
  TL_VERSIONING_DECL(UpdateWorkerDeploymentVersionMetadata)
  TL_VERSIONING_DECL(SetWorkerDeploymentManager)
#undef TL_VERSIONING_DECL

 private:
  // Long polls reply empty at min(60 s, deadline - 1 s) so a task never goes to a dead poll.
  Duration PollWait(const Ctx* ctx) const;
  // Starts a task poll: `start(waiter, max_wait)` now, or once its reserved rate token is due.
  template <typename Resp, typename Start>
  Reactor* TaskPoll(Ctx* ctx, Resp* resp, Start start);

  history::Engine& engine_;
  scheduler::Scheduler& scheduler_;
  const Clock& clock_;
  const ServerInfo info_;
  TimerService* const timers_;
};

}  // namespace temporalite::frontend
