// The query registry (query_registry.h).
#include "history/query_registry.h"

#include <google/protobuf/any.pb.h>

#include <algorithm>
#include <vector>

#include "common/ids.h"
#include "history/proto_time.h"
#include "history/task_token.h"
#include "temporal/api/errordetails/v1/message.pb.h"

namespace temporalite::history {

namespace qv1 = ::temporal::api::query::v1;
namespace cv1 = ::temporal::api::common::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

namespace {
Status QueryFailed(const std::string& message, const temporal::api::failure::v1::Failure* failure) {
  temporal::api::errordetails::v1::QueryFailedFailure f;
  if (failure) *f.mutable_failure() = *failure;
  google::protobuf::Any any;
  any.PackFrom(f);
  return Status(Code::kInvalidArgument, message, any.SerializeAsString());
}
}  // namespace

void QueryRegistry::Start(const std::shared_ptr<Execution>& ex, const qv1::WorkflowQuery& query, Waiter waiter) {
  auto q = std::make_shared<Pending>();
  q->id = NewUuid();
  q->run_id = ex->st().run_id();
  q->query = query;
  q->waiter = std::move(waiter);
  queries_[q->id] = q;
  if (!ex->open()) {
    q->closed_run = ex;
    DispatchLegacy(*q, *ex);
    return;
  }
  ex->query_ids.push_back(q->id);
  // Quiescent run with a completed task: ask the worker directly. Otherwise ride on the next task.
  if (!ex->wft_pending() && ex->st().last_completed_wft_started_id() > 0) DispatchLegacy(*q, *ex);
}

void QueryRegistry::FillLegacyTask(const Pending& q, const Execution& ex, bool sticky,
                                   wsv1::PollWorkflowTaskQueueResponse* resp) {
  const auto& st = ex.st();
  resp->set_task_token(EncodeQueryTaskToken(st.namespace_id(), sticky ? st.sticky_task_queue() : st.task_queue(), q.id));
  resp->mutable_workflow_execution()->set_workflow_id(st.workflow_id());
  resp->mutable_workflow_execution()->set_run_id(st.run_id());
  resp->mutable_workflow_type()->set_name(st.workflow_type());
  resp->set_previous_started_event_id(st.last_completed_wft_started_id());
  resp->set_started_event_id(0);
  resp->set_attempt(1);
  resp->mutable_workflow_execution_task_queue()->set_name(st.task_queue());
  resp->mutable_workflow_execution_task_queue()->set_kind(ev1::TASK_QUEUE_KIND_NORMAL);
  const TimePoint now = engine_.Now();
  *resp->mutable_scheduled_time() = ToProto(now);
  *resp->mutable_started_time() = ToProto(now);
  size_t first = sticky && st.last_completed_wft_started_id() > 0 ? static_cast<size_t>(st.last_completed_wft_started_id()) : 0;
  for (size_t i = first; i < ex.events.size(); ++i) *resp->mutable_history()->add_events() = ex.events[i];
  *resp->mutable_query() = q.query;
}

void QueryRegistry::DispatchLegacy(Pending& q, const Execution& ex) {
  q.legacy = true;
  q.delivered_in_wft = 0;
  EngineContext::QueryTaskOffer offer = engine_.OfferQueryTask(ex, q.id);
  if (offer.poller) {
    FillLegacyTask(q, ex, offer.sticky, offer.poller->response);
    offer.poller->finish(Status::Ok());
  } else if (offer.refused) {
    // Temporal's matching answers this way instead of holding the query until the deadline.
    Answer(q, FailedPrecondition("no poller seen for task queue recently, worker may be down"), nullptr);
  }
}

void QueryRegistry::AttachToTask(Execution& ex, int64_t started_event_id, wsv1::PollWorkflowTaskQueueResponse* resp) {
  mu_.AssertHeld();  // the engine calls the registry under its mutex (its member GUARDED_BY it)
  for (const auto& id : ex.query_ids) {
    auto it = queries_.find(id);
    if (it == queries_.end()) continue;
    Pending& q = *it->second;
    if (q.legacy || q.delivered_in_wft != 0 || q.waiter->completed(mu_)) continue;
    q.delivered_in_wft = started_event_id;
    (*resp->mutable_queries())[id] = q.query;
  }
}

void QueryRegistry::Answer(Pending& q, const Status& status, const cv1::Payloads* result) {
  mu_.AssertHeld();  // the engine calls the registry under its mutex (its member GUARDED_BY it)
  if (!q.waiter->completed(mu_)) {
    q.waiter->Complete(mu_);
    wsv1::QueryWorkflowResponse* resp = q.waiter->response;
    if (status.ok()) *resp->mutable_query_result() = result ? *result : cv1::Payloads();
    q.waiter->finish(status);
  }
  if (Execution* run = engine_.LoadedRun(q.run_id)) {
    auto& ids = run->query_ids;
    ids.erase(std::remove(ids.begin(), ids.end(), q.id), ids.end());
  }
  queries_.erase(q.id);  // `q` may be dangling from here on
}

void QueryRegistry::Settle(Execution& ex, const google::protobuf::Map<std::string, qv1::WorkflowQueryResult>* results,
                           bool new_wft_scheduled) {
  mu_.AssertHeld();  // the engine calls the registry under its mutex (its member GUARDED_BY it)
  std::vector<std::string> ids = ex.query_ids;
  for (const auto& id : ids) {
    auto it = queries_.find(id);
    if (it == queries_.end()) continue;
    std::shared_ptr<Pending> q = it->second;
    if (q->waiter->completed(mu_)) {  // the caller gave up
      Answer(*q, Status::Ok(), nullptr);
      continue;
    }
    if (q->legacy) continue;
    if (results && q->delivered_in_wft != 0) {
      auto r = results->find(id);
      if (r != results->end()) {
        if (r->second.result_type() == ev1::QUERY_RESULT_TYPE_ANSWERED) {
          Answer(*q, Status::Ok(), &r->second.answer());
        } else {
          Answer(*q, QueryFailed(r->second.error_message(), r->second.has_failure() ? &r->second.failure() : nullptr),
                 nullptr);
        }
        continue;
      }
    }
    q->delivered_in_wft = 0;
    if (!ex.open()) {
      // The run closed with the query unanswered: answer it from the final history.
      auto snapshot = std::make_shared<Execution>();
      snapshot->CopyFrom(ex);
      q->closed_run = snapshot;
      DispatchLegacy(*q, *snapshot);
    } else if (!new_wft_scheduled) {
      DispatchLegacy(*q, ex);
    }
  }
}

Status QueryRegistry::RespondTaskCompleted(const std::string& query_id, const wsv1::RespondQueryTaskCompletedRequest& req) {
  auto it = queries_.find(query_id);
  if (it == queries_.end()) return NotFound("query not found: it was answered already or the caller gave up");
  std::shared_ptr<Pending> q = it->second;
  if (req.completed_type() == ev1::QUERY_RESULT_TYPE_ANSWERED) {
    Answer(*q, Status::Ok(), &req.query_result());
  } else {
    Answer(*q, QueryFailed(req.error_message(), req.has_failure() ? &req.failure() : nullptr), nullptr);
  }
  return Status::Ok();
}

bool QueryRegistry::TakeLegacyTask(const std::string& query_id, const std::string& queue_name,
                                   const WorkflowPoller& poller) {
  mu_.AssertHeld();  // the engine calls the registry under its mutex (its member GUARDED_BY it)
  auto qit = queries_.find(query_id);
  if (qit == queries_.end()) return false;
  std::shared_ptr<Pending> pq = qit->second;
  if (pq->waiter->completed(mu_)) {
    Answer(*pq, Status::Ok(), nullptr);
    return false;
  }
  const Execution* qex = pq->closed_run.get();
  if (!qex) {
    qex = engine_.LoadedRun(pq->run_id);
    if (!qex) return false;
  }
  FillLegacyTask(*pq, *qex, queue_name != qex->st().task_queue(), poller->response);
  poller->Complete(mu_);
  poller->finish(Status::Ok());
  return true;
}

}  // namespace temporalite::history
