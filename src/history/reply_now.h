// The one way the engine's RPC units answer before any commit (validation errors, not found,
// answers that reveal nothing undurable): the hold of the engine mutex by the lock the RPC entry
// point handed over ends, then the reply goes out. Replies after a transition wait for its commit
// (EngineContext::ReplyWhenDurable, the engine's CommitLocked).
#pragma once

#include "common/status.h"
#include "common/thread_annotations.h"
#include "history/engine_context.h"

namespace temporalite::history {

// The analysis cannot follow a held lock into a callee, hence NO_THREAD_SAFETY_ANALYSIS.
inline void ReplyNow(MutexLock& l, const Done& done, const Status& s) NO_THREAD_SAFETY_ANALYSIS {
  l.Unlock();
  done(s);
}

}  // namespace temporalite::history
