// The engine's mutex and its store, in one place so that Clang's thread-safety analysis checks
// the rule "no blocking store read under the engine mutex" (scripts/check-thread-safety.sh): the
// store is private here, and the engine reaches its reads only through StoreReads(), which is
// EXCLUDES(mu_): the analysis refuses a call to it wherever it knows mu_ is held (in a
// REQUIRES(mu_) function, or after a MutexLock / mu_.Lock() in the same function). A function that
// releases mu_ around its read (run_reads.cc) passes. Writes go through the commit machinery:
// StoreCommit queues a batch and returns at once (callers hold mu_, so batches keep memory's
// order); StoreCommitSync waits and is for start-up only.
//
// The check is per function: an unannotated helper called under mu_ that reads the store is not
// caught (that would take -Wthread-safety-negative and REQUIRES(!mu_) on every caller). Helpers
// that read are therefore annotated EXCLUDES(mu_) themselves (the accessors in engine.h).
#pragma once

#include <utility>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "persistence/store.h"

namespace temporalite::history {

class EngineMutexAndStore {
 protected:
  explicit EngineMutexAndStore(persistence::Store& store) : store_(store) {}

  // The engine mutex: everything GUARDED_BY(mu_) in engine.h.
  Mutex mu_;

  // The store's reads (SQLite: they may wait on the disk), with mu_ not held.
  persistence::Store& StoreReads() EXCLUDES(mu_) { return store_; }
  // A durable commit, queued; returns at once (Store::Commit).
  void StoreCommit(persistence::WriteBatch batch, persistence::Store::DoneCallback done) {
    store_.Commit(std::move(batch), std::move(done));
  }
  // A commit waited for (Store::CommitSync): start-up only, before anything else runs.
  Status StoreCommitSync(persistence::WriteBatch batch) { return store_.CommitSync(std::move(batch)); }

 private:
  persistence::Store& store_;
};

}  // namespace temporalite::history
