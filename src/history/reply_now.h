// The hold of the engine mutex by the lock an RPC entry point hands its unit (a MutexLock& the
// unit ends before it answers), in one place: ReplyNow, the one way the engine's RPC units answer
// before any commit (validation errors, not found, answers that reveal nothing undurable): the
// hold ends, then the reply goes out; Release, the hold ended early (after a commit that replies
// was submitted); WhileReleased, a blocking step that needs no engine state (a store read) made
// with the hold ended, then the mutex taken again. Replies after a transition wait for its commit
// (EngineContext::ReplyWhenDurable, the engine's CommitLocked).
//
// The analysis cannot follow a held lock into a callee, hence NO_THREAD_SAFETY_ANALYSIS. A lock
// the function itself holds (a MutexLock of its own) it ends and takes again directly: the
// analysis checks that.
#pragma once

#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"

namespace temporalite::history {

inline void Release(MutexLock& l) NO_THREAD_SAFETY_ANALYSIS { l.Unlock(); }

// Runs `step` (it touches no engine state) with the hold of `l` ended; `l` holds the mutex again
// when it returns step's result.
template <class Step>
auto WhileReleased(MutexLock& l, Step&& step) NO_THREAD_SAFETY_ANALYSIS {
  l.Unlock();
  auto out = step();
  l.Lock();
  return out;
}

inline void ReplyNow(MutexLock& l, const Done& done, const Status& s) {
  Release(l);
  done(s);
}

// The same for a waiting RPC: `waiter` is marked completed under `mu` (the mutex `l` holds), then
// the hold ends and it is answered.
inline void ReplyNow(MutexLock& l, const Mutex& mu, matching::Waiter& waiter, const Status& s) NO_THREAD_SAFETY_ANALYSIS {
  waiter.Complete(mu);
  l.Unlock();
  waiter.finish(s);
}

}  // namespace temporalite::history
