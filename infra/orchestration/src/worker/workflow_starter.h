// The RunStarter of the worker service: a pg-boss ingestion request starts
// CheckersIngestionWorkflow through the SDK client (workflow id = the request's run id, so a
// redelivered job finds the same workflow instead of starting another) and waits for its
// outcome. Thread-safe (one instance serves every consumer thread).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <temporalite/sdk/client.h>

#include "ingest/request_consumer.h"

namespace tillless::worker {

class WorkflowRunStarter : public ingest::RunStarter {
 public:
  // `stop` (owned by the caller) ends a wait early: Run then returns CANCELLED and the workflow
  // keeps running; the job's next delivery waits for the same workflow.
  WorkflowRunStarter(std::shared_ptr<temporalite::sdk::Client> client, std::string task_queue,
                     std::chrono::seconds sla, const std::atomic<bool>& stop)
      : client_(std::move(client)), task_queue_(std::move(task_queue)), sla_(sla), stop_(stop) {}

  // Starts (or finds) the workflow and returns its result (the run summary JSON). A failed,
  // timed-out, cancelled or terminated workflow is an error whose code is the failure's type
  // when that names a gRPC code (e.g. NOT_FOUND), else ABORTED / DEADLINE_EXCEEDED.
  ingest::Result<std::string> Run(const ingest::IngestRequest& request) override;

 private:
  std::shared_ptr<temporalite::sdk::Client> client_;
  std::string task_queue_;
  std::chrono::seconds sla_;
  const std::atomic<bool>& stop_;
};

}  // namespace tillless::worker
