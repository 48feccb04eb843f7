// A Store that forwards to a real store but can hold commits back: while held, every Commit
// waits (in submission order) until Release() hands them all to the real store. Engine tests use it
// to act inside the window between a transition in memory and its durability, deterministically.
// Reads go straight to the real store (they see committed rows only, as in production), unless a
// test blocks the reads of one run or workflow id (BlockReadsOf): then they wait until unblocked,
// so a test can show which RPCs proceed while the engine waits on a slow read.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <string>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "persistence/store.h"

namespace temporalite::history::testing {

class GatedStore final : public persistence::Store {
 public:
  explicit GatedStore(std::unique_ptr<persistence::Store> inner) : inner_(std::move(inner)) {}

  // From now on commits are held.
  void Hold() {
    std::lock_guard<std::mutex> l(mu_);
    held_ = true;
  }
  // Submits every held commit to the real store (in order) and stops holding.
  void Release() {
    std::vector<std::pair<persistence::WriteBatch, DoneCallback>> held;
    {
      std::lock_guard<std::mutex> l(mu_);
      held_ = false;
      held.swap(queue_);
      // Submitted under the lock so a concurrent Commit cannot overtake the held ones.
      for (auto& [batch, done] : held) inner_->Commit(std::move(batch), std::move(done));
    }
  }
  // Runs `fn` once, on the reading thread, right after the next GetCurrentRunId (or
  // ClosedRunsBefore) has read: tests act between a store read the engine makes without its mutex
  // and the transition that uses the result.
  void AfterNextCurrentRunRead(std::function<void()> fn) {
    std::lock_guard<std::mutex> l(mu_);
    after_current_run_read_ = std::move(fn);
  }
  void AfterNextClosedRunsRead(std::function<void()> fn) {
    std::lock_guard<std::mutex> l(mu_);
    after_closed_runs_read_ = std::move(fn);
  }
  // From now on a read of run `id` (GetExecution, ReadEvents), of workflow id `id`'s current run
  // (GetCurrentRunId) or of namespace id `id`'s closed runs (ClosedRunsBefore) or visibility count
  // (CountVisibility) waits until UnblockReads().
  void BlockReadsOf(std::string id) {
    std::lock_guard<std::mutex> l(mu_);
    blocked_id_ = std::move(id);
    events_only_ = false;
  }
  // As BlockReadsOf, for the history reads (ReadEvents) of run `id` only: its state row reads on.
  // Tells a history read made with the engine mutex released from one made under it after a
  // state read without it.
  void BlockEventReadsOf(std::string id) {
    std::lock_guard<std::mutex> l(mu_);
    blocked_id_ = std::move(id);
    events_only_ = true;
  }
  void UnblockReads() {
    {
      std::lock_guard<std::mutex> l(mu_);
      blocked_id_.clear();
    }
    cv_.notify_all();
  }
  // From now on a read of run `id` (GetExecution, ReadEvents) or of workflow id `id`'s current run
  // (GetCurrentRunId) fails with `error`, as a read the database refuses does (the real store's
  // errors are INTERNAL "storage error: ..."); an OK `error` ends it.
  void FailReadsOf(std::string id, Status error) {
    std::lock_guard<std::mutex> l(mu_);
    failed_id_ = std::move(id);
    read_error_ = std::move(error);
  }
  // True once a read is waiting on BlockReadsOf now (false after `wait` without one). A read that
  // waited on an earlier block and was let go does not count: a test that blocks twice waits for
  // the second read itself.
  bool WaitForBlockedRead(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, wait, [&] { return waiting_reads_ > 0; });
  }
  // Reads that have waited so far.
  int blocked_reads() {
    std::lock_guard<std::mutex> l(mu_);
    return blocked_reads_;
  }
  size_t held_commits() {
    std::lock_guard<std::mutex> l(mu_);
    return queue_.size();
  }

  void Commit(persistence::WriteBatch batch, DoneCallback done) override {
    std::lock_guard<std::mutex> l(mu_);
    if (held_) {
      queue_.emplace_back(std::move(batch), std::move(done));
      return;
    }
    inner_->Commit(std::move(batch), std::move(done));
  }
  Result<std::vector<persistence::NamespaceRow>> LoadNamespaces() override { return inner_->LoadNamespaces(); }
  Result<std::vector<persistence::ExecutionRow>> LoadOpenExecutions(bool idle_states = true) override {
    return inner_->LoadOpenExecutions(idle_states);
  }
  Result<std::optional<persistence::ExecutionRow>> GetExecution(const std::string& run_id) override {
    WaitIfBlocked(run_id);
    if (Status s = ReadError(run_id); !s.ok()) return s;
    return inner_->GetExecution(run_id);
  }
  Result<std::optional<std::string>> GetCurrentRunId(const std::string& namespace_id,
                                                     const std::string& workflow_id) override {
    WaitIfBlocked(workflow_id);
    if (Status s = ReadError(workflow_id); !s.ok()) return s;
    auto r = inner_->GetCurrentRunId(namespace_id, workflow_id);
    RunOnce(after_current_run_read_);
    return r;
  }
  Result<std::vector<persistence::EventRow>> ReadEvents(const std::string& run_id, int64_t first_event_id,
                                                        int64_t max_count) override {
    WaitIfBlocked(run_id, /*events_read=*/true);
    if (Status s = ReadError(run_id); !s.ok()) return s;
    return inner_->ReadEvents(run_id, first_event_id, max_count);
  }
  Result<persistence::VisibilityPage> ListVisibility(const persistence::VisibilityQuery& q) override {
    return inner_->ListVisibility(q);
  }
  Result<int64_t> CountVisibility(const persistence::VisibilityQuery& q) override {
    WaitIfBlocked(q.namespace_id);
    return inner_->CountVisibility(q);
  }
  Result<std::vector<std::pair<int64_t, int64_t>>> CountVisibilityByStatus(const persistence::VisibilityQuery& q) override {
    return inner_->CountVisibilityByStatus(q);
  }
  Result<std::vector<std::string>> ClosedRunsBefore(const std::string& namespace_id, int64_t close_before,
                                                   int64_t limit) override {
    WaitIfBlocked(namespace_id);
    auto r = inner_->ClosedRunsBefore(namespace_id, close_before, limit);
    RunOnce(after_closed_runs_read_);
    return r;
  }
  Result<std::vector<persistence::ScheduleRow>> LoadSchedules() override { return inner_->LoadSchedules(); }
  Result<std::optional<std::string>> GetServerState(const std::string& key) override {
    return inner_->GetServerState(key);
  }
  Result<std::vector<std::pair<std::string, std::string>>> ListServerState(const std::string& prefix) override {
    return inner_->ListServerState(prefix);
  }
  Status fatal_error() override { return inner_->fatal_error(); }
  void set_fatal_error_listener(std::function<void(const Status&)> fn) override {
    inner_->set_fatal_error_listener(std::move(fn));
  }
  void Close() override {
    Release();
    inner_->Close();
  }

 private:
  void WaitIfBlocked(const std::string& id, bool events_read = false) {
    std::unique_lock<std::mutex> l(mu_);
    if (blocked_id_.empty() || blocked_id_ != id || (events_only_ && !events_read)) return;
    ++blocked_reads_;
    ++waiting_reads_;
    cv_.notify_all();
    cv_.wait(l, [&] { return blocked_id_ != id; });
    --waiting_reads_;
  }
  Status ReadError(const std::string& id) {
    std::lock_guard<std::mutex> l(mu_);
    return !failed_id_.empty() && failed_id_ == id ? read_error_ : Status::Ok();
  }
  void RunOnce(std::function<void()>& slot) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> l(mu_);
      fn = std::exchange(slot, nullptr);
    }
    if (fn) fn();
  }

  std::unique_ptr<persistence::Store> inner_;
  std::mutex mu_;
  bool held_ = false;
  std::vector<std::pair<persistence::WriteBatch, DoneCallback>> queue_;
  std::function<void()> after_current_run_read_;
  std::function<void()> after_closed_runs_read_;
  std::condition_variable cv_;
  std::string blocked_id_;
  bool events_only_ = false;  // BlockEventReadsOf
  int blocked_reads_ = 0;
  int waiting_reads_ = 0;  // blocked now
  std::string failed_id_;
  Status read_error_;
};

}  // namespace temporalite::history::testing
