// Update-with-Start (ExecuteMultiOperation with [Start, Update]) as a unit over the StartWorkflow
// and UpdateRegistry units and the narrow engine interfaces they use (StartEngine: namespaces and
// commits; EngineContext: runs in memory, replies after durability). Each operation is validated
// on its own, with Temporal's Update-with-Start checks (multi_op.h); a failure answers Temporal's
// MultiOperationExecutionFailure with the other operation ABORTED. Then, in one transaction, the
// start's id-conflict check either starts a run or finds the workflow id's run (USE_EXISTING, a
// retried start), and the update is admitted on that run; the caller is answered by the update
// registry once the update reaches the stage it waits for (a new run's start is durable first).
#pragma once

#include <memory>

#include "common/thread_annotations.h"
#include "history/engine_context.h"
#include "history/start_workflow.h"
#include "history/update_registry.h"
#include "matching/task_queues.h"
#include "temporal/api/workflowservice/v1/request_response.pb.h"

namespace temporalite::history {

class UpdateWithStart {
 public:
  using Waiter =
      std::shared_ptr<matching::PollWaiter<::temporal::api::workflowservice::v1::ExecuteMultiOperationResponse>>;

  // `engine_mu`: the mutex of the engine that holds the units; every call is made with it held
  // (the engine's member is GUARDED_BY it).
  UpdateWithStart(Mutex& engine_mu, StartWorkflow& starts, UpdateRegistry& updates, StartEngine& host,
                  EngineContext& engine)
      : mu_(engine_mu), starts_(starts), updates_(updates), host_(host), engine_(engine) {}
  UpdateWithStart(const UpdateWithStart&) = delete;
  UpdateWithStart& operator=(const UpdateWithStart&) = delete;

  // ExecuteMultiOperation. `l` holds the engine mutex and is released before any answer; `pre`:
  // the workflow id's current run read before the mutex (as a start's).
  void Execute(MutexLock& l, const ::temporal::api::workflowservice::v1::ExecuteMultiOperationRequest& req,
               Waiter waiter, CurrentRunRead* pre);

 private:
  Mutex& mu_;
  StartWorkflow& starts_;
  UpdateRegistry& updates_;
  StartEngine& host_;
  EngineContext& engine_;
};

}  // namespace temporalite::history
