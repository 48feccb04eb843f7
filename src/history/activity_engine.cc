// The engine's side of the ActivityTasks unit (activity_tasks.h): the activity RPCs' entry points
// (they take the engine mutex and call the unit), the calls of the workflow-task completion into
// it, and what ActivityEngine asks of the engine.
#include "history/engine.h"

namespace temporalite::history {

void Engine::PollActivityTaskQueue(const wsv1::PollActivityTaskQueueRequest& req, ActivityPoller waiter,
                                   Duration max_wait) {
  MutexLock l(mu_);
  activities_.Poll(l, req, std::move(waiter), max_wait);
}

void Engine::RespondActivityTaskCompleted(const wsv1::RespondActivityTaskCompletedRequest& req, Done done) {
  MutexLock l(mu_);
  activities_.Complete(l, req, std::move(done));
}

void Engine::RespondActivityTaskCompletedById(const wsv1::RespondActivityTaskCompletedByIdRequest& req, Done done) {
  MutexLock l(mu_);
  activities_.Complete(l, req, std::move(done));
}

void Engine::RespondActivityTaskFailed(const wsv1::RespondActivityTaskFailedRequest& req, Done done) {
  MutexLock l(mu_);
  activities_.Fail(l, req, std::move(done));
}

void Engine::RespondActivityTaskFailedById(const wsv1::RespondActivityTaskFailedByIdRequest& req, Done done) {
  MutexLock l(mu_);
  activities_.Fail(l, req, std::move(done));
}

void Engine::RespondActivityTaskCanceled(const wsv1::RespondActivityTaskCanceledRequest& req, Done done) {
  MutexLock l(mu_);
  activities_.Cancel(l, req, std::move(done));
}

void Engine::RespondActivityTaskCanceledById(const wsv1::RespondActivityTaskCanceledByIdRequest& req, Done done) {
  MutexLock l(mu_);
  activities_.Cancel(l, req, std::move(done));
}

void Engine::RecordActivityTaskHeartbeat(const wsv1::RecordActivityTaskHeartbeatRequest& req,
                                         wsv1::RecordActivityTaskHeartbeatResponse* resp, Done done) {
  MutexLock l(mu_);
  activities_.Heartbeat(l, req, resp, std::move(done));
}

void Engine::RecordActivityTaskHeartbeatById(const wsv1::RecordActivityTaskHeartbeatByIdRequest& req,
                                             wsv1::RecordActivityTaskHeartbeatByIdResponse* resp, Done done) {
  MutexLock l(mu_);
  activities_.Heartbeat(l, req, resp, std::move(done));
}

ActivityEngine::Queues& Engine::ActivityQueues() {
  mu_.AssertHeld();  // ActivityEngine calls come from the unit, which runs under mu_
  return activity_queues_;
}

}  // namespace temporalite::history
