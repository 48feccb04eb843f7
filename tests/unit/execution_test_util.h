// Tests that set up a hand-built run's state: EditState copies the run's durable state, lets the
// test edit the copy and gives it back whole through Execution::LoadState (as a stored run is
// loaded), so tests need no writable access to the state beside the named transitions.
#pragma once

#include "history/execution.h"

namespace temporalite::history {

template <class F>
void EditState(Execution& ex, F&& edit) {
  state::ExecutionState st = ex.st();
  edit(st);
  ex.LoadState(st);
}

}  // namespace temporalite::history
