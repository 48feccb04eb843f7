#include "temporalite/sdk/activity.h"

namespace temporalite::sdk {

ActivityContext::ActivityContext(std::shared_ptr<Client> client, const wsv1::PollActivityTaskQueueResponse& t,
                                 const std::string& task_queue)
    : client_(std::move(client)) {
  info_.activity_id = t.activity_id();
  info_.activity_type = t.activity_type().name();
  info_.task_queue = task_queue;
  info_.task_token = t.task_token();
  info_.workflow_namespace = t.workflow_namespace();
  info_.workflow_id = t.workflow_execution().workflow_id();
  info_.workflow_run_id = t.workflow_execution().run_id();
  info_.workflow_type = t.workflow_type().name();
  info_.attempt = t.attempt() > 0 ? t.attempt() : 1;
  info_.heartbeat_timeout = FromProtoDuration(t.heartbeat_timeout());
  info_.start_to_close_timeout = FromProtoDuration(t.start_to_close_timeout());
  info_.schedule_to_close_timeout = FromProtoDuration(t.schedule_to_close_timeout());
  info_.heartbeat_details = t.heartbeat_details();
  last_ = t.heartbeat_details();
}

void ActivityContext::ThrowIfCancelled() const {
  if (IsCancelled()) throw CanceledFailure("Activity cancelled");
}

Payloads ActivityContext::last_details() const {
  std::lock_guard<std::mutex> l(mu_);
  return has_pending_ ? pending_ : last_;
}

void ActivityContext::HeartbeatPayloads(const Payloads& details) {
  auto interval = info_.heartbeat_timeout.count() > 0 ? info_.heartbeat_timeout * 8 / 10 : std::chrono::milliseconds(30000);
  Payloads to_send;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto now = std::chrono::steady_clock::now();
    if (last_sent_ != std::chrono::steady_clock::time_point{} && now - last_sent_ < interval) {
      pending_ = details;
      has_pending_ = true;
      return;
    }
    last_sent_ = now;
    last_ = details;
    has_pending_ = false;
    to_send = details;
  }
  SendHeartbeat(to_send);
}

void ActivityContext::SendHeartbeat(const Payloads& details) {
  if (info_.task_token.empty()) return;  // a local activity: nothing to tell the server
  wsv1::RecordActivityTaskHeartbeatRequest req;
  req.set_namespace_(client_->ns());
  req.set_task_token(info_.task_token);
  if (details.payloads_size() > 0) *req.mutable_details() = details;
  req.set_identity(client_->identity());
  try {
    auto resp = client_->Call(&wsv1::WorkflowService::Stub::RecordActivityTaskHeartbeat, req);
    if (resp.cancel_requested()) cancelled_ = true;
  } catch (const RpcError& e) {
    // NOT_FOUND: the activity is gone (completed elsewhere, timed out, workflow closed).
    if (e.code() == grpc::StatusCode::NOT_FOUND) cancelled_ = true;
  }
}

}  // namespace temporalite::sdk
