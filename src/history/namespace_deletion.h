// OperatorService DeleteNamespace as a unit of its own over a narrow interface (the model:
// Temporal's delete-namespace and reclaim-resources workflows):
//   1. mark the namespace Deleted and rename it to "<name>-deleted-<first 5 chars of its id>"
//      (one commit; the reply names the new name, and the old name is free again at once; its
//      running batch jobs stop);
//   2. after namespace_delete_delay (kept in the record as reclaim_after), reclaim in the
//      background: every workflow of the namespace is deleted (running ones terminated first), a
//      bounded number per transaction;
//   3. when none is left, the namespace row goes.
// The state is the record itself (state Deleted, reclaim_after), so a restart resumes step 2 when
// the delay that remains is over. The unit owns no state: it changes the engine's namespace
// records and runs through NamespaceDeletionEngine and drives the reclaim with the engine's timers
// (EngineContext). The engine calls Delete with its mutex held (a MutexLock the unit releases
// before it answers); the reclaim steps are timers that take the mutex themselves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/state.pb.h"
#include "history/txn.h"
#include "temporal/api/operatorservice/v1/request_response.pb.h"

namespace temporalite::history {

// What NamespaceDeletion sees of the engine besides EngineContext.
class NamespaceDeletionEngine {
 public:
  virtual ~NamespaceDeletionEngine() = default;

  // Under the engine mutex.
  // A namespace by name, in any state (null: none); by id (null once it is gone).
  virtual state::NamespaceRecord* NamespaceNamed(const std::string& name) = 0;
  virtual state::NamespaceRecord* NamespaceById(const std::string& ns_id) = 0;
  // Replaces the record of namespace `old_name` by `rec` (under rec's name: a rename).
  virtual void ReplaceNamespace(const std::string& old_name, state::NamespaceRecord rec) = 0;
  // Forgets namespace `ns_id` (its row is deleted by the transaction that says so).
  virtual void EraseNamespace(const std::string& ns_id) = 0;
  // Whether any run of `ns_id` is in memory (open, evicted open, or closing), and up to `limit`
  // of its open runs (evicted ones included) in `open`.
  virtual bool NamespaceRunsInMemory(const std::string& ns_id, size_t limit, std::vector<std::string>* open) = 0;
  // Changes whenever a closed run leaves memory (its close durable): a store read of closed runs
  // made while it stays the same misses no run that left memory meanwhile.
  virtual uint64_t ClosedRunsLeftMemory() = 0;
  // An evicted open run back into memory, read with the engine mutex released (a no-op for any
  // other run); the read's error if it failed.
  virtual Status FetchIfEvicted(const std::string& run_id) = 0;
  // Terminates run `run_id` in `txn` (as TerminateWorkflowExecution does) if it is open and in
  // memory; false otherwise.
  virtual bool TerminateRun(Txn& txn, const std::string& run_id, const std::string& reason,
                            const std::string& identity) = 0;
  // Submits `txn`; `done` (may be null) once it is durable.
  virtual void Commit(Txn& txn, Done done) = 0;

  // Without the engine mutex: the store's closed runs of `ns_id` (retention's read).
  virtual Result<std::vector<std::string>> ClosedRunsBefore(const std::string& ns_id, int64_t close_before,
                                                           int64_t limit) = 0;
};

class NamespaceDeletion {
 public:
  // Runs deleted per transaction.
  static constexpr int64_t kReclaimBatch = 100;

  // `engine_mu`: the mutex of the engine that holds the unit.
  NamespaceDeletion(Mutex& engine_mu, EngineContext& engine, NamespaceDeletionEngine& host)
      : mu_(engine_mu), engine_(engine), host_(host) {}
  NamespaceDeletion(const NamespaceDeletion&) = delete;
  NamespaceDeletion& operator=(const NamespaceDeletion&) = delete;

  // DeleteNamespace, with the engine mutex held by `l`; released before it answers.
  void Delete(MutexLock& l, const ::temporal::api::operatorservice::v1::DeleteNamespaceRequest& req,
              ::temporal::api::operatorservice::v1::DeleteNamespaceResponse* resp, Done done);
  // Recovery, under the engine mutex: a reclaim step for every namespace of `namespaces` marked
  // Deleted.
  void Resume(const std::vector<const state::NamespaceRecord*>& namespaces);

 private:
  // One reclaim step of namespace `ns_id`: takes the engine mutex itself (a timer).
  void Step(const std::string& ns_id);

  Mutex& mu_;
  EngineContext& engine_;
  NamespaceDeletionEngine& host_;
};

}  // namespace temporalite::history
