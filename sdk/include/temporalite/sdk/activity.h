// Activity code: plain functions run on the worker's thread pool.
//
//   std::string Hello(ActivityContext& ctx, std::string name) { return "Hello, " + name; }
//
// Any exception fails the attempt (retried by the activity's retry policy); throw
// ApplicationFailure with non_retryable=true to stop retries, or set next_retry_delay.
// Cancellation (requested by the workflow) is learnt through heartbeats: call Heartbeat()
// regularly and check IsCancelled(); throwing CanceledFailure then reports the cancellation.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "temporal/api/workflowservice/v1/request_response.pb.h"
#include "temporalite/sdk/client.h"
#include "temporalite/sdk/traits.h"

namespace temporalite::sdk {

struct ActivityInfo {
  std::string activity_id, activity_type, task_queue, task_token;
  std::string workflow_namespace, workflow_id, workflow_run_id, workflow_type;
  int attempt = 1;
  std::chrono::milliseconds heartbeat_timeout{0}, start_to_close_timeout{0}, schedule_to_close_timeout{0};
  Payloads heartbeat_details;  // the last details recorded by an earlier attempt
};

// Thread-safe: Heartbeat() may be called from other threads of the activity.
class ActivityContext {
 public:
  ActivityContext(std::shared_ptr<Client> client, const wsv1::PollActivityTaskQueueResponse& task,
                  const std::string& task_queue);

  const ActivityInfo& info() const { return info_; }
  // The details recorded by the previous attempt's last heartbeat, as T.
  template <class T>
  T LastHeartbeatDetails() const { return FirstPayload<T>(info_.heartbeat_details); }

  // Records progress. Throttled: at most one call to the server per 80 % of the heartbeat
  // timeout (30 s without one); later details are sent on the next call after the interval.
  void HeartbeatPayloads(const Payloads& details);
  template <class... A>
  void Heartbeat(const A&... details) { HeartbeatPayloads(ToPayloads(details...)); }

  // True once the server asked for cancellation (seen by a heartbeat), the activity is gone,
  // or the worker is shutting down past its grace period.
  bool IsCancelled() const { return cancelled_.load(); }
  // Throws CanceledFailure if IsCancelled().
  void ThrowIfCancelled() const;

  // The result will be given later by Client::CompleteActivity(info().task_token, ...): the
  // worker sends nothing when the function returns.
  void CompleteAsync() { async_ = true; }

  // For the worker.
  bool async() const { return async_; }
  void Cancel() { cancelled_ = true; }
  Payloads last_details() const;

 private:
  void SendHeartbeat(const Payloads& details);

  std::shared_ptr<Client> client_;
  ActivityInfo info_;
  std::atomic<bool> cancelled_{false};
  bool async_ = false;
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point last_sent_{};
  Payloads pending_, last_;
  bool has_pending_ = false;
};

namespace internal {

using ActivityFn = std::function<Payloads(ActivityContext&, const Payloads&)>;

template <class Tuple>
struct FirstIsContext : std::false_type {};
template <class... R>
struct FirstIsContext<std::tuple<ActivityContext&, R...>> : std::true_type {};

template <class F>
ActivityFn MakeActivityFn(F fn) {
  using T = FnTraits<F>;
  if constexpr (FirstIsContext<typename T::RawArgs>::value) {
    using Args = typename TupleTail<typename T::Args>::type;
    return [fn](ActivityContext& ctx, const Payloads& p) {
      auto args = DecodeArgs<Args>(p);
      return EncodeResult<typename T::Ret>(
          [&] { return std::apply([&](auto&... a) { return fn(ctx, a...); }, args); });
    };
  } else {
    using Args = typename T::Args;
    return [fn](ActivityContext&, const Payloads& p) {
      auto args = DecodeArgs<Args>(p);
      return EncodeResult<typename T::Ret>([&] { return std::apply(fn, args); });
    };
  }
}

}  // namespace internal
}  // namespace temporalite::sdk
