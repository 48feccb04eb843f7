// A worker: polls one task queue for workflow and activity tasks and runs the registered
// workflows (on deterministic executors, replayed from history) and activities (on a thread
// pool).
//
//   auto client = Client::Connect(ClientOptions::FromEnvironment());
//   Worker worker(client, {.task_queue = "hello"});
//   worker.RegisterWorkflow("Greet", Greet);
//   worker.RegisterActivity("Hello", Hello);
//   worker.Start();  ... worker.Shutdown();
//
// Register everything before Start(). Start/Shutdown may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "temporalite/sdk/activity.h"
#include "temporalite/sdk/client.h"
#include "temporalite/sdk/workflow.h"

namespace temporalite::sdk {

struct WorkerOptions {
  std::string task_queue;  // REQUIRED
  int max_concurrent_activities = 100;
  int max_concurrent_workflow_tasks = 4;  // also the number of workflow pollers
  int activity_pollers = 2;
  std::string identity;  // default: the client's
  // Shutdown waits this long for running activities, then cancels them (IsCancelled()).
  std::chrono::milliseconds graceful_shutdown_timeout{10000};
};

class Worker {
 public:
  Worker(std::shared_ptr<Client> client, WorkerOptions options);
  ~Worker();  // shuts down
  Worker(const Worker&) = delete;

  template <class F>
  void RegisterWorkflow(const std::string& name, F fn) {
    workflows_[name] = internal::MakeWorkflowFn(fn);
  }
  void RegisterWorkflowPayloads(const std::string& name, internal::WorkflowFn fn) { workflows_[name] = std::move(fn); }
  template <class F>
  void RegisterActivity(const std::string& name, F fn) {
    activities_[name] = internal::MakeActivityFn(fn);
  }

  void Start();
  // Stops polling, finishes in-flight workflow tasks, waits for running activities up to the
  // grace period then cancels them and waits for them to return. Idempotent.
  void Shutdown();
  // Start(), then block until SIGINT or SIGTERM (or Shutdown() from another thread), then Shutdown().
  void RunUntilSignal();

  const WorkerOptions& options() const { return options_; }

 private:
  void WorkflowPollLoop();
  void ActivityPollLoop();
  void ActivityThreadLoop();
  void HandleWorkflowTask(wsv1::PollWorkflowTaskQueueResponse& task);
  void RunActivity(const wsv1::PollActivityTaskQueueResponse& task);

  std::shared_ptr<Client> client_;
  WorkerOptions options_;
  std::map<std::string, internal::WorkflowFn> workflows_;
  std::map<std::string, internal::ActivityFn> activities_;

  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::vector<std::thread> threads_;
  std::mutex poll_mu_;
  std::set<grpc::ClientContext*> polls_;  // in-flight long polls, cancelled on shutdown

  // Activity pool: pollers take a slot, then hand the task to a pool thread.
  std::mutex act_mu_;
  std::condition_variable act_cv_;
  int free_slots_ = 0;
  std::vector<wsv1::PollActivityTaskQueueResponse> act_queue_;
  std::set<ActivityContext*> running_;
  std::vector<std::thread> act_threads_;
  bool pool_stop_ = false;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;
};

}  // namespace temporalite::sdk
