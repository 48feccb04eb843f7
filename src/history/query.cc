// Queries (protocol-notes §6). Not persisted, as in Temporal: a query lives while its RPC waits.
// A query rides on the next workflow task when one is pending (`queries` / `query_results`);
// otherwise, and for closed runs, it goes out as a legacy query task on the workflow task queue
// and is answered through RespondQueryTaskCompleted.
#include "common/ids.h"
#include "common/log.h"
#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/task_token.h"
#include "temporal/api/errordetails/v1/message.pb.h"

#include <google/protobuf/any.pb.h>

namespace temporalite::history {

namespace qv1 = ::temporal::api::query::v1;
namespace cv1 = ::temporal::api::common::v1;

namespace {
Status QueryFailed(const std::string& message, const temporal::api::failure::v1::Failure* failure) {
  temporal::api::errordetails::v1::QueryFailedFailure f;
  if (failure) *f.mutable_failure() = *failure;
  google::protobuf::Any any;
  any.PackFrom(f);
  return Status(Code::kInvalidArgument, message, any.SerializeAsString());
}
}  // namespace

void Engine::QueryWorkflow(const wsv1::QueryWorkflowRequest& req, Waiting<wsv1::QueryWorkflowResponse> waiter) {
  MutexLock l(mu_);
  auto fail = [&](Status s) { ReplyNow(l, *waiter, s); };
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  if (req.execution().workflow_id().empty()) return fail(InvalidArgument("WorkflowId is not set on request."));
  if (req.query().query_type().empty()) return fail(InvalidArgument("QueryType is not set on request."));
  Status s = CheckBlob(req.query().query_args().ByteSizeLong(), "QueryArgs");
  if (!s.ok()) return fail(s);
  auto r = FetchRun(ns.value()->info().id(), req.execution().workflow_id(), req.execution().run_id(),
                    /*with_events=*/true);
  if (!r.ok()) return fail(r.status());
  std::shared_ptr<Execution> ex = r.value();
  wsv1::QueryWorkflowResponse* resp = waiter->response;
  const auto status = ex->st.status();
  if (!ex->open()) {
    auto cond = req.query_reject_condition();
    if (cond == ev1::QUERY_REJECT_CONDITION_NOT_OPEN ||
        (cond == ev1::QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY && status != ev1::WORKFLOW_EXECUTION_STATUS_COMPLETED)) {
      resp->mutable_query_rejected()->set_status(status);
      return ReplyNow(l, *waiter, Status::Ok());
    }
    if (ex->st.last_completed_wft_started_id() == 0) {
      return fail(WorkflowNotReady("Cannot query workflow due to Workflow Task in failed state."));
    }
  } else if (ex->wft_pending() && ex->st.wft().attempt() >= 3) {
    return fail(WorkflowNotReady("Cannot query workflow due to Workflow Task in failed state."));
  }

  auto q = std::make_shared<PendingQuery>();
  q->id = NewUuid();
  q->run_id = ex->st.run_id();
  q->query = req.query();
  q->waiter = std::move(waiter);
  queries_[q->id] = q;
  if (!ex->open()) {
    if (Status loaded = LoadEventsIfMissingLocked(*ex); !loaded.ok()) return fail(loaded);
    q->closed_run = ex;
    DispatchLegacyQueryLocked(*q, *ex);
    return;
  }
  ex->query_ids.push_back(q->id);
  // Quiescent run with a completed task: ask the worker directly. Otherwise ride on the next task.
  if (!ex->wft_pending() && ex->st.last_completed_wft_started_id() > 0) DispatchLegacyQueryLocked(*q, *ex);
}

void Engine::FillLegacyQueryTaskLocked(const PendingQuery& q, const Execution& ex, bool sticky,
                                       wsv1::PollWorkflowTaskQueueResponse* resp) {
  const auto& st = ex.st;
  resp->set_task_token(EncodeQueryTaskToken(st.namespace_id(), sticky ? st.sticky_task_queue() : st.task_queue(), q.id));
  resp->mutable_workflow_execution()->set_workflow_id(st.workflow_id());
  resp->mutable_workflow_execution()->set_run_id(st.run_id());
  resp->mutable_workflow_type()->set_name(st.workflow_type());
  resp->set_previous_started_event_id(st.last_completed_wft_started_id());
  resp->set_started_event_id(0);
  resp->set_attempt(1);
  resp->mutable_workflow_execution_task_queue()->set_name(st.task_queue());
  resp->mutable_workflow_execution_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
  *resp->mutable_scheduled_time() = ToProto(clock_.Now());
  *resp->mutable_started_time() = ToProto(clock_.Now());
  size_t first = sticky && st.last_completed_wft_started_id() > 0 ? static_cast<size_t>(st.last_completed_wft_started_id()) : 0;
  for (size_t i = first; i < ex.events.size(); ++i) *resp->mutable_history()->add_events() = ex.events[i];
  *resp->mutable_query() = q.query;
}

void Engine::DispatchLegacyQueryLocked(PendingQuery& q, const Execution& ex) {
  q.legacy = true;
  q.delivered_in_wft = 0;
  // Prefer the sticky worker (it has the run cached) while it looks alive.
  const TimePoint now = clock_.Now();
  matching::QueueKey key{ex.st.namespace_id(), ex.st.task_queue(), matching::TaskType::kWorkflow};
  bool sticky = false;
  if (ex.open() && !ex.st.sticky_task_queue().empty()) {
    matching::QueueKey sticky_key{ex.st.namespace_id(), ex.st.sticky_task_queue(), matching::TaskType::kWorkflow};
    if (workflow_queues_.StickyAlive(sticky_key, now)) {
      key = std::move(sticky_key);
      sticky = true;
    }
  }
  bool refused = false;
  auto poller = workflow_queues_.OfferQuery(mu_, key, {ex.st.run_id(), 0, 0, q.id}, now, created_at_,
                                            options_.query_poller_unavailable_window, &refused);
  if (poller) {
    FillLegacyQueryTaskLocked(q, ex, sticky, poller->response);
    poller->finish(Status::Ok());
  } else if (refused) {
    // Temporal's matching answers this way instead of holding the query until the deadline.
    AnswerQueryLocked(q, FailedPrecondition("no poller seen for task queue recently, worker may be down"), nullptr);
  }
}

void Engine::AttachQueriesLocked(Execution& ex, int64_t started_event_id, wsv1::PollWorkflowTaskQueueResponse* resp) {
  for (const auto& id : ex.query_ids) {
    auto it = queries_.find(id);
    if (it == queries_.end()) continue;
    PendingQuery& q = *it->second;
    if (q.legacy || q.delivered_in_wft != 0 || q.waiter->completed(mu_)) continue;
    q.delivered_in_wft = started_event_id;
    (*resp->mutable_queries())[id] = q.query;
  }
}

void Engine::AnswerQueryLocked(PendingQuery& q, const Status& status, const cv1::Payloads* result) {
  if (!q.waiter->completed(mu_)) {
    q.waiter->Complete(mu_);
    wsv1::QueryWorkflowResponse* resp = q.waiter->response;
    if (status.ok()) *resp->mutable_query_result() = result ? *result : cv1::Payloads();
    q.waiter->finish(status);
  }
  if (auto it = runs_.find_loaded(q.run_id); it != runs_.end()) {
    auto& ids = it->second->query_ids;
    ids.erase(std::remove(ids.begin(), ids.end(), q.id), ids.end());
  }
  queries_.erase(q.id);  // `q` may be dangling from here on
}

void Engine::SettleQueriesLocked(Execution& ex, const google::protobuf::Map<std::string, qv1::WorkflowQueryResult>* results,
                                 bool new_wft_scheduled) {
  std::vector<std::string> ids = ex.query_ids;
  for (const auto& id : ids) {
    auto it = queries_.find(id);
    if (it == queries_.end()) continue;
    std::shared_ptr<PendingQuery> q = it->second;
    if (q->waiter->completed(mu_)) {  // the caller gave up
      AnswerQueryLocked(*q, Status::Ok(), nullptr);
      continue;
    }
    if (q->legacy) continue;
    if (results && q->delivered_in_wft != 0) {
      auto r = results->find(id);
      if (r != results->end()) {
        if (r->second.result_type() == ev1::QUERY_RESULT_TYPE_ANSWERED) {
          AnswerQueryLocked(*q, Status::Ok(), &r->second.answer());
        } else {
          AnswerQueryLocked(*q, QueryFailed(r->second.error_message(), r->second.has_failure() ? &r->second.failure() : nullptr),
                            nullptr);
        }
        continue;
      }
    }
    q->delivered_in_wft = 0;
    if (!ex.open()) {
      // The run closed with the query unanswered: answer it from the final history.
      auto snapshot = std::make_shared<Execution>();
      snapshot->st = ex.st;
      snapshot->events = ex.events;
      q->closed_run = snapshot;
      DispatchLegacyQueryLocked(*q, *snapshot);
    } else if (!new_wft_scheduled) {
      DispatchLegacyQueryLocked(*q, ex);
    }
  }
}

void Engine::RespondQueryTaskCompleted(const wsv1::RespondQueryTaskCompletedRequest& req, Done done) {
  auto tok = DecodeTaskToken(req.task_token());
  if (!tok.ok()) return done(tok.status());
  if (tok->kind() != state::TaskToken::QUERY_TASK) return done(InvalidArgument("task token is not a query task token"));
  {
    MutexLock l(mu_);
    auto it = queries_.find(tok->query_id());
    if (it == queries_.end()) return done(NotFound("query not found: it was answered already or the caller gave up"));
    std::shared_ptr<PendingQuery> q = it->second;
    if (req.completed_type() == ev1::QUERY_RESULT_TYPE_ANSWERED) {
      AnswerQueryLocked(*q, Status::Ok(), &req.query_result());
    } else {
      AnswerQueryLocked(*q, QueryFailed(req.error_message(), req.has_failure() ? &req.failure() : nullptr), nullptr);
    }
  }
  done(Status::Ok());
}

}  // namespace temporalite::history
