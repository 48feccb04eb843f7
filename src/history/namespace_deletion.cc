// The namespace deletion unit (namespace_deletion.h).
#include "history/namespace_deletion.h"

#include <chrono>
#include <cstdint>

#include "common/log.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/proto_time.h"
#include "history/reply_now.h"

namespace temporalite::history {

void NamespaceDeletion::Delete(MutexLock& l, const ::temporal::api::operatorservice::v1::DeleteNamespaceRequest& req,
                               ::temporal::api::operatorservice::v1::DeleteNamespaceResponse* resp, Done done) {
  auto fail = [&](const Status& s) { ReplyNow(l, done, s); };
  std::string name = req.namespace_();
  if (name.empty() && !req.namespace_id().empty()) {
    if (const state::NamespaceRecord* by_id = host_.NamespaceById(req.namespace_id())) name = by_id->info().name();
  }
  if (name.empty() && req.namespace_id().empty()) return fail(InvalidArgument("Namespace not set on request."));
  if (name == "temporal-system") return fail(FailedPrecondition("unable to delete system namespace"));
  const state::NamespaceRecord* existing = host_.NamespaceNamed(name);
  if (!existing) {
    // Temporal's delete workflow reports a missing namespace as an invalid argument.
    return fail(InvalidArgument("namespace " + (name.empty() ? req.namespace_id() : name) + " is not found"));
  }
  if (req.has_namespace_delete_delay() && FromProto(req.namespace_delete_delay()) < Duration::zero()) {
    return fail(InvalidArgument("NamespaceDeleteDelay must not be negative."));
  }
  state::NamespaceRecord rec = *existing;
  const std::string id = rec.info().id();
  std::string new_name = name;
  if (rec.info().state() != ev1::NAMESPACE_STATE_DELETED) {
    for (size_t n = 5; n <= id.size(); ++n) {
      std::string candidate = name + "-deleted-" + id.substr(0, n);
      if (!host_.NamespaceNamed(candidate)) {
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
        *j.mutable_close_time() = ToProto(engine_.Now());
      }
    }
  }
  // A repeated delete may bring the reclaim forward, never push it back.
  const Duration delay = req.has_namespace_delete_delay() ? FromProto(req.namespace_delete_delay()) : Duration::zero();
  const TimePoint reclaim_after = engine_.Now() + delay;
  if (!rec.has_reclaim_after() || reclaim_after < FromProto(rec.reclaim_after())) *rec.mutable_reclaim_after() = ToProto(reclaim_after);
  Txn txn;
  txn.batch.upsert_namespaces.push_back({id, new_name, rec.SerializeAsString()});
  host_.ReplaceNamespace(name, std::move(rec));
  resp->set_deleted_namespace(new_name);
  txn.after_commit.push_back([this, id, delay] {
    engine_.timers().Schedule(engine_.Now() + delay, [this, id] { Step(id); });
  });
  TL_LOG_INFO("namespace %s marked deleted as %s", name.c_str(), new_name.c_str());
  host_.Commit(txn, std::move(done));
  Release(l);
}

void NamespaceDeletion::Step(const std::string& ns_id) {
  // The store read of closed runs goes without the engine mutex (as retention's). Runs of a
  // deleted namespace only close (none starts), and one that closes durably between the read and
  // the transition below is missing from the read: the generation check keeps the step from
  // taking the namespace for empty then.
  MutexLock l(mu_);
  const state::NamespaceRecord* rec = host_.NamespaceById(ns_id);
  if (!rec || rec->info().state() != ev1::NAMESPACE_STATE_DELETED) return;
  // Early (a restart resumes every deletion at once): wait for the rest of the delay.
  if (rec->has_reclaim_after() && engine_.Now() < FromProto(rec->reclaim_after())) {
    const TimePoint at = FromProto(rec->reclaim_after());
    l.Unlock();
    engine_.timers().Schedule(at, [this, ns_id] { Step(ns_id); });
    return;
  }
  const uint64_t generation = host_.ClosedRunsLeftMemory();
  l.Unlock();
  auto closed = host_.ClosedRunsBefore(ns_id, INT64_MAX, kReclaimBatch);
  l.Lock();

  rec = host_.NamespaceById(ns_id);
  if (!rec || rec->info().state() != ev1::NAMESPACE_STATE_DELETED) return;
  const std::string name = rec->info().name();
  Txn txn;
  // Open runs first (they are in memory): terminate, then delete, as DeleteWorkflowExecution does.
  // `in_memory`: runs of the namespace still in memory (open, or closing right now); the open
  // ones (evicted ones too) are listed.
  std::vector<std::string> open;
  const bool in_memory = host_.NamespaceRunsInMemory(ns_id, kReclaimBatch, &open);
  // Evicted open runs come back into memory with the mutex released (nothing above is held
  // across: a run that closed meanwhile is skipped below, and `in_memory` stays true).
  // One whose read failed (or that left memory again meanwhile) waits for the next round.
  for (const auto& run_id : open) (void)host_.FetchIfEvicted(run_id);
  for (const auto& run_id : open) {
    if (host_.TerminateRun(txn, run_id, "Delete namespace", "history-service")) txn.batch.delete_runs.push_back(run_id);
  }
  bool read_failed = false;
  if (static_cast<int64_t>(txn.batch.delete_runs.size()) < kReclaimBatch) {
    if (!closed.ok()) {
      TL_LOG_WARN("deleting namespace %s: %s", name.c_str(), closed.status().ToString().c_str());
      read_failed = true;  // the terminations above still commit; the read is made again in 1 s
    } else {
      for (auto& run_id : *closed) {
        if (engine_.LoadedRun(run_id)) continue;  // closing right now: in_memory is set
        txn.batch.delete_runs.push_back(std::move(run_id));
      }
    }
  }
  // Empty only when nothing is left in memory either, and no close became durable since the read
  // (its run would be in neither).
  if (!read_failed && txn.batch.delete_runs.empty() && !in_memory && generation == host_.ClosedRunsLeftMemory()) {
    // Nothing left: the namespace itself goes.
    txn.batch.delete_namespaces.push_back(ns_id);
    host_.EraseNamespace(ns_id);
    TL_LOG_INFO("namespace %s deleted", name.c_str());
    host_.Commit(txn, nullptr);
    return;
  }
  const Duration next = read_failed                    ? Duration(std::chrono::seconds(1))
                        : txn.batch.delete_runs.empty() ? Duration(std::chrono::milliseconds(100))
                                                        : Duration::zero();
  txn.after_commit.push_back([this, ns_id, next] {
    engine_.timers().Schedule(engine_.Now() + next, [this, ns_id] { Step(ns_id); });
  });
  host_.Commit(txn, nullptr);
}

void NamespaceDeletion::Resume(const std::vector<const state::NamespaceRecord*>& namespaces) {
  for (const state::NamespaceRecord* rec : namespaces) {
    if (rec->info().state() != ev1::NAMESPACE_STATE_DELETED) continue;
    std::string id = rec->info().id();
    engine_.timers().Schedule(engine_.Now(), [this, id] { Step(id); });
  }
}

}  // namespace temporalite::history
