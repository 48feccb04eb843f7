#pragma once

namespace temporalite::persistence {

class SqliteStore;

// While one is alive on a thread (the RPC handlers hold one around their engine call, which
// commits under the engine's mutex), a commit this thread makes to a SqliteStore that is idle
// (no transaction running, nothing queued, the previous transaction held one batch) is not handed
// to the writer thread: the scope's destructor, after the caller dropped its locks, runs the
// transaction and its `done` callbacks on this thread. One thread hand-off less on a lone
// request's critical path; under load, or when the writer is busy, commits go to the writer
// thread as before. Nested scopes: the outermost one commits. Store::CommitSync inside a scope
// does not defer (it would wait for itself); no other wait for a commit may happen inside one.
class InlineCommitScope {
 public:
  InlineCommitScope();
  ~InlineCommitScope();
  InlineCommitScope(const InlineCommitScope&) = delete;
  InlineCommitScope& operator=(const InlineCommitScope&) = delete;

  // For the store: whether a scope is open on this thread, and the store this thread left a
  // commit to (null: none).
  static bool open();
  static SqliteStore* deferred();
  static void defer(SqliteStore* store);
  // Store::CommitSync: while one is alive, commits on this thread are not deferred.
  class Pause {
   public:
    Pause();
    ~Pause();
    Pause(const Pause&) = delete;
    Pause& operator=(const Pause&) = delete;

   private:
    bool was_open_;
  };

 private:
  bool outermost_;
};

}  // namespace temporalite::persistence
