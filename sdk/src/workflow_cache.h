// The sticky cache (internal): running workflow instances kept between workflow tasks, keyed by
// run id, the least recently used evicted first. A cached run is taken out while a task works on
// it and put back after, so one run is never worked on by two threads.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace temporalite::sdk::internal {

class WorkflowInstance;

struct CachedRun {
  std::unique_ptr<WorkflowInstance> instance;
  // The WorkflowTaskStarted event the instance last ran to: the next sticky task's history must
  // start right after it.
  int64_t last_started_event_id = 0;

  CachedRun();
  CachedRun(std::unique_ptr<WorkflowInstance> i, int64_t last_started);
  ~CachedRun();
};

class WorkflowCache {
 public:
  explicit WorkflowCache(size_t capacity) : capacity_(capacity) {}

  // Removes and returns the run (nullptr when it is not cached).
  std::unique_ptr<CachedRun> Take(const std::string& run_id);
  // Stores the run as the most recently used. Returns the runs evicted to stay within the
  // capacity, for the caller to destroy outside the lock.
  std::vector<std::unique_ptr<CachedRun>> Put(const std::string& run_id, std::unique_ptr<CachedRun> run);
  // Removes every run (shutdown).
  std::vector<std::unique_ptr<CachedRun>> Clear();
  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::unique_ptr<CachedRun> run;
    std::list<std::string>::iterator lru;
  };
  mutable std::mutex mu_;
  const size_t capacity_;
  std::list<std::string> lru_;  // front: most recently used
  std::map<std::string, Entry> runs_;
};

}  // namespace temporalite::sdk::internal
