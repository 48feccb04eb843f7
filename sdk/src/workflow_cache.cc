#include "workflow_cache.h"

#include "workflow_instance.h"

namespace temporalite::sdk::internal {

CachedRun::CachedRun() = default;
CachedRun::CachedRun(std::unique_ptr<WorkflowInstance> i, int64_t last_started)
    : instance(std::move(i)), last_started_event_id(last_started) {}
CachedRun::~CachedRun() = default;

std::unique_ptr<CachedRun> WorkflowCache::Take(const std::string& run_id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return nullptr;
  auto run = std::move(it->second.run);
  lru_.erase(it->second.lru);
  runs_.erase(it);
  return run;
}

std::vector<std::unique_ptr<CachedRun>> WorkflowCache::Put(const std::string& run_id, std::unique_ptr<CachedRun> run) {
  std::vector<std::unique_ptr<CachedRun>> evicted;
  std::lock_guard<std::mutex> l(mu_);
  auto it = runs_.find(run_id);
  if (it != runs_.end()) {  // not expected (runs are taken while worked on); the newer one wins
    evicted.push_back(std::move(it->second.run));
    lru_.erase(it->second.lru);
    runs_.erase(it);
  }
  lru_.push_front(run_id);
  runs_[run_id] = Entry{std::move(run), lru_.begin()};
  while (runs_.size() > capacity_) {
    auto victim = runs_.find(lru_.back());
    evicted.push_back(std::move(victim->second.run));
    runs_.erase(victim);
    lru_.pop_back();
  }
  return evicted;
}

std::vector<std::unique_ptr<CachedRun>> WorkflowCache::Clear() {
  std::vector<std::unique_ptr<CachedRun>> all;
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [id, e] : runs_) all.push_back(std::move(e.run));
  runs_.clear();
  lru_.clear();
  return all;
}

size_t WorkflowCache::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return runs_.size();
}

}  // namespace temporalite::sdk::internal
