// The query RPCs' entry points (QueryWorkflow, RespondQueryTaskCompleted): the request checks,
// the run lookup and the run-state checks; the queries themselves are the QueryRegistry unit
// (query_registry.h). Also the engine's side of its seam (EngineContext::OfferQueryTask, the
// sticky-or-normal choice of a legacy query task's queue).
#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/run_lookup.h"
#include "history/task_token.h"

namespace temporalite::history {

void Engine::QueryWorkflow(const wsv1::QueryWorkflowRequest& req, Waiting<wsv1::QueryWorkflowResponse> waiter) {
  MutexLock l(mu_);
  auto fail = [&](Status s) { ReplyNow(l, *waiter, s); };
  auto r = LookUpRun(*this, req.namespace_(), req.execution(), /*with_events=*/true, [&] {
    if (req.execution().workflow_id().empty()) return InvalidArgument("WorkflowId is not set on request.");
    if (req.query().query_type().empty()) return InvalidArgument("QueryType is not set on request.");
    return CheckBlob(req.query().query_args().ByteSizeLong(), "QueryArgs");
  });
  if (!r.ok()) return fail(r.status());
  std::shared_ptr<Execution> ex = r.value();
  wsv1::QueryWorkflowResponse* resp = waiter->response;
  const auto status = ex->st().status();
  if (!ex->open()) {
    auto cond = req.query_reject_condition();
    if (cond == ev1::QUERY_REJECT_CONDITION_NOT_OPEN ||
        (cond == ev1::QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY && status != ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED)) {
      resp->mutable_query_rejected()->set_status(status);
      return ReplyNow(l, *waiter, Status::Ok());
    }
    if (ex->st().last_completed_wft_started_id() == 0) {
      return fail(WorkflowNotReady("Cannot query workflow due to Workflow Task in failed state."));
    }
  } else if (ex->wft_pending() && ex->st().wft().attempt() >= 3) {
    return fail(WorkflowNotReady("Cannot query workflow due to Workflow Task in failed state."));
  }
  if (Status held = CheckHistoryHeld(*ex, "QueryWorkflow"); !held.ok()) return fail(held);
  queries_.Start(ex, req.query(), std::move(waiter));
}

void Engine::RespondQueryTaskCompleted(const wsv1::RespondQueryTaskCompletedRequest& req, Done done) {
  auto tok = DecodeTaskToken(req.task_token());
  if (!tok.ok()) return done(tok.status());
  if (tok->kind() != state::TaskToken::QUERY_TASK) return done(InvalidArgument("task token is not a query task token"));
  Status s;
  {
    MutexLock l(mu_);
    s = queries_.RespondTaskCompleted(tok->query_id(), req);
  }
  done(s);
}

EngineContext::QueryTaskOffer Engine::OfferQueryTask(const Execution& ex, const std::string& query_id) {
  mu_.AssertHeld();  // EngineContext calls come from the units, which run under mu_
  // Prefer the sticky worker (it has the run cached) while it looks alive.
  QueryTaskOffer offer;
  const TimePoint now = clock_.Now();
  matching::QueueKey key{ex.st().namespace_id(), ex.st().task_queue(), matching::TaskType::kWorkflow};
  if (ex.open() && !ex.st().sticky_task_queue().empty()) {
    matching::QueueKey sticky_key{ex.st().namespace_id(), ex.st().sticky_task_queue(), matching::TaskType::kWorkflow};
    if (workflow_queues_.StickyAlive(sticky_key, now)) {
      key = std::move(sticky_key);
      offer.sticky = true;
    }
  }
  offer.poller = workflow_queues_.OfferQuery(mu_, key, {ex.st().run_id(), 0, 0, query_id}, now, created_at_,
                                             options_.query_poller_unavailable_window, &offer.refused);
  return offer;
}

Execution* Engine::LoadedRun(const std::string& run_id) {
  mu_.AssertHeld();  // EngineContext calls come from the units, which run under mu_
  return runs_.FindLoaded(run_id);
}

}  // namespace temporalite::history
