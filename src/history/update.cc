// Workflow updates (protocol-notes §6). An admitted update is delivered as a protocol message on
// a (normal, persisted) workflow task; the worker's Acceptance/Response messages become
// WorkflowExecutionUpdateAccepted/Completed events, so accepted and completed updates survive a
// restart and are found again by update id. Admitted-only updates live in memory, as in Temporal.
#include <google/protobuf/any.pb.h>

#include <algorithm>

#include "common/ids.h"
#include "common/log.h"
#include "temporal/api/command/v1/message.pb.h"
#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/multi_op.h"
#include "history/proto_time.h"
#include "temporal/api/protocol/v1/message.pb.h"
#include "temporal/api/update/v1/message.pb.h"

namespace temporalite::history {

namespace uv1 = ::temporal::api::update::v1;
namespace pv1 = ::temporal::api::protocol::v1;
namespace cv1 = ::temporal::api::common::v1;

namespace {
// Temporal's outcome for an update whose workflow closed before the update completed.
uv1::Outcome ClosedBeforeCompletion() {
  uv1::Outcome o;
  auto* f = o.mutable_failure();
  f->set_message("Workflow Update failed because the Workflow completed before the Update completed.");
  f->mutable_application_failure_info()->set_type("AcceptedUpdateCompletedWorkflow");
  f->mutable_application_failure_info()->set_non_retryable(true);
  return o;
}
constexpr int kStageAdmitted = ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED;
constexpr int kStageAccepted = ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED;
constexpr int kStageCompleted = ev1::UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED;
std::string UpdateKey(const std::string& run_id, const std::string& update_id) { return run_id + "/" + update_id; }
}  // namespace

std::shared_ptr<Engine::UpdateState> Engine::FindOrRecoverUpdateLocked(const Execution& ex, const std::string& update_id) {
  auto it = updates_.find(UpdateKey(ex.st.run_id(), update_id));
  if (it != updates_.end()) return it->second;
  // After a restart (or for a closed run) the history is the record of accepted/completed updates.
  std::shared_ptr<UpdateState> u;
  for (const auto& e : ex.events) {
    if (e.has_workflow_execution_update_admitted_event_attributes() &&
        e.workflow_execution_update_admitted_event_attributes().request().meta().update_id() == update_id) {
      // Durably admitted (reapplied by a reset): the worker takes the request from history.
      u = std::make_shared<UpdateState>();
      u->id = update_id;
      u->run_id = ex.st.run_id();
      u->request = e.workflow_execution_update_admitted_event_attributes().request();
      u->stage = kStageAdmitted;
    } else if (e.has_workflow_execution_update_accepted_event_attributes() &&
        e.workflow_execution_update_accepted_event_attributes().protocol_instance_id() == update_id) {
      u = std::make_shared<UpdateState>();
      u->id = update_id;
      u->run_id = ex.st.run_id();
      u->request = e.workflow_execution_update_accepted_event_attributes().accepted_request();
      u->stage = kStageAccepted;
      u->accepted_event_id = e.event_id();
    } else if (u && e.has_workflow_execution_update_completed_event_attributes() &&
               e.workflow_execution_update_completed_event_attributes().meta().update_id() == update_id) {
      u->stage = kStageCompleted;
      u->outcome = e.workflow_execution_update_completed_event_attributes().outcome();
    }
  }
  if (u && ex.open()) updates_[UpdateKey(ex.st.run_id(), update_id)] = u;
  return u;
}

void Engine::WaitForUpdateLocked(std::shared_ptr<UpdateState> u, const Execution& ex, int wanted_stage,
                                 std::shared_ptr<matching::Waiter> waiter, UpdateFill fill) {
  if (wanted_stage <= 0) wanted_stage = kStageAccepted;
  cv1::WorkflowExecution we;
  we.set_workflow_id(ex.st.workflow_id());
  we.set_run_id(ex.st.run_id());
  if (u->stage >= wanted_stage || !ex.open()) {
    if (!ex.open() && u->stage < kStageCompleted) {  // the run closed first: the update failed
      u->stage = kStageCompleted;
      u->outcome = ClosedBeforeCompletion();
    }
    fill(*u, we);
    waiter->Complete(mu_);
    ReplyWhenDurableLocked([waiter](const Status& s) { waiter->finish(s); }, Status::Ok());
    return;
  }
  u->waiters.push_back({waiter, wanted_stage, fill, we});
  // Long poll: after ~20 s answer with the stage reached so far (the SDK asks again).
  std::weak_ptr<matching::Waiter> weak = waiter;
  std::weak_ptr<UpdateState> weak_u = u;
  timers_.Schedule(clock_.Now() + options_.history_long_poll, [this, weak, weak_u, fill, we] {
    auto w = weak.lock();
    if (!w) return;
    {
      MutexLock l(mu_);
      if (w->completed(mu_)) return;
      w->Complete(mu_);
      if (auto u = weak_u.lock()) fill(*u, we);
    }
    w->finish(Status::Ok());
  });
}

void Engine::AdvanceUpdateLocked(Txn& txn, UpdateState& u, int stage, const uv1::Outcome* outcome) {
  u.stage = stage;
  if (outcome) u.outcome = *outcome;
  std::vector<std::shared_ptr<matching::Waiter>> ready;
  auto keep = u.waiters.begin();
  for (auto& w : u.waiters) {
    if (w.stage <= stage && !w.waiter->completed(mu_)) {
      w.fill(u, w.execution);
      w.waiter->Complete(mu_);
      ready.push_back(w.waiter);
    } else if (!w.waiter->completed(mu_)) {
      *keep++ = std::move(w);
    }
  }
  u.waiters.erase(keep, u.waiters.end());
  if (!ready.empty()) {
    txn.after_commit.push_back([ready] {
      for (const auto& w : ready) w->finish(Status::Ok());
    });
  }
}

void Engine::RegisterUpdateLocked(Txn& txn, Execution& ex, const wsv1::UpdateWorkflowExecutionRequest& req,
                                  std::shared_ptr<matching::Waiter> waiter, UpdateFill fill, Status* error) {
  const std::string& update_id = req.request().meta().update_id();
  auto u = FindOrRecoverUpdateLocked(ex, update_id);
  if (!u) {
    if (!ex.open()) {
      *error = NotFound("workflow execution already completed");
      return;
    }
    if (Status limit = CheckUpdateLimitsLocked(ex, req.request()); !limit.ok()) {
      *error = limit;
      return;
    }
    u = std::make_shared<UpdateState>();
    u->id = update_id;
    u->run_id = ex.st.run_id();
    u->request = req.request();
    u->stage = kStageAdmitted;
    updates_[UpdateKey(ex.st.run_id(), update_id)] = u;
    ex.admitted_updates.push_back(update_id);
    if (!ex.wft_pending() && IsZero(ex.st.first_wft_due_time())) ScheduleWorkflowTaskLocked(txn, ex);
  }
  WaitForUpdateLocked(u, ex, req.wait_policy().lifecycle_stage(), std::move(waiter), std::move(fill));
}

namespace {
template <typename Resp>
Engine::UpdateFill FillInto(Resp* resp) {
  return [resp](const Engine::UpdateState& u, const cv1::WorkflowExecution& we) {
    resp->Clear();
    *resp->mutable_update_ref()->mutable_workflow_execution() = we;
    resp->mutable_update_ref()->set_update_id(u.id);
    resp->set_stage(static_cast<ev1::UpdateWorkflowExecutionLifecycleStage>(u.stage));
    if (u.stage == kStageCompleted) *resp->mutable_outcome() = u.outcome;
  };
}
}  // namespace

Status Engine::ValidateUpdateLocked(const wsv1::UpdateWorkflowExecutionRequest& req) const {
  Status s = CheckId(req.workflow_execution().workflow_id(), "WorkflowId");
  if (s.ok()) s = CheckId(req.request().meta().update_id(), "UpdateId");
  if (s.ok()) s = CheckId(req.request().input().name(), "Update name");
  if (s.ok()) s = CheckBlob(req.request().input().ByteSizeLong(), "Update input");
  return s;
}

void Engine::UpdateWorkflowExecution(const wsv1::UpdateWorkflowExecutionRequest& req,
                                     Waiting<wsv1::UpdateWorkflowExecutionResponse> waiter) {
  MutexLock l(mu_);
  auto fail = [&](Status s) { ReplyNow(l, *waiter, s); };
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  Status s = ValidateUpdateLocked(req);
  if (!s.ok()) return fail(s);
  auto r = FetchRun(ns.value()->info().id(), req.workflow_execution().workflow_id(),
                    req.workflow_execution().run_id(), /*with_events=*/true);
  if (!r.ok()) return fail(r.status());
  std::shared_ptr<Execution> ex = r.value();
  if (!req.first_execution_run_id().empty() && ex->st.first_execution_run_id() != req.first_execution_run_id()) {
    return fail(WorkflowNotFound(req.workflow_execution().workflow_id(), req.workflow_execution().run_id()));
  }
  if (Status loaded = LoadEventsIfMissingLocked(*ex); !loaded.ok()) return fail(loaded);
  Txn txn;
  Status err;
  RegisterUpdateLocked(txn, *ex, req, waiter, FillInto(waiter->response), &err);
  if (!err.ok()) return fail(err);
  if (!txn.touched.empty()) CommitLocked(txn, nullptr);
}

void Engine::PollWorkflowExecutionUpdate(const wsv1::PollWorkflowExecutionUpdateRequest& req,
                                         Waiting<wsv1::PollWorkflowExecutionUpdateResponse> waiter) {
  MutexLock l(mu_);
  auto fail = [&](Status s) { ReplyNow(l, *waiter, s); };
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  const auto& ref = req.update_ref();
  if (ref.update_id().empty()) return fail(InvalidArgument("UpdateId is not set on request."));
  auto r = FetchRun(ns.value()->info().id(), ref.workflow_execution().workflow_id(),
                    ref.workflow_execution().run_id(), /*with_events=*/true);
  if (!r.ok()) return fail(r.status());
  std::shared_ptr<Execution> ex = r.value();
  if (Status loaded = LoadEventsIfMissingLocked(*ex); !loaded.ok()) return fail(loaded);
  auto u = FindOrRecoverUpdateLocked(*ex, ref.update_id());
  if (!u) return fail(NotFound("update " + ref.update_id() + " not found"));
  WaitForUpdateLocked(u, *ex, req.wait_policy().lifecycle_stage(), waiter,
                      FillInto(waiter->response));
}

void Engine::AttachUpdatesLocked(Execution& ex, int64_t started_event_id, wsv1::PollWorkflowTaskQueueResponse* resp,
                                 bool heartbeat) {
  for (const auto& id : ex.admitted_updates) {
    auto it = updates_.find(UpdateKey(ex.st.run_id(), id));
    if (it == updates_.end() || it->second->stage != kStageAdmitted) continue;
    UpdateState& u = *it->second;
    // A heartbeat task carries only updates that arrived since (the worker still has the others).
    if (heartbeat && u.delivered_in_wft != 0) continue;
    u.delivered_in_wft = started_event_id;
    auto* m = resp->add_messages();
    m->set_id(id + "/request");
    m->set_protocol_instance_id(id);
    m->set_event_id(started_event_id - 1);
    m->mutable_body()->PackFrom(u.request);
  }
}

void Engine::ApplyProtocolMessageLocked(Txn& txn, Execution& ex, const pv1::Message& m, int64_t completed_id) {
  const std::string key = UpdateKey(ex.st.run_id(), m.protocol_instance_id());
  // After a restart the registry is empty: accepted updates come back from history, and an
  // update admitted before the crash (admission is in memory only) from the worker's Acceptance.
  std::shared_ptr<UpdateState> u = FindOrRecoverUpdateLocked(ex, m.protocol_instance_id());
  uv1::Acceptance acc;
  uv1::Rejection rej;
  uv1::Response res;
  const bool is_acc = m.body().UnpackTo(&acc);
  if (!u && is_acc && acc.has_accepted_request()) {
    u = std::make_shared<UpdateState>();
    u->id = m.protocol_instance_id();
    u->run_id = ex.st.run_id();
    u->request = acc.accepted_request();
    u->stage = kStageAdmitted;
    updates_[key] = u;
  }
  if (!u) {
    TL_LOG_WARN("protocol message %s for unknown update %s ignored", m.id().c_str(), m.protocol_instance_id().c_str());
    return;
  }
  const TimePoint now = clock_.Now();
  if (is_acc) {
    if (u->stage >= kStageAccepted) return;
    auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, now);
    auto* a = e->mutable_workflow_execution_update_accepted_event_attributes();
    a->set_protocol_instance_id(u->id);
    a->set_accepted_request_message_id(acc.accepted_request_message_id());
    a->set_accepted_request_sequencing_event_id(acc.accepted_request_sequencing_event_id());
    *a->mutable_accepted_request() = acc.has_accepted_request() ? acc.accepted_request() : u->request;
    u->accepted_event_id = e->event_id();
    AdvanceUpdateLocked(txn, *u, kStageAccepted, nullptr);
  } else if (m.body().UnpackTo(&res)) {
    if (u->stage >= kStageCompleted) return;
    auto* e = AddEvent(ex, ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED, now);
    auto* a = e->mutable_workflow_execution_update_completed_event_attributes();
    *a->mutable_meta() = res.has_meta() ? res.meta() : u->request.meta();
    a->set_accepted_event_id(u->accepted_event_id);
    *a->mutable_outcome() = res.outcome();
    AdvanceUpdateLocked(txn, *u, kStageCompleted, &res.outcome());
    updates_.erase(key);
  } else if (m.body().UnpackTo(&rej)) {
    uv1::Outcome o;
    *o.mutable_failure() = rej.failure();
    AdvanceUpdateLocked(txn, *u, kStageCompleted, &o);
    updates_.erase(key);  // rejected updates leave no trace in history
  }
  (void)completed_id;
  auto& ids = ex.admitted_updates;
  ids.erase(std::remove(ids.begin(), ids.end(), u->id), ids.end());
}


void Engine::SettleUpdatesAfterTaskLocked(Txn& txn, Execution& ex, bool task_completed, bool heartbeat,
                                          const std::string& identity) {
  std::vector<std::string> ids = ex.admitted_updates;
  std::string rejected;
  for (const auto& id : ids) {
    auto it = updates_.find(UpdateKey(ex.st.run_id(), id));
    if (it == updates_.end()) continue;
    std::shared_ptr<UpdateState> u = it->second;
    if (u->stage != kStageAdmitted) continue;
    if (!ex.open()) {
      uv1::Outcome o;
      o.mutable_failure()->set_message("workflow execution already completed");
      AdvanceUpdateLocked(txn, *u, kStageCompleted, &o);
      updates_.erase(it);
      continue;
    }
    if (task_completed && heartbeat) continue;  // sent ones stay sent; new ones ride the next task
    if (task_completed && u->delivered_in_wft != 0) {
      // Sent to the worker, and its completion said nothing about it: reject it rather than loop
      // (Temporal's RejectUnprocessed, an old SDK or an SDK bug).
      uv1::Outcome o;
      o.mutable_failure()->set_message("update was not handled by the workflow worker");
      AdvanceUpdateLocked(txn, *u, kStageCompleted, &o);
      rejected += (rejected.empty() ? "" : ", ") + id + " (sent on the task started at event " +
                  std::to_string(u->delivered_in_wft) + ")";
      updates_.erase(it);
      continue;
    }
    u->delivered_in_wft = 0;  // re-deliver on the next task
  }
  if (!rejected.empty()) {
    TL_LOG_WARN("workflow task of %s (run %s) completed by %s without processing updates: %s; rejected",
                ex.st.workflow_id().c_str(), ex.st.run_id().c_str(), identity.c_str(), rejected.c_str());
  }
  if (!ex.open()) {
    ex.admitted_updates.clear();
    const std::string prefix = ex.st.run_id() + "/";
    for (auto it = updates_.begin(); it != updates_.end();) {
      if (it->first.compare(0, prefix.size(), prefix) == 0) {
        if (it->second->stage < kStageCompleted) {
          uv1::Outcome o = ClosedBeforeCompletion();
          AdvanceUpdateLocked(txn, *it->second, kStageCompleted, &o);
        }
        it = updates_.erase(it);
      } else {
        ++it;
      }
    }
  } else {
    auto& v = ex.admitted_updates;
    v.erase(std::remove_if(v.begin(), v.end(), [&](const std::string& id) {
      mu_.AssertHeld();  // called right here, under the caller's lock
      return updates_.find(UpdateKey(ex.st.run_id(), id)) == updates_.end();
    }), v.end());
  }
}

bool Engine::HasUndeliveredUpdatesLocked(const Execution& ex) const {
  for (const auto& id : ex.admitted_updates) {
    auto it = updates_.find(UpdateKey(ex.st.run_id(), id));
    if (it != updates_.end() && it->second->stage == kStageAdmitted && it->second->delivered_in_wft == 0) return true;
  }
  return false;
}

void Engine::ExecuteMultiOperation(const wsv1::ExecuteMultiOperationRequest& req,
                                   Waiting<wsv1::ExecuteMultiOperationResponse> waiter) {
  // The id-conflict check's store read without the mutex (as StartWorkflowExecution).
  CurrentRunRead pre;
  if (req.operations_size() > 0 && req.operations(0).has_start_workflow()) {
    pre = ReadCurrentRun(req.namespace_(), req.operations(0).start_workflow().workflow_id());
  }
  MutexLock l(mu_);
  if (req.operations_size() > 0 && req.operations(0).has_start_workflow()) {
    RereadCurrentRunIfStaleLocked(&pre, req.namespace_(), req.operations(0).start_workflow().workflow_id());
  }
  auto fail = [&](Status s) { ReplyNow(l, *waiter, s); };
  auto ns = NamespaceByNameLocked(req.namespace_());
  if (!ns.ok()) return fail(ns.status());
  if (req.operations_size() != 2 || !req.operations(0).has_start_workflow() || !req.operations(1).has_update_workflow()) {
    return fail(InvalidArgument("Operations have to be exactly [Start, Update]."));
  }
  const auto& start = req.operations(0).start_workflow();
  const auto& update = req.operations(1).update_workflow();
  const std::string ns_id = ns.value()->info().id();
  StartFields f = StartFieldsFrom(start);
  // Each operation is validated on its own (Temporal's checks for Update-with-Start included); a
  // failure is reported per operation, the other one aborted.
  Status start_err = ValidateMultiOpStart(start, req.namespace_());
  if (start_err.ok()) start_err = ValidateStartLocked(f, ns_id);
  Status update_err = ValidateMultiOpUpdate(update, req.namespace_());
  if (update_err.ok()) update_err = ValidateUpdateLocked(update);
  if (start_err.ok() && update_err.ok() && start.workflow_id() != update.workflow_execution().workflow_id()) {
    update_err = InvalidArgument("WorkflowId is not consistent with previous operation(s).");
  }
  if (!start_err.ok() || !update_err.ok()) {
    return fail(MultiOperationError(start_err.ok() ? nullptr : &start_err, update_err.ok() ? nullptr : &update_err));
  }
  wsv1::ExecuteMultiOperationResponse* resp = waiter->response;
  auto* start_resp = resp->add_responses()->mutable_start_workflow();
  auto* update_resp = resp->add_responses()->mutable_update_workflow();
  Txn txn;
  IdConflict c =
      ResolveIdConflictLocked(txn, f, ns_id, start.workflow_id_reuse_policy(), start.workflow_id_conflict_policy(), &pre);
  if (!c.status.ok()) {
    Status err = MultiOperationError(&c.status, nullptr);
    if (!c.judged_on_undurable_close) return fail(err);
    waiter->Complete(mu_);
    return ReplyWhenDurableLocked([waiter](const Status& s) { waiter->finish(s); }, err);
  }
  Execution* ex = nullptr;
  if (c.existing) {
    auto it = runs_.find(c.existing->run_id());
    if (it == runs_.end()) {
      Status closed = NotFound("workflow execution already completed");
      return fail(MultiOperationError(nullptr, &closed));
    }
    ex = it->second.get();
    start_resp->set_run_id(ex->st.run_id());
    start_resp->set_started(false);
    start_resp->set_status(ex->st.status());
  } else {
    ex = CreateRunLocked(txn, ns_id, std::move(f), nullptr);
    start_resp->set_run_id(ex->st.run_id());
    start_resp->set_started(true);
    start_resp->set_status(ev1::WORKFLOW_EXECUTION_STATUS_RUNNING);
  }
  Status err;
  RegisterUpdateLocked(txn, *ex, update, waiter, FillInto(update_resp), &err);
  if (!err.ok()) return fail(MultiOperationError(nullptr, &err));
  CommitLocked(txn, nullptr);
}

}  // namespace temporalite::history
