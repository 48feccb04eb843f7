// Local activities, the worker's side: each runs its attempts while its workflow task waits
// (workflow_local_activities.cc), retried in the worker while the backoff is within the local
// retry threshold; a longer backoff goes back to the workflow (a timer, then a new local
// activity), as sdk-core does. As in sdk-core (worker/activities/local_activities.rs,
// TimeoutBag), an attempt ends at its start_to_close (a retryable TimeoutFailure START_TO_CLOSE)
// and all attempts at the schedule_to_close counted from the first one's schedule time (a
// TimeoutFailure SCHEDULE_TO_CLOSE, no further attempt). Each attempt's function runs on a
// detached thread owning its state: one that outlives its timeout, or whose workflow stopped
// waiting for it (abandoned, cancelled, evicted), holds no other thread of the worker.
#include <algorithm>
#include <cmath>
#include <thread>

#include "temporalite/sdk/worker.h"
#include "workflow_instance.h"

namespace temporalite::sdk {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class LocalExecution : public internal::LocalActivityExecution {
 public:
  bool Done() const override { return done_.load(); }
  internal::LocalActivityOutcome Take() override { return std::move(outcome_); }

  internal::LocalActivityOutcome outcome_;  // written before done_
  std::atomic<bool> done_{false};
};

// What running a local activity needs, owned by its threads (not the worker's).
struct LocalRun {
  std::shared_ptr<internal::LocalActivitySlots> slots;
  std::shared_ptr<Client> client;
  std::string task_queue;
  internal::ActivityFn fn;  // empty: not registered
};

// One attempt: its function's outcome, set by the attempt's thread under slots->mu.
struct Attempt {
  Attempt(std::shared_ptr<Client> client, const wsv1::PollActivityTaskQueueResponse& t, const std::string& tq)
      : ctx(std::move(client), t, tq) {}
  ActivityContext ctx;  // no task token: heartbeats stay local
  Payloads result;
  std::exception_ptr error;
  bool done = false;
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

std::exception_ptr TimedOut(temporal::api::enums::v1::TimeoutType type) {
  return std::make_exception_ptr(TimeoutFailure("Activity timed out", type));  // sdk-core's message
}

enum class AttemptEnd { kEnded, kTimedOut, kCancelled };

// Takes a slot (waiting until `deadline` for one) and starts `a` on a thread of its own. The wait
// ends early, with no attempt started, when the workflow cancels the local activity or the
// worker's shutdown grace period is over (kCancelled); kTimedOut: no slot came by the deadline.
AttemptEnd StartAttempt(const LocalRun& run, internal::LocalActivityCancellation& cancel,
                        const std::shared_ptr<Attempt>& a, const Payloads& args, Clock::time_point deadline) {
  internal::LocalActivitySlots& s = *run.slots;
  {
    std::unique_lock<std::mutex> l(s.mu);
    auto stop = [&s, &cancel] { return s.cancel_all || cancel.IsCancelled(); };
    if (!s.cv.wait_until(l, deadline, [&s, &stop] { return s.free > 0 || stop(); })) return AttemptEnd::kTimedOut;
    if (stop()) return AttemptEnd::kCancelled;
    --s.free;
    ++s.running;
    s.contexts.insert(&a->ctx);
  }
  std::thread([slots = run.slots, fn = run.fn, a, args] {
    Payloads result;
    std::exception_ptr error;
    try {
      result = fn(a->ctx, args);
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> l(slots->mu);
      a->result = std::move(result);
      a->error = std::move(error);
      a->done = true;
      ++slots->free;
      --slots->running;
      slots->contexts.erase(&a->ctx);
    }
    slots->cv.notify_all();
  }).detach();
  return AttemptEnd::kEnded;  // started
}

// The activity task an attempt's context describes.
wsv1::PollActivityTaskQueueResponse AttemptTask(const internal::LocalActivityRequest& req, int attempt,
                                                std::chrono::milliseconds start_to_close) {
  wsv1::PollActivityTaskQueueResponse t;
  t.set_activity_id(req.activity_id);
  t.mutable_activity_type()->set_name(req.type);
  t.set_workflow_namespace(req.info.ns);
  t.mutable_workflow_execution()->set_workflow_id(req.info.workflow_id);
  t.mutable_workflow_execution()->set_run_id(req.info.run_id);
  t.mutable_workflow_type()->set_name(req.info.workflow_type);
  t.set_attempt(attempt);
  if (start_to_close.count() > 0) *t.mutable_start_to_close_timeout() = ToProtoDuration(start_to_close);
  return t;
}

// Runs one attempt until it returns or `deadline` (its start_to_close, capped by what remains of
// the schedule_to_close). kTimedOut: the deadline came first; the attempt's context is cancelled
// and its function left running on its own thread. kCancelled: it never started (StartAttempt).
AttemptEnd RunAttempt(const LocalRun& run, internal::LocalActivityCancellation& cancel, const std::shared_ptr<Attempt>& a,
                      const Payloads& args, Clock::time_point deadline, internal::LocalActivityOutcome* out) {
  if (const AttemptEnd started = StartAttempt(run, cancel, a, args, deadline); started != AttemptEnd::kEnded) {
    return started;
  }
  internal::LocalActivitySlots& s = *run.slots;
  std::unique_lock<std::mutex> l(s.mu);
  if (!s.cv.wait_until(l, deadline, [&a] { return a->done; })) {
    a->ctx.Cancel();
    return AttemptEnd::kTimedOut;
  }
  out->result = std::move(a->result);
  out->error = a->error;
  return AttemptEnd::kEnded;
}

RetryPolicy LocalRetryPolicy(const LocalActivityOptions& o) {
  if (o.retry_policy) return *o.retry_policy;
  RetryPolicy rp;
  rp.initial_interval = 100ms;
  rp.maximum_attempts = 3;
  return rp;
}

// sdk-core's close timeouts (into_sched_and_start): schedule_to_close bounds all attempts and,
// without start_to_close, each one; start_to_close alone leaves the attempts unbounded together.
// Neither: schedule_to_close 5 s (this SDK's default).
void CloseTimeouts(const LocalActivityOptions& o, std::chrono::milliseconds* schedule_to_close,
                   std::chrono::milliseconds* start_to_close) {
  *schedule_to_close = o.schedule_to_close;
  *start_to_close = o.start_to_close;
  if (schedule_to_close->count() <= 0 && start_to_close->count() <= 0) *schedule_to_close = 5000ms;
  if (start_to_close->count() <= 0) *start_to_close = *schedule_to_close;
}

internal::LocalActivityOutcome RunLocalActivity(const LocalRun& run, const internal::LocalActivityRequest& req) {
  internal::LocalActivityOutcome out;
  out.attempt = req.attempt;
  if (!run.fn) {
    out.error = std::make_exception_ptr(ApplicationFailure(
        "Activity function " + req.type + " is not registered on this worker", "NotFoundError", true));
    return out;
  }
  const RetryPolicy rp = LocalRetryPolicy(req.opts);
  std::chrono::milliseconds s2c, s2s;
  CloseTimeouts(req.opts, &s2c, &s2s);
  // The schedule_to_close deadline on this thread's clock: from the first attempt's schedule time.
  auto deadline = Clock::time_point::max();
  if (s2c.count() > 0) deadline = Clock::now() + (req.original_schedule_time + s2c - std::chrono::system_clock::now());
  internal::LocalActivityCancellation& cancel = *req.cancellation;
  {
    std::lock_guard<std::mutex> l(cancel.mu);
    cancel.wake = [slots = run.slots] {
      std::lock_guard<std::mutex> sl(slots->mu);
      slots->cv.notify_all();
    };
  }
  for (int attempt = req.attempt;; ++attempt) {
    out.attempt = attempt;
    if (Clock::now() >= deadline) {
      out.result.Clear();
      out.error = TimedOut(temporal::api::enums::v1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE);
      return out;
    }
    auto a = std::make_shared<Attempt>(run.client, AttemptTask(req, attempt, s2s), run.task_queue);
    {
      std::lock_guard<std::mutex> l(cancel.mu);
      if (cancel.cancelled) {
        out.error = std::make_exception_ptr(CanceledFailure("Activity cancelled"));
        return out;
      }
      cancel.running = &a->ctx;
    }
    struct Unregister {
      internal::LocalActivityCancellation& c;
      ~Unregister() {
        std::lock_guard<std::mutex> l(c.mu);
        c.running = nullptr;
      }
    } unregister{cancel};
    const auto attempt_deadline = std::min(deadline, Clock::now() + s2s);
    const AttemptEnd end = RunAttempt(run, cancel, a, req.args, attempt_deadline, &out);
    if (end == AttemptEnd::kCancelled) {
      // Cancelled while waiting for a slot: resolved as cancelled without running, as sdk-core
      // resolves a local activity not yet dispatched (no attempt, a cancelled marker).
      out.result.Clear();
      out.error = std::make_exception_ptr(CanceledFailure("Activity cancelled"));
      return out;
    }
    const bool ended = end == AttemptEnd::kEnded;
    if (!ended && attempt_deadline == deadline) {
      out.result.Clear();
      out.error = TimedOut(temporal::api::enums::v1::TIMEOUT_TYPE_SCHEDULE_TO_CLOSE);
      return out;
    }
    if (!ended) out.error = TimedOut(temporal::api::enums::v1::TIMEOUT_TYPE_START_TO_CLOSE);  // retryable
    if (!out.error) return out;
    std::optional<std::chrono::milliseconds> next_delay;
    bool retryable = !(ended && a->ctx.IsCancelled());  // a cancelled attempt that ended: no retry
    try {
      std::rethrow_exception(out.error);
    } catch (const ApplicationFailure& f) {
      retryable = retryable && !f.non_retryable &&
                  std::find(rp.non_retryable_error_types.begin(), rp.non_retryable_error_types.end(), f.type) ==
                      rp.non_retryable_error_types.end();
      next_delay = f.next_retry_delay;
    } catch (...) {
    }
    {
      std::lock_guard<std::mutex> l(cancel.mu);
      if (cancel.cancelled) retryable = false;
    }
    if (!retryable || (rp.maximum_attempts > 0 && attempt >= rp.maximum_attempts)) return out;
    const auto delay = next_delay.value_or(RetryInterval(rp, attempt));
    if (delay > req.opts.local_retry_threshold) {
      out.backoff = delay;  // the workflow sleeps it on a timer (then times out at once if past)
      return out;
    }
    // The backoff, cut short by the schedule_to_close deadline (reported at the loop's top).
    std::unique_lock<std::mutex> l(cancel.mu);
    const auto until = std::min(deadline, Clock::now() + delay);
    if (cancel.cv.wait_until(l, until, [&cancel] { return cancel.cancelled; })) {
      out.error = std::make_exception_ptr(CanceledFailure("Activity cancelled"));
      return out;
    }
  }
}

}  // namespace

std::shared_ptr<internal::LocalActivityExecution> Worker::StartLocalActivity(
    internal::LocalActivityRequest request, std::shared_ptr<internal::LocalActivityNotifier> notifier) {
  auto exec = std::make_shared<LocalExecution>();
  bool abandon = false;
  {
    std::lock_guard<std::mutex> l(la_->mu);
    la_->notifiers[notifier.get()] = notifier;  // an address reused by a newer one: replaced
    if (la_->notifiers.size() > la_->prune_at) {
      std::erase_if(la_->notifiers, [](const auto& n) { return n.second.expired(); });
      la_->prune_at = 2 * la_->notifiers.size() + 64;
    }
    abandon = la_->abandon_tasks;
  }
  if (abandon) notifier->Abandon();  // a task that started after the grace period: it fails
  LocalRun run{la_, client_, options_.task_queue, {}};
  if (auto it = activities_.find(request.type); it != activities_.end()) run.fn = it->second;
  // Detached: the thread owns everything it uses, so neither the workflow instance (which drops
  // an abandoned execution) nor the worker waits for it.
  std::thread([exec, run = std::move(run), request = std::move(request), notifier = std::move(notifier)] {
    try {
      exec->outcome_ = RunLocalActivity(run, request);
    } catch (...) {
      exec->outcome_.error = std::current_exception();
    }
    exec->done_ = true;
    notifier->Notify();
  }).detach();
  return exec;
}

void Worker::AbandonLocalActivities() {
  std::vector<std::shared_ptr<internal::LocalActivityNotifier>> waiting;
  {
    std::lock_guard<std::mutex> l(la_->mu);
    la_->abandon_tasks = true;
    for (const auto& [key, n] : la_->notifiers) {
      if (auto p = n.lock()) waiting.push_back(std::move(p));
    }
  }
  // The workflow tasks first, so that none of them records an attempt cancelled below.
  for (const auto& n : waiting) n->Abandon();
  {
    std::lock_guard<std::mutex> l(la_->mu);
    la_->cancel_all = true;
    for (ActivityContext* ctx : la_->contexts) ctx->Cancel();
  }
  la_->cv.notify_all();  // waits for a slot end
}

void Worker::StopLocalActivities(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> l(la_->mu);
  if (la_->cv.wait_until(l, deadline, [this] { return la_->running == 0; })) return;
  la_->cancel_all = true;
  for (ActivityContext* ctx : la_->contexts) ctx->Cancel();
}

}  // namespace temporalite::sdk
