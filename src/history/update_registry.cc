// The update registry (update_registry.h). Limits: Temporal's history.maxInFlightUpdates
// (admitted or accepted, not yet completed updates: RESOURCE_EXHAUSTED, cause CONCURRENT_LIMIT),
// history.maxTotalUpdates (distinct updates per run, the completed ones counted:
// FAILED_PRECONDITION) and history.maxInFlightUpdatePayloads (Temporal sizes its registry as, per
// in-flight update, its id (map key and field) plus its request's encoded size, and refuses a
// request when that size plus the new request's reaches the limit). Rejected updates leave no
// trace and do not count.
#include "history/update_registry.h"

#include <google/protobuf/any.pb.h>

#include <algorithm>
#include <map>

#include "common/ids.h"
#include "common/log.h"
#include "history/errors.h"
#include "history/proto_time.h"

namespace temporalite::history {

namespace uv1 = ::temporal::api::update::v1;
namespace pv1 = ::temporal::api::protocol::v1;
namespace cv1 = ::temporal::api::common::v1;
namespace wsv1 = ::temporal::api::workflowservice::v1;

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

std::shared_ptr<UpdateRegistry::State> UpdateRegistry::FindOrRecover(const Execution& ex,
                                                                     const std::string& update_id) {
  auto it = updates_.find(UpdateKey(ex.st().run_id(), update_id));
  if (it != updates_.end()) return it->second;
  // After a restart (or for a closed run) the history is the record of accepted/completed updates.
  std::shared_ptr<State> u;
  for (const auto& e : ex.events) {
    if (e.has_workflow_execution_update_admitted_event_attributes() &&
        e.workflow_execution_update_admitted_event_attributes().request().meta().update_id() == update_id) {
      // Durably admitted (reapplied by a reset): the worker takes the request from history.
      u = std::make_shared<State>();
      u->id = update_id;
      u->run_id = ex.st().run_id();
      u->request = e.workflow_execution_update_admitted_event_attributes().request();
      u->stage = kStageAdmitted;
    } else if (e.has_workflow_execution_update_accepted_event_attributes() &&
        e.workflow_execution_update_accepted_event_attributes().protocol_instance_id() == update_id) {
      u = std::make_shared<State>();
      u->id = update_id;
      u->run_id = ex.st().run_id();
      u->request = e.workflow_execution_update_accepted_event_attributes().accepted_request();
      u->stage = kStageAccepted;
      u->accepted_event_id = e.event_id();
    } else if (u && e.has_workflow_execution_update_completed_event_attributes() &&
               e.workflow_execution_update_completed_event_attributes().meta().update_id() == update_id) {
      u->stage = kStageCompleted;
      u->outcome = e.workflow_execution_update_completed_event_attributes().outcome();
    }
  }
  if (u && ex.open()) updates_[UpdateKey(ex.st().run_id(), update_id)] = u;
  return u;
}

void UpdateRegistry::Wait(std::shared_ptr<State> u, const Execution& ex, int wanted_stage,
                          std::shared_ptr<matching::Waiter> waiter, Fill fill) {
  mu_.AssertHeld();  // the engine calls the registry under its mutex (its member GUARDED_BY it)
  if (wanted_stage <= 0) wanted_stage = kStageAccepted;
  cv1::WorkflowExecution we;
  we.set_workflow_id(ex.st().workflow_id());
  we.set_run_id(ex.st().run_id());
  if (u->stage >= wanted_stage || !ex.open()) {
    if (!ex.open() && u->stage < kStageCompleted) {  // the run closed first: the update failed
      u->stage = kStageCompleted;
      u->outcome = ClosedBeforeCompletion();
    }
    fill(*u, we);
    waiter->Complete(mu_);
    engine_.ReplyWhenDurable([waiter](const Status& s) { waiter->finish(s); }, Status::Ok());
    return;
  }
  u->waiters.push_back({waiter, wanted_stage, fill, we});
  // Long poll: after ~20 s answer with the stage reached so far (the SDK asks again).
  std::weak_ptr<matching::Waiter> weak = waiter;
  std::weak_ptr<State> weak_u = u;
  engine_.timers().Schedule(engine_.Now() + limits_.long_poll, [this, weak, weak_u, fill, we] {
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

void UpdateRegistry::Advance(Txn& txn, State& u, int stage, const uv1::Outcome* outcome) {
  mu_.AssertHeld();  // the engine calls the registry under its mutex (its member GUARDED_BY it)
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

Status UpdateRegistry::Admit(Txn& txn, Execution& ex, const wsv1::UpdateWorkflowExecutionRequest& req,
                             std::shared_ptr<matching::Waiter> waiter, Fill fill) {
  const std::string& update_id = req.request().meta().update_id();
  auto u = FindOrRecover(ex, update_id);
  if (!u) {
    if (!ex.open()) return NotFound("workflow execution already completed");
    if (Status limit = CheckLimits(ex, req.request()); !limit.ok()) return limit;
    u = std::make_shared<State>();
    u->id = update_id;
    u->run_id = ex.st().run_id();
    u->request = req.request();
    u->stage = kStageAdmitted;
    updates_[UpdateKey(ex.st().run_id(), update_id)] = u;
    ex.admitted_updates.push_back(update_id);
    if (!ex.wft_pending() && IsZero(ex.st().first_wft_due_time())) engine_.ScheduleWorkflowTask(txn, ex);
  }
  Wait(u, ex, req.wait_policy().lifecycle_stage(), std::move(waiter), std::move(fill));
  return Status::Ok();
}

Status UpdateRegistry::Poll(const Execution& ex, const std::string& update_id, int wanted_stage,
                            std::shared_ptr<matching::Waiter> waiter, Fill fill) {
  auto u = FindOrRecover(ex, update_id);
  if (!u) return NotFound("update " + update_id + " not found");
  Wait(u, ex, wanted_stage, std::move(waiter), std::move(fill));
  return Status::Ok();
}

const wsv1::UpdateWorkflowExecutionRequest& UpdateRegistry::WithUpdateId(const wsv1::UpdateWorkflowExecutionRequest& req,
                                                                        wsv1::UpdateWorkflowExecutionRequest* storage) {
  if (!req.has_request() || !req.request().has_meta() || !req.request().meta().update_id().empty()) return req;
  *storage = req;
  storage->mutable_request()->mutable_meta()->set_update_id(NewUuid());
  return *storage;
}

Status UpdateRegistry::Validate(const wsv1::UpdateWorkflowExecutionRequest& req) const {
  // Temporal's frontend (prepareUpdateWorkflowRequest), in its order.
  if (!req.request().has_meta()) return InvalidArgument("Update meta is not set on request.");
  if (!req.request().has_input()) return InvalidArgument("Update input is not set on request.");
  if (req.request().input().name().empty()) return InvalidArgument("Update name is not set on request.");
  // An answer at ADMITTED would come before the update (or an Update-with-Start's new run) is
  // durable: Temporal refuses the stage.
  if (req.wait_policy().lifecycle_stage() == kStageAdmitted) {
    return Status(Code::kPermissionDenied,
                  "UpdateWorkflowExecution issued asynchronously and waiting on update admitted is not supported.");
  }
  Status s = CheckIdLength(req.workflow_execution().workflow_id(), "WorkflowId", limits_.max_id_length);
  if (s.ok()) s = CheckIdLength(req.request().meta().update_id(), "UpdateId", limits_.max_id_length);
  if (s.ok()) s = CheckIdLength(req.request().input().name(), "Update name", limits_.max_id_length);
  if (s.ok()) {
    s = CheckBlobSize(req.request().input().ByteSizeLong(), "Update input", limits_.blob_size_limit_error,
                      limits_.blob_size_limit_warn);
  }
  return s;
}

Status UpdateRegistry::CheckLimits(const Execution& ex, const uv1::Request& incoming) const {
  // Admitted, not yet accepted (in memory) plus accepted ones from history; accepted and not
  // completed are in flight.
  int64_t accepted = 0, completed = 0;
  std::map<std::string, int64_t> accepted_bytes;  // accepted, not completed: id -> registry size
  for (const auto& e : ex.events) {
    if (e.has_workflow_execution_update_accepted_event_attributes()) {
      ++accepted;
      const auto& a = e.workflow_execution_update_accepted_event_attributes();
      const std::string& id = a.accepted_request().meta().update_id();
      accepted_bytes[id] = static_cast<int64_t>(2 * id.size() + a.accepted_request().ByteSizeLong());
    }
    if (e.has_workflow_execution_update_completed_event_attributes()) {
      ++completed;
      accepted_bytes.erase(e.workflow_execution_update_completed_event_attributes().meta().update_id());
    }
  }
  const int64_t admitted = static_cast<int64_t>(ex.admitted_updates.size());
  const int64_t in_flight = admitted + accepted - completed;
  const int64_t max_in_flight = limits_.max_in_flight;
  if (max_in_flight > 0 && in_flight >= max_in_flight) {
    return ResourceExhausted("limit on number of concurrent in-flight updates has been reached (" +
                                 std::to_string(max_in_flight) + ")",
                             ev1::RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT, ev1::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
  }
  const int64_t max_total = limits_.max_total;
  if (max_total > 0 && admitted + accepted >= max_total) {
    return Status(Code::kFailedPrecondition,
                  "The limit on the total number of distinct updates in this workflow has been reached (" +
                      std::to_string(max_total) +
                      "). Make sure any duplicate updates share an Update ID so the server can deduplicate them, and "
                      "consider rejecting updates that you aren't going to process. You can also Continue-as-New to "
                      "avoid this; we recommend you check Continue-as-New Suggested in your Workflow.");
  }
  const int64_t max_bytes = limits_.max_in_flight_payloads;
  if (max_bytes > 0) {
    int64_t bytes = 0;
    for (const auto& [id, size] : accepted_bytes) bytes += size;
    for (const std::string& id : ex.admitted_updates) {
      auto it = updates_.find(UpdateKey(ex.st().run_id(), id));
      bytes += static_cast<int64_t>(2 * id.size()) +
               (it != updates_.end() ? static_cast<int64_t>(it->second->request.ByteSizeLong()) : 0);
    }
    if (bytes + static_cast<int64_t>(incoming.ByteSizeLong()) >= max_bytes) {
      return ResourceExhausted("limit on total payload size of in-flight updates has been reached (" +
                                   std::to_string(max_bytes) + " bytes)",
                               ev1::RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT, ev1::RESOURCE_EXHAUSTED_SCOPE_NAMESPACE);
    }
  }
  return Status::Ok();
}

void UpdateRegistry::AttachToTask(Execution& ex, int64_t started_event_id, wsv1::PollWorkflowTaskQueueResponse* resp,
                                  bool heartbeat) {
  for (const auto& id : ex.admitted_updates) {
    auto it = updates_.find(UpdateKey(ex.st().run_id(), id));
    if (it == updates_.end() || it->second->stage != kStageAdmitted) continue;
    State& u = *it->second;
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

void UpdateRegistry::ApplyProtocolMessage(Txn& txn, Execution& ex, const pv1::Message& m) {
  const std::string key = UpdateKey(ex.st().run_id(), m.protocol_instance_id());
  // After a restart the registry is empty: accepted updates come back from history, and an
  // update admitted before the crash (admission is in memory only) from the worker's Acceptance.
  std::shared_ptr<State> u = FindOrRecover(ex, m.protocol_instance_id());
  uv1::Acceptance acc;
  uv1::Rejection rej;
  uv1::Response res;
  const bool is_acc = m.body().UnpackTo(&acc);
  if (!u && is_acc && acc.has_accepted_request()) {
    u = std::make_shared<State>();
    u->id = m.protocol_instance_id();
    u->run_id = ex.st().run_id();
    u->request = acc.accepted_request();
    u->stage = kStageAdmitted;
    updates_[key] = u;
  }
  if (!u) {
    TL_LOG_WARN("protocol message %s for unknown update %s ignored", m.id().c_str(), m.protocol_instance_id().c_str());
    return;
  }
  const TimePoint now = engine_.Now();
  if (is_acc) {
    if (u->stage >= kStageAccepted) return;
    auto* e = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, now);
    auto* a = e->mutable_workflow_execution_update_accepted_event_attributes();
    a->set_protocol_instance_id(u->id);
    a->set_accepted_request_message_id(acc.accepted_request_message_id());
    a->set_accepted_request_sequencing_event_id(acc.accepted_request_sequencing_event_id());
    *a->mutable_accepted_request() = acc.has_accepted_request() ? acc.accepted_request() : u->request;
    u->accepted_event_id = e->event_id();
    Advance(txn, *u, kStageAccepted, nullptr);
  } else if (m.body().UnpackTo(&res)) {
    if (u->stage >= kStageCompleted) return;
    auto* e = ex.AddEvent(ev1::EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED, now);
    auto* a = e->mutable_workflow_execution_update_completed_event_attributes();
    *a->mutable_meta() = res.has_meta() ? res.meta() : u->request.meta();
    a->set_accepted_event_id(u->accepted_event_id);
    *a->mutable_outcome() = res.outcome();
    Advance(txn, *u, kStageCompleted, &res.outcome());
    updates_.erase(key);
  } else if (m.body().UnpackTo(&rej)) {
    uv1::Outcome o;
    *o.mutable_failure() = rej.failure();
    Advance(txn, *u, kStageCompleted, &o);
    updates_.erase(key);  // rejected updates leave no trace in history
  }
  auto& ids = ex.admitted_updates;
  ids.erase(std::remove(ids.begin(), ids.end(), u->id), ids.end());
}

void UpdateRegistry::SettleAfterTask(Txn& txn, Execution& ex, bool task_completed, bool heartbeat,
                                     const std::string& identity) {
  std::vector<std::string> ids = ex.admitted_updates;
  std::string rejected;
  for (const auto& id : ids) {
    auto it = updates_.find(UpdateKey(ex.st().run_id(), id));
    if (it == updates_.end()) continue;
    std::shared_ptr<State> u = it->second;
    if (u->stage != kStageAdmitted) continue;
    if (!ex.open()) {
      uv1::Outcome o;
      o.mutable_failure()->set_message("workflow execution already completed");
      Advance(txn, *u, kStageCompleted, &o);
      updates_.erase(it);
      continue;
    }
    if (task_completed && heartbeat) continue;  // sent ones stay sent; new ones ride the next task
    if (task_completed && u->delivered_in_wft != 0) {
      // Sent to the worker, and its completion said nothing about it: reject it rather than loop
      // (Temporal's RejectUnprocessed, an old SDK or an SDK bug).
      uv1::Outcome o;
      o.mutable_failure()->set_message("update was not handled by the workflow worker");
      Advance(txn, *u, kStageCompleted, &o);
      rejected += (rejected.empty() ? "" : ", ") + id + " (sent on the task started at event " +
                  std::to_string(u->delivered_in_wft) + ")";
      updates_.erase(it);
      continue;
    }
    u->delivered_in_wft = 0;  // re-deliver on the next task
  }
  if (!rejected.empty()) {
    TL_LOG_WARN("workflow task of %s (run %s) completed by %s without processing updates: %s; rejected",
                ex.st().workflow_id().c_str(), ex.st().run_id().c_str(), identity.c_str(), rejected.c_str());
  }
  if (!ex.open()) {
    ex.admitted_updates.clear();
    const std::string prefix = ex.st().run_id() + "/";
    for (auto it = updates_.begin(); it != updates_.end();) {
      if (it->first.compare(0, prefix.size(), prefix) == 0) {
        if (it->second->stage < kStageCompleted) {
          uv1::Outcome o = ClosedBeforeCompletion();
          Advance(txn, *it->second, kStageCompleted, &o);
        }
        it = updates_.erase(it);
      } else {
        ++it;
      }
    }
  } else {
    auto& v = ex.admitted_updates;
    v.erase(std::remove_if(v.begin(), v.end(), [&](const std::string& id) {
      return updates_.find(UpdateKey(ex.st().run_id(), id)) == updates_.end();
    }), v.end());
  }
}

bool UpdateRegistry::HasUndelivered(const Execution& ex) const {
  for (const auto& id : ex.admitted_updates) {
    auto it = updates_.find(UpdateKey(ex.st().run_id(), id));
    if (it != updates_.end() && it->second->stage == kStageAdmitted && it->second->delivered_in_wft == 0) return true;
  }
  return false;
}

}  // namespace temporalite::history
