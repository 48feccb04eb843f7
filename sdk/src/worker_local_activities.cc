// Local activities, the worker's side: each runs on a thread of its own while its workflow task
// waits (workflow_local_activities.cc), retried in the worker while the backoff is within the
// local retry threshold; a longer backoff goes back to the workflow (a timer, then a new local
// activity), as sdk-core does.
#include <cmath>
#include <future>

#include "temporalite/sdk/worker.h"
#include "workflow_instance.h"

namespace temporalite::sdk {
namespace {

using namespace std::chrono_literals;

class LocalExecution : public internal::LocalActivityExecution {
 public:
  bool Done() const override { return done_.load(); }
  internal::LocalActivityOutcome Take() override { return std::move(outcome_); }

  internal::LocalActivityOutcome outcome_;
  std::atomic<bool> done_{false};
  std::future<void> thread_;  // last: destroyed (joined) first
};

// The delay before the attempt after `attempt` (1-based) by the policy's exponential backoff.
std::chrono::milliseconds RetryInterval(const RetryPolicy& rp, int attempt) {
  const auto initial = rp.initial_interval.count() > 0 ? rp.initial_interval : 100ms;
  const double coefficient = rp.backoff_coefficient > 0 ? rp.backoff_coefficient : 2.0;
  const auto max_interval = rp.maximum_interval.count() > 0 ? rp.maximum_interval : initial * 100;
  const double ms = static_cast<double>(initial.count()) * std::pow(coefficient, attempt - 1);
  if (ms >= static_cast<double>(max_interval.count())) return max_interval;
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

}  // namespace

std::shared_ptr<internal::LocalActivityExecution> Worker::StartLocalActivity(
    internal::LocalActivityRequest request, std::shared_ptr<internal::LocalActivityNotifier> notifier) {
  auto exec = std::make_shared<LocalExecution>();
  LocalExecution* e = exec.get();  // the thread is joined before *e is destroyed
  e->thread_ = std::async(std::launch::async, [this, e, request = std::move(request), notifier = std::move(notifier)] {
    {
      std::unique_lock<std::mutex> l(la_mu_);
      la_cv_.wait(l, [this] { return la_free_ > 0; });
      --la_free_;
    }
    try {
      e->outcome_ = RunLocalActivity(request);
    } catch (...) {
      e->outcome_.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> l(la_mu_);
      ++la_free_;
    }
    la_cv_.notify_one();
    e->done_ = true;
    notifier->Notify();
  });
  return exec;
}

internal::LocalActivityOutcome Worker::RunLocalActivity(const internal::LocalActivityRequest& req) {
  internal::LocalActivityOutcome out;
  out.attempt = req.attempt;
  auto it = activities_.find(req.type);
  if (it == activities_.end()) {
    out.error = std::make_exception_ptr(ApplicationFailure(
        "Activity function " + req.type + " is not registered on this worker", "NotFoundError", true));
    return out;
  }
  RetryPolicy rp;
  if (req.opts.retry_policy) {
    rp = *req.opts.retry_policy;
  } else {
    rp.initial_interval = 100ms;
    rp.maximum_attempts = 3;
  }
  const auto threshold = req.opts.local_retry_threshold;
  // All attempts, those after timers included, end within schedule_to_close of the first one.
  const auto deadline = req.original_schedule_time +
                        (req.opts.schedule_to_close.count() > 0 ? req.opts.schedule_to_close : 5000ms);
  internal::LocalActivityCancellation& cancel = *req.cancellation;
  for (int attempt = req.attempt;; ++attempt) {
    out.attempt = attempt;
    wsv1::PollActivityTaskQueueResponse t;
    t.set_activity_id(req.activity_id);
    t.mutable_activity_type()->set_name(req.type);
    t.set_workflow_namespace(req.info.ns);
    t.mutable_workflow_execution()->set_workflow_id(req.info.workflow_id);
    t.mutable_workflow_execution()->set_run_id(req.info.run_id);
    t.mutable_workflow_type()->set_name(req.info.workflow_type);
    t.set_attempt(attempt);
    if (req.opts.start_to_close.count() > 0) *t.mutable_start_to_close_timeout() = ToProtoDuration(req.opts.start_to_close);
    ActivityContext ctx(client_, t, options_.task_queue);  // no task token: heartbeats stay local
    {
      std::lock_guard<std::mutex> l(cancel.mu);
      if (cancel.cancelled) {
        out.error = std::make_exception_ptr(CanceledFailure("Activity cancelled"));
        return out;
      }
      cancel.running = &ctx;
    }
    struct Unregister {
      internal::LocalActivityCancellation& c;
      ~Unregister() {
        std::lock_guard<std::mutex> l(c.mu);
        c.running = nullptr;
      }
    } unregister{cancel};
    std::optional<std::chrono::milliseconds> next_delay;
    bool retryable = true;
    try {
      out.result = it->second(ctx, req.args);
      out.error = nullptr;
      return out;
    } catch (const ApplicationFailure& f) {
      out.error = std::current_exception();
      retryable = !f.non_retryable && std::find(rp.non_retryable_error_types.begin(), rp.non_retryable_error_types.end(),
                                                f.type) == rp.non_retryable_error_types.end();
      next_delay = f.next_retry_delay;
    } catch (...) {
      out.error = std::current_exception();
    }
    if (!retryable || ctx.IsCancelled() || (rp.maximum_attempts > 0 && attempt >= rp.maximum_attempts)) return out;
    const auto delay = next_delay.value_or(RetryInterval(rp, attempt));
    if (std::chrono::system_clock::now() + delay >= deadline) return out;
    if (delay > threshold) {
      out.backoff = delay;  // the workflow sleeps it on a timer
      return out;
    }
    std::unique_lock<std::mutex> l(cancel.mu);
    if (cancel.cv.wait_for(l, delay, [&cancel] { return cancel.cancelled; })) {
      out.error = std::make_exception_ptr(CanceledFailure("Activity cancelled"));
      return out;
    }
  }
}

}  // namespace temporalite::sdk
