// A close's steps on other runs that are not in memory (after Temporal's transfer tasks: the
// CloseExecutionTask's processCloseExecution, which records the child's close in its parent, and
// processParentClosePolicy). A child's close tells its parent, and a parent's close applies its
// close policy to its children; when that other run is evicted (run_cache.h) the close cannot
// read it under the engine mutex, so the close writes a PendingStep (state.proto) in its own
// transaction, as a server_state row. After that commit the step runs on the timer thread: it
// reads the other runs back with the mutex released (FetchIfEvicted), then applies itself and
// deletes its row in one transaction. Recovery schedules every row left (a crash between the
// close and the step), so a step is applied exactly once: the row goes with the step's own
// changes, and the transition itself is idempotent (a parent records a child's close only while
// the child is pending in it; a cancel request is made once; a closed child is not terminated).
#include "common/ids.h"
#include "common/log.h"
#include "history/engine.h"
#include "history/execution.h"

namespace temporalite::history {

namespace {
constexpr const char* kStepPrefix = "history.step/";
}  // namespace

void Engine::DeferStep(Txn& txn, state::PendingStep step) {
  mu_.AssertHeld();  // EngineContext calls come from the units, which run under mu_
  std::string key = kStepPrefix + NewUuid();
  txn.batch.put_server_state.emplace_back(key, step.SerializeAsString());
  auto run = std::make_shared<state::PendingStep>(std::move(step));
  txn.after_commit.push_back([this, key = std::move(key), run] {
    timers_.Schedule(clock_.Now() + options_.deferred_step_delay, [this, key, run] { RunDeferredStep(key, *run); });
  });
}

Result<std::vector<std::pair<std::string, state::PendingStep>>> Engine::ReadDeferredSteps() {
  auto rows = StoreReads().ListServerState(kStepPrefix);
  if (!rows.ok()) return rows.status();
  std::vector<std::pair<std::string, state::PendingStep>> steps;
  for (auto& [key, value] : rows.value()) {
    state::PendingStep step;
    if (!step.ParseFromString(value)) return Status(Code::kDataLoss, "corrupt deferred step " + key);
    steps.emplace_back(key, std::move(step));
  }
  if (!steps.empty()) TL_LOG_INFO("recovered %zu deferred steps of closed runs", steps.size());
  return steps;
}

void Engine::ScheduleDeferredStepsLocked(std::vector<std::pair<std::string, state::PendingStep>> steps) {
  for (auto& [key, step] : steps) {
    timers_.Schedule(clock_.Now(), [this, key = key, step = std::move(step)] { RunDeferredStep(key, step); });
  }
}

std::vector<std::string> Engine::DeferredStepTargetsLocked(const state::PendingStep& step) {
  std::vector<std::string> runs;
  if (step.has_child()) {
    const auto& cst = step.child();
    runs.push_back(cst.parent_run_id());
    if (auto ns = namespaces_.find(cst.parent_namespace()); ns != namespaces_.end()) {
      runs.push_back(OpenRunIdOf(ns->second.info().id(), cst.parent_workflow_id()));
    }
  }
  for (const auto& ci : step.children()) runs.push_back(OpenRunIdOf(ci.namespace_id(), ci.workflow_id()));
  return runs;
}

void Engine::RunDeferredStep(std::string key, state::PendingStep step) {
  MutexLock l(mu_);
  // Each read releases the mutex: a run read before may be evicted again meanwhile (the reload
  // sweep), so look again a few times. One still evicted after that gets a new step (the
  // transition defers it again), so nothing is read under the mutex.
  for (int round = 0; round < 3; ++round) {
    bool read = false;
    for (const std::string& run_id : DeferredStepTargetsLocked(step)) {
      if (!RunEvicted(run_id)) continue;
      read = true;
      if (Status s = FetchIfEvicted(run_id); !s.ok()) {
        TL_LOG_ERROR("deferred step %s: %s; trying again in a second", key.c_str(), s.ToString().c_str());
        timers_.Schedule(clock_.Now() + std::chrono::seconds(1), [this, key, step] { RunDeferredStep(key, step); });
        return;
      }
    }
    if (!read) break;
  }
  Txn txn;
  if (step.has_child()) {
    Execution child;  // the closed child as it was at its close: its state and close event
    child.LoadState(step.child());
    child.events.push_back(step.child_close());
    children_.ReportClosed(txn, child);
  }
  if (step.children_size() > 0) {
    children_.ApplyParentClosePolicy(txn, {step.children().begin(), step.children().end()});
  }
  txn.batch.delete_server_state.push_back(std::move(key));
  CommitLocked(txn, nullptr);
}

}  // namespace temporalite::history
