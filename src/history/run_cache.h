// The engine's runs by id: open runs (and closed ones whose close is not durable yet) in memory,
// plus the ids of open runs evicted from memory while idle. An evicted run is durable as it
// stands (it is only evicted once its last write is on disk and nothing in memory refers to it):
// it is read back from the store, as a restart would, by whoever needs it, with the engine mutex
// released (Engine::FetchIfEvicted in run_reads.cc), and kept in memory again (`Adopt`). Its
// timers stay armed in the TimerService: they carry run ids, not pointers.
//
// The interface is the subset of std::unordered_map the engine uses; lookups see the runs in
// memory only. The cache never reads the store (it is used under the engine mutex): RPCs and
// timers bring an evicted run back before their transition, and `eviction_seq` tells whether such
// a read is still the run's durable state when the mutex is taken again. A lookup that names an
// evicted run anyway sees no run and is counted (`evicted_lookups`; the tests expect none).
// Guarded by the engine mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace temporalite::history {

struct Execution;

class RunCache {
 public:
  using Map = std::unordered_map<std::string, std::shared_ptr<Execution>>;
  using iterator = Map::iterator;

  // The run in memory; end() if unknown or evicted (an evicted one is counted in
  // `evicted_lookups`: its caller should have brought it back first).
  iterator find(const std::string& run_id);
  // In memory only, for lookups where an evicted run is expected and means "stale": ones that
  // need something an evicted run cannot have (a pending workflow task or activity, a query): a
  // task, timer or token that names an evicted run is stale (Engine::EvictableLocked).
  iterator find_loaded(const std::string& run_id) { return loaded_.find(run_id); }
  // Like find; throws std::out_of_range if not in memory, as std::unordered_map::at.
  std::shared_ptr<Execution>& at(const std::string& run_id);
  iterator begin() { return loaded_.begin(); }
  iterator end() { return loaded_.end(); }
  // In memory now (evicted runs are open and durable, never "closing").
  size_t count(const std::string& run_id) const { return loaded_.count(run_id); }
  std::shared_ptr<Execution>& operator[](const std::string& run_id) {
    evicted_.erase(run_id);
    return loaded_[run_id];
  }
  // Non-zero while `run_id` is evicted; a new value each time a run is evicted (a read of the run
  // made while the value stays the same is the run's durable state).
  uint64_t eviction_seq(const std::string& run_id) const {
    auto it = evicted_.find(run_id);
    return it == evicted_.end() ? 0 : it->second;
  }
  // An evicted run read back from the store without the engine mutex (eviction_seq unchanged since
  // the read) comes back into memory.
  iterator Adopt(const std::string& run_id, std::shared_ptr<Execution> ex);
  void erase(iterator it) { loaded_.erase(it); }

  // In memory, without reading an evicted run back; null otherwise.
  Execution* FindLoaded(const std::string& run_id) const;
  // Drops the run from memory, keeping its id.
  void Evict(const std::string& run_id);
  // An open run known only by id (recovery of idle runs).
  void AddEvicted(std::string run_id) { evicted_.emplace(std::move(run_id), ++evictions_); }
  // Runs read back since the last call, each with its state transition count at that moment.
  std::vector<std::pair<std::string, int64_t>> TakeReloaded() { return std::exchange(reloaded_, {}); }
  void KeepReloaded(std::string run_id, int64_t transitions) { reloaded_.emplace_back(std::move(run_id), transitions); }

  size_t loaded_size() const { return loaded_.size(); }
  // Lookups by `find` / `at` that named an evicted run so far (each one, before, was a store read
  // under the engine mutex).
  uint64_t evicted_lookups() const { return evicted_lookups_; }
  size_t evicted_size() const { return evicted_.size(); }

 private:
  Map loaded_;
  std::unordered_map<std::string, uint64_t> evicted_;  // run id -> eviction_seq
  uint64_t evictions_ = 0;
  uint64_t evicted_lookups_ = 0;
  std::vector<std::pair<std::string, int64_t>> reloaded_;
};

}  // namespace temporalite::history
