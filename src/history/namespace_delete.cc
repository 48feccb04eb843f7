// OperatorService DeleteNamespace, as Temporal's delete-namespace workflow does it:
//   1. mark the namespace Deleted and rename it to "<name>-deleted-<first 5 chars of its id>"
//      (one commit; the reply names the new name, and the old name is free again at once);
//   2. after namespace_delete_delay (kept in the record as reclaim_after), reclaim in the background: every workflow of the namespace
//      is deleted (running ones terminated first), a bounded number per transaction;
//   3. when none is left, the namespace row goes.
// The state is the record itself (state Deleted, reclaim_after), so a restart resumes step 2 when
// the delay that remains is over.
#include "common/log.h"
#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"

namespace temporalite::history {

namespace {
constexpr int64_t kReclaimBatch = 100;
}  // namespace

void Engine::DeleteNamespace(const ::temporal::api::operatorservice::v1::DeleteNamespaceRequest& req,
                             ::temporal::api::operatorservice::v1::DeleteNamespaceResponse* resp, Done done) {
  MutexLock l(mu_);
  auto fail = [&](Status s) { ReplyNow(l, done, s); };
  std::string name = req.namespace_();
  if (name.empty() && !req.namespace_id().empty()) {
    auto it = namespace_names_.find(req.namespace_id());
    if (it != namespace_names_.end()) name = it->second;
  }
  if (name.empty() && req.namespace_id().empty()) return fail(InvalidArgument("Namespace not set on request."));
  if (name == "temporal-system") return fail(FailedPrecondition("unable to delete system namespace"));
  auto it = namespaces_.find(name);
  if (it == namespaces_.end()) {
    // Temporal's delete workflow reports a missing namespace as an invalid argument.
    return fail(InvalidArgument("namespace " + (name.empty() ? req.namespace_id() : name) + " is not found"));
  }
  if (req.has_namespace_delete_delay() && FromProto(req.namespace_delete_delay()) < Duration::zero()) {
    return fail(InvalidArgument("NamespaceDeleteDelay must not be negative."));
  }
  state::NamespaceRecord rec = it->second;
  const std::string id = rec.info().id();
  std::string new_name = name;
  if (rec.info().state() != ev1::NAMESPACE_STATE_DELETED) {
    for (size_t n = 5; n <= id.size(); ++n) {
      std::string candidate = name + "-deleted-" + id.substr(0, n);
      if (!namespaces_.count(candidate)) {
        new_name = candidate;
        break;
      }
    }
    if (new_name == name) return fail(Internal("unable to generate a new name for deleted namespace " + name));
    rec.mutable_info()->set_state(ev1::NAMESPACE_STATE_DELETED);
    rec.mutable_info()->set_name(new_name);
    // Stop running batch jobs: their namespace is going away.
    for (auto& j : *rec.mutable_batch_jobs()) {
      if (j.state() == ev1::BATCH_OPERATION_STATE_RUNNING) {
        j.set_state(ev1::BATCH_OPERATION_STATE_FAILED);
        *j.mutable_close_time() = ToProto(clock_.Now());
      }
    }
  }
  // A repeated delete may bring the reclaim forward, never push it back.
  const Duration delay = req.has_namespace_delete_delay() ? FromProto(req.namespace_delete_delay()) : Duration::zero();
  const TimePoint reclaim_after = clock_.Now() + delay;
  if (!rec.has_reclaim_after() || reclaim_after < FromProto(rec.reclaim_after())) *rec.mutable_reclaim_after() = ToProto(reclaim_after);
  namespaces_.erase(it);
  namespace_names_[id] = new_name;
  namespaces_[new_name] = rec;
  resp->set_deleted_namespace(new_name);
  Txn txn;
  txn.batch.upsert_namespaces.push_back({id, new_name, rec.SerializeAsString()});
  txn.after_commit.push_back([this, id, delay] { timers_.Schedule(clock_.Now() + delay, [this, id] { ReclaimNamespaceStep(id); }); });
  TL_LOG_INFO("namespace %s marked deleted as %s", name.c_str(), new_name.c_str());
  CommitLocked(txn, std::move(done));
}

void Engine::ReclaimNamespaceStep(const std::string& ns_id) {
  // The store read of closed runs goes without the engine mutex (as RetentionSweep). Runs of a
  // deleted namespace only close (none starts), and one that closes durably between the read and
  // the transition below is missing from the read: the generation check keeps the step from
  // taking the namespace for empty then.
  uint64_t generation = 0;
  {
    MutexLock l(mu_);
    auto name_it = namespace_names_.find(ns_id);
    if (name_it == namespace_names_.end()) return;
    const state::NamespaceRecord& rec = namespaces_.at(name_it->second);
    if (rec.info().state() != ev1::NAMESPACE_STATE_DELETED) return;
    // Early (a restart resumes every deletion at once): wait for the rest of the delay.
    if (rec.has_reclaim_after() && clock_.Now() < FromProto(rec.reclaim_after())) {
      const TimePoint at = FromProto(rec.reclaim_after());
      l.Unlock();
      timers_.Schedule(at, [this, ns_id] { ReclaimNamespaceStep(ns_id); });
      return;
    }
    generation = closed_runs_left_memory_;
  }
  auto closed = store_.ClosedRunsBefore(ns_id, INT64_MAX, kReclaimBatch);

  MutexLock l(mu_);
  auto name_it = namespace_names_.find(ns_id);
  if (name_it == namespace_names_.end()) return;
  const std::string name = name_it->second;
  if (namespaces_.at(name).info().state() != ev1::NAMESPACE_STATE_DELETED) return;
  Txn txn;
  // Open runs first (they are in memory): terminate, then delete, as DeleteWorkflowExecution does.
  std::vector<std::string> open;
  // Runs of the namespace still in memory (open, or closing right now), and its open runs:
  // open_by_workflow_id_ knows every open run, also those evicted from memory while idle.
  bool in_memory = false;
  for (const auto& [run_id, ex] : runs_) {
    if (ex->st.namespace_id() != ns_id) continue;
    in_memory = true;
    break;
  }
  const std::string prefix = ns_id + "\n";
  for (const auto& [key, run_id] : open_by_workflow_id_) {
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    in_memory = true;
    open.push_back(run_id);
    if (static_cast<int64_t>(open.size()) >= kReclaimBatch) break;
  }
  // Evicted open runs come back into memory with the mutex released (nothing above is held
  // across: a run that closed meanwhile is skipped below, and `in_memory` stays true).
  // One whose read failed (or that left memory again meanwhile) waits for the next round.
  for (const auto& run_id : open) (void)FetchIfEvicted(run_id);
  for (const auto& run_id : open) {
    auto rit = runs_.find_loaded(run_id);
    if (rit == runs_.end() || !rit->second->open()) continue;
    std::shared_ptr<Execution> ex = rit->second;  // keep alive across the terminate
    TerminateLocked(txn, *ex, "Delete namespace", nullptr, "history-service");
    txn.batch.delete_runs.push_back(run_id);
  }
  if (static_cast<int64_t>(txn.batch.delete_runs.size()) < kReclaimBatch) {
    if (!closed.ok()) {
      TL_LOG_WARN("deleting namespace %s: %s", name.c_str(), closed.status().ToString().c_str());
      l.Unlock();
      timers_.Schedule(clock_.Now() + std::chrono::seconds(1), [this, ns_id] { ReclaimNamespaceStep(ns_id); });
      return;
    }
    for (auto& run_id : *closed) {
      if (runs_.count(run_id)) continue;  // closing right now: in_memory is set
      txn.batch.delete_runs.push_back(std::move(run_id));
    }
  }
  // Empty only when nothing is left in memory either, and no close became durable since the read
  // (its run would be in neither).
  const bool done = txn.batch.delete_runs.empty() && !in_memory && generation == closed_runs_left_memory_;
  if (done) {
    // Nothing left: the namespace itself goes.
    txn.batch.delete_namespaces.push_back(ns_id);
    namespaces_.erase(name);
    namespace_names_.erase(ns_id);
    TL_LOG_INFO("namespace %s deleted", name.c_str());
    CommitLocked(txn, nullptr);
    return;
  }
  const Duration next = txn.batch.delete_runs.empty() ? std::chrono::milliseconds(100) : Duration::zero();
  txn.after_commit.push_back([this, ns_id, next] { timers_.Schedule(clock_.Now() + next, [this, ns_id] { ReclaimNamespaceStep(ns_id); }); });
  CommitLocked(txn, nullptr);
}

void Engine::ResumeNamespaceDeletesLocked() {
  for (const auto& [name, rec] : namespaces_) {
    if (rec.info().state() != ev1::NAMESPACE_STATE_DELETED) continue;
    std::string id = rec.info().id();
    timers_.Schedule(clock_.Now(), [this, id] { ReclaimNamespaceStep(id); });
  }
}

}  // namespace temporalite::history
