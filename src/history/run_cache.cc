#include "history/run_cache.h"

#include <stdexcept>

#include "history/execution.h"

namespace temporalite::history {

RunCache::iterator RunCache::find(const std::string& run_id) {
  auto it = loaded_.find(run_id);
  if (it != loaded_.end()) return it;
  if (evicted_.count(run_id)) ++evicted_lookups_;
  return loaded_.end();
}

std::shared_ptr<Execution>& RunCache::at(const std::string& run_id) {
  auto it = find(run_id);
  if (it == loaded_.end()) throw std::out_of_range("RunCache::at: run not in memory: " + run_id);
  return it->second;
}

Execution* RunCache::FindLoaded(const std::string& run_id) const {
  auto it = loaded_.find(run_id);
  return it == loaded_.end() ? nullptr : it->second.get();
}

void RunCache::Evict(const std::string& run_id) {
  auto it = loaded_.find(run_id);
  if (it == loaded_.end()) return;
  evicted_.emplace(it->first, ++evictions_);
  loaded_.erase(it);
}

RunCache::iterator RunCache::Adopt(const std::string& run_id, std::shared_ptr<Execution> ex) {
  evicted_.erase(run_id);
  reloaded_.emplace_back(run_id, ex->st().state_transition_count());
  return loaded_.insert_or_assign(run_id, std::move(ex)).first;
}

}  // namespace temporalite::history
