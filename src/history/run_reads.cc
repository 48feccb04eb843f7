// Store reads of runs that are not in memory (closed, durable runs; open runs evicted while
// idle), made with the engine mutex released so that a slow read holds up only its own RPC.
// The pattern, as the start's id-conflict check uses it (start.cc): note under the mutex what
// memory says and a generation, release the mutex, read, take the mutex again, and use the read
// only if the generation says the store cannot have changed since; otherwise look again.
//
// Why the checks are enough: every change of a run is in memory from the transition until it is
// durable. A run absent from memory is either closed and durable (its rows no longer change, only
// deletion removes them) or evicted (durable as it stands; any change reloads it first, and a new
// eviction gives it a new eviction_seq). A workflow id's current run changes only by a new run,
// which is in memory (open or closing) until its close is durable, when the key's generation moves.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "common/log.h"
#include "history/engine.h"
#include "history/errors.h"
#include "history/execution.h"
#include "history/run_id_in_memory.h"

namespace temporalite::history {

namespace {
// A read that raced with a change is made again, without the mutex, until one did not: each race
// needs a change made meanwhile by another RPC (a close of the same workflow id, a re-eviction of
// the same run), so every retry follows progress elsewhere, and a retry that finds the run in
// memory stops reading. No read falls back to the store under the mutex.
std::string PrefetchKey(uint64_t owner, const std::string& ns_id, const std::string& workflow_id,
                        const std::string& run_id) {
  return std::to_string(owner) + "\n" + WorkflowKey(ns_id, workflow_id) + "\n" + run_id;
}
}  // namespace

Result<std::shared_ptr<Execution>> Engine::ReadRunRows(const std::string& run_id, bool with_events) {
  auto row = StoreReads().GetExecution(run_id);
  if (!row.ok()) return row.status();
  if (!row.value()) return std::shared_ptr<Execution>();
  auto ex = std::make_shared<Execution>();
  if (!ex->LoadState(row.value()->state)) return Status(Code::kDataLoss, "corrupt execution record " + run_id);
  if (with_events) {
    TL_RETURN_IF_ERROR(ReadHistoryInto(run_id, *ex));
    ex->persisted_events = ex->events.size();
  }
  ex->RebuildIndexes();
  return ex;
}

Status Engine::ReadHistoryInto(const std::string& run_id, Execution& ex) {
  auto events = StoreReads().ReadEvents(run_id, 1, INT64_MAX);
  if (!events.ok()) return events.status();
  ex.events.reserve(events->size());
  for (const auto& e : events.value()) {
    if (!ex.events.emplace_back().ParseFromString(e.data)) return Status(Code::kDataLoss, "corrupt event in " + run_id);
  }
  return Status::Ok();
}

Status Engine::CheckHistoryHeld(const Execution& ex, const char* rpc) {
  if (!ex.events.empty()) return Status::Ok();
  TL_LOG_ERROR("%s: run %s has no history in memory (FetchRun reads it with the run); not read under the mutex",
               rpc, ex.st().run_id().c_str());
  return Status(Code::kInternal, std::string(rpc) + ": the history of run " + ex.st().run_id() + " was not read");
}

Result<std::optional<std::string>> Engine::ReadCurrentRunId(const std::string& ns_id, const std::string& workflow_id) {
  return StoreReads().GetCurrentRunId(ns_id, workflow_id);
}

Result<std::unique_ptr<state::ExecutionState>> Engine::ReadCurrentRunState(const std::string& ns_id,
                                                                           const std::string& workflow_id) {
  auto cur_id = ReadCurrentRunId(ns_id, workflow_id);
  if (!cur_id.ok()) return cur_id.status();
  if (!cur_id.value()) return std::unique_ptr<state::ExecutionState>();
  auto row = StoreReads().GetExecution(*cur_id.value());
  if (!row.ok()) return row.status();
  if (!row.value()) return std::unique_ptr<state::ExecutionState>();
  auto st = std::make_unique<state::ExecutionState>();
  st->ParseFromString(row.value()->state);
  return st;
}

uint64_t Engine::WorkflowKeyGenerationLocked(const std::string& key) const {
  return closed_left_memory_by_key_[std::hash<std::string>{}(key) % closed_left_memory_by_key_.size()];
}

Status Engine::FetchIfEvicted(const std::string& run_id) {
  for (;;) {
    const uint64_t seq = runs_.eviction_seq(run_id);
    if (seq == 0) return Status::Ok();  // in memory, or not an open run
    mu_.Unlock();
    auto read = ReadRunRows(run_id, /*with_events=*/true);
    mu_.Lock();
    if (runs_.eviction_seq(run_id) != seq) continue;  // reloaded (and maybe evicted again) meanwhile
    Status s = read.ok() ? Status::Ok() : read.status();
    if (s.ok() && !read.value()) s = Status(Code::kDataLoss, "execution row missing");
    if (s.ok() && static_cast<int64_t>(read.value()->events.size()) + 1 != read.value()->st().next_event_id()) {
      s = Status(Code::kDataLoss, std::to_string(read.value()->events.size()) + " events but next event id " +
                                      std::to_string(read.value()->st().next_event_id()));
    }
    if (!s.ok()) {
      // Left evicted: a later lookup tries again.
      TL_LOG_ERROR("cannot read back idle run %s: %s", run_id.c_str(), s.ToString().c_str());
      return s;
    }
    runs_.Adopt(run_id, std::move(read).value());
    ArmReloadSweepLocked();
    return Status::Ok();
  }
}

Result<std::shared_ptr<Execution>> Engine::FetchRun(std::string ns_id, std::string workflow_id, std::string run_id,
                                                    bool with_events) {
  const std::string key = WorkflowKey(ns_id, workflow_id);
  for (;;) {
    std::string rid = RunIdInMemory(open_by_workflow_id_, closing_by_workflow_id_, key, run_id);
    if (!rid.empty() && runs_.eviction_seq(rid) != 0) {
      TL_RETURN_IF_ERROR(FetchIfEvicted(rid));
      continue;
    }
    if (!rid.empty() && runs_.count(rid)) {  // in memory: no store read
      std::shared_ptr<Execution> ex = runs_.at(rid);
      if (ex->st().workflow_id() != workflow_id || ex->st().namespace_id() != ns_id) {
        return WorkflowNotFound(workflow_id, run_id);
      }
      return ex;  // runs in memory (open or closing) hold their history
    }
    // Not in memory: a closed run (or none). Read it without the mutex.
    const uint64_t generation = WorkflowKeyGenerationLocked(key);
    mu_.Unlock();
    Result<std::shared_ptr<Execution>> read = std::shared_ptr<Execution>();
    if (rid.empty()) {
      auto cur = ReadCurrentRunId(ns_id, workflow_id);
      if (!cur.ok()) {
        read = cur.status();
      } else if (cur.value()) {
        rid = *cur.value();
      }
    }
    if (read.ok() && !rid.empty()) read = ReadRunRows(rid, with_events);
    mu_.Lock();
    if (run_id.empty() && (open_by_workflow_id_.count(key) || closing_by_workflow_id_.count(key) ||
                           WorkflowKeyGenerationLocked(key) != generation)) {
      continue;  // the current run changed meanwhile
    }
    if (!rid.empty() && runs_.count(rid)) continue;  // memory has it now
    if (!read.ok()) return read.status();
    const std::shared_ptr<Execution>& ex = read.value();
    if (!ex || ex->st().workflow_id() != workflow_id || ex->st().namespace_id() != ns_id) {
      return WorkflowNotFound(workflow_id, run_id);
    }
    return ex;
  }
}

Result<Execution*> Engine::FetchOpenRun(std::string ns_id, std::string workflow_id, std::string run_id) {
  auto r = FetchRun(ns_id, workflow_id, run_id, /*with_events=*/false);
  if (r.ok() && r.value()->open()) return r.value().get();  // open runs are in memory
  // Temporal tells a closed run apart from one that never existed (both NOT_FOUND).
  if (r.ok()) return NotFound("workflow execution already completed");
  // A failed store read is the answer (INTERNAL "storage error: ..."), not "not found".
  return r.status();
}

Status Engine::PrefetchCommandTargets(const wsv1::RespondWorkflowTaskCompletedRequest& req, const std::string& run_id) {
  const uint64_t own = ++prefetch_seq_;
  // Reads of completions whose transitions are over go; those of completions still reading stay.
  for (auto it = prefetched_runs_.begin(); it != prefetched_runs_.end();) {
    const uint64_t owner = std::stoull(it->first.substr(0, it->first.find('\n')));
    const bool reading = std::find(prefetching_.begin(), prefetching_.end(), owner) != prefetching_.end();
    it = reading ? std::next(it) : prefetched_runs_.erase(it);
  }
  prefetch_owner_ = own;  // set again below: another completion's transition may run while this one reads
  std::vector<std::array<std::string, 3>> targets;  // namespace id, workflow id, run id
  const Execution* run = runs_.FindLoaded(run_id);
  for (const auto& c : req.commands()) {
    if (!run) break;  // the completion reports it
    std::string ns_name, workflow_id, target_run_id;
    if (c.has_start_child_workflow_execution_command_attributes()) {
      const auto& a = c.start_child_workflow_execution_command_attributes();
      ns_name = a.namespace_(), workflow_id = a.workflow_id();
    } else if (c.has_signal_external_workflow_execution_command_attributes()) {
      const auto& a = c.signal_external_workflow_execution_command_attributes();
      ns_name = a.namespace_(), workflow_id = a.execution().workflow_id(), target_run_id = a.execution().run_id();
    } else if (c.has_request_cancel_external_workflow_execution_command_attributes()) {
      const auto& a = c.request_cancel_external_workflow_execution_command_attributes();
      ns_name = a.namespace_(), workflow_id = a.workflow_id(), target_run_id = a.run_id();
    } else {
      continue;
    }
    if (workflow_id.empty()) continue;  // the command is invalid: its handler says so
    std::string ns_id = run->st().namespace_id();
    if (!ns_name.empty()) {
      auto ns = namespaces_.find(ns_name);
      if (ns == namespaces_.end()) continue;  // its handler reports the unknown namespace
      ns_id = ns->second.info().id();
    }
    targets.push_back({ns_id, workflow_id, target_run_id});
  }
  if (targets.empty()) return Status::Ok();
  prefetching_.push_back(own);
  // Until one pass finds every target known: a read made while the mutex was released for another
  // target's read (or an eviction meanwhile) may no longer hold; it is read again.
  for (bool all_known = false; !all_known;) {
    for (const auto& [ns_id, workflow_id, target_run_id] : targets) {
      prefetch_owner_ = own;  // another completion may have run while this one read
      if (CommandTargetKnownLocked(ns_id, workflow_id, target_run_id)) continue;
      auto r = FetchRun(ns_id, workflow_id, target_run_id, /*with_events=*/false);
      // In memory (open, closing, or an evicted run brought back): the lookups find it there.
      if (r.ok() && runs_.FindLoaded(r.value()->st().run_id()) == r.value().get()) continue;
      PrefetchedRun p;
      p.generation = WorkflowKeyGenerationLocked(WorkflowKey(ns_id, workflow_id));
      if (r.ok()) {
        p.run = std::move(r).value();
      } else if (r.status().code() != Code::kNotFound) {
        p.status = r.status();
      }
      prefetched_runs_[PrefetchKey(own, ns_id, workflow_id, target_run_id)] = std::move(p);
    }
    prefetch_owner_ = own;
    all_known = true;
    for (const auto& [ns_id, workflow_id, target_run_id] : targets) {
      all_known = all_known && CommandTargetKnownLocked(ns_id, workflow_id, target_run_id);
    }
  }
  prefetching_.erase(std::find(prefetching_.begin(), prefetching_.end(), own));
  // A target not in memory whose read failed: the completion is answered with the read's error.
  for (const auto& [ns_id, workflow_id, target_run_id] : targets) {
    const std::string rid =
        RunIdInMemory(open_by_workflow_id_, closing_by_workflow_id_, WorkflowKey(ns_id, workflow_id), target_run_id);
    if (!rid.empty() && runs_.FindLoaded(rid) != nullptr) continue;
    const PrefetchedRun* pre = PrefetchedLocked(ns_id, workflow_id, target_run_id);
    if (pre != nullptr && !pre->status.ok()) return pre->status;
  }
  return Status::Ok();
}

const Engine::PrefetchedRun* Engine::PrefetchedLocked(const std::string& ns_id, const std::string& workflow_id,
                                                      const std::string& run_id) const {
  if (prefetched_runs_.empty()) return nullptr;
  auto it = prefetched_runs_.find(PrefetchKey(prefetch_owner_, ns_id, workflow_id, run_id));
  if (it == prefetched_runs_.end()) return nullptr;
  // A run of the workflow id that left memory since (its close durable) may have changed what
  // the store holds; runs in memory are looked up there before this is asked.
  if (it->second.generation != WorkflowKeyGenerationLocked(WorkflowKey(ns_id, workflow_id))) return nullptr;
  return &it->second;
}

bool Engine::CommandTargetKnownLocked(const std::string& ns_id, const std::string& workflow_id,
                                      const std::string& run_id) const {
  const std::string rid =
      RunIdInMemory(open_by_workflow_id_, closing_by_workflow_id_, WorkflowKey(ns_id, workflow_id), run_id);
  if (!rid.empty() && runs_.FindLoaded(rid) != nullptr) return true;
  const PrefetchedRun* pre = PrefetchedLocked(ns_id, workflow_id, run_id);
  // An open run evicted from memory is known only once brought back, or as a failed read of it.
  if (run_id.empty() != rid.empty() || (!rid.empty() && runs_.eviction_seq(rid) != 0)) {
    return pre != nullptr && (!pre->status.ok() || !pre->run);
  }
  return pre != nullptr;
}

CurrentRunRead Engine::ReadCurrentRun(const std::string& namespace_name, const std::string& workflow_id) {
  CurrentRunRead out;
  {
    MutexLock l(mu_);
    auto ns = NamespaceByNameLocked(namespace_name);
    if (!ns.ok()) return out;  // the start reports it
    out.ns_id = ns.value()->info().id();
    const std::string key = WorkflowKey(out.ns_id, workflow_id);
    if (open_by_workflow_id_.count(key) || closing_by_workflow_id_.count(key)) return out;  // judged on memory
    out.generation = WorkflowKeyGenerationLocked(key);
  }
  out.done = true;
  out.workflow_id = workflow_id;
  auto state = ReadCurrentRunState(out.ns_id, workflow_id);
  if (!state.ok()) {
    out.status = state.status();
    return out;
  }
  out.state = std::move(state).value();
  return out;
}

void Engine::RereadCurrentRunIfStaleLocked(CurrentRunRead* pre, const std::string& namespace_name,
                                           const std::string& workflow_id) {
  for (;;) {
    auto ns = NamespaceByNameLocked(namespace_name);
    if (!ns.ok()) return;  // the start reports it
    const std::string key = WorkflowKey(ns.value()->info().id(), workflow_id);
    if (auto open = open_by_workflow_id_.find(key); open != open_by_workflow_id_.end()) {
      // Judged on memory; an evicted open run comes back first (the check looks at its state).
      const std::string rid = open->second;
      if (runs_.eviction_seq(rid) == 0 || !FetchIfEvicted(rid).ok()) return;
      continue;
    }
    if (closing_by_workflow_id_.count(key)) return;  // judged on memory
    if (pre->done && pre->ns_id == ns.value()->info().id() && pre->workflow_id == workflow_id &&
        pre->generation == WorkflowKeyGenerationLocked(key)) {
      return;  // still what the store holds
    }
    mu_.Unlock();
    *pre = ReadCurrentRun(namespace_name, workflow_id);
    mu_.Lock();
  }
}

}  // namespace temporalite::history
