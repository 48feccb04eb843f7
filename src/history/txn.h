// One state transition of the engine (its transaction): the runs it touched, the WriteBatch that
// makes them durable, and what runs once that batch is durable. Built under the engine mutex and
// submitted by Engine::CommitLocked; the RPC-family units (update_registry.h, ...) add to it
// through their narrow interfaces.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "persistence/store.h"

namespace temporalite::history {

struct Execution;

struct Txn {
  std::vector<Execution*> touched;
  persistence::WriteBatch batch;
  std::vector<std::function<void()>> after_commit;  // run on success, before `done`
  std::vector<std::string> closed_runs;
  void Touch(Execution* ex);
};

}  // namespace temporalite::history
