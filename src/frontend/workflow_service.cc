#include "frontend/workflow_service.h"

#include <algorithm>
#include <memory>

#include "auth/call_gate.h"
#include "common/latency_trace.h"
#include "frontend/grpc_status.h"
#include "frontend/rate_limit.h"
#include "history/errors.h"
#include "frontend/schedule_typing.h"
#include "persistence/inline_commit.h"

namespace temporalite::frontend {

namespace {

using Reactor = grpc::ServerUnaryReactor;

// A call the auth interceptor denied (auth/call_gate.h): finished with its status, nothing done.
Reactor* Denied(grpc::CallbackServerContext* ctx) {
  auto denial = auth::CallDenial(ctx);
  if (!denial) return nullptr;
  Reactor* r = ctx->DefaultReactor();
  r->Finish(*denial);
  return r;
}

// The checks Temporal's frontend makes before it looks the namespace up
// (service/frontend/workflow_handler.go): the execution a request names must be set, with a
// workflow id and, if any, a UUID run id. Requests without such a check pass.
template <typename Req>
Status FrontendCheck(const Req&) {
  return Status::Ok();
}
#define TL_CHECK_EXECUTION(Request, field)                                              \
  Status FrontendCheck(const wsv1::Request& r) {                                          \
    return history::ValidateExecution(r.has_##field() ? &r.field() : nullptr);            \
  }
TL_CHECK_EXECUTION(GetWorkflowExecutionHistoryRequest, execution)
TL_CHECK_EXECUTION(GetWorkflowExecutionHistoryReverseRequest, execution)
TL_CHECK_EXECUTION(RequestCancelWorkflowExecutionRequest, workflow_execution)
TL_CHECK_EXECUTION(SignalWorkflowExecutionRequest, workflow_execution)
TL_CHECK_EXECUTION(TerminateWorkflowExecutionRequest, workflow_execution)
TL_CHECK_EXECUTION(DeleteWorkflowExecutionRequest, workflow_execution)
TL_CHECK_EXECUTION(ResetStickyTaskQueueRequest, execution)
TL_CHECK_EXECUTION(QueryWorkflowRequest, execution)
TL_CHECK_EXECUTION(UpdateWorkflowExecutionRequest, workflow_execution)
#undef TL_CHECK_EXECUTION

// A call the frontend's checks refuse: finished with their error (null: the request passes).
template <typename Req>
Reactor* Refused(grpc::CallbackServerContext* ctx, const Req& req) {
  Status s = FrontendCheck(req);
  if (s.ok()) return nullptr;
  Reactor* r = ctx->DefaultReactor();
  r->Finish(ToGrpc(s));
  return r;
}

// Runs `call(done)`; `done` finishes the RPC (exactly once, from any thread). On an idle server
// the commit `call` makes runs on this thread once `call` has returned (InlineCommitScope): no
// hand-off to the store's writer thread and back on the request's critical path.
template <typename Req, typename F>
Reactor* Unary(grpc::CallbackServerContext* ctx, const Req& req, F&& call) {
  if (Reactor* denied = Denied(ctx)) return denied;
  if (Reactor* refused = Refused(ctx, req)) return refused;
  TL_LATENCY_TRACE("s.unary_in");
  Reactor* reactor = ctx->DefaultReactor();
  persistence::InlineCommitScope inline_commit;
  call([reactor](const Status& s) {
    TL_LATENCY_TRACE("s.finish");
    reactor->Finish(ToGrpc(s));
  });
  return reactor;
}

// A long poll: holds no thread while waiting; a client cancel ends the poll in the engine.
template <typename Resp>
class PollReactor final : public grpc::ServerUnaryReactor {
 public:
  PollReactor(history::Engine& engine, Resp* response)
      : engine_(engine), waiter_(std::make_shared<matching::PollWaiter<Resp>>(response)) {
    waiter_->finish = [this](const Status& s) {
      TL_LATENCY_TRACE("s.poll_finish");
      Finish(ToGrpc(s));
      TL_LATENCY_TRACE("s.poll_finish_ret");
    };
  }
  std::shared_ptr<matching::PollWaiter<Resp>> waiter() const { return waiter_; }
  void OnCancel() override { engine_.CancelPoll(waiter_); }
  void OnDone() override { delete this; }

 private:
  history::Engine& engine_;
  std::shared_ptr<matching::PollWaiter<Resp>> waiter_;
};

// A history read, maybe a long poll (wait_new_event): a client cancel ends the wait in the engine
// at once (its waiter unregistered) instead of at the run's next commit or the poll's deadline.
class HistoryReactor final : public grpc::ServerUnaryReactor {
 public:
  std::shared_ptr<CancelHook> cancel() const { return cancel_; }
  void OnCancel() override { cancel_->Cancel(); }
  void OnDone() override { delete this; }

 private:
  std::shared_ptr<CancelHook> cancel_ = std::make_shared<CancelHook>();
};

}  // namespace

Reactor* WorkflowServiceImpl::GetWorkflowExecutionHistory(Ctx* ctx, const wsv1::GetWorkflowExecutionHistoryRequest* req,
                                                          wsv1::GetWorkflowExecutionHistoryResponse* resp) {
  if (Reactor* denied = Denied(ctx)) return denied;
  if (Reactor* refused = Refused(ctx, *req)) return refused;
  auto* reactor = new HistoryReactor();
  engine_.GetWorkflowExecutionHistory(*req, resp, [reactor](const Status& s) { reactor->Finish(ToGrpc(s)); },
                                      reactor->cancel());
  return reactor;
}

Duration WorkflowServiceImpl::PollWait(const Ctx* ctx) const {
  Duration wait = std::chrono::seconds(60);
  auto deadline = ctx->deadline();
  // The injected clock (the system clock in the server), the one the engine's poll timer runs on.
  const TimePoint now = clock_.Now();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    auto remaining = std::chrono::duration_cast<Duration>(deadline - now) - std::chrono::seconds(1);
    wait = std::min(wait, remaining);
  }
  return std::max(wait, Duration::zero());
}

Reactor* WorkflowServiceImpl::GetSystemInfo(Ctx* ctx, const wsv1::GetSystemInfoRequest*,
                                            wsv1::GetSystemInfoResponse* resp) {
  resp->set_server_version(info_.version);
  auto* caps = resp->mutable_capabilities();
  // Only what this server really does (protocol-notes §9).
  caps->set_signal_and_query_header(true);
  caps->set_internal_error_differentiation(true);
  caps->set_activity_failure_include_heartbeat(true);
  caps->set_supports_schedules(true);
  caps->set_encoded_failure_attributes(true);
  caps->set_build_id_based_versioning(false);
  caps->set_upsert_memo(true);
  caps->set_eager_workflow_start(true);  // request_eager_execution on StartWorkflowExecution
  caps->set_sdk_metadata(true);  // WorkflowTaskCompleted.sdk_metadata is stored and returned verbatim
  caps->set_count_group_by_execution_status(true);
  caps->set_nexus(false);
  Reactor* r = ctx->DefaultReactor();
  r->Finish(grpc::Status::OK);
  return r;
}

// What the web UI reads on every page: one single-node "active" cluster on SQLite.
Reactor* WorkflowServiceImpl::GetClusterInfo(Ctx* ctx, const wsv1::GetClusterInfoRequest*,
                                             wsv1::GetClusterInfoResponse* resp) {
  if (Reactor* denied = Denied(ctx)) return denied;
  resp->set_server_version(info_.temporal_version);
  resp->set_cluster_name("active");
  resp->set_cluster_id("temporalite");
  resp->set_history_shard_count(1);
  resp->set_persistence_store("sqlite");
  resp->set_visibility_store("sqlite");
  resp->set_initial_failover_version(1);
  resp->set_failover_version_increment(10);
  Reactor* r = ctx->DefaultReactor();
  r->Finish(grpc::Status::OK);
  return r;
}

#define TL_UNARY(Method, call)                                                                   \
  Reactor* WorkflowServiceImpl::Method(Ctx* ctx, const wsv1::Method##Request* req,               \
                                       [[maybe_unused]] wsv1::Method##Response* resp) {          \
    return Unary(ctx, *req, [&](history::Done done) { call; });                                \
  }

TL_UNARY(RegisterNamespace, engine_.RegisterNamespace(*req, std::move(done)))
TL_UNARY(DescribeNamespace, engine_.DescribeNamespace(*req, resp, std::move(done)))
TL_UNARY(ListNamespaces, engine_.ListNamespaces(*req, resp, std::move(done)))
TL_UNARY(UpdateNamespace, engine_.UpdateNamespace(*req, resp, std::move(done)))
TL_UNARY(StartWorkflowExecution, engine_.StartWorkflowExecution(*req, resp, std::move(done)))
TL_UNARY(TerminateWorkflowExecution, engine_.TerminateWorkflowExecution(*req, std::move(done)))
TL_UNARY(RequestCancelWorkflowExecution, engine_.RequestCancelWorkflowExecution(*req, std::move(done)))
TL_UNARY(SignalWorkflowExecution, engine_.SignalWorkflowExecution(*req, std::move(done)))
TL_UNARY(SignalWithStartWorkflowExecution, engine_.SignalWithStartWorkflowExecution(*req, resp, std::move(done)))
TL_UNARY(RespondQueryTaskCompleted, engine_.RespondQueryTaskCompleted(*req, std::move(done)))
TL_UNARY(DeleteWorkflowExecution, engine_.DeleteWorkflowExecution(*req, std::move(done)))
TL_UNARY(ResetWorkflowExecution, engine_.ResetWorkflowExecution(*req, resp, std::move(done)))
TL_UNARY(DescribeWorkflowExecution, engine_.DescribeWorkflowExecution(*req, resp, std::move(done)))
TL_UNARY(GetWorkflowExecutionHistoryReverse, engine_.GetWorkflowExecutionHistoryReverse(*req, resp, std::move(done)))
TL_UNARY(RespondWorkflowTaskCompleted, engine_.RespondWorkflowTaskCompleted(*req, resp, std::move(done)))
TL_UNARY(RespondWorkflowTaskFailed, engine_.RespondWorkflowTaskFailed(*req, std::move(done)))
TL_UNARY(ResetStickyTaskQueue, engine_.ResetStickyTaskQueue(*req, std::move(done)))
TL_UNARY(ShutdownWorker, engine_.ShutdownWorker(*req, std::move(done)))
TL_UNARY(DescribeTaskQueue, engine_.DescribeTaskQueue(*req, resp, std::move(done)))
TL_UNARY(StartBatchOperation, engine_.StartBatchOperation(*req, resp, std::move(done)))
TL_UNARY(StopBatchOperation, engine_.StopBatchOperation(*req, resp, std::move(done)))
TL_UNARY(DescribeBatchOperation, engine_.DescribeBatchOperation(*req, resp, std::move(done)))
TL_UNARY(ListBatchOperations, engine_.ListBatchOperations(*req, resp, std::move(done)))
TL_UNARY(RespondActivityTaskCompleted, engine_.RespondActivityTaskCompleted(*req, std::move(done)))
TL_UNARY(RespondActivityTaskCompletedById, engine_.RespondActivityTaskCompletedById(*req, std::move(done)))
TL_UNARY(RespondActivityTaskFailed, engine_.RespondActivityTaskFailed(*req, std::move(done)))
TL_UNARY(RespondActivityTaskFailedById, engine_.RespondActivityTaskFailedById(*req, std::move(done)))
TL_UNARY(RespondActivityTaskCanceled, engine_.RespondActivityTaskCanceled(*req, std::move(done)))
TL_UNARY(RespondActivityTaskCanceledById, engine_.RespondActivityTaskCanceledById(*req, std::move(done)))
TL_UNARY(RecordActivityTaskHeartbeat, engine_.RecordActivityTaskHeartbeat(*req, resp, std::move(done)))
TL_UNARY(RecordActivityTaskHeartbeatById, engine_.RecordActivityTaskHeartbeatById(*req, resp, std::move(done)))
TL_UNARY(CreateSchedule, scheduler_.CreateSchedule(*req, resp, std::move(done)))
// Schedule search attributes leave typed (schedule_typing.h); the types are read first, no lock held.
TL_UNARY(DescribeSchedule, scheduler_.DescribeSchedule(*req, resp, [resp, done = std::move(done), types = engine_.SearchAttributeTypes(req->namespace_())](const Status& s) {
  if (s.ok()) TypeScheduleAttributes(types, resp);
  done(s);
}))
TL_UNARY(UpdateSchedule, scheduler_.UpdateSchedule(*req, resp, std::move(done)))
TL_UNARY(PatchSchedule, scheduler_.PatchSchedule(*req, resp, std::move(done)))
TL_UNARY(DeleteSchedule, scheduler_.DeleteSchedule(*req, resp, std::move(done)))
// The namespace's custom attributes also type the query and the schedules' own attributes.
Reactor* WorkflowServiceImpl::ListSchedules(Ctx* ctx, const wsv1::ListSchedulesRequest* req,
                                            wsv1::ListSchedulesResponse* resp) {
  return Unary(ctx, *req, [&](history::Done done) {
    visibility::TypeMap types = engine_.SearchAttributeTypes(req->namespace_());
    scheduler_.ListSchedules(*req, types, resp, [resp, done = std::move(done), types](const Status& s) {
      if (s.ok()) TypeScheduleAttributes(types, resp);
      done(s);
    });
  });
}
Reactor* WorkflowServiceImpl::CountSchedules(Ctx* ctx, const wsv1::CountSchedulesRequest* req,
                                             wsv1::CountSchedulesResponse* resp) {
  return Unary(ctx, *req, [&](history::Done done) {
    scheduler_.CountSchedules(*req, engine_.SearchAttributeTypes(req->namespace_()), resp, std::move(done));
  });
}
TL_UNARY(ListScheduleMatchingTimes, scheduler_.ListScheduleMatchingTimes(*req, resp, std::move(done)))

// Worker versioning, as a Temporal server with its default dynamic config answers (what
// `temporal server start-dev` runs): v0.1 build-id sets (frontend.workerVersioningDataAPIs) and
// v0.2 rules (frontend.workerVersioningRuleAPIs) are disabled by default: PERMISSION_DENIED with
// Temporal's texts (GetWorkerTaskReachability, gated by the data flag, gives the v0.2 text there
// too). The pre-release deployments (v3 pre-release) are removed: UNIMPLEMENTED with Temporal's
// text. Worker Deployments (system.enableDeploymentVersions, on by default in Temporal) are not
// implemented here: UNIMPLEMENTED (a README limit).
#define TL_VERSIONING_ANSWER(Method, code, text) TL_UNARY(Method, done(Status(code, text)))
TL_VERSIONING_ANSWER(UpdateWorkerBuildIdCompatibility, Code::kPermissionDenied, "Worker versioning v0.1 (Version Set-based, deprecated) is disabled on this namespace.")
TL_VERSIONING_ANSWER(GetWorkerBuildIdCompatibility, Code::kPermissionDenied, "Worker versioning v0.1 (Version Set-based, deprecated) is disabled on this namespace.")
TL_VERSIONING_ANSWER(GetWorkerTaskReachability, Code::kPermissionDenied, "Worker versioning v0.2 (Rules-based, deprecated) is disabled on this namespace.")
TL_VERSIONING_ANSWER(UpdateWorkerVersioningRules, Code::kPermissionDenied, "Worker versioning v0.2 (Rules-based, deprecated) is disabled on this namespace.")
TL_VERSIONING_ANSWER(GetWorkerVersioningRules, Code::kPermissionDenied, "Worker versioning v0.2 (Rules-based, deprecated) is disabled on this namespace.")
TL_VERSIONING_ANSWER(DescribeDeployment, Code::kUnimplemented, "Deployments are deprecated and no longer supported, use Worker Deployments instead")
TL_VERSIONING_ANSWER(ListDeployments, Code::kUnimplemented, "Deployments are deprecated and no longer supported, use Worker Deployments instead")
TL_VERSIONING_ANSWER(GetDeploymentReachability, Code::kUnimplemented, "Deployments are deprecated and no longer supported, use Worker Deployments instead")
TL_VERSIONING_ANSWER(GetCurrentDeployment, Code::kUnimplemented, "Deployments are deprecated and no longer supported, use Worker Deployments instead")
TL_VERSIONING_ANSWER(SetCurrentDeployment, Code::kUnimplemented, "Deployments are deprecated and no longer supported, use Worker Deployments instead")
TL_VERSIONING_ANSWER(DescribeWorkerDeploymentVersion, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(SetWorkerDeploymentCurrentVersion, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(DescribeWorkerDeployment, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(DeleteWorkerDeployment, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(DeleteWorkerDeploymentVersion, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(SetWorkerDeploymentRampingVersion, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(ListWorkerDeployments, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(CreateWorkerDeployment, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(CreateWorkerDeploymentVersion, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(UpdateWorkerDeploymentVersionComputeConfig, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(ValidateWorkerDeploymentVersionComputeConfig, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(UpdateWorkerDeploymentVersionMetadata, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
TL_VERSIONING_ANSWER(SetWorkerDeploymentManager, Code::kUnimplemented, "Worker Deployments (Worker Versioning) are not implemented by Temporalite.")
#undef TL_VERSIONING_ANSWER

TL_UNARY(ListWorkflowExecutions, engine_.ListWorkflowExecutions(*req, resp, std::move(done)))
TL_UNARY(ScanWorkflowExecutions, engine_.ScanWorkflowExecutions(*req, resp, std::move(done)))
TL_UNARY(CountWorkflowExecutions, engine_.CountWorkflowExecutions(*req, resp, std::move(done)))
TL_UNARY(ListOpenWorkflowExecutions, engine_.ListOpenWorkflowExecutions(*req, resp, std::move(done)))
TL_UNARY(ListClosedWorkflowExecutions, engine_.ListClosedWorkflowExecutions(*req, resp, std::move(done)))
TL_UNARY(GetSearchAttributes, engine_.GetSearchAttributes(*req, resp, std::move(done)))

#undef TL_UNARY

template <typename Resp, typename Start>
Reactor* WorkflowServiceImpl::TaskPoll(Ctx* ctx, Resp* resp, Start start) {
  if (Reactor* denied = Denied(ctx)) return denied;
  TL_LATENCY_TRACE("s.poll_in");
  auto* reactor = new PollReactor(engine_, resp);
  const Duration delay = PollDelay(ctx);
  if (delay <= Duration::zero() || timers_ == nullptr) {
    start(reactor->waiter(), PollWait(ctx));
    return reactor;
  }
  // Admitted on a token due in `delay` (system.pollWaitForNamespaceRateLimitToken): the poll
  // reaches the engine then, with what is left of its wait. A caller that cancels meanwhile ends
  // the call at once (the engine ignores the completed waiter when the timer fires).
  const Duration wait = std::max(Duration::zero(), PollWait(ctx) - delay);
  timers_->Schedule(clock_.Now() + delay, [start, waiter = reactor->waiter(), wait] { start(waiter, wait); });
  return reactor;
}

Reactor* WorkflowServiceImpl::PollWorkflowTaskQueue(Ctx* ctx, const wsv1::PollWorkflowTaskQueueRequest* req,
                                                    wsv1::PollWorkflowTaskQueueResponse* resp) {
  return TaskPoll(ctx, resp, [this, r = *req](auto waiter, Duration wait) { engine_.PollWorkflowTaskQueue(r, waiter, wait); });
}

Reactor* WorkflowServiceImpl::QueryWorkflow(Ctx* ctx, const wsv1::QueryWorkflowRequest* req,
                                            wsv1::QueryWorkflowResponse* resp) {
  // Waits for a worker until the caller's deadline; a cancelled RPC drops the query.
  if (Reactor* denied = Denied(ctx)) return denied;
  if (Reactor* refused = Refused(ctx, *req)) return refused;
  auto* reactor = new PollReactor(engine_, resp);
  engine_.QueryWorkflow(*req, reactor->waiter());
  return reactor;
}

// Updates wait for their stage (bounded by the engine's long-poll interval) without a thread.
#define TL_WAITING(Method)                                                                          \
  Reactor* WorkflowServiceImpl::Method(Ctx* ctx, const wsv1::Method##Request* req,                  \
                                       wsv1::Method##Response* resp) {                              \
    if (Reactor* denied = Denied(ctx)) return denied;                                               \
    if (Reactor* refused = Refused(ctx, *req)) return refused;                                      \
    auto* reactor = new PollReactor(engine_, resp);                                                 \
    engine_.Method(*req, reactor->waiter());                                                        \
    return reactor;                                                                                 \
  }
TL_WAITING(UpdateWorkflowExecution)
TL_WAITING(PollWorkflowExecutionUpdate)
TL_WAITING(ExecuteMultiOperation)
#undef TL_WAITING

Reactor* WorkflowServiceImpl::PollActivityTaskQueue(Ctx* ctx, const wsv1::PollActivityTaskQueueRequest* req,
                                                    wsv1::PollActivityTaskQueueResponse* resp) {
  return TaskPoll(ctx, resp, [this, r = *req](auto waiter, Duration wait) { engine_.PollActivityTaskQueue(r, waiter, wait); });
}

}  // namespace temporalite::frontend
