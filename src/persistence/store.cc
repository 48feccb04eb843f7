#include "persistence/store.h"

#include "persistence/inline_commit.h"

#include <future>
#include <iterator>
#include <memory>
#include <utility>

namespace temporalite::persistence {
namespace {

template <typename T>
void MoveAppend(std::vector<T>& to, std::vector<T>& from) {
  if (to.empty()) {
    // Steal the whole buffer: the common case when merging into a fresh batch.
    to = std::move(from);
  } else {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  }
  from.clear();
}

}  // namespace

void WriteBatch::Append(WriteBatch&& other) {
  if (this == &other) return;
  MoveAppend(upsert_namespaces, other.upsert_namespaces);
  MoveAppend(upsert_executions, other.upsert_executions);
  MoveAppend(upsert_current, other.upsert_current);
  MoveAppend(append_events, other.append_events);
  MoveAppend(upsert_visibility, other.upsert_visibility);
  MoveAppend(index_search_attributes, other.index_search_attributes);
  MoveAppend(delete_runs, other.delete_runs);
  MoveAppend(upsert_schedules, other.upsert_schedules);
  MoveAppend(delete_schedules, other.delete_schedules);
  MoveAppend(put_server_state, other.put_server_state);
  MoveAppend(delete_server_state, other.delete_server_state);
  MoveAppend(delete_namespaces, other.delete_namespaces);
}

Status Store::CommitSync(WriteBatch batch) {
  // Waits here: a commit left to the end of an open InlineCommitScope would never run.
  InlineCommitScope::Pause pause;
  // The promise is shared with the callback so it outlives set_value() even if this thread wakes
  // and returns before the writer thread has finished inside set_value().
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> result = promise->get_future();
  Commit(std::move(batch), [promise](const Status& s) { promise->set_value(s); });
  return result.get();
}

}  // namespace temporalite::persistence
